// AU-2 / AU-3 / AU-12 / AU-9: the ledger records every call, each record says who, what, when, the outcome and the
// cost, and the ledger and the audit log are tamper-evident (their hash chains verify).
import { setTimeout as delay } from 'node:timers/promises';
import { outcome, type Check } from '../check.js';

/** How long the ledger check waits for the writer to commit what it holds. */
const SETTLE_TIMEOUT_MS = 30_000;

/** Incomplete rows named per observation; the count covers them all. */
const ROWS_NAMED = 10;

export const ledgerCompleteness: Check = {
  id: 'ledger-completeness',
  title: 'The ledger holds every call the gateway counted',
  description:
    "Compares, since this process started, the calls its gateway finished and counted (the metrics' call count) " +
    'with the ledger rows its writer committed plus those still buffered, after letting the writer catch up; a record ' +
    'lost to a failed write shows as a difference. Also checks that the ledger holds at least the committed rows for ' +
    "calls since the start (rows removed afterwards show as fewer). It covers this process's gateway: lone gateways " +
    'writing to a shared PostgreSQL ledger are each checked by their own director process, not this one.',
  method: 'TEST',
  async run({ evidence, ledger }) {
    if (ledger === null) {
      return {
        satisfied: false,
        summary: 'This process runs no gateway: no count to compare the ledger with.',
        counts: {},
        problems: ['no gateway in this process'],
      };
    }
    // Under steady traffic the writer settles between batches; one that does not within the bound is reported, not guessed at.
    const settled = await Promise.race([ledger.settle().then(() => true), delay(SETTLE_TIMEOUT_MS, false, { ref: false })]);
    if (!settled) {
      return {
        satisfied: false,
        summary: `The ledger writer did not catch up within ${SETTLE_TIMEOUT_MS / 1000} s: its rows could not be compared.`,
        counts: { bufferedRows: ledger.buffered() },
        problems: ['the ledger writer did not settle'],
      };
    }
    // Read together, in one turn of the event loop: no call can be counted between the three.
    const counted = ledger.counted();
    const committed = ledger.committed();
    const buffered = ledger.buffered();
    // The gateway stamps rows with the system clock, whatever clock the assessment keeps.
    const held = (await evidence.ledgerPeriodCounts(ledger.since, Date.now() + 1)).rows;
    const missing = counted - committed - buffered;
    // The rows of this process's calls that were committed: all committed ones, unless some of those were an earlier
    // run's records written now (a replayed spool), which the count of calls since the start bounds.
    const committedSinceStart = Math.min(committed, counted - buffered);
    const problems: string[] = [];
    if (missing > 0) problems.push(`${missing} calls counted by the gateway have no ledger row (failed ledger writes)`);
    if (held < committedSinceStart) {
      problems.push(
        `the ledger holds ${held} gateway rows since ${new Date(ledger.since).toISOString()} but ${committedSinceStart} were committed: ${committedSinceStart - held} are gone`,
      );
    }
    return outcome(
      problems,
      `All ${counted} calls the gateway counted since ${new Date(ledger.since).toISOString()} are in the ledger (${committed} committed, ${buffered} buffered).`,
      `The ledger is missing records: ${problems.join('; ')}.`,
      {
        countedCalls: counted,
        committedRows: committed,
        bufferedRows: buffered,
        missingRows: Math.max(0, missing),
        ledgerRowsSinceStart: held,
      },
    );
  },
};

export const recordContent: Check = {
  id: 'record-content',
  title: 'Every ledger row holds who, what, when, the outcome and the cost',
  description:
    "Counts the ledger's gateway rows of the period missing a field every record must hold: the request id, the " +
    'start time, the operation and API, the HTTP status (and an error class when it failed); for a served call also the ' +
    'consumer, the model asked for, the provider and provider model, and the cost. A served call of a model without a ' +
    'price has no cost and is counted as unpriced: price the model to satisfy this.',
  method: 'TEST',
  async run({ evidence, period }) {
    const counts = await evidence.ledgerPeriodCounts(period.from, period.to);
    const problems: string[] = [];
    if (counts.incomplete > 0) {
      const ids = await evidence.incompleteRowIds(period.from, period.to, ROWS_NAMED);
      problems.push(`${counts.incomplete} rows miss a required field (first: transactions row ${ids.join(', ')})`);
    }
    if (counts.servedUnpriced > 0) problems.push(`${counts.servedUnpriced} served calls have no cost (their model has no price)`);
    return outcome(
      problems,
      `All ${counts.rows} ledger rows of the period hold who, what, when, the outcome and the cost.`,
      `Ledger rows of the period lack required content: ${problems.join('; ')}.`,
      { ledgerRows: counts.rows, incompleteRows: counts.incomplete, servedUnpriced: counts.servedUnpriced },
    );
  },
};

export const chainIntegrity: Check = {
  id: 'chain-integrity',
  title: 'The ledger and the audit log are tamper-evident, and their chains verify',
  description:
    'Verifies the SHA-256 hash chains over the ledger (transactions) and the audit log from their first block: every ' +
    "block's link to the previous one and every anchor, and recomputes the hashes of the rows sealed since the previous " +
    'assessment and of a rotating run of older blocks (compliance.verifyRowsPerAssessment rows; every row when 0 or ' +
    'with no previous assessment). Names the first broken link: the table and row id changed, removed or slipped in, or ' +
    'the block or anchor rewritten. Rows written since the last sealing are counted as unsealed. Not satisfied while ' +
    "sealing is turned off. Blocks whose rows the ledger's retention deleted are checked by their stored links and anchors.",
  method: 'TEST',
  async run({ chains, settings }) {
    const verifications = await chains();
    const problems: string[] = [];
    if (settings.sealIntervalSeconds === 0) problems.push('sealing is turned off (compliance.sealIntervalSeconds: 0)');
    for (const verification of verifications) if (verification.broken !== null) problems.push(verification.broken.detail);
    const counts: Record<string, number> = {};
    for (const v of verifications) {
      const name = v.chain === 'transactions' ? 'ledger' : 'auditLog';
      counts[`${name}SealedRows`] = v.sealedRows;
      counts[`${name}UnsealedRows`] = v.unsealedRows;
      counts[`${name}Blocks`] = v.blocks;
      counts[`${name}AnchorsChecked`] = v.anchorsChecked;
      counts[`${name}RowsRehashed`] = v.rowsRehashed;
      if (v.pruned !== null) counts[`${name}PrunedRows`] = v.pruned.prunedRows;
    }
    return outcome(
      problems,
      verifications
        .map(
          (v) =>
            `${v.chain}: ${v.sealedRows} rows in ${v.blocks} blocks verify, ${v.rowsRehashed} of them rehashed ` +
            `(head ${v.headHash ?? 'none yet'}), ${v.unsealedRows} not sealed yet` +
            (v.pruned === null
              ? ''
              : `, blocks 1 to ${v.pruned.throughBlock} (${v.pruned.prunedRows} rows) pruned by the ledger's retention and checked by their links`),
        )
        .join('; ') + '.',
      `Tamper evidence failed: ${problems.join('; ')}.`,
      counts,
    );
  },
};
