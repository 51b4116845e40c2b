// The messages between the primary of `sluice start --workers N` and its workers, over the cluster's IPC channel.
import type { CounterLine, CounterSeed, LeaseRequest } from '../counters/counter-store.js';
import type { PackedBatch } from '../ledger/batch.js';
import type { ResponseOwner } from '../gateway/stored-responses/records.js';
import type { FollowedRecord } from '../gateway/stored-responses/followed-records.js';

/**
 * What a worker asks of the primary: the counters every worker shares, the record of stored responses (in memory) and
 * of the background responses followed, the one ledger writer, and /metrics.
 */
export type PrimaryRequest =
  | { op: 'reserve'; now: number; lines: CounterLine[] }
  | { op: 'settle'; now: number; batches: CounterLine[][] }
  | { op: 'lease'; now: number; requests: LeaseRequest[] }
  | { op: 'release'; now: number; holder: string; lines: CounterLine[] }
  | { op: 'claim'; now: number; key: string; ttlMs: number }
  | { op: 'remember'; now: number; key: string; text: string; ttlMs: number }
  | { op: 'recall'; now: number; key: string }
  | { op: 'seed'; now: number; seeds: CounterSeed[]; complete: boolean }
  | { op: 'read'; now: number; key: string }
  | { op: 'response-owner'; id: string }
  | { op: 'response-record'; id: string; owner: ResponseOwner; ttlMs: number }
  | { op: 'response-forget'; id: string }
  | { op: 'followed-put'; record: FollowedRecord; owner: string; claimMs: number }
  | { op: 'followed-renew'; ids: string[]; owner: string; claimMs: number }
  | { op: 'followed-adopt'; owner: string; claimMs: number; max: number }
  | { op: 'followed-get'; id: string }
  | { op: 'followed-take'; id: string }
  | { op: 'followed-release'; ids: string[]; owner: string }
  | { op: 'ledger'; key: string; batch: PackedBatch }
  | { op: 'metrics' };

export interface RequestMessage {
  sluice: 'request';
  id: number;
  request: PrimaryRequest;
}

/** A failure as it crosses the channel: its class by name, so the worker raises the same kind of error. */
export interface ErrorShape {
  name: string;
  message: string;
  rowsRefused?: boolean;
  /** CounterStoreUnavailable's reason. */
  reason?: string;
}

export interface ReplyMessage {
  sluice: 'reply';
  id: number;
  value?: unknown;
  error?: ErrorShape;
}

/** A worker's listeners are up (the first one's addresses are logged by the primary). */
export interface ListeningMessage {
  sluice: 'listening';
  gateway: { host: string; port: number };
  admin: { host: string; port: number };
}

/** The primary asks a listening worker for its metrics (prom-client's JSON form), to sum them for /metrics. */
export interface MetricsRequestMessage {
  sluice: 'metrics-request';
  id: number;
}

export interface MetricsReplyMessage {
  sluice: 'metrics-reply';
  id: number;
  metrics: unknown[];
}

/** The listeners whose sockets the primary holds, handing their connections to the workers (src/cluster/balancer.ts). */
export type HandedListener = 'gateway' | 'admin';

/** The primary hands a worker a connection of one of its listeners (the socket travels as the message's handle). */
export interface ConnectionMessage {
  sluice: 'connection';
  listener: HandedListener;
  id: number;
}

/** A worker has the connection sent with this id: the primary closes its own copy. */
export interface ConnectionTakenMessage {
  sluice: 'connection-taken';
  listener: HandedListener;
  id: number;
}

/** A worker's handed connection closed. */
export interface ConnectionClosedMessage {
  sluice: 'connection-closed';
  listener: HandedListener;
}

/** The worker is stopping: it takes no more gateway connections (its admin API answers to the end of its stop). */
export interface DrainingMessage {
  sluice: 'draining';
}

export type WorkerMessage =
  RequestMessage | ListeningMessage | MetricsReplyMessage | ConnectionTakenMessage | ConnectionClosedMessage | DrainingMessage;

export function isSluiceMessage(message: unknown): message is WorkerMessage | ReplyMessage | MetricsRequestMessage | ConnectionMessage {
  return typeof message === 'object' && message !== null && typeof (message as { sluice?: unknown }).sluice === 'string';
}
