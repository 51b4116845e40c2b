// Stage 6: the call's ledger record and metrics, queued for the batch writer (no database write on the request path).
import type { Logger } from 'pino';
import type { LedgerWriter } from '../../ledger/writer.js';
import type { Transaction } from '../../ledger/transaction.js';
import type { GatewayMetrics } from '../../observability/metrics.js';
import type { Governance } from '../../policy/governance.js';
import type { Call } from './call.js';
import type { Metered } from './meter.js';

export interface RecordSinks {
  ledger: LedgerWriter;
  metrics: GatewayMetrics;
  logger: Logger;
  governance: Governance;
}

/** Queues the record of a call that is done, with what metering made of it. */
export function record(sinks: RecordSinks, call: Readonly<Call>, metered: Metered): void {
  // No consumer: the key was missing or unknown. Counted, not recorded: garbage traffic must not fill the ledger.
  if (call.consumer === null) {
    sinks.metrics.unauthenticated(routeOf(call));
    return;
  }
  const transaction = call.toTransaction(metered, violationsOf(sinks, call));
  recordTransaction(sinks, transaction);
  // A call refused because the counters are unreachable is in governance's alarm (one line per interval, every one in
  // sluice_counter_store_failures_total): a line per refused call flooded the log with tens of thousands a second.
  if (call.failures.length > 0 || (transaction.status >= 500 && transaction.errorClass !== 'counters_unavailable')) {
    sinks.logger.warn(
      {
        requestId: call.requestId,
        consumer: transaction.consumer,
        model: transaction.requestedModel,
        status: transaction.status,
        errorClass: transaction.errorClass,
        attempts: transaction.attempts,
        failures: call.failures,
      },
      'upstream trouble',
    );
  } else if (sinks.logger.isLevelEnabled('debug')) {
    // Checked first: the record object would be built for nothing on every call at the usual levels.
    sinks.logger.debug(
      {
        requestId: call.requestId,
        consumer: transaction.consumer,
        model: transaction.requestedModel,
        status: transaction.status,
        latencyMs: transaction.latencyMs,
      },
      'call',
    );
  }
}

/** Queues a call's row and counts it in the metrics: every call's, and a background call's finished from its record. */
export function recordTransaction(sinks: RecordSinks, transaction: Transaction): void {
  sinks.ledger.append(transaction);
  sinks.metrics.observe(transaction);
}

/** The call's violations, with its target's resource when the policy monitors it (reported to governance). */
export function violationsOf(sinks: RecordSinks, call: Readonly<Call>): readonly string[] | null {
  const resource = call.target?.resource;
  if (resource === undefined || resource.action !== 'monitor' || call.consumer === null) return call.violations;
  sinks.governance.violation(`resource:${resource.id}`, 'resource', call.requestId, call.consumer.name);
  return [...(call.violations ?? []), `resource:${resource.id}`];
}

/** The route a call came in on, from what the call knows: a label from a fixed set. */
function routeOf(call: Readonly<Call>): string {
  if (call.api === 'anthropic') return '/v1/messages';
  if (call.api === 'openai-responses') return '/v1/responses';
  return call.operation === 'embeddings' ? '/v1/embeddings' : '/v1/chat/completions';
}
