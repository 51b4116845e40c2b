// One upstream HTTP exchange on undici's dispatcher API: the response arrives in callbacks and goes straight to what
// consumes it (the whole text of a JSON answer; chunk by chunk, paused and resumed, for a stream) rather than through
// undici's request(): its Readable body, async iterator and per-chunk promises cost more CPU per streamed call than
// the relay itself.
import type { Dispatcher } from 'undici';
import type { Cancellation } from '../pipeline/cancellation.js';
import { bodyTimeout, clock, headersTimeout, TimeLimit, unwatch, watch, type Expiring } from './deadlines.js';

type IncomingHttpHeaders = Dispatcher.ResponseData['headers'];

/** Takes a streamed body over once the call is committed to this answer. */
export interface BodySink {
  /** A chunk of the body; throwing aborts the exchange, and the error comes back through error(). */
  data(chunk: Buffer): void;
  end(): void;
  error(error: Error): void;
}

/** The body of an exchange whose head has come. */
export interface UpstreamBody {
  /** The whole body as text, once it has ended; rejects if it breaks off first. Not for a 2xx stream. */
  text(): Promise<string>;
  /** A 2xx stream: hands the body to the sink, starting with the chunks held so far. */
  pipe(sink: BodySink): void;
  /** Backpressure for a piped stream: no more data() until resume(). */
  pause(): void;
  resume(): void;
  /** A 2xx stream's first chunk, held until piped; null before it comes or once piped. */
  first(): Buffer | null;
  /**
   * A 2xx stream not yet piped: the chunk after the last one given (first() gives the first), held like it, whether it
   * came before this call or comes after; null once the body has ended with all of it given, or holds as much as is
   * held before piping. Rejects with undici's error (or the cancellation's reason) if it fails.
   */
  next(): Promise<Buffer | null>;
  /** Gives the answer up before piping it (a stream that is not one): the exchange is aborted. */
  discard(reason: Error): void;
}

export interface ExchangeOptions {
  path: string;
  headers: Record<string, string>;
  body: string;
  /** The longest wait for the head. */
  headersTimeoutMs: number;
  /** The longest wait between body chunks. */
  bodyTimeoutMs: number;
  /** The most of a body collected as text (a stream is never collected): past it, text() rejects with ResponseTooLarge. */
  maxBodyBytes: number;
  /**
   * The longest the exchange may last from its request on the connection, paused or not (a stream's maxStreamMs, a whole
   * answer's timeoutMs); 0 for no limit.
   */
  maxMs: number;
  /**
   * A 2xx stream's head is given only with its first chunk (held until piped), so one that dies before its first byte
   * fails the exchange (with StreamStartFailure) and can still be retried elsewhere.
   */
  stream: boolean;
}

export interface ExchangeHead {
  statusCode: number;
  headers: IncomingHttpHeaders;
  body: UpstreamBody;
}

/** A 2xx stream that failed after its head and before its first byte; `cause` is undici's error. */
export class StreamStartFailure extends Error {
  override readonly cause: Error;

  constructor(cause: Error) {
    super(cause.message);
    this.name = 'StreamStartFailure';
    this.cause = cause;
  }
}

/** A body to be collected that grew past ExchangeOptions.maxBodyBytes; the exchange was aborted there. */
export class ResponseTooLarge extends Error {
  constructor(maxBytes: number) {
    super(`the answer is larger than the ${maxBytes} bytes the gateway holds (routing.maxResponseBytes)`);
    this.name = 'ResponseTooLarge';
  }
}

/** Sends the request; resolves with the head, or rejects with undici's error (or the cancellation's reason). */
export function exchange(dispatcher: Dispatcher, options: ExchangeOptions, signal: Cancellation): Promise<ExchangeHead> {
  return new Promise((resolve, reject) => {
    const handler = new Exchange(options, signal, resolve, reject);
    dispatcher.dispatch(
      {
        path: options.path,
        method: 'POST',
        headers: options.headers,
        body: options.body,
        // The exchange keeps both limits itself (deadlines.ts): 0 arms none of undici's timers.
        headersTimeout: 0,
        bodyTimeout: 0,
      },
      handler,
    );
  });
}

/**
 * A 2xx stream's chunks are held, not passed on, from the first until pipe(): the caller commits a few microtasks
 * later. Pausing undici's parser at the first chunk and resuming it at pipe() cost more than holding what the same
 * read already brought (often the whole stream); the parser is paused only once this much is held.
 */
const HOLD_BYTES = 64 * 1024;

/**
 * The handler: after the head it either collects the body as text, or (a 2xx stream) holds it from its first chunk
 * until pipe() hands it on.
 */
class Exchange implements Dispatcher.DispatchHandler, UpstreamBody, Expiring {
  private readonly stream: boolean;
  private readonly maxBodyBytes: number;
  private readonly headersTimeoutMs: number;
  private readonly bodyTimeoutMs: number;
  private readonly maxMs: number;
  /**
   * The head's deadline from the request's start, then the body's from its last chunk, each capped at `endsAt`; while
   * paused, `endsAt` alone.
   */
  deadline: number;
  /** When the exchange's whole time (maxMs) runs out, on clock(); Infinity without that limit. */
  private endsAt: number;
  watchSlot: number;
  private readonly signal: Cancellation;
  private onHead: ((head: ExchangeHead) => void) | null;
  private onFailure: ((error: Error) => void) | null;
  private controller: Dispatcher.DispatchController | null;
  private statusCode: number;
  /** A 2xx stream's head, kept until its first chunk (or its end) comes. */
  private head: ExchangeHead | null;
  /** Collecting: the body so far. A stream: the chunks held until piped. */
  private chunks: Buffer[];
  /** Bytes of the body read so far; all of them are in `chunks` until a stream is piped. */
  private held: number;
  private paused: boolean;
  private ended: boolean;
  private failure: Error | null;
  private waiter: { resolve: (text: string) => void; reject: (error: Error) => void } | null;
  private sink: BodySink | null;
  /**
   * Of the chunks held, how many first() and next() have handed out: a chunk that came while the caller was busy with
   * the last one is held, and next() gives it before waiting for another.
   */
  private given: number;
  /** Waits in next() for a held stream's next chunk. */
  private nextWaiter: { resolve: (chunk: Buffer | null) => void; reject: (error: Error) => void } | null;
  private readonly onCancel: () => void;

  constructor(options: ExchangeOptions, signal: Cancellation, resolve: (head: ExchangeHead) => void, reject: (error: Error) => void) {
    this.stream = options.stream;
    this.maxBodyBytes = options.maxBodyBytes;
    this.headersTimeoutMs = options.headersTimeoutMs;
    this.bodyTimeoutMs = options.bodyTimeoutMs;
    this.maxMs = options.maxMs;
    this.deadline = Infinity;
    this.endsAt = Infinity;
    this.watchSlot = -1;
    this.signal = signal;
    this.onHead = resolve;
    this.onFailure = reject;
    this.controller = null;
    this.statusCode = 0;
    this.head = null;
    this.chunks = [];
    this.held = 0;
    this.paused = false;
    this.ended = false;
    this.failure = null;
    this.waiter = null;
    this.sink = null;
    this.given = 0;
    this.nextWaiter = null;
    this.onCancel = () => this.controller?.abort(this.signal.reason!);
    signal.onCancel(this.onCancel);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    // Cancelled while the request waited for a connection.
    if (this.signal.aborted) {
      controller.abort(this.signal.reason!);
      return;
    }
    // From here, as undici's own limit counted: the request is on its connection.
    const now = clock();
    const shortest = Math.min(this.headersTimeoutMs, this.bodyTimeoutMs);
    if (this.maxMs > 0) this.endsAt = now + this.maxMs;
    this.deadline = Math.min(now + this.headersTimeoutMs, this.endsAt);
    watch(this, this.maxMs > 0 ? Math.min(shortest, this.maxMs) : shortest);
  }

  expire(): void {
    // The whole time's limit is the deadline that came when the phase's was capped at it; the head's wait, when it is no
    // longer than the whole time (a whole answer's, both timeoutMs), is the head's timeout.
    const timeUp = this.deadline === this.endsAt && (this.statusCode !== 0 || this.maxMs < this.headersTimeoutMs);
    this.deadline = Infinity;
    this.controller?.abort(timeUp ? new TimeLimit(this.maxMs, this.stream) : this.statusCode === 0 ? headersTimeout() : bodyTimeout());
  }

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders): void {
    // undici leaves the head's raw bytes on the controller (a Buffer per header name and value) for as long as the
    // exchange lasts; the parsed `headers` are all Sluice reads, so a stream held open does not keep ten Buffers more.
    controller.rawHeaders = null;
    // 1xx informational heads are followed by the real one.
    if (statusCode < 200) return;
    this.statusCode = statusCode;
    this.deadline = this.bodyDeadline();
    const head = { statusCode, headers, body: this };
    if (this.stream && statusCode < 300) this.head = head;
    else this.give(head);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    // A paused body has no deadline (undici's did not either): the wait is the client's, not the provider's.
    if (!this.paused) this.deadline = this.bodyDeadline();
    if (this.sink !== null) {
      this.sink.data(chunk);
      return;
    }
    this.held += chunk.length;
    if (this.stream && this.statusCode < 300) {
      // Held here until the caller commits to this answer and pipes it on.
      this.chunks.push(chunk);
      if (this.held >= HOLD_BYTES) {
        this.paused = true;
        this.deadline = this.endsAt;
        controller.pause();
      }
      if (this.head !== null) this.give(this.head);
      else if (this.nextWaiter !== null) this.wake(this.chunks[this.given++]!);
      return;
    }
    if (this.held > this.maxBodyBytes) {
      // Collected whole, an answer this large would hold the gateway's memory for one call.
      this.chunks = [];
      controller.abort(new ResponseTooLarge(this.maxBodyBytes));
      return;
    }
    this.chunks.push(chunk);
  }

  onResponseEnd(): void {
    this.ended = true;
    this.done();
    if (this.nextWaiter !== null) this.wake(null);
    if (this.sink !== null) {
      this.sink.end();
      return;
    }
    if (this.head !== null) this.give(this.head);
    this.waiter?.resolve(this.bodyText());
  }

  onResponseError(_controller: Dispatcher.DispatchController | undefined, error: Error): void {
    // A cancelled call fails with the cancellation's reason, as undici's request() did with an aborted signal.
    const failure = this.signal.aborted ? this.signal.reason! : error;
    this.failure = failure;
    this.done();
    if (this.nextWaiter !== null) {
      const waiter = this.nextWaiter;
      this.nextWaiter = null;
      waiter.reject(failure);
    }
    if (this.onFailure !== null) {
      const reject = this.onFailure;
      this.onHead = null;
      this.onFailure = null;
      reject(this.head !== null && !this.signal.aborted ? new StreamStartFailure(failure) : failure);
    } else if (this.sink !== null) {
      this.sink.error(failure);
    } else {
      this.waiter?.reject(failure);
    }
  }

  text(): Promise<string> {
    if (this.failure !== null) return Promise.reject(this.failure);
    if (this.ended) return Promise.resolve(this.bodyText());
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  pipe(sink: BodySink): void {
    this.sink = sink;
    const held = this.chunks;
    this.chunks = [];
    if (held.length > 0) {
      try {
        sink.data(held.length === 1 ? held[0]! : Buffer.concat(held, this.held));
      } catch (error) {
        // The same path as a sink that throws inside undici's callback: the exchange is aborted and the sink told.
        if (this.failure === null && !this.ended) this.controller!.abort(error as Error);
        else sink.error(error as Error);
        return;
      }
    }
    if (this.failure !== null) sink.error(this.failure);
    else if (this.ended) sink.end();
    else if (this.paused) this.resume();
  }

  pause(): void {
    this.paused = true;
    // The silence is the client's, not the provider's; the whole time still runs.
    this.deadline = this.endsAt;
    this.controller?.pause();
  }

  first(): Buffer | null {
    if (this.sink !== null || this.chunks.length === 0) return null;
    this.given = Math.max(this.given, 1);
    return this.chunks[0]!;
  }

  next(): Promise<Buffer | null> {
    if (this.failure !== null) return Promise.reject(this.failure);
    if (this.sink !== null) return Promise.resolve(null);
    // Held before it was asked for (it came while the last was being read): given now, in order.
    if (this.given < this.chunks.length) return Promise.resolve(this.chunks[this.given++]!);
    if (this.ended || this.paused) return Promise.resolve(null);
    return new Promise((resolve, reject) => {
      this.nextWaiter = { resolve, reject };
    });
  }

  discard(reason: Error): void {
    this.chunks = [];
    if (this.failure === null && !this.ended) this.controller?.abort(reason);
  }

  resume(): void {
    this.paused = false;
    if (this.failure === null && !this.ended) {
      this.deadline = this.bodyDeadline();
      this.controller?.resume();
    }
  }

  /** The body's deadline from now: its next silence's, or the whole time's if that comes first. */
  private bodyDeadline(): number {
    const silence = clock() + this.bodyTimeoutMs;
    return silence < this.endsAt ? silence : this.endsAt;
  }

  private give(head: ExchangeHead): void {
    const resolve = this.onHead;
    this.head = null;
    this.onHead = null;
    this.onFailure = null;
    resolve?.(head);
  }

  private wake(chunk: Buffer | null): void {
    const waiter = this.nextWaiter!;
    this.nextWaiter = null;
    waiter.resolve(chunk);
  }

  private bodyText(): string {
    const chunks = this.chunks;
    return chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks, this.held).toString('utf8');
  }

  private done(): void {
    this.deadline = Infinity;
    unwatch(this);
    this.signal.off(this.onCancel);
  }
}
