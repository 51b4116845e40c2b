// The ledger's writer thread: owns the SQLite connection so batch inserts never block the gateway's event loop.
import { parentPort, workerData } from 'node:worker_threads';
import { openLedgerStore } from '../store/ledger-store.js';
import { unpack, type PackedBatch } from './batch.js';

export type WorkerCommand = { type: 'batch'; id: number; key: string; batch: PackedBatch } | { type: 'close' };
export type WorkerReply =
  | { type: 'ready' }
  /** `fresh`: false when the batch's key was committed before and nothing was written. */
  | { type: 'written'; id: number; fresh: boolean }
  | { type: 'failed'; id: number; message: string; rowsRefused: boolean }
  | { type: 'closed' };

const port = parentPort!;
const { path } = workerData as { path: string };

try {
  // The same store, migrations and multi-row INSERT as everywhere else; here its blocking calls cost only this thread.
  const store = await openLedgerStore(`sqlite:${path}`);
  port.on('message', (command: WorkerCommand) => {
    if (command.type === 'batch') {
      // The store runs one piece of work at a time, so batches commit in the order they were sent.
      store.insertLedgerBatch(command.key, unpack(command.batch)).then(
        (fresh) => port.postMessage({ type: 'written', id: command.id, fresh } satisfies WorkerReply),
        (error: Error) =>
          port.postMessage({
            type: 'failed',
            id: command.id,
            message: error.message,
            rowsRefused: store.rejectsData(error),
          } satisfies WorkerReply),
      );
    } else {
      void store.close().finally(() => {
        port.postMessage({ type: 'closed' } satisfies WorkerReply);
        port.close();
      });
    }
  });
  port.postMessage({ type: 'ready' } satisfies WorkerReply);
} catch (error) {
  port.postMessage({ type: 'failed', id: -1, message: (error as Error).message, rowsRefused: false } satisfies WorkerReply);
  port.close();
}
