// Relays an MCP server's SSE answer to the client event by event, letting the gateway read (and rewrite) the JSON-RPC
// messages it carries: tools/list filtered to the consumer's tools, the tools/call answer observed for the ledger.
import type { ServerResponse } from 'node:http';
import { StringDecoder } from 'node:string_decoder';
import { createParser, type EventSourceMessage, type EventSourceParser } from 'eventsource-parser';

/** Maps one JSON-RPC message (parsed from an event's data); returns the data to send, or null to send it unchanged. */
export type MessageRewrite = (message: unknown) => string | null;
/** Maps an event's id (not empty) to the one the client gets. */
export type EventIdRewrite = (id: string) => string;

export class SseRelay {
  private readonly res: ServerResponse;
  private readonly rewrite: MessageRewrite;
  private readonly rewriteId: EventIdRewrite | null;
  private readonly parser: EventSourceParser;
  /** Keeps a character split between two chunks whole. */
  private readonly decoder: StringDecoder;
  /** The most the parser may hold of one unfinished event. */
  private readonly maxEventBytes: number;
  /** A write since the last push found the client's buffer full. */
  private full = false;
  /** Bytes pushed since an event was last relayed: what the parser holds of the one not yet complete, about. */
  private pending = 0;
  /** An event was relayed during the current push. */
  private relayed = false;

  constructor(res: ServerResponse, rewrite: MessageRewrite, maxEventBytes: number, rewriteId: EventIdRewrite | null = null) {
    this.res = res;
    this.rewrite = rewrite;
    this.rewriteId = rewriteId;
    this.maxEventBytes = maxEventBytes;
    this.decoder = new StringDecoder('utf8');
    this.parser = createParser({
      onEvent: (event) => this.forward(event),
      onRetry: (interval) => this.write(`retry: ${interval}\n\n`),
      // Keep-alive comments pass on: they keep the client's connection (and any proxy on the way) from idling out
      // while a long tool call runs.
      onComment: (comment) => this.write(`: ${comment}\n\n`),
    });
  }

  /**
   * Relays what the chunk completes; false when the client's buffer is full (wait for its 'drain' before the next).
   * Throws when an event grows past maxEventBytes: a server whose event never ends (a line without its newline, data
   * lines without the blank line) would otherwise have the parser hold it all.
   */
  push(chunk: Buffer): boolean {
    this.full = false;
    this.relayed = false;
    this.parser.feed(this.decoder.write(chunk));
    this.pending = this.relayed ? 0 : this.pending + chunk.length;
    if (this.pending > this.maxEventBytes) throw new Error(`an SSE event larger than ${this.maxEventBytes} bytes`);
    return !this.full;
  }

  end(): void {
    this.parser.feed(this.decoder.end());
  }

  private forward(event: EventSourceMessage): void {
    this.relayed = true;
    let data = event.data;
    let message: unknown = undefined;
    try {
      message = JSON.parse(data);
    } catch {
      // Not JSON: not a message the gateway reads; passed on as it came.
    }
    if (message !== undefined) data = this.rewrite(message) ?? data;
    let frame = '';
    if (event.id !== undefined) frame += `id: ${event.id !== '' && this.rewriteId !== null ? this.rewriteId(event.id) : event.id}\n`;
    if (event.event !== undefined) frame += `event: ${event.event}\n`;
    for (const line of data.split('\n')) frame += `data: ${line}\n`;
    this.write(`${frame}\n`);
  }

  private write(text: string): void {
    if (!this.res.write(text)) this.full = true;
  }
}
