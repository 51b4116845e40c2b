// How a 2xx stream opens, judged before the call commits to it: providers report a failure that came after their
// 200 (Anthropic's overloaded_error, an OpenAI-compatible server's {"error":...}, Gemini's error, a Bedrock exception
// frame) as the stream's first event, and so is an answer that holds none (answer-fault.ts: Gemini's
// MALFORMED_FUNCTION_CALL, Converse's malformed_tool_use). Until the client has a byte that is still a failed attempt
// of that target, with the HTTP status of its kind, so routing can try again or fall back as it does for an error status.
import type { StreamFraming } from './exchange.js';
import { converseFaultOf, GEMINI_FAULT_MARKERS, geminiFaultOf, type AnswerFault } from './answer-fault.js';
import { asObject, tryParseJson } from './json.js';
import { SseParser, type SseEvent } from './sse.js';
import { AwsEventStreamParser, type AwsEvent } from './aws-event-stream.js';

/** The error a stream opened with, as an error answer: its status (of the error's kind), body and headers to add. */
export interface OpeningError {
  status: number;
  /** The event's payload, in the shape the provider's error bodies have, for its failure(). */
  body: string;
  /** The error's kind, as the stream named it (for messages). */
  kind: string;
  /** Bedrock names an error's kind in a header: its failure() reads it from there. */
  headers: Record<string, string> | null;
}

/** A stream whose first meaningful event is an answer that holds none (answer-fault.ts). */
export interface OpeningFault {
  fault: AnswerFault;
}

/** 'open': the stream's first meaningful event is not an error; 'wait': the bytes so far do not tell. */
export type Opening = OpeningError | OpeningFault | 'open' | 'wait';

/**
 * The HTTP status each provider answers with for an error of the kind named; a kind not listed counts as a 500, the
 * provider's own failure. Anthropic: https://docs.anthropic.com/en/api/errors; OpenAI:
 * https://platform.openai.com/docs/guides/error-codes; Gemini (google.rpc codes): https://ai.google.dev/gemini-api/docs/troubleshooting;
 * Bedrock: https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ConverseStream.html#API_runtime_ConverseStream_Errors.
 */
const KIND_STATUS: Readonly<Record<string, number>> = {
  invalid_request_error: 400,
  authentication_error: 401,
  permission_error: 403,
  not_found_error: 404,
  request_too_large: 413,
  rate_limit_error: 429,
  api_error: 500,
  overloaded_error: 529,
  timeout_error: 504,
  server_error: 500,
  rate_limit_exceeded: 429,
  insufficient_quota: 429,
  invalid_argument: 400,
  failed_precondition: 400,
  unauthenticated: 401,
  permission_denied: 403,
  not_found: 404,
  resource_exhausted: 429,
  internal: 500,
  unavailable: 503,
  deadline_exceeded: 504,
  validationexception: 400,
  accessdeniedexception: 403,
  resourcenotfoundexception: 404,
  throttlingexception: 429,
  modeltimeoutexception: 408,
  internalserverexception: 500,
  serviceunavailableexception: 503,
  modelnotreadyexception: 429,
  modelstreamerrorexception: 424,
};

/**
 * Events that come before the answer itself and say nothing of how it goes: Anthropic's message_start and ping,
 * Bedrock's messageStart. An error right after one of them is still an error opening the stream.
 */
const PREAMBLE = new Set(['message_start', 'ping', 'messageStart']);

const EVENT_FIELD = Buffer.from('event:');
const ERROR_WORD = Buffer.from('rror');
/**
 * Whether a stream's first chunk can be judged open unread, as nearly every one can: with no `event:` line it holds
 * no named event (an error or a preamble), without "rror" no error in its data either, and without a marker of Gemini's
 * failed finish reasons (answer-fault.ts) no candidate that holds no answer.
 */
export function opensPlainly(framing: StreamFraming, first: Buffer): boolean {
  if (framing !== 'sse' || first.indexOf(EVENT_FIELD) !== -1 || first.indexOf(ERROR_WORD) !== -1) return false;
  for (const marker of GEMINI_FAULT_MARKERS) if (first.indexOf(marker) !== -1) return false;
  return true;
}

/** Judges a stream's opening bytes, pushed chunk by chunk until it answers other than 'wait'. */
export class StreamOpening {
  private readonly sse: SseParser | null;
  private readonly aws: AwsEventStreamParser | null;
  /** A ConverseStream tool use is under way and held: nothing of it has reached the client. */
  private holdingToolUse: boolean;

  constructor(framing: StreamFraming) {
    this.sse = framing === 'sse' ? new SseParser() : null;
    this.aws = framing === 'sse' ? null : new AwsEventStreamParser();
    this.holdingToolUse = false;
  }

  push(chunk: Buffer): Opening {
    if (this.sse !== null) {
      for (const event of this.sse.push(chunk)) {
        const opening = sseOpening(event);
        if (opening !== 'wait') return opening;
      }
      return 'wait';
    }
    for (const event of this.aws!.push(chunk)) {
      const opening = this.awsOpening(event);
      if (opening !== 'wait') return opening;
    }
    return 'wait';
  }

  private awsOpening(event: AwsEvent): Opening {
    if (event.messageType === 'event') {
      if (PREAMBLE.has(event.type)) return 'wait';
      // A messageStop before any content the client has: the model's tool call or answer failed, and the client has
      // nothing yet.
      if (event.type === 'messageStop') {
        const fault = converseFaultOf(event.body);
        return fault === null ? 'open' : { fault };
      }
      // A tool use is held whole, to its messageStop: a malformed_tool_use stop there makes it no answer, and a client
      // given its start could not be given another target's answer after it (nor use a call cut short).
      if (this.holdingToolUse ? HELD_TOOL_USE.has(event.type) : isToolUseStart(event)) {
        this.holdingToolUse = true;
        return 'wait';
      }
      return 'open';
    }
    // An exception frame's type is camel-cased (throttlingException); error answers' x-amzn-errortype is not.
    const kind = KIND.test(event.type) ? event.type[0]!.toUpperCase() + event.type.slice(1) : 'InternalServerException';
    return { status: errorKindStatus(kind), body: event.body, kind, headers: { 'x-amzn-errortype': kind } };
  }
}

/**
 * The events of tool uses (one or more, in turn) before their messageStop: each block's start, input deltas and stop
 * (https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ConverseStreamOutput.html).
 */
const HELD_TOOL_USE = new Set(['contentBlockStart', 'contentBlockDelta', 'contentBlockStop']);

/** A contentBlockStart that opens a toolUse block ({"start":{"toolUse":{"toolUseId":...,"name":...}}}). */
function isToolUseStart(event: AwsEvent): boolean {
  return event.type === 'contentBlockStart' && event.body.includes('"toolUse"');
}

function sseOpening(event: SseEvent): Opening {
  if (event.event !== null && PREAMBLE.has(event.event)) return 'wait';
  if (event.data === '') return 'wait';
  // A Gemini candidate the model's tool calling failed: parsed only when the event names such a finish reason.
  const fault = geminiFaultOf(event.data);
  if (fault !== null) return { fault };
  // Parsed only when it may be one: every other stream's first event goes on unread.
  if (event.event !== 'error' && !event.data.includes('"error"')) return 'open';
  const root = asObject(tryParseJson(event.data));
  // Anthropic {"type":"error","error":{...}}; OpenAI-compatible servers and Gemini {"error":{...}}; the Responses API
  // (event: error) {"type":"error","code":...,"message":...}.
  const error = typeof root.error === 'object' && root.error !== null ? asObject(root.error) : event.event === 'error' ? root : null;
  if (error === null) return 'open';
  const kind = kindOf(error);
  return { status: statusOf(error, kind), body: event.data, kind, headers: null };
}

/**
 * Only a name goes into failure messages unredacted: upstream text that is not one (a key echoed back, a paragraph)
 * stays in the body, which the provider's failure() reads and the gateway redacts.
 */
const KIND = /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/;

function kindOf(error: Record<string, unknown>): string {
  return errorKindOf([error.type, error.status, error.code]) ?? 'error';
}

/**
 * The kind an error's fields name: the first that is a kind with a known status, else the first that is a name at all,
 * else undefined. OpenAI names a rate limit by what ran out (`type: "tokens"` or `"requests"`) and its kind in `code`
 * (`rate_limit_exceeded`), so a field later in the list may be the one that tells.
 */
export function errorKindOf(fields: readonly unknown[]): string | undefined {
  let name: string | undefined;
  for (const field of fields) {
    if (typeof field !== 'string' || !KIND.test(field)) continue;
    if (KIND_STATUS[field.toLowerCase()] !== undefined) return field;
    name ??= field;
  }
  return name;
}

/**
 * The kind of an error a stream reports once under way, for a client of another API to be told in its own words: a kind
 * its fields name, else the kind of the HTTP status it carries (OpenAI-compatible servers put one in `code`: vLLM's
 * `{"type":"BadRequestError","code":400}`, another's `{"code":429}`), else any name it gives; undefined when none.
 */
export function streamErrorKind(fields: readonly unknown[]): string | undefined {
  const named = errorKindOf(fields);
  if (named !== undefined && KIND_STATUS[named.toLowerCase()] !== undefined) return named;
  for (const field of fields) {
    const status = httpStatus(field);
    if (status !== undefined) return STATUS_KIND[status] ?? (status >= 500 ? 'api_error' : 'invalid_request_error');
  }
  return named;
}

/** The kind Sluice tells an error of each status as, by the names in KIND_STATUS (which map back to these statuses). */
const STATUS_KIND: Readonly<Record<number, string>> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  503: 'unavailable',
  504: 'timeout_error',
  529: 'overloaded_error',
};

/** An error status a field holds, as a number or a three-digit string; undefined when it holds none. */
function httpStatus(field: unknown): number | undefined {
  const status = typeof field === 'string' && /^\d{3}$/.test(field) ? Number(field) : field;
  return typeof status === 'number' && Number.isInteger(status) && status >= 400 && status <= 599 ? status : undefined;
}

/** The HTTP status a provider answers an error of the kind named with (500 for a kind not known), case aside. */
export function errorKindStatus(kind: string): number {
  return KIND_STATUS[kind.toLowerCase()] ?? 500;
}

/** A status the error carries (OpenAI-compatible servers and Gemini give `code: 503`), else its kind's. */
function statusOf(error: Record<string, unknown>, kind: string): number {
  return httpStatus(error.code) ?? httpStatus(error.status) ?? errorKindStatus(kind);
}
