// The OpenAI-to-OpenAI pass-through of a streamed answer: the upstream's bytes go to the client as they came, less the
// usage Sluice asked for on the client's behalf, while usage, errors and output are tapped.
import { emptyUsage, type Usage } from '../../ir/usage.js';
import { asArray, asObject, asString, isObject, tryParseJson } from '../../wire/json.js';
import { EventTail, mayEndEvent } from '../../wire/event-tail.js';
import type { ClientStream, Redactor } from '../../wire/exchange.js';
import { OutputSample, type OutputEstimate } from '../../wire/output-sample.js';
import { SseParser, sseData, wholeEvents, type SseEvent } from '../../wire/sse.js';
import { mergeUsage } from '../../wire/usage.js';
import { serviceTierText } from '../../wire/usage-scan.js';
import { openaiUsage, withServiceTier } from './response.js';

/**
 * OpenAI-shaped client, OpenAI-shaped provider: forwards each event's data untouched, taps usage, and drops the
 * usage-only chunk Sluice asked for on the client's behalf when the client did not ask for it itself.
 */
export class OpenAIStreamRelay implements ClientStream {
  readonly usage: Usage;
  streamError: string | null;
  finished: boolean;
  private readonly output: OutputSample;
  private readonly forwardUsage: boolean;
  /** An incomplete event carried over to the next chunk. */
  private readonly tail: EventTail;
  private readonly redactor: Redactor;

  constructor(forwardUsage: boolean, redactor: Redactor) {
    this.usage = emptyUsage();
    this.output = new OutputSample();
    this.streamError = null;
    this.finished = false;
    this.forwardUsage = forwardUsage;
    this.tail = new EventTail();
    this.redactor = redactor;
  }

  /**
   * Works on bytes: plain content events, and looked-at events that need no change, go out as the very bytes that came
   * in. Only the events holding a mark (a usage object, an error) are cut out and looked at: the rest of the buffer,
   * up to its last complete event, is never split into events at all.
   */
  push(chunk: Buffer): Buffer {
    // A read inside an event that has not ended (a long one comes in many): held, the event searched once it ends.
    if (this.tail.length > 0 && !mayEndEvent(this.tail, chunk)) {
      this.tail.append(chunk);
      return EMPTY;
    }
    const buffer = this.tail.take(chunk);
    // The searches run on the read as Latin-1 text, one character per byte, so a position in it is the byte's: the
    // string's indexOf costs a fraction of Buffer's per call, and a read takes a dozen searches for a handful of
    // marks. Only the events that hold one are decoded as UTF-8.
    const text = buffer.toString('latin1');
    const crlf = text.indexOf('\r') !== -1;
    // Events end at a blank line: LF LF, or CR LF CR LF in a stream that uses CRs (found one event at a time then).
    const complete = crlf ? lastEventEnd(text) : lastLfLf(text);
    if (!this.finished) this.finished = endsAnswer(text, complete);
    const out: Buffer[] = [];
    /** Where the bytes not yet in `out`, and those not yet in the output sample, begin. */
    let outFrom = 0;
    let sampleFrom = 0;
    for (let mark = nextMark(text, 0); mark < complete;) {
      const start = eventStart(text, mark, crlf);
      const end = eventEnd(text, mark, crlf);
      mark = nextMark(text, end);
      // The untouched run before the event is sampled as one piece (one view per run, not per event).
      if (start > sampleFrom) this.output.add(buffer.subarray(sampleFrom, start));
      sampleFrom = end;
      const event = buffer.subarray(start, end);
      const replacement = this.inspect(event, text, start, crlf);
      if (replacement !== event) {
        if (start > outFrom) out.push(buffer.subarray(outFrom, start));
        if (replacement !== null) out.push(replacement);
        outFrom = end;
      }
    }
    if (complete > sampleFrom) this.output.add(buffer.subarray(sampleFrom, complete));
    if (complete > outFrom) out.push(buffer.subarray(outFrom, complete));
    if (complete < buffer.length) this.tail.hold(Buffer.from(buffer.subarray(complete)));
    return out.length === 1 ? out[0]! : Buffer.concat(out);
  }

  end(): Buffer {
    const rest = this.tail.takeAll();
    // A last event without its closing blank line: completed so the client's parser sees it, unless it was cut short.
    return rest === null || rest.length === 0 || !wholeEvents(rest) ? EMPTY : this.push(Buffer.concat([rest, BLANK_LINE]));
  }

  estimateOutput(): OutputEstimate {
    return this.output.estimate(frameOutput);
  }

  /**
   * Taps usage and errors; returns what to send instead of the event: the event itself when it goes out unchanged,
   * null to drop it, or it re-encoded (without the usage the client did not ask for).
   */
  private inspect(event: Buffer, text: string, start: number, crlf: boolean): Buffer | null {
    const usageOnly = this.usageOnly(event, text, start, crlf);
    if (usageOnly !== undefined) return usageOnly;
    const frames = framesOf(event);
    let out = '';
    let changed = false;
    for (const frame of frames) {
      const chunk = asObject(tryParseJson(frame.data));
      if (chunk.error !== undefined) {
        // The upstream's own words: an echoed key leaves as [redacted].
        const data = this.redactor.redact(frame.data);
        if (data !== frame.data) changed = true;
        this.streamError = this.redactor.redact(asString(asObject(chunk.error).message, 'upstream stream error'));
        out += sseData(data);
        continue;
      }
      if (chunk.usage === undefined || chunk.usage === null) {
        this.output.add(`data: ${frame.data}\n\n`);
        out += sseData(frame.data);
        continue;
      }
      const usage = withServiceTier(openaiUsage(chunk.usage), chunk.service_tier);
      if (usage.reported) mergeUsage(this.usage, usage);
      const choices = asArray(chunk.choices);
      if (choices.length > 0) this.output.add(`data: ${frame.data}\n\n`);
      if (this.forwardUsage) out += sseData(frame.data);
      else if (choices.length > 0) {
        // A usage figure riding on a content chunk: strip just the field the client never asked for.
        delete chunk.usage;
        out += sseData(JSON.stringify(chunk));
        changed = true;
      } else changed = true;
    }
    if (!changed && frames.length === 1 && !crlf && isPlainDataEvent(event, frames[0]!.data)) return event;
    return out === '' ? null : Buffer.from(out);
  }

  /**
   * The usage-only chunk OpenAI and compatible servers end a stream with (`"choices":[],"usage":{...}` in one plain
   * `data:` line): what inspect() would decide, with only the usage object parsed, not the event and the whole chunk.
   * Undefined for any other event, which takes the full look.
   */
  private usageOnly(event: Buffer, text: string, start: number, crlf: boolean): Buffer | null | undefined {
    // The event is text[start, end): searched there, its bytes cut from `event` at the same offsets less `start`.
    const end = start + event.length;
    if (crlf || !text.startsWith('data: ', start) || text.indexOf('\n', start) !== end - 2) return undefined;
    const at = text.indexOf(USAGE_ONLY, start);
    if (at === -1 || at >= end) return undefined;
    const error = text.indexOf(ERROR, start);
    if (error !== -1 && error < end) return undefined;
    const open = at + USAGE_ONLY.length - 1;
    const close = objectEnd(text, open, end);
    if (close === -1) return undefined;
    const usage = tryParseJson(event.toString('utf8', open - start, close + 1 - start));
    if (!isObject(usage)) return undefined;
    // The tier that served the call is named before the choices, in the same chunk.
    const counted = withServiceTier(openaiUsage(usage), serviceTierText(text, start, at));
    if (counted.reported) mergeUsage(this.usage, counted);
    return this.forwardUsage ? event : null;
  }
}

// The marks are searched for without their opening quote, then checked for it: a needle that starts with a quote
// stops at every quote of the JSON and made these searches several times slower.
const USAGE = 'usage":{';
const ERROR = 'rror"';
const QUOTE = 0x22;
const E = 0x65;
const DATA_PREFIX = Buffer.from('data: ');
const USAGE_ONLY = '"choices":[],"usage":{';
const BLANK_LINE = Buffer.from('\n\n');
const EMPTY = Buffer.alloc(0);
const FINISH_REASON = '"finish_reason":';

/** The index of the `}` closing the JSON object that opens at `open`, strings skipped, before `end`; -1 if none. */
function objectEnd(text: string, open: number, end: number): number {
  let depth = 0;
  let inString = false;
  for (let i = open; i < end; i++) {
    const byte = text.charCodeAt(i);
    if (inString) {
      if (byte === 0x5c /* \ */) i++;
      else if (byte === QUOTE) inString = false;
    } else if (byte === QUOTE) inString = true;
    else if (byte === 0x7b /* { */) depth++;
    else if (byte === 0x7d /* } */ && --depth === 0) return i;
  }
  return -1;
}

/** The end (exclusive) of the event holding position `at`: after its blank line, LF LF or CR LF CR LF. */
function eventEnd(text: string, at: number, crlfInText: boolean): number {
  const lf = text.indexOf('\n\n', at);
  const crlf = crlfInText ? text.indexOf('\r\n\r\n', at) : -1;
  if (lf === -1) return crlf === -1 ? -1 : crlf + 4;
  if (crlf === -1 || lf < crlf) return lf + 2;
  return crlf + 4;
}

/** The start of the event holding position `at`: just after the blank line before it, or the text's start. */
function eventStart(text: string, at: number, crlfInText: boolean): number {
  if (at === 0) return 0;
  const lf = text.lastIndexOf('\n\n', at - 1);
  const crlf = crlfInText ? text.lastIndexOf('\r\n\r\n', at - 1) : -1;
  return Math.max(lf === -1 ? 0 : lf + 2, crlf === -1 ? 0 : crlf + 4);
}

/** The end (exclusive) of the last complete event: after the text's last LF LF, or 0 when it has none. */
function lastLfLf(text: string): number {
  const at = text.lastIndexOf('\n\n');
  return at === -1 ? 0 : at + 2;
}

/** lastLfLf for a read with CRs: the last complete event's end, whichever blank line closes it. */
function lastEventEnd(text: string): number {
  const lf = text.lastIndexOf('\n\n');
  const crlf = text.lastIndexOf('\r\n\r\n');
  return Math.max(lf === -1 ? 0 : lf + 2, crlf === -1 ? 0 : crlf + 4);
}

/** The first position at or after `from` of a usage object or an error, or Infinity. */
function nextMark(text: string, from: number): number {
  const usage = findUsage(text, from);
  const error = findError(text, from);
  if (usage === -1) return error === -1 ? Infinity : error;
  return error === -1 ? usage : Math.min(usage, error);
}

/** `"usage":{` at or after `from`. */
function findUsage(text: string, from: number): number {
  for (let at = text.indexOf(USAGE, from + 1); at !== -1; at = text.indexOf(USAGE, at + 1)) {
    if (text.charCodeAt(at - 1) === QUOTE) return at - 1;
  }
  return -1;
}

/** `"error"` at or after `from`. */
function findError(text: string, from: number): number {
  for (let at = text.indexOf(ERROR, from + 2); at !== -1; at = text.indexOf(ERROR, at + 1)) {
    if (text.charCodeAt(at - 1) === E && text.charCodeAt(at - 2) === QUOTE) return at - 2;
  }
  return -1;
}

/**
 * Whether the event is exactly `data: <data>\n\n`, as inspect() would write it again. One `data: ` line and the blank
 * line account for every byte only in that form: any other line, or a second data line, makes the event longer.
 */
function isPlainDataEvent(event: Buffer, data: string): boolean {
  return event.length === Buffer.byteLength(data) + 8 && event.compare(DATA_PREFIX, 0, 6, 0, 6) === 0;
}

function framesOf(event: Buffer): SseEvent[] {
  const parser = new SseParser();
  return parser.end(parser.push(event));
}

/** The model's output in a raw SSE frame of chat.completion.chunk events. */
function frameOutput(frame: string): string[] {
  return framesOf(Buffer.from(frame)).flatMap((event) => (event.data === '[DONE]' ? [] : chunkOutput(event.data)));
}

/** The text and tool-call arguments in one raw chat.completion.chunk. */
function chunkOutput(data: string): string[] {
  const texts: string[] = [];
  for (const choice of asArray(asObject(tryParseJson(data)).choices)) {
    const delta = asObject(asObject(choice).delta);
    if (typeof delta.content === 'string' && delta.content !== '') texts.push(delta.content);
    for (const call of asArray(delta.tool_calls)) {
      const args = asObject(asObject(call).function).arguments;
      if (typeof args === 'string' && args !== '') texts.push(args);
    }
  }
  return texts;
}

/** Whether the complete events in text[0, complete) include the answer's end: `[DONE]`, or a finish_reason that is not null. */
function endsAnswer(text: string, complete: number): boolean {
  const done = text.indexOf('[DONE]');
  if (done !== -1 && done < complete) return true;
  for (let at = text.indexOf(FINISH_REASON); at !== -1 && at < complete; at = text.indexOf(FINISH_REASON, at + 1)) {
    let value = at + FINISH_REASON.length;
    while (text.charCodeAt(value) === 32) value++;
    if (text.charCodeAt(value) === 34) return true; // a string, not null
  }
  return false;
}
