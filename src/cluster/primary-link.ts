// A worker's end of the IPC channel: requests to the primary, each answered once, failing fast if the primary is gone;
// and the connections of the gateway's and the admin API's listeners that the primary hands it (src/cluster/balancer.ts).
import { Socket } from 'node:net';
import { LedgerWriteFailed } from '../ledger/sink.js';
import { CounterStoreUnavailable } from '../counters/counter-store.js';
import {
  isSluiceMessage,
  type ErrorShape,
  type HandedListener,
  type ListeningMessage,
  type PrimaryRequest,
  type ReplyMessage,
} from './messages.js';

/** A primary that does not answer in this long is taken as gone (it answers from memory, in microseconds). */
const REPLY_TIMEOUT_MS = 10_000;

interface Waiting {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

export class PrimaryLink {
  private nextId: number;
  private readonly waiting: Map<number, Waiting>;
  /** This worker's metrics as prom-client's JSON, set once its registry exists. */
  private metrics: (() => Promise<unknown[]>) | null;
  /** Where each listener's handed connections go, once its server is ready; until then they wait in `handed`. */
  private readonly adopters: Map<HandedListener, (socket: Socket) => void>;
  private readonly handed: Map<HandedListener, Socket[]>;

  constructor() {
    this.nextId = 1;
    this.waiting = new Map();
    this.metrics = null;
    this.adopters = new Map();
    this.handed = new Map();
    process.on('message', (message: unknown, handle: unknown) => {
      if (!isSluiceMessage(message)) return;
      if (message.sluice === 'reply') this.answer(message);
      else if (message.sluice === 'metrics-request') this.sendMetrics(message.id);
      else if (message.sluice === 'connection' && handle instanceof Socket) this.connection(message.listener, message.id, handle);
    });
  }

  /** Where the connections the primary hands this worker for `listener` go; any handed before are given now. */
  takeConnections(listener: HandedListener, adopt: (socket: Socket) => void): void {
    this.adopters.set(listener, adopt);
    for (const socket of this.handed.get(listener)?.splice(0) ?? []) adopt(socket);
  }

  private connection(listener: HandedListener, id: number, socket: Socket): void {
    // The primary holds a copy until told this worker has it (it closes those of a worker that dies first).
    if (process.connected) process.send!({ sluice: 'connection-taken', listener, id });
    // The primary counts this worker's open connections, to hand the next one to the worker holding fewest.
    socket.once('close', () => {
      if (process.connected) process.send!({ sluice: 'connection-closed', listener });
    });
    const adopt = this.adopters.get(listener);
    if (adopt !== undefined) adopt(socket);
    else if (this.handed.has(listener)) this.handed.get(listener)!.push(socket);
    else this.handed.set(listener, [socket]);
  }

  /** Asks the primary to hand this worker no more gateway connections: it is stopping (its admin API serves to the end). */
  draining(): void {
    if (process.connected) process.send!({ sluice: 'draining' });
  }

  /** What this worker answers when the primary sums every worker's metrics. */
  provideMetrics(metrics: () => Promise<unknown[]>): void {
    this.metrics = metrics;
  }

  private sendMetrics(id: number): void {
    const metrics = this.metrics === null ? Promise.resolve([]) : this.metrics();
    metrics.then(
      (json) => {
        if (process.connected) process.send!({ sluice: 'metrics-reply', id, metrics: json });
      },
      () => {
        if (process.connected) process.send!({ sluice: 'metrics-reply', id, metrics: [] });
      },
    );
  }

  /** Whether this process is a worker started by a primary (`sluice start --workers N`). */
  static get connected(): boolean {
    return typeof process.send === 'function' && process.connected;
  }

  request<T>(request: PrimaryRequest): Promise<T> {
    if (!process.connected) return Promise.reject(failure(request, { name: 'Error', message: 'the primary process is gone' }));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(failure(request, { name: 'Error', message: 'the primary process did not answer' }));
      }, REPLY_TIMEOUT_MS);
      timer.unref();
      this.waiting.set(id, { resolve: resolve as (value: unknown) => void, reject: (error) => reject(error), timer });
      process.send!({ sluice: 'request', id, request }, undefined, undefined, (error: Error | null) => {
        if (error === null) return;
        clearTimeout(timer);
        this.waiting.delete(id);
        reject(failure(request, { name: 'Error', message: error.message }));
      });
    });
  }

  listening(message: Omit<ListeningMessage, 'sluice'>): void {
    if (process.connected) process.send!({ sluice: 'listening', ...message });
  }

  private answer(message: ReplyMessage): void {
    const waiting = this.waiting.get(message.id);
    if (waiting === undefined) return;
    this.waiting.delete(message.id);
    clearTimeout(waiting.timer);
    if (message.error === undefined) waiting.resolve(message.value);
    else waiting.reject(rebuild(message.error));
  }
}

function rebuild(shape: ErrorShape): Error {
  if (shape.name === 'LedgerWriteFailed') return new LedgerWriteFailed(shape.message, shape.rowsRefused === true);
  if (shape.name === 'CounterStoreUnavailable') {
    return new CounterStoreUnavailable(shape.message, shape.reason === 'unseeded' ? 'unseeded' : 'unreachable');
  }
  return new Error(shape.message);
}

/** A channel failure, as the kind of error the asking side already handles. */
function failure(request: PrimaryRequest, shape: ErrorShape): Error {
  if (request.op === 'ledger') return new LedgerWriteFailed(`ledger write through the primary failed: ${shape.message}`, false);
  if (request.op === 'metrics') return new Error(shape.message);
  if (request.op.startsWith('followed-')) return new Error(`background responses' records in the primary process: ${shape.message}`);
  return new CounterStoreUnavailable(`counters in the primary process: ${shape.message}`);
}
