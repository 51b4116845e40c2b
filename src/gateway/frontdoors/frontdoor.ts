// The contract of a front door: one client API shape, parsed into the IR and rendered back, streams included.
import type { ChatRequest, ChatResponse } from '../../ir/chat.js';
import type { StreamEvent } from '../../ir/stream.js';
import type { Usage } from '../../ir/usage.js';
import type { SluiceError } from '../../errors.js';
import type { Dialect } from '../../providers/provider.js';
import type { SecretRedactor } from '../../providers/shared/secret-redactor.js';
import type { OutputEstimate } from './output-sample.js';

export interface FrontDoor {
  readonly dialect: Dialect;
  /** The error body in this API's shape. */
  errorBody(error: SluiceError): string;
  /** Validates the client's JSON and builds the IR; throws SluiceError('invalid_request', ..., { param }) naming the field. */
  parseChat(body: unknown): ChatRequest;
  /** An IR answer in this API's shape; `requestedModel` is what the client asked for. */
  renderChat(response: ChatResponse, requestedModel: string): string;
  /**
   * Encodes IR stream events as this API's SSE; `clientBody` carries options the IR does not (stream_options).
   * `promptEstimate`: the prompt's tokens by Sluice's tokenizer, for a shape that states them before the provider does.
   */
  streamEncoder(request: ChatRequest, clientBody: Record<string, unknown>, promptEstimate?: number): StreamEncoder;
  /** Whether streamEncoder wants a promptEstimate (Anthropic's message_start states the input tokens first). */
  readonly statesPromptFirst?: boolean;
  /** Same-dialect pass-through of a non-streamed answer: the usage in the provider's own JSON. */
  nativeUsage(body: unknown): Usage;
  /**
   * Same-dialect pass-through of a stream: relays the provider's SSE, changing only what it must; error events pass
   * through `redactor` (an upstream may echo its key in one).
   */
  streamRelay(request: ChatRequest, clientBody: Record<string, unknown>, redactor: SecretRedactor): ClientStream;
}

export interface StreamEncoder {
  /** SSE text for these events ('' when none is due yet). */
  encode(events: readonly StreamEvent[]): string;
  /** Whatever closes the stream in this API ([DONE], message_stop), if not yet sent. */
  end(): string;
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
}
