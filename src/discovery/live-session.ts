// A Gemini Live session (the Live API: a WebSocket to BidiGenerateContent, the Gemini API's or Vertex AI's) through the
// discovery proxy. Its model is named after the switch, in the client's first message, `{"setup": {"model": ...}}`
// (https://ai.google.dev/api/live, as Google's SDKs send it: `models/{id}`, Vertex AI's
// `projects/{p}/locations/{l}/publishers/google/models/{id}`), so that message is read, within `maxParseBytes` and
// `sessionSetupTimeoutMs`. Otherwise the session is recorded naming no model. Observing, the proxy reads a copy as
// the bytes pass; enforcing, it holds the client's bytes until the setup is read, and refuses a session it cannot pass
// with a close frame (1008, policy violation), the origin never seeing the setup.
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { WireFormat } from '../config/discovery-schema.js';
import { asObject, repeatsKey, tryParseJson } from '../wire/json.js';
import { liveSessionRefusal, liveSessionUnreadable } from './enforce.js';
import type { ForwardDeps } from './forward.js';
import { googleModelId } from './reading.js';
import { FirstMessageReader, inflateMessage, serverCloseFrame, type FirstMessage } from './websocket-frames.js';

/**
 * Whether an upgrade on a host of `wire` opens a Live session: every WebSocket to a Google AI host that names no model in
 * its path, whatever the path. The Live API's (as Google's SDKs build them, any API version) are the Gemini API's
 * `/ws/google.ai.generativelanguage.{version}.GenerativeService.BidiGenerateContent` (and `...Constrained`, for ephemeral
 * tokens) and Vertex AI's `/ws/google.cloud.aiplatform.{version}.LlmBidiService/BidiGenerateContent`; but Google's front
 * end may route other spellings of them (percent-encoded, `/` for `.`), which a list of paths would pass unread.
 */
export function isLiveSession(wire: WireFormat): boolean {
  return wire === 'gemini';
}

/**
 * Why a session's model was not read: its first message names none, repeats a key (which of its values Google reads is
 * not known), is not valid UTF-8, is past the bound or not framed as it should be, did
 * not come within the wait, or the client closed first.
 */
export type LiveSessionUnread = 'no_model' | 'repeated_key' | 'not_utf8' | 'too_large' | 'malformed' | 'timeout' | 'closed';

/** What became of a session's first message: its model, or why none was read. */
export type LiveSetup = { model: string } | { model: null; unread: LiveSessionUnread };

/**
 * Decodes a setup strictly: a text message must be UTF-8 (RFC 6455 8.1), and JSON is (RFC 8259 8.1). Replacing a bad byte
 * (Buffer's toString) would read a name another decoder may read otherwise, dropping the byte.
 */
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The model a first message's `setup` names, read as a Google resource name (`models/x` is `x`). */
function setupModel(payload: Buffer): LiveSetup {
  let text: string;
  try {
    text = UTF8.decode(payload);
  } catch {
    return { model: null, unread: 'not_utf8' };
  }
  const json = tryParseJson(text);
  if (json !== undefined && repeatsKey(text)) return { model: null, unread: 'repeated_key' };
  const model = asObject(asObject(json).setup).model;
  return typeof model === 'string' && model !== '' ? { model: googleModelId(model) } : { model: null, unread: 'no_model' };
}

/** How long a refused session's client has to close its side after the close frame, before its socket is destroyed. */
const CLOSE_GRACE_MS = 5_000;

/** What a Live session needs from the upgrade it was opened by. */
export interface LiveSessionOptions {
  /** The client's socket, switched; and the origin's. */
  client: Duplex;
  origin: Socket;
  /** The client's bytes already read past the handshake (its first frames, if it sent them with it). */
  early: Buffer;
  /** Whether the origin's handshake answer took permessage-deflate. */
  deflate: boolean;
  /** Enforcing: the client's bytes are held until the setup is read and passes. */
  hold: boolean;
  provider: string;
  clientIp: string | undefined;
  deps: ForwardDeps;
  /** Records the session, once its setup is read or known never to be. */
  record: (setup: LiveSetup) => void;
}

/**
 * Reads a Live session's setup from the client's bytes, then records it, and (holding) passes it on or refuses it.
 * State is per session and bounded: at most `maxParseBytes` of message and 64 KiB of framing besides are held.
 */
export class LiveSessionSetup {
  private readonly options: LiveSessionOptions;
  private readonly reader: FirstMessageReader;
  private readonly held: Buffer[];
  private settled: boolean;
  private readonly timer: NodeJS.Timeout;
  private readonly onData: (chunk: Buffer) => void;
  private readonly onClose: () => void;

  constructor(options: LiveSessionOptions) {
    this.options = options;
    const { config } = options.deps;
    this.reader = new FirstMessageReader(options.deflate, config.maxParseBytes);
    this.held = [];
    this.settled = false;
    this.onData = (chunk) => this.take(chunk);
    this.onClose = () => this.settle({ model: null, unread: 'closed' });
    this.timer = setTimeout(() => this.settle({ model: null, unread: 'timeout' }), config.sessionSetupTimeoutMs);
    this.timer.unref();
    const { client, origin, early, hold } = options;
    client.on('data', this.onData);
    client.once('close', this.onClose);
    if (!hold) {
      if (early.length > 0) origin.write(early);
      client.pipe(origin);
    } else client.resume();
    if (early.length > 0) this.take(early);
  }

  private take(chunk: Buffer): void {
    if (this.options.hold) this.held.push(chunk);
    const first = this.reader.push(chunk);
    if (first === null) return;
    const { client } = this.options;
    client.off('data', this.onData);
    // The message is in: it is read to the end (inflating it is bounded), even if the client closes meanwhile.
    client.off('close', this.onClose);
    clearTimeout(this.timer);
    // Held bytes stop at the first message's chunk: what comes after waits in the socket until the session passes.
    if (this.options.hold) client.pause();
    void this.read(first);
  }

  private async read(first: FirstMessage): Promise<void> {
    if (first.kind !== 'message') {
      this.settle({ model: null, unread: first.kind === 'closed' ? 'closed' : first.reason });
      return;
    }
    const { maxParseBytes } = this.options.deps.config;
    const payload = this.reader.compressed ? await inflateMessage(first.payload, maxParseBytes) : first.payload;
    this.settle(typeof payload === 'string' ? { model: null, unread: payload } : setupModel(payload));
  }

  private settle(setup: LiveSetup): void {
    if (this.settled) return;
    this.settled = true;
    clearTimeout(this.timer);
    const { client, origin, hold, provider, deps, clientIp } = this.options;
    client.off('data', this.onData);
    client.off('close', this.onClose);
    if (!hold) {
      this.options.record(setup); // the session went on all along
      return;
    }
    if (setup.model === null && setup.unread === 'closed') {
      this.options.record(setup); // a session the client closed before its setup: the origin got nothing from it
      this.close(1000, '');
      return;
    }
    if (setup.model !== null && !deps.policy.refuses(provider, setup.model)) {
      this.options.record(setup);
      for (const chunk of this.held) origin.write(chunk);
      this.held.length = 0;
      client.pipe(origin);
      return;
    }
    this.held.length = 0;
    deps.metrics.calls.inc({ provider, outcome: 'blocked' });
    if (setup.model !== null) {
      deps.log.warn({ provider, model: setup.model, client: clientIp }, 'discovery: a Live session with an unsanctioned model refused');
      this.close(1008, liveSessionRefusal(provider, setup.model));
    } else {
      deps.log.warn({ provider, reason: setup.unread, client: clientIp }, 'discovery: a Live session whose setup cannot be read refused');
      this.close(1008, liveSessionUnreadable(setup.unread, deps.config.maxParseBytes, deps.config.sessionSetupTimeoutMs));
    }
  }

  /**
   * Closes the session toward the client with `code` and `reason`; the origin's side is closed with the client's socket
   * (upgrade.ts), once the client has had its close frame, or after a grace period.
   */
  private close(code: number, reason: string): void {
    const { client, origin } = this.options;
    origin.unpipe(client);
    if (!client.writable) {
      client.destroy();
      return;
    }
    client.end(serverCloseFrame(code, reason));
    // What the client still sends is read and dropped: bytes left unread would reset the connection under the close frame.
    client.resume();
    setTimeout(() => client.destroy(), CLOSE_GRACE_MS).unref();
  }
}
