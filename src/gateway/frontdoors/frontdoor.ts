// The contract of a front door: one client API shape, parsed into the IR and rendered back, streams included. A front
// door knows the IR and its own wire; what a provider sent comes to it through the call's exchange.
import type { ChatRequest, ChatResponse } from '../../ir/chat.js';
import type { StreamEvent } from '../../ir/stream.js';
import type { Usage } from '../../ir/usage.js';
import { SluiceError } from '../../errors.js';
import type { ChatExchange, ClientStream, Dialect, Redactor } from '../../wire/exchange.js';
import { tryParseJson } from '../../wire/json.js';
import type { OutputEstimate } from '../../wire/output-sample.js';

export interface FrontDoor {
  readonly dialect: Dialect;
  /** The error body in this API's shape. */
  errorBody(error: SluiceError): string;
  /**
   * The error as this API's in-band stream event, for a failure once the stream has begun; `stream`, when known, is the
   * one it ends (an API that numbers its events numbers this one after the stream's).
   */
  errorEvent(error: SluiceError, stream?: ClientStream): string;
  /** Validates the client's JSON and builds the IR; throws SluiceError('invalid_request', ..., { param }) naming the field. */
  parseChat(body: unknown): ChatRequest;
  /**
   * Why the client's body (accepted by parseChat) cannot be translated for a provider that does not speak this API, as
   * the error the client gets (naming the field), or null. Absent where everything parsed translates.
   */
  translationRefusal?(
    body: Record<string, unknown>,
    provider: { readonly name: string; readonly features: ReadonlySet<string> },
  ): SluiceError | null;
  /**
   * A provider's refusal of a request field (its param named as the IR names it: `stop`), naming the field as this API
   * does; absent where the names are the IR's.
   */
  inClientTerms?(refusal: SluiceError): SluiceError;
  /**
   * Whether a whole answer (its JSON) or one event of a stream, in this API, says the model refused: a safety filter's
   * stop or a refusal message. Such an answer is not kept by the response cache.
   */
  isModelRefusal(answer: unknown): boolean;
  /** The client's answer from the provider's whole answer: passed through when the exchange allows it, else translated. */
  answer(exchange: ChatExchange, text: string, request: ChatRequest): ChatAnswer;
  /**
   * The client's stream: the provider's relayed when the exchange passes through, else decoded to the IR and encoded in
   * this API's events. Error events pass through `redactor` (an upstream may echo its key in one). `clientBody` carries
   * options the IR does not (stream_options). `promptEstimate`: the prompt's tokens by Sluice's tokenizer, for a
   * translated stream in a shape that states them before the provider does (statesPromptFirst).
   */
  stream(
    exchange: ChatExchange,
    request: ChatRequest,
    clientBody: Record<string, unknown>,
    redactor: Redactor,
    promptEstimate?: number,
  ): ClientStream;
  /** Whether a translated stream states the prompt's tokens in its first event (Anthropic's message_start). */
  readonly statesPromptFirst?: boolean;
  /** GET /v1/models/{id}: one model in this API's shape. */
  renderModel(id: string, created: number): string;
  /** GET /v1/models: the list in this API's shape. */
  renderModels(ids: readonly string[], created: number): string;
}

/** A whole answer for the client, and what metering needs from it. */
export interface ChatAnswer {
  body: string;
  usage: Usage;
  /** What the model produced, for counting output tokens when usage was not reported; null when it was. */
  output: (() => OutputEstimate) | null;
}

export interface StreamEncoder {
  /** SSE text for these events ('' when none is due yet). */
  encode(events: readonly StreamEvent[]): string;
  /** Whatever closes the stream in this API ([DONE], message_stop), if not yet sent. */
  end(): string;
  /** Where this API numbers its events (the Responses API), the number the next one takes. */
  readonly nextSequenceNumber?: number;
  /**
   * Where this API ends a failed stream with more than its error event, the events that end it broken off upstream
   * (ClientStream.broken); absent where the front door's errorEvent alone does.
   */
  fail?(code: string, message: string): string;
}

/** What the front doors share of answer(): the pass-through or the translation, and the usage of either. */
export function answerChat(
  exchange: ChatExchange,
  text: string,
  requestedModel: string,
  render: (response: ChatResponse, requestedModel: string) => string,
): ChatAnswer {
  const passThrough = exchange.passThrough;
  if (passThrough !== null) {
    // Same API on both sides: the provider's bytes go to the client untouched, and only the usage is read from them.
    const usage = passThrough.usage(text);
    if (usage === null) throw notJson(exchange);
    return { body: text, usage, output: usage.reported ? null : () => outputOf(exchange.response(tryParseJson(text))) };
  }
  const json = tryParseJson(text);
  if (json === undefined) throw notJson(exchange);
  const response = exchange.response(json);
  return {
    body: render(response, requestedModel),
    usage: response.usage,
    output: response.usage.reported ? null : () => outputOf(response),
  };
}

function notJson(exchange: ChatExchange): SluiceError {
  return new SluiceError('upstream_unavailable', `Provider ${exchange.provider} answered with a body that is not JSON.`);
}

function outputOf(response: ChatResponse): OutputEstimate {
  return { texts: [response.text, response.refusal ?? '', ...response.toolCalls.map((call) => call.arguments)], scale: 1 };
}
