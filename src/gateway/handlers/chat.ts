// POST /v1/chat/completions and POST /v1/messages: the pipeline for chat, in either API shape, streamed or not.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { SluiceError } from '../../errors.js';
import type { ChatRequest } from '../../ir/chat.js';
import type { ClientBody } from '../../providers/provider.js';
import type { SecretRedactor } from '../../providers/shared/secret-redactor.js';
import { tryParseJson } from '../../providers/shared/json.js';
import { usageObjectText } from '../../providers/shared/usage-scan.js';
import type { GatewayContext } from '../context.js';
import type { ClientStream, FrontDoor } from '../frontdoors/frontdoor.js';
import type { OutputEstimate } from '../frontdoors/output-sample.js';
import { TranslatingStream } from '../frontdoors/translating-stream.js';
import { authenticate } from '../pipeline/authenticate.js';
import type { Call } from '../pipeline/call.js';
import { readJsonBody } from '../pipeline/read-body.js';
import { record } from '../pipeline/record.js';
import { resolveModel } from '../pipeline/resolve-model.js';
import { admit } from '../pipeline/admit.js';
import { sendError } from '../respond.js';
import { invokeUpstream, type UpstreamAnswer } from '../routing/invoke.js';
import type { BodySink, UpstreamBody } from '../routing/upstream-exchange.js';

export async function handleChat(context: GatewayContext, door: FrontDoor, call: Call, req: IncomingMessage, res: ServerResponse): Promise<void> {
  try {
    const snapshot = context.snapshot;
    const authenticated = authenticate(context.identity, snapshot.consumers, snapshot.identityRules, req, call);
    call.consumer = authenticated instanceof Promise ? await authenticated : authenticated;
    const body = await readJsonBody(req, context.maxBodyBytes);
    const request = door.parseChat(body);
    call.chat = request;
    call.requestedModel = request.model;
    call.stream = request.stream;
    const requested = resolveModel(snapshot.routing.routes, call.consumer, request.model);
    const admitted = admit(snapshot.admission, call, requested);
    const route = admitted instanceof Promise ? await admitted : admitted;
    if (route !== requested) res.setHeader('x-sluice-served-model', route.name);
    const client: ClientBody = { dialect: door.dialect, body };
    const answer = await invokeUpstream(
      route, (target) => target.provider.chatRequest(request, target.model, client), request.stream, call.cancellation, call,
    );
    call.target = answer.target;
    if (request.stream) await relayStream(door, call, request, body, answer, route.redactor, res);
    else complete(door, call, request, answer, res);
  } catch (error) {
    sendError(res, door, call, error, context.logger);
  }
  const recorded = record(context, call);
  if (recorded !== undefined) await recorded;
}

function complete(door: FrontDoor, call: Call, request: ChatRequest, answer: UpstreamAnswer, res: ServerResponse): void {
  const text = answer.text!;
  const provider = answer.target.provider;
  let out: string;
  if (provider.dialect === door.dialect) {
    // Same API on both sides: the provider's bytes go to the client untouched, and only the usage is read from them.
    out = text;
    const usageText = usageObjectText(text);
    const usage = usageText === null ? undefined : tryParseJson(usageText);
    call.usage = door.nativeUsage({ usage });
    if (!call.usage.reported) {
      const json = tryParseJson(text);
      if (json === undefined) throw new SluiceError('upstream_unavailable', `Provider ${provider.name} answered with a body that is not JSON.`);
      call.usage = door.nativeUsage(json);
      if (!call.usage.reported) call.output = () => outputOf(provider.chatResponse(json));
    }
  } else {
    const json = tryParseJson(text);
    if (json === undefined) throw new SluiceError('upstream_unavailable', `Provider ${provider.name} answered with a body that is not JSON.`);
    const response = provider.chatResponse(json);
    call.usage = response.usage;
    if (!call.usage.reported) call.output = () => outputOf(response);
    out = door.renderChat(response, request.model);
  }
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(out) });
  res.end(out);
}

function outputOf(response: { text: string; toolCalls: Array<{ arguments: string }> }): OutputEstimate {
  return { texts: [response.text, ...response.toolCalls.map((call) => call.arguments)], scale: 1 };
}

function relayStream(
  door: FrontDoor, call: Call, request: ChatRequest, body: Record<string, unknown>, answer: UpstreamAnswer, redactor: SecretRedactor,
  res: ServerResponse,
): Promise<void> {
  const provider = answer.target.provider;
  const stream: ClientStream = provider.dialect === door.dialect
    ? door.streamRelay(request, body, redactor)
    : new TranslatingStream(provider.chatStreamDecoder(), door.streamEncoder(request, body), redactor);
  // No Connection header: node:http sends keep-alive for a keep-alive request, and close while the gateway drains.
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
  return new Promise((resolve) => answer.body.pipe(new StreamRelay(door, call, provider.name, stream, answer.body, res, resolve)));
}

/**
 * Relays a committed upstream stream to the client chunk by chunk as undici hands them over: converted by the
 * ClientStream, written at once, the upstream paused while the client's socket is full so a slow client slows the read.
 */
class StreamRelay implements BodySink {
  private readonly door: FrontDoor;
  private readonly call: Call;
  private readonly providerName: string;
  private readonly stream: ClientStream;
  private readonly body: UpstreamBody;
  private readonly res: ServerResponse;
  private readonly done: () => void;
  private readonly onDrain: () => void;

  constructor(
    door: FrontDoor, call: Call, providerName: string, stream: ClientStream, body: UpstreamBody, res: ServerResponse, done: () => void,
  ) {
    this.door = door;
    this.call = call;
    this.providerName = providerName;
    this.stream = stream;
    this.body = body;
    this.res = res;
    this.done = done;
    this.onDrain = () => body.resume();
  }

  data(chunk: Buffer): void {
    this.send(this.stream.push(chunk));
  }

  end(): void {
    try {
      this.send(this.stream.end());
      this.res.end();
    } catch (error) {
      this.error(error as Error);
      return;
    }
    this.finish();
  }

  error(error: Error): void {
    // No fallback once the client has bytes: the stream ends with the API's own error event.
    if (!this.call.cancellation.aborted) {
      sendError(this.res, this.door, this.call, new SluiceError('upstream_unavailable', `The stream from provider ${this.providerName} broke off: ${error.message}`));
      this.call.errorClass = 'stream_interrupted';
    }
    this.finish();
  }

  private send(text: string | Buffer): void {
    if (text.length === 0) return;
    this.call.markFirstToken();
    const res = this.res;
    if (res.destroyed) return;
    // node:http corks the socket for the rest of the tick at a chunk's first write, so what one read of the upstream
    // yields (events, and often the stream's end) leaves in one write.
    if (res.write(text)) return;
    this.body.pause();
    res.once('drain', this.onDrain);
  }

  private finish(): void {
    const call = this.call;
    const stream = this.stream;
    this.res.off('drain', this.onDrain);
    call.usage = stream.usage;
    call.output = () => stream.estimateOutput();
    if (stream.streamError !== null && call.errorClass === null) call.errorClass = 'stream_error';
    this.done();
  }
}
