// The chains' thread (thread.ts): its own connection to the director's database, the sealing, the verification, the
// ledger retention's pruning and the evidence reads over the ledger on it.
import { getPriority, setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { openStatementDriver } from '../../store/open-driver.js';
import { SqlComplianceStore } from '../../store/sql/compliance.js';
import { JsonColumns } from '../../store/sql/rows.js';
import { localChainWork } from './keeper.js';
import { CHAINS_NICE, type ChainCommand, type ChainReply } from './thread.js';

const port = parentPort!;
const { storage } = workerData as { storage: string };

lowerPriority();

try {
  // On PostgreSQL one connection: the work is one sealing or verification at a time. An idle connection dropping is no
  // news here; the next statement reconnects.
  const driver = await openStatementDriver(storage, { maxConnections: 1, onBackgroundError: () => undefined });
  const work = localChainWork(new SqlComplianceStore(driver, new JsonColumns(driver.dialect)), () => driver.close());
  // One piece of work at a time, in the order asked: a verification waits for the sealing asked before it.
  let queue: Promise<unknown> = Promise.resolve();
  port.on('message', (command: ChainCommand) => {
    if (command.type === 'close') {
      void queue.then(() => work.close()).finally(() => port.close());
      return;
    }
    const run = async (): Promise<ChainReply> => {
      switch (command.type) {
        case 'seal':
          return { type: 'sealed', id: command.id, outcomes: await work.seal(command.now) };
        case 'verify':
          return { type: 'verified', id: command.id, verification: await work.verify(command.chain, command.given, command.scope) };
        case 'prune':
          return { type: 'pruned', id: command.id, outcome: await work.prune(command.sealedBefore, command.now) };
        case 'evidence': {
          const read = work.evidence[command.read] as (...args: unknown[]) => Promise<unknown>;
          return { type: 'read', id: command.id, result: await read.apply(work.evidence, command.args) };
        }
      }
    };
    queue = queue.then(run).then(
      (reply) => port.postMessage(reply),
      (error: Error) => port.postMessage({ type: 'failed', id: command.id, message: error.message } satisfies ChainReply),
    );
  });
  port.postMessage({ type: 'ready' } satisfies ChainReply);
} catch (error) {
  port.postMessage({ type: 'failed', id: -1, message: (error as Error).message } satisfies ChainReply);
  port.close();
}

/**
 * On Linux each thread has its own nice value, and pid 0 names the calling thread: only this one is lowered. Elsewhere
 * pid 0 names the whole process (macOS), so it is left as it is there.
 */
function lowerPriority(): void {
  if (process.platform !== 'linux') return;
  try {
    // Never raised: a process started nicer than this keeps its own value.
    setPriority(0, Math.max(getPriority(0), CHAINS_NICE));
  } catch {
    // A container may forbid it; the thread then runs at the process's priority, as before.
  }
}
