// Liveness (/healthz) and readiness (/readyz) for load balancers, answered alike on the gateway and admin listeners.
// Ready means: not draining, the ledger keeping up with its store, and the counters answering when calls depend on them.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { LedgerStatus } from '../ledger/status.js';

export interface ReadinessReport {
  ready: boolean;
  /** What is not ready: 'draining', 'ledger', 'counters'. */
  notReady: string[];
  draining: boolean;
  ledger: { behind: boolean; failing: boolean; bufferedRecords: number; spooledRecords: number; oldestUnwrittenSeconds: number };
  /**
   * `seeded`: whether every budget counter was seeded from the ledger (false after a failed seeding, when they count from
   * what they hold); null where this process seeds none (a lone gateway).
   */
  counters: { store: 'memory' | 'redis'; up: boolean; failMode: 'open' | 'closed'; seeded: boolean | null };
}

export type ReadinessProbe = () => ReadinessReport;

export interface ReadinessSources {
  draining: () => boolean;
  ledger: () => LedgerStatus;
  counters: { store: { kind: 'memory' | 'redis' }; failOpen: boolean };
  /** The counters' seeder: whether its last seeding from the ledger succeeded; null where this process seeds none. */
  seeder: { readonly seeded: boolean } | null;
}

/**
 * Counters that are down make the gateway unready only in fail-closed mode, where every budgeted call is refused: a load
 * balancer should send calls to a gateway that can admit them. In fail-open mode calls are served (unmetered) and the
 * report says the counters are down without turning red. Counters not seeded from the ledger never turn it red either
 * (every gateway would be as unready: the start goes on without the seeding by design); the report says so.
 */
export function readinessProbe(sources: ReadinessSources): ReadinessProbe {
  return () => {
    const draining = sources.draining();
    const ledger = sources.ledger();
    const { store, failOpen } = sources.counters;
    const up = !('available' in store) || (store as { available: boolean }).available;
    const notReady: string[] = [];
    if (draining) notReady.push('draining');
    if (ledger.behind) notReady.push('ledger');
    if (!up && !failOpen) notReady.push('counters');
    return {
      ready: notReady.length === 0,
      notReady,
      draining,
      ledger: {
        behind: ledger.behind,
        failing: ledger.failing,
        bufferedRecords: ledger.bufferedRecords,
        spooledRecords: ledger.spooledRecords,
        oldestUnwrittenSeconds: ledger.oldestUnwrittenMs / 1000,
      },
      counters: {
        store: store.kind,
        up,
        failMode: failOpen ? 'open' : 'closed',
        seeded: sources.seeder?.seeded ?? null,
      },
    };
  };
}

const JSON_HEADERS = { 'content-type': 'application/json', 'cache-control': 'no-store' };

/** `/healthz`: 200 while the process serves. `/readyz`: 200 when ready, else 503 naming what is not. No key needed. */
export function answerHealth(req: IncomingMessage, res: ServerResponse, path: '/healthz' | '/readyz', probe: ReadinessProbe): void {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { ...JSON_HEADERS, allow: 'GET, HEAD' });
    res.end(
      JSON.stringify({
        error: { message: `${req.method} is not allowed on ${path}; use GET.`, type: 'invalid_request_error', code: 'method_not_allowed' },
      }),
    );
    return;
  }
  let status = 200;
  let body: string;
  if (path === '/healthz') {
    body = '{"status":"ok"}';
  } else {
    const report = probe();
    status = report.ready ? 200 : 503;
    const { ready, ...checks } = report;
    body = JSON.stringify({ status: ready ? 'ready' : 'not_ready', ...checks });
  }
  res.writeHead(status, { ...JSON_HEADERS, 'content-length': Buffer.byteLength(body) });
  res.end(req.method === 'HEAD' ? undefined : body);
}
