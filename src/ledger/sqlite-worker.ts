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

const ROWS_PER_STATEMENT = 50;

function values(row: Transaction): Array<string | number | null> {
  return [
    row.requestId, row.startedAt, row.operation, row.api, row.consumer, row.team, row.requestedModel, row.provider, row.providerModel,
    row.stream ? 1 : 0, row.inputTokens, row.outputTokens, row.cachedInputTokens, row.cacheWriteTokens, row.tokensEstimated ? 1 : 0,
    row.costMicroUsd, row.latencyMs, row.timeToFirstTokenMs, row.status, row.errorClass, row.attempts, row.servedModel, row.violations,
  ];
}

const port = parentPort!;
const { path } = workerData as { path: string };

try {
  const db = openSqlite(path);
  // Many rows per INSERT statement: far fewer statement steps per batch than one INSERT per row.
  const columns = `request_id, started_at, operation, api, consumer, team, requested_model, provider, provider_model, stream,
      input_tokens, output_tokens, cached_input_tokens, cache_write_tokens, tokens_estimated, cost_micro_usd,
      latency_ms, time_to_first_token_ms, status, error_class, attempts, served_model, violations`;
  const placeholders = (rows: number) => Array.from({ length: rows }, () => `(${Array(23).fill('?').join(',')})`).join(',');
  const insertOne = db.prepare(`INSERT INTO transactions (${columns}) VALUES ${placeholders(1)}`);
  const insertMany = db.prepare(`INSERT INTO transactions (${columns}) VALUES ${placeholders(ROWS_PER_STATEMENT)}`);
  const insertBatch = db.transaction((rows: Transaction[]) => {
    let at = 0;
    for (; at + ROWS_PER_STATEMENT <= rows.length; at += ROWS_PER_STATEMENT) {
      insertMany.run(rows.slice(at, at + ROWS_PER_STATEMENT).flatMap(values));
    }
    for (; at < rows.length; at++) insertOne.run(values(rows[at]!));
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
