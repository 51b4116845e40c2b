// The primary of `sluice start --workers N`: forks the workers (the connections of the gateway's and the admin API's
// listeners handed to them by balancer.ts), holds the counters they share and the one ledger writer, sums their
// metrics, replaces a worker that dies, and stops them all gracefully on SIGTERM or SIGINT.
import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry } from 'prom-client';
import type { Logger } from 'pino';
import { MemoryCounterStore } from '../counters/memory.js';
import { CounterStoreUnavailable } from '../counters/counter-store.js';
import { MemoryResponseRecords } from '../gateway/stored-responses/memory.js';
import { MemoryFollowedRecords } from '../gateway/stored-responses/followed-records.js';
import { workerOwner } from './shared-followed-records.js';
import { openLedgerSink } from '../ledger/open-sink.js';
import { ConnectionBalancer } from './balancer.js';
import type { LedgerSink } from '../ledger/sink.js';
import { isSluiceMessage, type ErrorShape, type PrimaryRequest, type ReplyMessage } from './messages.js';

export interface PrimaryOptions {
  workers: number;
  storage: string;
  logger: Logger;
  /** The gateway listener, held here: each connection goes to the worker with the fewest open (balancer.ts). */
  gateway: { host: string; port: number; maxConnections: number };
  /** The admin API's listener, held here the same way. */
  admin: { host: string; port: number };
  /** The most records of stored responses held here for the workers (responses.maxEntries). */
  responseRecords: number;
}

/** The slot a worker fills, passed in its environment: its spool folder is named after it, so a replacement replays it. */
export const WORKER_SLOT_VARIABLE = 'SLUICE_WORKER_SLOT';
/** The gateway port the primary listens on, passed to the workers, which take their connections from it. */
export const GATEWAY_PORT_VARIABLE = 'SLUICE_WORKER_GATEWAY_PORT';
/** The admin API's port, likewise. */
export const ADMIN_PORT_VARIABLE = 'SLUICE_WORKER_ADMIN_PORT';
/**
 * V8's young generation, in MB per semi-space, for every Sluice process (the `sluice` command, `npm start` and the
 * container image pass it too). Node's default lets it grow to 16: a gateway holding 1,000 streams then keeps some
 * 25 MB more heap reserved, for no throughput measured (npm run bench -- streams; docs/benchmarks.md). An operator's own
 * --max-semi-space-size (on the command line or in NODE_OPTIONS) is kept.
 */
export const SEMI_SPACE_FLAG = '--max-semi-space-size=4';

/** What the workers are started with: the primary's Node flags, and the young generation's size unless they set one. */
export function workerExecArgv(execArgv: readonly string[], nodeOptions: string | undefined): string[] {
  const given = [...execArgv, ...(nodeOptions ?? '').split(/\s+/)].some((flag) => /^--max[-_]semi[-_]space[-_]size\b/.test(flag));
  return given ? [...execArgv] : [...execArgv, SEMI_SPACE_FLAG];
}

/** A worker that dies this soon after its start is replaced only after this pause, so a crash loop does not spin. */
const RESTART_PAUSE_MS = 1_000;

export async function runPrimary(options: PrimaryOptions): Promise<void> {
  const { logger } = options;
  // Typed arrays (the ledger's packed batches) cross the channel as they are.
  cluster.setupPrimary({ serialization: 'advanced', execArgv: workerExecArgv(process.execArgv, process.env.NODE_OPTIONS) });
  // The ports first: one in use stops the start here, and port 0 is chosen once for every worker.
  const { balancer: gatewayBalancer, port: gatewayPort } = await ConnectionBalancer.listen(
    'gateway',
    options.gateway,
    options.gateway.maxConnections,
    logger,
  );
  const { balancer: adminBalancer, port: adminPort } = await ConnectionBalancer.listen('admin', options.admin, Infinity, logger).catch(
    (error: unknown) => {
      gatewayBalancer.close();
      throw error;
    },
  );
  const balancers = [gatewayBalancer, adminBalancer];
  const counters = new MemoryCounterStore();
  // The lease holders (LeasedCounterStore) in each worker: a dead worker's unused room is given back when it exits.
  const holders = new Map<Worker, Set<string>>();
  // The record of stored responses, when in memory: here, so a call on a response reaches it whichever worker takes it.
  const responses = new MemoryResponseRecords(options.responseRecords);
  // The background responses the workers follow, when in memory: here, so a dead worker's are adopted by another.
  const followed = new MemoryFollowedRecords();
  // Opened at the first batch: by then the first worker has created (or migrated) the store's tables.
  let sink: Promise<LedgerSink> | null = null;
  const slots = new Map<Worker, { slot: number; startedAt: number }>();
  /** Workers whose listeners are up: the ones asked for metrics (one still starting would not answer). */
  const serving = new Set<Worker>();
  const metricReplies = new Map<number, (metrics: unknown[]) => void>();
  let nextMetricsId = 1;
  /** Every serving worker's metrics, summed as prom-client's cluster aggregator does; a worker silent for 5 s is left out. */
  const clusterMetrics = async (): Promise<string> => {
    const asked = [...serving].filter((worker) => worker.isConnected());
    const replies = await Promise.all(
      asked.map(
        (worker) =>
          new Promise<unknown[]>((resolve) => {
            const id = nextMetricsId++;
            const timer = setTimeout(() => {
              metricReplies.delete(id);
              resolve([]);
            }, 5_000);
            metricReplies.set(id, (metrics) => {
              clearTimeout(timer);
              metricReplies.delete(id);
              resolve(metrics);
            });
            worker.send({ sluice: 'metrics-request', id });
          }),
      ),
    );
    return AggregatorRegistry.aggregate(
      replies.filter((reply) => reply.length > 0) as Parameters<typeof AggregatorRegistry.aggregate>[0],
    ).metrics();
  };
  let stopping = false;

  const answer = async (request: PrimaryRequest): Promise<unknown> => {
    switch (request.op) {
      case 'reserve':
        return counters.reserve(request.now, request.lines);
      case 'settle':
        return request.batches.map((lines) => counters.settle(request.now, lines));
      case 'lease':
        return counters.lease(request.now, request.requests);
      case 'release':
        return counters.release(request.now, request.holder, request.lines);
      case 'claim':
        return counters.claim(request.now, request.key, request.ttlMs);
      case 'remember':
        return counters.remember(request.now, request.key, request.text, request.ttlMs);
      case 'recall':
        return counters.recall(request.now, request.key);
      case 'seed':
        return counters.seed(request.now, request.seeds);
      case 'read':
        return counters.read(request.now, request.key);
      case 'response-owner':
        return responses.get(request.id);
      case 'response-record':
        return responses.set(request.id, request.owner, request.ttlMs);
      case 'response-forget':
        return responses.delete(request.id);
      case 'followed-put':
        return followed.put(request.record, request.owner, request.claimMs);
      case 'followed-renew':
        return followed.renew(request.ids, request.owner, request.claimMs);
      case 'followed-adopt':
        return followed.adopt(request.owner, request.claimMs, request.max);
      case 'followed-get':
        return followed.get(request.id);
      case 'followed-take':
        return followed.take(request.id);
      case 'followed-release':
        return followed.release(request.ids, request.owner);
      case 'ledger':
        sink ??= openLedgerSink(options.storage, logger);
        return (await sink).write(request.key, request.batch);
      case 'metrics':
        return clusterMetrics();
    }
  };

  let listening: (() => void) | null = null;
  const fork = (slot: number): Worker => {
    const worker = cluster.fork({
      [WORKER_SLOT_VARIABLE]: String(slot),
      [GATEWAY_PORT_VARIABLE]: String(gatewayPort),
      [ADMIN_PORT_VARIABLE]: String(adminPort),
    });
    slots.set(worker, { slot, startedAt: Date.now() });
    worker.on('message', (message: unknown) => {
      if (!isSluiceMessage(message)) return;
      if (message.sluice === 'listening') {
        serving.add(worker);
        for (const balancer of balancers) balancer.join(worker);
        listening?.();
        return;
      }
      if (message.sluice === 'draining') {
        // Its admin API answers to the end of its stop, as a single process's does (health: not ok while stopping).
        gatewayBalancer.leave(worker);
        return;
      }
      if (message.sluice === 'metrics-reply') {
        metricReplies.get(message.id)?.(message.metrics);
        return;
      }
      if (message.sluice !== 'request') return;
      if (message.request.op === 'lease') {
        const holder = message.request.requests[0]?.holder?.id;
        if (holder !== undefined) {
          const known = holders.get(worker);
          if (known === undefined) holders.set(worker, new Set([holder]));
          else known.add(holder);
        }
      }
      answer(message.request).then(
        (value) => reply(worker, { sluice: 'reply', id: message.id, value }),
        (error: unknown) => reply(worker, { sluice: 'reply', id: message.id, error: shapeOf(error) }),
      );
    });
    return worker;
  };

  cluster.on('exit', (worker, code, signal) => {
    const known = slots.get(worker);
    slots.delete(worker);
    serving.delete(worker);
    for (const balancer of balancers) balancer.exited(worker);
    // Its leases' unused room (as last reported) is no longer held by anyone: back to the budgets before it is replaced.
    for (const holder of holders.get(worker) ?? []) counters.releaseHolder(holder);
    holders.delete(worker);
    // Its background responses are adopted by a surviving worker's next sweep, or its replacement's first.
    const released = followed.releaseOwner(workerOwner(worker.process.pid ?? -1));
    if (released > 0)
      logger.warn({ worker: worker.process.pid, responses: released }, "a dead worker's background responses are left for adoption");
    if (stopping || known === undefined) return;
    logger.error({ worker: worker.process.pid, slot: known.slot, code, signal }, 'a worker died; starting another in its place');
    const pause = Date.now() - known.startedAt < RESTART_PAUSE_MS ? RESTART_PAUSE_MS : 0;
    setTimeout(() => {
      if (!stopping) fork(known.slot);
    }, pause).unref();
  });

  // The first worker alone, then the others: it creates the data folder's files and migrates the store.
  const first = fork(0);
  await new Promise<void>((resolve, reject) => {
    listening = resolve;
    first.once('exit', (code) => reject(new Error(`the first worker exited with ${code} before listening`)));
  }).catch(() => {
    // Its own message (a port in use, a bad config) is already on stderr.
    process.exit(1);
  });
  let started = 1;
  await new Promise<void>((resolve) => {
    listening = () => {
      if (++started === options.workers) resolve();
    };
    if (options.workers === 1) resolve();
    for (let slot = 1; slot < options.workers; slot++) fork(slot);
  });
  listening = null;
  logger.info({ workers: options.workers, pid: process.pid }, 'sluice workers are listening');

  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping the workers: each drains its calls and flushes its ledger');
    gatewayBalancer.close();
    const workers = Object.values(cluster.workers ?? {}).filter((worker): worker is Worker => worker !== undefined);
    void Promise.all(
      workers.map(
        (worker) =>
          new Promise<void>((resolve) => {
            if (worker.isDead()) {
              resolve();
              return;
            }
            worker.once('exit', () => resolve());
            worker.process.kill('SIGTERM');
          }),
      ),
    ).then(
      async () => {
        adminBalancer.close();
        await (await sink)?.close();
        await counters.close();
        logger.info('stopped');
        process.exit(0);
      },
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  // Config reloads: each worker watches sluice.yaml itself; SIGHUP to the primary reaches every one.
  process.on('SIGHUP', () => {
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGHUP');
  });
}

function reply(worker: Worker, message: ReplyMessage): void {
  if (worker.isConnected()) worker.send(message);
}

function shapeOf(error: unknown): ErrorShape {
  const { name, message, rowsRefused } = error as Error & { rowsRefused?: boolean };
  return {
    name: name ?? 'Error',
    message: message ?? String(error),
    ...(rowsRefused === undefined ? {} : { rowsRefused }),
    ...(error instanceof CounterStoreUnavailable ? { reason: error.reason } : {}),
  };
}
