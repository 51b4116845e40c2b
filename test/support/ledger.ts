// Ledger writer options for tests: sluice.yaml's defaults, a spool folder of the test's own, a silent log.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { validateConfig } from '../../src/config/load.js';
import type { LedgerOptions } from '../../src/ledger/writer.js';

export function ledgerOptions(storage: string, overrides: Partial<LedgerOptions> = {}): LedgerOptions {
  const defaults = validateConfig({}, 'defaults').ledger;
  return {
    ...defaults,
    storage,
    spoolDir: join(mkdtempSync(join(tmpdir(), 'sluice-spool-')), 'ledger-spool'),
    logger: pino({ level: 'silent' }),
    ...overrides,
  };
}
