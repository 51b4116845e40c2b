// Runs an assessment end to end: seal the chains up to now, run every check over the live state, derive the findings,
// keep the assessment and its POA&M bookkeeping in the store, and set the gauges. One at a time per process.
import type { Logger } from 'pino';
import type { SluiceConfig } from '../config/schema.js';
import type { ExpiredKeyPresentations } from '../policy/consumers.js';
import { CHAIN_NAMES, type AssessmentOrigin, type ChainName, type PoamItem } from '../store/compliance-store.js';
import type { DirectorStore, JsonValue } from '../store/director-store.js';
import { findingsOf, observe, type AssessmentRecord } from './assessment.js';
import type { ControlCatalog } from './catalog.js';
import type { ChainKeeper } from './chain/keeper.js';
import type { ChainVerification, VerifyScope } from './chain/verify.js';
import type { AssessmentContext, Check, LedgerAccounting } from './check.js';
import type { ControlMapping } from './control-mapping.js';
import type { ComplianceGauges } from './metrics.js';
import { nameUuid, newUuid } from './uuid.js';

export interface AssessorOptions {
  store: DirectorStore;
  checks: readonly Check[];
  mapping: readonly ControlMapping[];
  catalog: ControlCatalog;
  /** sluice.yaml as running now: read at each assessment, so a reload's settings apply to the next. */
  config: () => SluiceConfig;
  ledger: LedgerAccounting | null;
  /** Expired keys presented to this process's gateway since it started (collected up to now). */
  expiredKeyPresentations: () => ReadonlyMap<string, ExpiredKeyPresentations>;
  chains: ChainKeeper;
  gauges: ComplianceGauges | null;
  logger: Logger;
  clock?: () => number;
  env?: NodeJS.ProcessEnv;
}

export interface AssessmentOutcome {
  record: AssessmentRecord;
  /** The POA&M items it opened, updated or closed. */
  items: PoamItem[];
}

/** A POA&M item's UUID: the same for as long as the item stays open, another for a later spell of the same objective. */
export function poamItemUuid(objectiveId: string, firstSeenAt: number): string {
  return nameUuid(`poam-item:${objectiveId}:${firstSeenAt}`);
}

export class ComplianceAssessor {
  private readonly options: AssessorOptions;
  private readonly clock: () => number;
  private queue: Promise<unknown>;

  constructor(options: AssessorOptions) {
    this.options = options;
    this.clock = options.clock ?? Date.now;
    this.queue = Promise.resolve();
  }

  /** Waits for an assessment already running, then runs this one. */
  assess(origin: AssessmentOrigin, actor: string): Promise<AssessmentOutcome> {
    const run = this.queue.then(() => this.run(origin, actor));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Resolves when no assessment is running. */
  async idle(): Promise<void> {
    await this.queue;
  }

  private async run(origin: AssessmentOrigin, actor: string): Promise<AssessmentOutcome> {
    const { store, logger } = this.options;
    const config = this.options.config();
    const settings = config.compliance;
    const startedAt = this.clock();
    // Sealed up to now first, so the chains cover what the checks read (unless sealing is off).
    if (settings.sealIntervalSeconds > 0) await this.options.chains.seal();
    let verified: Promise<ChainVerification[]> | null = null;
    const previous = await store.compliance.latestAssessment();
    const scopes = verifyScopes(previous?.result ?? null, settings.verifyRowsPerAssessment);
    const context: AssessmentContext = {
      now: startedAt,
      period: { from: startedAt - settings.periodHours * 3_600_000, to: startedAt + 1 },
      settings,
      config,
      store,
      evidence: this.options.chains.evidence,
      ledger: this.options.ledger,
      expiredKeyPresentations: this.options.expiredKeyPresentations(),
      chains: () =>
        (verified ??= Promise.all(CHAIN_NAMES.map((chain) => this.options.chains.verify(chain, [], scopes.get(chain) ?? null)))),
      previous,
      env: this.options.env ?? process.env,
    };
    const validFor = settings.intervalMinutes > 0 ? settings.intervalMinutes * 60_000 : settings.periodHours * 3_600_000;
    const observations = await observe(this.options.checks, context, validFor, this.clock);
    const findings = findingsOf(observations, this.options.mapping, this.options.catalog);
    const chains = await context.chains();
    const endedAt = Math.max(this.clock(), startedAt);
    const record: AssessmentRecord = {
      uuid: newUuid(),
      startedAt,
      endedAt,
      period: context.period,
      origin,
      actor,
      observations,
      findings,
      chains: chains.map((chain) => ({ ...chain, broken: chain.broken?.detail ?? null })),
    };
    const notSatisfied = findings.filter((finding) => !finding.satisfied);
    const items = await store.compliance.recordAssessment(
      {
        uuid: record.uuid,
        startedAt,
        endedAt,
        origin,
        actor,
        satisfied: findings.length - notSatisfied.length,
        notSatisfied: notSatisfied.length,
        result: record as unknown as JsonValue,
      },
      findings.map((finding) => ({
        objectiveId: finding.objectiveId,
        controlId: finding.controlId,
        satisfied: finding.satisfied,
        title: finding.title,
        description: finding.description,
      })),
      poamItemUuid,
    );
    const open = (await store.compliance.listPoamItems()).filter((item) => item.closedAt === null).length;
    this.options.gauges?.record(findings, endedAt, open);
    logger.info(
      {
        assessment: record.uuid,
        origin,
        satisfied: findings.length - notSatisfied.length,
        notSatisfied: notSatisfied.length,
        failing: [...new Set(notSatisfied.map((finding) => finding.controlId))],
        openPoamItems: open,
        ms: endedAt - startedAt,
      },
      'compliance assessed',
    );
    return { record, items };
  }
}

/**
 * Each chain's verification scope, from where the previous assessment's left off (its record's chains): the blocks
 * sealed since, and a rotation of `rows` rows of the older ones. Every row, with no previous assessment to go on, after
 * a broken chain, or when `rows` is 0.
 */
function verifyScopes(previous: JsonValue | null, rows: number): Map<ChainName, VerifyScope> {
  const scopes = new Map<ChainName, VerifyScope>();
  if (rows === 0 || previous === null || typeof previous !== 'object' || Array.isArray(previous)) return scopes;
  const chains = previous.chains;
  if (!Array.isArray(chains)) return scopes;
  for (const entry of chains) {
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) continue;
    const { chain, blocks, nextRotationBlock, broken } = entry;
    if (!CHAIN_NAMES.includes(chain as ChainName) || broken !== null) continue;
    if (typeof blocks !== 'number' || typeof nextRotationBlock !== 'number') continue;
    scopes.set(chain as ChainName, { newAfterBlock: blocks, rotationFromBlock: nextRotationBlock, rotationRows: rows });
  }
  return scopes;
}
