// The ledger's writer thread: owns the SQLite connection so batch inserts never block the gateway's event loop.
import { parentPort, workerData } from 'node:worker_threads';
import { openSqlite } from '../store/sqlite.js';
import type { Transaction } from './transaction.js';

export type WorkerCommand = { type: 'batch'; id: number; rows: Transaction[] } | { type: 'close' };
export type WorkerReply =
  | { type: 'ready' }
  | { type: 'written'; id: number; count: number }
  | { type: 'failed'; id: number; message: string }
  | { type: 'closed' };

const port = parentPort!;
const { path } = workerData as { path: string };

try {
  const db = openSqlite(path);
  // Idempotent by request id: a batch re-sent after a failed write cannot double-count.
  const insert = db.prepare(`INSERT OR IGNORE INTO transactions (
      request_id, started_at, operation, api, consumer, team, requested_model, provider, provider_model, stream,
      input_tokens, output_tokens, cached_input_tokens, cache_write_tokens, tokens_estimated, cost_micro_usd,
      latency_ms, time_to_first_token_ms, status, error_class, attempts)
    VALUES (@requestId, @startedAt, @operation, @api, @consumer, @team, @requestedModel, @provider, @providerModel, @stream,
      @inputTokens, @outputTokens, @cachedInputTokens, @cacheWriteTokens, @tokensEstimated, @costMicroUsd,
      @latencyMs, @timeToFirstTokenMs, @status, @errorClass, @attempts)`);
  const insertBatch = db.transaction((rows: Transaction[]) => {
    for (const row of rows) insert.run({ ...row, stream: row.stream ? 1 : 0, tokensEstimated: row.tokensEstimated ? 1 : 0 });
  });

  port.on('message', (command: WorkerCommand) => {
    if (command.type === 'batch') {
      try {
        insertBatch(command.rows);
        port.postMessage({ type: 'written', id: command.id, count: command.rows.length } satisfies WorkerReply);
      } catch (error) {
        port.postMessage({ type: 'failed', id: command.id, message: (error as Error).message } satisfies WorkerReply);
      }
    } else {
      db.close();
      port.postMessage({ type: 'closed' } satisfies WorkerReply);
      port.close();
    }
  });
  port.postMessage({ type: 'ready' } satisfies WorkerReply);
} catch (error) {
  port.postMessage({ type: 'failed', id: -1, message: (error as Error).message } satisfies WorkerReply);
  port.close();
}
