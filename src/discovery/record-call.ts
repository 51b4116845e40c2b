// One call to a catalog host, as the discovery proxy inventories it once its answer is over (HTTP/1.1 and HTTP/2 alike,
// forward.ts; gRPC, grpc.ts): counted, timed, logged at debug, and recorded with its consumer hints, model, tokens and
// cost priced with Sluice's catalog.
import type { IncomingHttpHeaders } from 'node:http';
import type { Usage } from '../ir/usage.js';
import { costNanoUsd } from '../metering/cost.js';
import type { HostEntry } from './catalog.js';
import type { ForwardDeps, Target } from './forward.js';
import { sourceOf } from './hints.js';

/** What was read of one call to a catalog host, once its answer is over. */
export interface ReadCall {
  /** The model it is inventoried under, and the one it is priced as (the answer's, when it names one). */
  model: string | null;
  priced: string | null;
  usage: Usage | null;
  unparsed: boolean;
  operation: string | null;
  stream: boolean;
  status: number;
  /** performance.now() readings: the request's start, the answer's head, its first byte, its end. */
  timings: { started: number; headersAt: number; firstByteAt: number | null; endedAt: number };
  request: IncomingHttpHeaders;
  query: URLSearchParams | null;
  answer: IncomingHttpHeaders;
}

/** Counts, times, logs and records (for the inventory) one call, priced with Sluice's catalog. */
export function recordCall(deps: ForwardDeps, target: Target, entry: HostEntry, call: ReadCall): void {
  const { usage, priced, model, unparsed, timings } = call;
  const cost = usage === null || priced === null ? null : costNanoUsd(usage, deps.prices.lookup(entry.provider, priced));
  deps.metrics.calls.inc({ provider: entry.provider, outcome: unparsed ? 'unparsed' : 'observed' });
  deps.metrics.latency.observe({ provider: entry.provider }, (timings.endedAt - timings.started) / 1000);
  if (timings.firstByteAt !== null) deps.metrics.ttfb.observe({ provider: entry.provider }, (timings.firstByteAt - timings.started) / 1000);
  deps.log.debug(
    {
      provider: entry.provider,
      model,
      operation: call.operation,
      stream: call.stream,
      status: call.status,
      unparsed,
      latencyMs: Math.round(timings.endedAt - timings.started),
      headersMs: Math.round(timings.headersAt - timings.started),
      ttfbMs: timings.firstByteAt === null ? null : Math.round(timings.firstByteAt - timings.started),
    },
    'discovery: call observed',
  );
  deps.record({
    at: Date.now(),
    source: sourceOf(
      { clientIp: target.clientIp, proxyUser: target.proxyUser, host: target.host },
      call.request,
      call.query,
      call.answer,
      deps.fingerprints,
    ),
    provider: entry.provider,
    model,
    inputTokens: usage?.inputTokens ?? null,
    outputTokens: usage?.outputTokens ?? null,
    costNanoUsd: cost,
  });
}
