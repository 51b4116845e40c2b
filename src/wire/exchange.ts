// One call's exchange with a provider, as the provider opens it for a target: the request it sends, and how its answer
// is read (decoded to the IR, or, when the provider passed the client's own body through, relayed as it is). The
// contract between the front doors, the gateway and the providers, so that none of them imports another's wire format.
import type { ProviderErrorFields } from '../errors.js';
import type { ChatResponse } from '../ir/chat.js';
import type { EmbeddingsRequest, EmbeddingsResponse } from '../ir/embeddings.js';
import type { StreamDecoder } from '../ir/stream.js';
import type { Usage } from '../ir/usage.js';
import type { AnswerFault } from './answer-fault.js';
import type { OutputEstimate } from './output-sample.js';

/** The client-facing API shapes Sluice speaks; a provider that speaks one natively gets the client's body passed through. */
export type Dialect = 'openai' | 'anthropic' | 'openai-responses';

/** The client's own parsed body, offered to a provider of the same dialect so it can change only what it must. */
export interface ClientBody {
  dialect: Dialect;
  body: Record<string, unknown>;
  /** An Anthropic client's anthropic-beta header (the betas its body may rely on), for a provider that passes it through. */
  betas?: string;
}

export interface UpstreamRequest {
  /** Path and query, relative to the provider's origin. */
  path: string;
  headers: Record<string, string>;
  body: string;
}

/** What a provider makes of an upstream error response: the message to pass on and whether another try may succeed. */
export interface UpstreamFailure {
  status: number;
  message: string;
  retryable: boolean;
  /** Seconds the provider asked to wait, from Retry-After. */
  retryAfterSeconds?: number;
  /**
   * Set only when the client's own body passed through in the provider's API and the provider's error named its fields:
   * then `message` is the provider's own, and these (with `param`) reach the client as the provider gave them.
   */
  passedOn?: { fields: ProviderErrorFields; param: string | null };
}

export type ResponseHeaders = Record<string, string | string[] | undefined>;

export type StreamFraming = 'sse' | 'aws-event-stream';

/** Takes credentials out of upstream text before a client, a log or the ledger sees it. */
export interface Redactor {
  redact(text: string): string;
}

/** Turns upstream bytes into client bytes while keeping count of what the call used. */
export interface ClientStream {
  /** Bytes or text for the client ('' or an empty Buffer when nothing is due yet). */
  push(chunk: Buffer): string | Buffer;
  end(): string | Buffer;
  /** Usage as the provider reported it so far; `reported` stays false if it never did. */
  readonly usage: Usage;
  /** What the model produced, for estimating output tokens when usage never came; called only then. */
  estimateOutput(): OutputEstimate;
  /** Set when the provider reported an error inside the stream. */
  readonly streamError: string | null;
  /**
   * Whether the provider's stream reached its own end (a finish reason, `[DONE]`, `message_stop`, `response.completed`):
   * a stream that ends without it (and without an error event) stopped short, whatever its transport said.
   */
  readonly finished: boolean;
  /**
   * Where the client's API numbers a stream's events (the Responses API's `sequence_number`), the number its next event
   * takes: the in-band error event that ends a broken stream continues the count. Absent for APIs that do not number.
   */
  readonly nextSequenceNumber?: number;
  /**
   * Where the provider keeps what it answered (the Responses API's stored response), its id as the stream gave it (its
   * first event); null until then, absent for APIs that keep nothing.
   */
  readonly responseId?: string | null;
  /**
   * Where the client's API ends a failed stream with more than its error event (the Responses API's error, then
   * response.failed with the response as it stood), the events that end this one, broken off once under way, with the
   * error's `code` and `message`: '' when it has already ended. Null, or absent, where the error event alone ends it.
   */
  broken?(code: string, message: string): string | null;
}

/** What the exchanges of chat and embeddings share. */
interface Exchange {
  /** The provider's name in sluice.yaml, for messages. */
  readonly provider: string;
  readonly request: UpstreamRequest;
  /** An error answer: the message to pass on and whether another attempt may succeed. */
  failure(status: number, body: string, headers: ResponseHeaders): UpstreamFailure;
}

export interface ChatExchange extends Exchange {
  /**
   * Why a whole answer with a success status is a failure all the same (Gemini's MALFORMED_FUNCTION_CALL: the model
   * produced nothing usable), or null; absent for providers whose successes always are.
   */
  answerFault?(text: string): AnswerFault | null;
  /**
   * Set when the provider passed the client's body through: its answer is in the client's own wire, and may go to the
   * client as it is. Null when the request was translated (the answer must be too).
   */
  readonly passThrough: ChatPassThrough | null;
  /** A whole answer (parsed JSON) to the IR. */
  response(body: unknown): ChatResponse;
  /** A decoder of the streamed answer to IR events. */
  streamDecoder(): StreamDecoder;
}

export interface ChatPassThrough {
  /**
   * The usage in a whole answer's text, its usage object read without parsing the rest where it can; `reported` false
   * when it has none, null when the text is not JSON.
   */
  usage(text: string): Usage | null;
  /** Relays the streamed answer, changing only what it must, tapping usage; error events pass through `redactor`. */
  relay(redactor: Redactor): ClientStream;
  /**
   * The id under which the provider keeps a whole answer (the Responses API's stored response), read by a bounded scan
   * of its first bytes; null when it has none. Absent for APIs that keep nothing.
   */
  responseId?(text: string): string | null;
}

export interface EmbeddingsExchange extends Exchange {
  /** Set when the provider passed the client's body through (its answer is in the client's wire). */
  readonly passThrough: EmbeddingsPassThrough | null;
  /** A whole answer (parsed JSON) to the IR. */
  response(body: unknown, request: EmbeddingsRequest): EmbeddingsResponse;
}

export interface EmbeddingsPassThrough {
  /** The usage in a whole answer (parsed JSON); `reported` false when it has none. */
  usage(body: unknown): Usage;
}
