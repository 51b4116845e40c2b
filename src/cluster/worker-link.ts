// What a worker of `sluice start --workers N` is given by its primary (src/cluster/primary.ts, main.ts's workerLink):
// what it shares with the other workers over IPC, and how the primary's listeners hand it their connections.
import type { Socket } from 'node:net';
import type { CounterStore } from '../counters/counter-store.js';
import type { FollowedRecords } from '../gateway/stored-responses/followed-records.js';
import type { ResponseRecords } from '../gateway/stored-responses/records.js';
import type { LedgerSink } from '../ledger/sink.js';
import type { HandedListener } from './messages.js';

export interface WorkerLink {
  /** Its slot among the workers; its spool folder is named after it. */
  slot: number;
  /** The primary's memory counters (used when `counters` is memory). */
  counters: CounterStore;
  /** The primary's record of stored responses (used when it is in memory). */
  responseRecords: ResponseRecords;
  /** The primary's records of the background responses the workers follow (used when the record above is in memory). */
  followedRecords: FollowedRecords;
  /** This worker's name on its claims of those records, which the primary lets expire when the worker dies. */
  owner: string;
  /** The primary's ledger writer. */
  ledgerSink: LedgerSink;
  /** Every worker's metrics, summed by the primary. */
  metrics: () => Promise<string>;
  /** Gives the primary this worker's own metrics to sum. */
  provideMetrics: (metrics: () => Promise<unknown[]>) => void;
  /** The gateway port the primary listens on, handing this worker its connections (src/cluster/balancer.ts). */
  gatewayPort: number;
  /** The admin API's port, likewise. */
  adminPort: number;
  /** Where the primary's connections of a listener go, once its server is ready for them. */
  takeConnections: (listener: HandedListener, adopt: (socket: Socket) => void) => void;
  /** Tells the primary to hand this worker no more gateway connections (it is stopping). */
  draining: () => void;
}
