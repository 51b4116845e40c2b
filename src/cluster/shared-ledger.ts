// A worker's ledger sink: its batches go to the primary, the one process that writes the ledger (one SQLite writer).
import type { PackedBatch } from '../ledger/batch.js';
import type { LedgerSink } from '../ledger/sink.js';
import type { PrimaryLink } from './primary-link.js';

export class SharedLedgerSink implements LedgerSink {
  readonly concurrency = 2;
  private readonly link: PrimaryLink;

  constructor(link: PrimaryLink) {
    this.link = link;
  }

  write(key: string, batch: PackedBatch): Promise<boolean> {
    return this.link.request({ op: 'ledger', key, batch });
  }

  async close(): Promise<void> {
    // The primary's sink stays open for the other workers; it closes it once they have all stopped.
  }
}
