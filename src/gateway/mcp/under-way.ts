// Counter-store work an MCP call's ledger row waits on (a claim that makes it one row across gateways, a look-up of a
// call another gateway took), run off the request path. The gateway's stop waits for it while the ledger is still
// open: a claim answered after the ledger closed would record its row nowhere, and the row its claim kept another
// gateway from writing would be lost with it.
import type { Logger } from 'pino';

export class WorkUnderWay {
  private readonly running: Set<Promise<void>>;
  private readonly logger: Logger;

  constructor(logger: Logger) {
    this.running = new Set();
    this.logger = logger;
  }

  /** Runs `work`; its failure is logged with `failure`, and drain() waits for it. */
  run(work: () => void | Promise<void> | undefined, failure: string): void {
    let running: Promise<void>;
    try {
      running = Promise.resolve(work());
    } catch (error) {
      running = Promise.reject(error as Error);
    }
    const tracked = running.then(
      () => undefined,
      (error: Error) => this.logger.warn({ err: error.message }, failure),
    );
    this.running.add(tracked);
    void tracked.finally(() => this.running.delete(tracked));
  }

  /** Resolves once nothing is under way, work started by work under way included. */
  async drain(): Promise<void> {
    while (this.running.size > 0) await Promise.all(this.running);
  }
}
