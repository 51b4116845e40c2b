// POST /v1/chat/completions, /v1/messages and /v1/responses: the pipeline for chat, in any of those API shapes, streamed or
// not. The stages are composed here, and only here is the call's state written, from what each stage returns.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { SluiceError } from '../../errors.js';
import type { ChatRequest } from '../../ir/chat.js';
import { promptTokensNow } from '../../metering/tokenizer.js';
import type { Usage } from '../../ir/usage.js';
import type { ChatExchange, ClientBody, ClientStream, Redactor } from '../../wire/exchange.js';
import type { OutputEstimate } from '../../wire/output-sample.js';
import type { GatewayContext } from '../context.js';
import type { ChatAnswer, FrontDoor } from '../frontdoors/frontdoor.js';
import { searchToolsOf } from '../frontdoors/search-tools.js';
import { admit } from '../pipeline/admit.js';
import { authenticate } from '../pipeline/authenticate.js';
import type { Call } from '../pipeline/call.js';
import type { Cancellation } from '../pipeline/cancellation.js';
import { readJsonBody } from '../pipeline/read-body.js';
import { resolveModel } from '../pipeline/resolve-model.js';
import { sendError } from '../respond.js';
import { invokeUpstream, type UpstreamAnswer } from '../routing/invoke.js';
import type { Target } from '../routing/model-routes.js';
import { TimeLimit } from '../routing/deadlines.js';
import type { BodySink, UpstreamBody } from '../routing/upstream-exchange.js';
import { finishCall } from './finish.js';
import { CACHE_HEADER } from '../cache/policy.js';
import { StreamCapture } from '../cache/stream-capture.js';
import type { CachedAnswer } from '../cache/response-cache.js';
import { price } from '../pipeline/meter.js';

export async function handleChat(
  context: GatewayContext,
  door: FrontDoor,
  call: Call,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  // A background call let through holds a place among those the gateway follows until it is followed or has failed.
  let holdsPlace = false;
  try {
    const snapshot = context.snapshot;
    const authenticated = authenticate(context.identity, snapshot.consumers, snapshot.identityRules, req, call);
    const consumer = authenticated instanceof Promise ? await authenticated : authenticated;
    call.consumer = consumer;
    const received = await readJsonBody(req, context.maxBodyBytes);
    // Known before the body is parsed, so a guardrail's refusal is recorded against the model the call asked for.
    if (typeof received.model === 'string' && received.model !== '') call.requestedModel = received.model;
    call.stream = received.stream === true;
    // Guardrails on the prompt: a block is the caller's 400, a mask changes the body every later stage sees.
    const guarded = snapshot.guardrails.empty ? null : snapshot.guardrails.check('input', consumer, String(received.model), received);
    const body = guarded?.body ?? received;
    const request = door.parseChat(body);
    // The provider's search tools the body gives the model, billed per use: admission reserves their uses.
    const searchTools = searchToolsOf(door.dialect, body);
    if (searchTools !== undefined) request.searchTools = searchTools;
    call.chat = request;
    call.requestedModel = request.model;
    call.stream = request.stream;
    // A Responses API call run in the background: served only where the gateway follows it to its end (to meter it).
    const background = door.dialect === 'openai-responses' && body.background === true;
    if (background) {
      context.background.check();
      holdsPlace = true;
    }
    // A Responses API call continuing a stored response: only from one of this consumer's (or one Sluice never saw), and
    // first to the model's targets on the provider that keeps it: another account does not hold the conversation.
    const previous =
      door.dialect === 'openai-responses' && typeof body.previous_response_id === 'string'
        ? await context.storedResponses.checkPrevious(consumer.name, body.previous_response_id)
        : null;
    const requested = resolveModel(snapshot.routing.routes, consumer, request.model);
    // The response cache, when the model or the request opts in: a hit is answered before admission and any upstream call.
    // Not for a model the resource policy refuses: admission answers those.
    // Nor for a background call, whose answer is a queued response, not the answer.
    const slot =
      requested.refusal === null && !background ? snapshot.cachePolicy.slot(req, consumer, door.dialect, request.model, body) : null;
    // Guardrails on a whole answer (the provider's or the cache's): throws a block; returns the JSON text, masked or not.
    const guardOutput = snapshot.guardrails.empty
      ? null
      : (text: string) => {
          const parsed = JSON.parse(text) as Record<string, unknown>;
          const checked = snapshot.guardrails.check('output', consumer, request.model, parsed);
          if (checked.violations.length > 0) call.violations = [...(call.violations ?? []), ...checked.violations];
          return checked.body === parsed ? text : JSON.stringify(checked.body);
        };
    if (slot !== null) {
      const hit = await context.cache.store.get(slot.key);
      // Only an answer of a target the model routes to now is a hit: one made before a reload rerouted the model, or by
      // a target the resource policy now refuses, is not what a call to it would get (a miss, and the new answer kept).
      const target = hit === null ? undefined : requested.targets.find((candidate) => madeBy(hit, candidate));
      if (hit !== null && target !== undefined) {
        if (guarded !== null && guarded.violations.length > 0) call.violations = guarded.violations;
        // The target whose answer is replayed: its resource's policy (monitor) applies to the hit.
        call.target = target;
        return context.cache.answerHit(context, call, res, hit, guardOutput);
      }
      res.setHeader(CACHE_HEADER, 'miss');
    }
    const admitting = admit(snapshot.admission, consumer, requested, call);
    const admission = admitting instanceof Promise ? await admitting : admitting;
    const route = admission.route;
    call.reservation = admission.reservation;
    call.violations =
      guarded === null || guarded.violations.length === 0 ? admission.violations : [...(admission.violations ?? []), ...guarded.violations];
    if (route !== requested) {
      call.servedModel = route.name;
      res.setHeader('x-sluice-served-model', route.name);
    }
    // Where the answer is kept: a downgraded call's answer is another model's, never kept as the asked model's.
    const keepIn = route === requested ? slot : null;
    const client: ClientBody = { dialect: door.dialect, body };
    const betas = door.dialect === 'anthropic' ? req.headers['anthropic-beta'] : undefined;
    if (typeof betas === 'string') client.betas = betas;
    const invocation = await invokeUpstream(
      route,
      (target) => openExchange(door, request, body, client, target),
      request.stream,
      call.cancellation,
      previous?.provider ?? null,
    );
    call.attempts = invocation.attempts;
    call.failures = invocation.failures;
    const answer = invocation.answer;
    if (answer === null) throw invocation.error;
    call.target = answer.target;
    if (request.stream) {
      const translated = answer.exchange.passThrough === null && door.statesPromptFirst === true;
      const promptEstimate = translated ? promptTokensNow(request) : undefined;
      const capture = keepIn === null ? null : new StreamCapture(snapshot.cachePolicy.maxEntryBytes);
      // At the stream's first event with the response's id (response.created), once it has gone: the response stored is
      // recorded for its consumer, who may retrieve, resume or cancel it while the stream is still open; and a background
      // call is kept in its record, so that a gateway killed meanwhile leaves it to be followed and metered
      // (stored-responses/background.ts), unless the stream ended in the same read.
      let remembered = false;
      let keptEarly = false;
      const onResponseId =
        answer.exchange.passThrough === null || door.dialect !== 'openai-responses'
          ? null
          : (id: string, ended: boolean) => {
              remembered = true;
              rememberStored(context, call, body, id);
              if (!background || ended) return;
              keptEarly = context.background.keepStreamed(call, id);
              if (keptEarly) holdsPlace = false;
            };
      const streamed = await relayStream(
        door,
        call.cancellation,
        request,
        body,
        answer,
        route.redactor,
        res,
        promptEstimate,
        capture,
        onResponseId,
      );
      call.usage = streamed.usage;
      call.output = streamed.output;
      call.firstTokenHr = streamed.firstTokenHr;
      if (streamed.responseId !== null && !remembered) rememberStored(context, call, body, streamed.responseId);
      if (call.errorClass === null) call.errorClass = streamed.errorClass;
      // A background response whose stream stopped before the response's end (the client left, or the stream broke)
      // runs on at the provider, billed, and the client may resume it: followed to its end as a queued one is.
      const stoppedShort = background && streamed.responseId !== null && !call.usage.reported;
      if (stoppedShort) {
        holdsPlace = false;
        // Not the call's end, as it would be for any other stream: the response's end decides how it is recorded.
        call.status = 200;
        call.errorClass = null;
      }
      // One kept at its first event is recorded here only if its record is still this process's (taken now).
      if (keptEarly) {
        if (!(await context.background.streamStopped(call, streamed.responseId!, !stoppedShort))) return;
      } else if (stoppedShort && context.background.follow(call, streamed.responseId!, null)) return;
      const captured = capture?.whole() ?? null;
      if (keepIn !== null && captured !== null && call.usage.reported) {
        context.cache.keep(
          keepIn,
          call,
          door,
          'text/event-stream; charset=utf-8',
          captured,
          price(call).cost,
          snapshot.cachePolicy.maxEntryBytes,
        );
      }
    } else {
      const answered = complete(door, request, answer, res, guardOutput);
      call.usage = answered.usage;
      call.output = answered.output;
      // The scan for the id of a stored response runs after the answer has left.
      const responseId = answer.exchange.passThrough?.responseId?.(answer.text!) ?? null;
      if (responseId !== null) rememberStored(context, call, body, responseId);
      // Queued or running: finished (metered, settled, recorded) once the response has ended, not now.
      if (background && responseId !== null) {
        holdsPlace = false;
        if (context.background.follow(call, responseId, answer.text!)) return;
      }
      if (keepIn !== null && call.usage.reported) {
        context.cache.keep(
          keepIn,
          call,
          door,
          'application/json',
          Buffer.from(answered.body),
          price(call).cost,
          snapshot.cachePolicy.maxEntryBytes,
        );
      }
    }
  } catch (error) {
    call.failed(sendError(res, door, error, context.logger, call.requestId));
  }
  if (holdsPlace) context.background.release();
  const finished = finishCall(context, call);
  if (finished !== undefined) await finished;
}

/**
 * Records who owns a response the provider stored (a Responses API call passed through, `store` not false: OpenAI's
 * default is true), so the consumer can retrieve, delete or cancel it through Sluice (handlers/stored-responses.ts).
 * Called once the answer is sent; the write is not awaited.
 */
function rememberStored(context: GatewayContext, call: Call, body: Record<string, unknown>, id: string): void {
  if (body.store === false || call.consumer === null || call.target === null) return;
  context.storedResponses.remember(id, { consumer: call.consumer.name, provider: call.target.provider.name, model: call.target.model });
}

/** Whether a cached answer was made by this target (its provider and the model the provider knows). */
function madeBy(hit: CachedAnswer, target: Target): boolean {
  // The same provider name configured differently (another baseUrl or key, after a reload) is another upstream.
  return (
    target.provider.name === hit.provider && target.model === hit.providerModel && target.providerFingerprint === hit.providerFingerprint
  );
}

/**
 * The call's exchange with one target. What only a provider speaking the client's API can do is refused for a
 * translated target, in the front door's words (naming its own field), and another target may take the call.
 */
function openExchange(
  door: FrontDoor,
  request: ChatRequest,
  body: Record<string, unknown>,
  client: ClientBody,
  target: Target,
): ChatExchange {
  let exchange: ChatExchange;
  try {
    exchange = target.provider.openChat(request, target.model, client, target.baseModel);
  } catch (error) {
    if (error instanceof SluiceError && error.code === 'unsupported_by_provider')
      throw door.translationRefusal?.(body, target.provider) ?? door.inClientTerms?.(error) ?? error;
    throw error;
  }
  const refusal = exchange.passThrough === null ? (door.translationRefusal?.(body, target.provider) ?? null) : null;
  if (refusal !== null) throw refusal;
  return exchange;
}

/**
 * Sends the answer through `guard`, the caller's output guardrails over its JSON text (throws a block; returns the text,
 * masked or not), and returns it as the provider gave it: the response cache keeps that, and each hit passes its own
 * caller's guardrails, so an answer masked for one consumer is never another's (scope team or shared).
 */
function complete(
  door: FrontDoor,
  request: ChatRequest,
  answer: UpstreamAnswer<ChatExchange>,
  res: ServerResponse,
  guard: ((text: string) => string) | null,
): ChatAnswer {
  const answered = door.answer(answer.exchange, answer.text!, request);
  const out = guard === null ? answered : { ...answered, body: guard(answered.body) };
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(out.body) });
  res.end(out.body);
  return answered;
}

/** Why a stream ended before its provider's end, by Sluice's or the connection's doing. */
type StreamCut = 'stream_interrupted' | 'stream_time_limit';

/** What relaying a stream produced. */
interface Streamed {
  usage: Usage;
  output: () => OutputEstimate;
  firstTokenHr: bigint | null;
  /**
   * stream_interrupted when the upstream broke off, stream_time_limit when it was cut at maxStreamMs, stream_error when
   * it reported an error in the stream.
   */
  errorClass: StreamCut | 'stream_error' | null;
  /** The id of the response the provider stored, as its stream gave it; null when it gave none. */
  responseId: string | null;
}

function relayStream(
  door: FrontDoor,
  cancellation: Cancellation,
  request: ChatRequest,
  body: Record<string, unknown>,
  answer: UpstreamAnswer<ChatExchange>,
  redactor: Redactor,
  res: ServerResponse,
  promptEstimate?: number,
  capture: StreamCapture | null = null,
  onResponseId: ((id: string, ended: boolean) => void) | null = null,
): Promise<Streamed> {
  const stream = door.stream(answer.exchange, request, body, redactor, promptEstimate);
  // No Connection header: node:http sends keep-alive for a keep-alive request, and close while the gateway drains.
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
  const provider = answer.exchange.provider;
  return new Promise((resolve) =>
    answer.body.pipe(new StreamRelay(door, cancellation, provider, stream, answer.body, res, resolve, capture, onResponseId)),
  );
}

/**
 * Relays a committed upstream stream to the client chunk by chunk as undici hands them over: converted by the
 * ClientStream, written at once, the upstream paused while the client's socket is full so a slow client slows the read.
 */
class StreamRelay implements BodySink {
  private readonly door: FrontDoor;
  private readonly cancellation: Cancellation;
  private readonly providerName: string;
  private readonly stream: ClientStream;
  private readonly body: UpstreamBody;
  private readonly res: ServerResponse;
  private readonly done: (streamed: Streamed) => void;
  private readonly onDrain: () => void;
  private firstTokenHr: bigint | null;
  private cut: StreamCut | null;
  /** What the client got, kept for the response cache (null when the call is not cached). */
  private readonly capture: StreamCapture | null;
  /**
   * Told the response's id once, after the event that gave it has gone, and whether the stream ended in the same read (a
   * passed-through Responses API stream's); null otherwise, or once told.
   */
  private onResponseId: ((id: string, ended: boolean) => void) | null;

  constructor(
    door: FrontDoor,
    cancellation: Cancellation,
    providerName: string,
    stream: ClientStream,
    body: UpstreamBody,
    res: ServerResponse,
    done: (streamed: Streamed) => void,
    capture: StreamCapture | null,
    onResponseId: ((id: string, ended: boolean) => void) | null,
  ) {
    this.capture = capture;
    this.onResponseId = onResponseId;
    this.door = door;
    this.cancellation = cancellation;
    this.providerName = providerName;
    this.stream = stream;
    this.body = body;
    this.res = res;
    this.done = done;
    this.onDrain = () => body.resume();
    this.firstTokenHr = null;
    this.cut = null;
  }

  data(chunk: Buffer): void {
    const stream = this.stream;
    this.send(stream.push(chunk));
    if (this.onResponseId !== null && typeof stream.responseId === 'string') {
      const told = this.onResponseId;
      this.onResponseId = null;
      told(stream.responseId, stream.finished);
    }
  }

  end(): void {
    try {
      this.send(this.stream.end());
    } catch (error) {
      this.error(error as Error);
      return;
    }
    // Cleanly closed, but before the provider's own end: the client must not take what it has for the whole answer.
    if (!this.stream.finished && this.stream.streamError === null) {
      this.error(new Error('the stream ended before its last event'));
      return;
    }
    this.res.end();
    this.finish();
  }

  error(error: Error): void {
    // No fallback once the client has bytes: the stream ends with the API's own error event, numbered after the
    // stream's events where the API numbers them (the Responses API's sequence_number).
    // A stream past its whole time (maxStreamMs) ends the same way, as the timeout it is.
    if (!this.cancellation.aborted) {
      const res = this.res;
      const timeUp = error instanceof TimeLimit;
      const ended = timeUp
        ? new SluiceError('upstream_timeout', `The stream from provider ${this.providerName} was cut: ${error.message}`)
        : new SluiceError('upstream_unavailable', `The stream from provider ${this.providerName} broke off: ${error.message}`);
      if (!res.destroyed && !res.writableEnded) res.end(this.door.errorEvent(ended, this.stream));
      this.cut = timeUp ? 'stream_time_limit' : 'stream_interrupted';
    }
    this.finish();
  }

  private send(text: string | Buffer): void {
    if (text.length === 0) return;
    if (this.firstTokenHr === null) this.firstTokenHr = process.hrtime.bigint();
    this.capture?.add(text);
    const res = this.res;
    if (res.destroyed) return;
    // node:http corks the socket for the rest of the tick at a chunk's first write, so what one read of the upstream
    // yields (events, and often the stream's end) leaves in one write.
    if (res.write(text)) return;
    this.body.pause();
    res.once('drain', this.onDrain);
  }

  private finish(): void {
    const stream = this.stream;
    this.res.off('drain', this.onDrain);
    this.done({
      usage: stream.usage,
      output: () => stream.estimateOutput(),
      firstTokenHr: this.firstTokenHr,
      errorClass: this.cut ?? (stream.streamError !== null ? 'stream_error' : null),
      responseId: stream.responseId ?? null,
    });
  }
}
