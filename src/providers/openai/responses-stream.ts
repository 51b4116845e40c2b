// A Responses API stream from a server that speaks it: relayed to a Responses client byte for byte (usage tapped from
// response.completed), or decoded to IR events.
import type { StreamEvent } from '../../ir/stream.js';
import { emptyUsage, type Usage } from '../../ir/usage.js';
import { EventTail, mayEndEvent } from '../../wire/event-tail.js';
import type { ClientStream, Redactor } from '../../wire/exchange.js';
import { asNumber, asObject, asString, tryParseJson } from '../../wire/json.js';
import { OutputSample, type OutputEstimate } from '../../wire/output-sample.js';
import { SseParser, sseEvent, wholeEvents, type SseEvent } from '../../wire/sse.js';
import { mergeUsage } from '../../wire/usage.js';
import { SseStreamDecoder } from '../shared/sse-decoder.js';
import { responseObjectUsage, responsesFinishReason } from './responses-response.js';

const LF_LF = Buffer.from('\n\n');
const CRLF_CRLF = Buffer.from('\r\n\r\n');
const EMPTY = Buffer.alloc(0);

/**
 * The events the relay reads, by their SSE event name (OpenAI names each event as its typed data's `type`:
 * developers.openai.com/docs/guides/streaming-responses): the response as it stands and its items done (for the
 * response.failed of a stream broken off), its end with its usage, an error. The rest are forwarded unparsed: text
 * and argument deltas are sampled as their raw data (parsed only if an estimate is needed), the others only counted.
 */
const READ = new Set([
  'response.created',
  'response.in_progress',
  'response.output_item.done',
  'response.completed',
  'response.incomplete',
  'response.failed',
  'error',
]);
const DELTAS = new Set(['response.output_text.delta', 'response.function_call_arguments.delta']);

/** The end (exclusive) of the last complete event in `buffer`: after its last blank line, or 0. */
function lastEventEnd(buffer: Buffer): number {
  const lf = buffer.lastIndexOf(LF_LF);
  const crlf = buffer.lastIndexOf(CRLF_CRLF);
  return Math.max(lf === -1 ? 0 : lf + 2, crlf === -1 ? 0 : crlf + 4);
}

/**
 * Forwards whole events as the very bytes that came, and looks at each: the deltas are sampled (for an estimate if no
 * usage comes), the final response's usage is tapped, and a run holding an error is redacted before it leaves (an
 * upstream may echo its key).
 */
export class ResponsesStreamRelay implements ClientStream {
  readonly usage: Usage;
  streamError: string | null;
  finished: boolean;
  /** One past the last forwarded event's sequence_number (or count, for events without one). */
  nextSequenceNumber: number;
  /** The response's id, from the stream's response.created event (the events are parsed here anyway). */
  responseId: string | null;
  /**
   * The response as it stood, for the response.failed that ends a stream broken off: the last response.created or
   * response.in_progress object, and the items of its output_item.done events with their output_index (kept by
   * reference, as they were parsed anyway: no copy per event). Null until the stream's first response event.
   */
  private response: Record<string, unknown> | null;
  private readonly doneItems: Array<{ index: number; item: unknown }>;
  /** Set once broken() has ended the stream. */
  private brokenOff: boolean;
  private readonly output: OutputSample;
  private readonly parser: SseParser;
  private readonly redactor: Redactor;
  /** An incomplete event carried over to the next chunk. */
  private readonly tail: EventTail;

  constructor(redactor: Redactor) {
    this.usage = emptyUsage();
    this.streamError = null;
    this.finished = false;
    this.nextSequenceNumber = 0;
    this.responseId = null;
    this.response = null;
    this.doneItems = [];
    this.brokenOff = false;
    this.output = new OutputSample();
    this.parser = new SseParser();
    this.redactor = redactor;
    this.tail = new EventTail();
  }

  push(chunk: Buffer): Buffer {
    // A read inside an event that has not ended (a long one comes in many): held, the event searched once it ends.
    if (this.tail.length > 0 && !mayEndEvent(this.tail, chunk)) {
      this.tail.append(chunk);
      return EMPTY;
    }
    const buffer = this.tail.take(chunk);
    const complete = lastEventEnd(buffer);
    if (complete < buffer.length) this.tail.hold(Buffer.from(buffer.subarray(complete)));
    if (complete === 0) return EMPTY;
    const run = buffer.subarray(0, complete);
    const failed = this.inspect(this.parser.push(run));
    return failed ? Buffer.from(this.redactor.redact(run.toString('utf8'))) : run;
  }

  end(): Buffer {
    const rest = this.tail.takeAll();
    // A last event without its closing blank line: completed so the client's parser sees it, unless it was cut short.
    return rest === null || rest.length === 0 || !wholeEvents(rest) ? EMPTY : this.push(Buffer.concat([rest, LF_LF]));
  }

  estimateOutput(): OutputEstimate {
    return this.output.estimate((data) => {
      const delta = asString(asObject(tryParseJson(data)).delta);
      return delta === '' ? [] : [delta];
    });
  }

  /**
   * The end of a stream broken off once under way, as the Responses API ends a failed one: the error event, then
   * response.failed carrying the provider's response as it stood (its id, model and created_at; the output items it had
   * completed; status failed, with the error), numbered on from the provider's last event. '' once the provider's
   * stream has ended (or failed) on its own; null before its first response event (the error event alone then).
   */
  broken(code: string, message: string): string | null {
    if (this.finished || this.brokenOff) return '';
    if (this.response === null) return null;
    this.brokenOff = true;
    const output = this.doneItems.sort((a, b) => a.index - b.index).map((done) => done.item);
    const error = { code, message };
    const response = { ...this.response, status: 'failed', error, incomplete_details: null, output };
    const sequence = this.nextSequenceNumber;
    this.nextSequenceNumber += 2;
    return (
      sseEvent('error', JSON.stringify({ type: 'error', code, message, param: null, sequence_number: sequence })) +
      sseEvent('response.failed', JSON.stringify({ type: 'response.failed', response, sequence_number: sequence + 1 }))
    );
  }

  /** Taps the events; true when one reports a failure (its run is then redacted). */
  private inspect(events: readonly SseEvent[]): boolean {
    let failed = false;
    for (const event of events) {
      const name = event.event;
      if (name !== null && !READ.has(name)) {
        // Not parsed: numbered as the next (a stream's sequence_numbers run on by one).
        this.nextSequenceNumber++;
        if (DELTAS.has(name)) this.output.add(event.data);
        continue;
      }
      const data = asObject(tryParseJson(event.data));
      this.nextSequenceNumber = (asNumber(data.sequence_number) ?? this.nextSequenceNumber - 1) + 1;
      switch (data.type) {
        case 'response.output_text.delta':
        case 'response.function_call_arguments.delta':
          this.output.add(event.data);
          break;
        case 'response.created':
        case 'response.in_progress': {
          const response = asObject(data.response);
          const id = asString(response.id);
          if (id !== '') {
            if (data.type === 'response.created') this.responseId = id;
            this.response = response;
          }
          break;
        }
        case 'response.output_item.done': {
          this.doneItems.push({ index: asNumber(data.output_index) ?? this.doneItems.length, item: data.item });
          break;
        }
        case 'response.completed':
        case 'response.incomplete':
        case 'response.failed': {
          const response = asObject(data.response);
          const usage = responseObjectUsage(response);
          if (usage.reported) mergeUsage(this.usage, usage);
          this.finished = true;
          if (data.type === 'response.failed') {
            failed = true;
            this.streamError = this.redactor.redact(asString(asObject(response.error).message, 'the response failed'));
          }
          break;
        }
        case 'error':
          failed = true;
          this.streamError = this.redactor.redact(asString(data.message, 'upstream stream error'));
          break;
      }
    }
    return failed;
  }
}

/** Responses API events -> IR events, for a client of another API (not used by a Responses client: it is relayed). */
export class ResponsesStreamDecoder extends SseStreamDecoder {
  /** The IR's tool call index by the response's output_index. */
  private readonly toolIndex: Map<number, number>;

  constructor() {
    super();
    this.toolIndex = new Map();
  }

  protected decode(events: readonly SseEvent[]): StreamEvent[] {
    const out: StreamEvent[] = [];
    for (const event of events) {
      const data = asObject(tryParseJson(event.data));
      switch (data.type) {
        case 'response.created': {
          const response = asObject(data.response);
          out.push({
            type: 'start',
            id: asString(response.id),
            model: asString(response.model),
            created: asNumber(response.created_at) ?? Math.floor(Date.now() / 1000),
          });
          break;
        }
        case 'response.output_text.delta':
          out.push({ type: 'text', text: asString(data.delta) });
          break;
        case 'response.output_item.added': {
          const item = asObject(data.item);
          if (item.type !== 'function_call') break;
          const index = this.toolIndex.size;
          this.toolIndex.set(asNumber(data.output_index) ?? index, index);
          out.push({ type: 'tool_call_start', index, id: asString(item.call_id), name: asString(item.name) });
          break;
        }
        case 'response.function_call_arguments.delta': {
          const index = this.toolIndex.get(asNumber(data.output_index) ?? -1);
          if (index !== undefined) out.push({ type: 'tool_call_delta', index, argumentsDelta: asString(data.delta) });
          break;
        }
        case 'response.completed':
        case 'response.incomplete': {
          const response = asObject(data.response);
          out.push({ type: 'finish', finishReason: responsesFinishReason(response, this.toolIndex.size > 0) });
          const usage = responseObjectUsage(response);
          if (usage.reported) out.push({ type: 'usage', usage });
          break;
        }
        case 'response.failed':
          out.push({
            type: 'error',
            message: asString(asObject(asObject(data.response).error).message, 'the response failed'),
            errorType: 'api_error',
          });
          break;
        case 'error':
          out.push({
            type: 'error',
            message: asString(data.message, 'upstream stream error'),
            errorType: asString(data.code, 'api_error'),
          });
          break;
      }
    }
    return out;
  }
}
