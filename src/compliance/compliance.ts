// Continuous compliance in a director process: the hash chains (sealed and verified on their own thread), the assessor
// and their schedule, and the OSCAL documents the API and CLI serve, rendered from the store. Assembled once by app.ts.
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { SluiceConfig } from '../config/schema.js';
import type { ExpiredKeyPresentations } from '../policy/consumers.js';
import { CHAIN_NAMES, type AssessmentSummary, type ChainAnchor, type ChainName } from '../store/compliance-store.js';
import type { DirectorStore, Page } from '../store/director-store.js';
import type { AssessmentRecord } from './assessment.js';
import { ComplianceAssessor, type AssessmentOutcome } from './assessor.js';
import { MODERATE_BASELINE } from './catalog.js';
import { isPostgresUrl, sqlitePath } from '../config/storage.js';
import { DAY_MS, furthestRawRowReach, shortestRetentionDays } from '../config/retention.js';
import { ChainKeeper, localChainWork } from './chain/keeper.js';
import type { PruneOutcome } from './chain/pruner.js';
import { chainThread } from './chain/thread.js';
import type { ChainVerification, GivenAnchor } from './chain/verify.js';
import type { LedgerAccounting } from './check.js';
import { CHECKS } from './checks/index.js';
import { CONTROL_MAPPING } from './control-mapping.js';
import { assessmentResults } from './documents/assessment-results.js';
import { componentDefinition } from './documents/component-definition.js';
import { planOfActionAndMilestones } from './documents/poam.js';
import { ComplianceGauges } from './metrics.js';
import { ComplianceScheduler } from './scheduler.js';

/** How far this director's clock may run ahead of the database's before a pruning says so (the cut follows the database's). */
const CLOCK_AHEAD_WARN_MS = 60_000;

export interface ComplianceOptions {
  store: DirectorStore;
  /** What `store` was opened from: the chains' thread opens its own connection to it. */
  storage: string;
  config: () => SluiceConfig;
  ledger: LedgerAccounting | null;
  /** Takes the expired keys presented to this process's gateway since the previous take (the snapshot's directory). */
  takeExpiredKeyPresentations: (() => Map<string, ExpiredKeyPresentations>) | null;
  registry: Registry | null;
  logger: Logger;
  clock?: () => number;
  /** Seal and assess in the background (default true); off, both happen only on demand (see StartOptions). */
  schedule?: boolean;
}

export class Compliance {
  readonly chains: ChainKeeper;
  readonly assessor: ComplianceAssessor;
  private readonly store: DirectorStore;
  private readonly config: () => SluiceConfig;
  private readonly scheduler: ComplianceScheduler | null;
  private readonly clock: () => number;
  private readonly logger: Logger;
  /** The days ledger.retention was last stretched to (warned of once, not at every pruning). */
  private stretchedTo: number | null = null;
  private readonly takeExpiredKeys: (() => Map<string, ExpiredKeyPresentations>) | null;
  /** Every expired key presented since start: a reload replaces the snapshot that counts them, so they are kept here. */
  private readonly expiredKeys: Map<string, ExpiredKeyPresentations>;

  constructor(options: ComplianceOptions) {
    this.store = options.store;
    this.config = options.config;
    this.clock = options.clock ?? Date.now;
    this.takeExpiredKeys = options.takeExpiredKeyPresentations;
    this.expiredKeys = new Map();
    // An in-memory SQLite database exists only on its connection: its chains are worked on this thread.
    const ownConnection =
      isPostgresUrl(options.storage) || (options.storage.startsWith('sqlite:') && sqlitePath(options.storage) !== ':memory:');
    this.chains = new ChainKeeper({
      work: ownConnection ? chainThread(options.storage) : localChainWork(options.store.compliance),
      clock: this.clock,
      logger: options.logger,
    });
    this.assessor = new ComplianceAssessor({
      store: options.store,
      checks: CHECKS,
      mapping: CONTROL_MAPPING,
      catalog: MODERATE_BASELINE,
      config: options.config,
      ledger: options.ledger,
      expiredKeyPresentations: () => this.collectExpiredKeys(),
      chains: this.chains,
      gauges: options.registry === null ? null : new ComplianceGauges(options.registry),
      logger: options.logger,
      clock: this.clock,
    });
    this.scheduler =
      options.schedule === false
        ? null
        : new ComplianceScheduler({
            settings: () => options.config().compliance,
            assessor: this.assessor,
            chains: this.chains,
            logger: options.logger,
            clock: this.clock,
            retain: () => this.pruneLedger(),
          });
    this.logger = options.logger;
  }

  async start(): Promise<void> {
    if (this.scheduler === null) return;
    const latest = await this.store.compliance.latestAssessment();
    this.scheduler.start(latest?.endedAt ?? null, this.clock());
  }

  /** The configuration was reloaded: the schedule's next sealing and assessment follow its settings from now. */
  reloaded(): void {
    this.scheduler?.reloaded();
  }

  /** Stops the schedule and waits for an assessment or sealing in progress. */
  async stop(): Promise<void> {
    this.scheduler?.stop();
    await this.assessor.idle();
    await this.chains.close();
  }

  /** Moves what the gateway counted into the tally kept since start; called often enough that a reload loses little. */
  collectExpiredKeys(): ReadonlyMap<string, ExpiredKeyPresentations> {
    for (const [keyId, taken] of this.takeExpiredKeys?.() ?? []) {
      const kept = this.expiredKeys.get(keyId);
      this.expiredKeys.set(
        keyId,
        kept === undefined ? taken : { count: kept.count + taken.count, lastAt: Math.max(kept.lastAt, taken.lastAt) },
      );
    }
    return this.expiredKeys;
  }

  /**
   * ledger.retention: deletes the ledger's rows of the blocks sealed more than transactionsDays ago; nothing when it is
   * not set. Budgets and templates made through the API are not in the config that load.ts checked the retention
   * against: when one of them reads older rows than it keeps, the retention is stretched to keep them, and a warning says so.
   */
  async pruneLedger(): Promise<PruneOutcome | null> {
    const config = this.config();
    const days = config.ledger.retention?.transactionsDays;
    if (days === undefined) return null;
    const [budgets, templates] = await Promise.all([this.store.listDefinitions('budget'), this.store.listDefinitions('budgetTemplate')]);
    const reach = furthestRawRowReach({
      budgets: [...config.budgets, ...budgets.map((stored) => stored.definition)],
      budgetTemplates: [...config.budgetTemplates, ...templates.map((stored) => stored.definition)],
      compliance: config.compliance,
    });
    const needed = shortestRetentionDays(reach);
    if (needed > days && needed !== this.stretchedTo) {
      this.logger.warn(
        { transactionsDays: days, keptDays: needed, reason: reach.what },
        'ledger retention: a budget made through the API reads older rows than ledger.retention.transactionsDays keeps; keeping them',
      );
    }
    this.stretchedTo = needed > days ? needed : null;
    return this.chains.prune((await this.retentionNow()) - Math.max(days, needed) * DAY_MS);
  }

  /**
   * The time retention's cut is taken from: the earlier of this director's clock and, on PostgreSQL, the database's, so
   * that a director whose clock runs ahead deletes no row early (both would have to be ahead). Not the newest block's
   * sealed_at: this director sealed it a moment ago, by the same clock.
   */
  private async retentionNow(): Promise<number> {
    const local = this.clock();
    const database = await this.store.compliance.databaseClock();
    if (database === null || database >= local) return local;
    if (local - database > CLOCK_AHEAD_WARN_MS) {
      this.logger.warn(
        { directorClock: new Date(local).toISOString(), databaseClock: new Date(database).toISOString() },
        "ledger retention: this director's clock is ahead of the database's; the retention's cut follows the database's",
      );
    }
    return database;
  }

  assess(actor: string): Promise<AssessmentOutcome> {
    return this.assessor.assess('on-demand', actor);
  }

  async componentDefinition(): Promise<ReturnType<typeof componentDefinition>> {
    const [providers, budgets, templates] = await Promise.all([
      this.store.listProviders(),
      this.store.listDefinitions('budget'),
      this.store.listDefinitions('budgetTemplate'),
    ]);
    return componentDefinition(
      { config: this.config(), providers, budgets: [...budgets, ...templates] },
      CONTROL_MAPPING,
      MODERATE_BASELINE,
      this.clock(),
    );
  }

  /** The latest `limit` assessments, newest first; null before the first. */
  async assessmentResults(limit: number): Promise<ReturnType<typeof assessmentResults> | null> {
    const page = await this.store.compliance.listAssessments({ limit });
    const records: AssessmentRecord[] = [];
    for (const summary of page.items) {
      const stored = await this.store.compliance.getAssessment(summary.uuid);
      if (stored !== null) records.push(stored.result as unknown as AssessmentRecord);
    }
    return records.length === 0 ? null : assessmentResults(records, this.clock());
  }

  async assessmentResultsOf(uuid: string): Promise<ReturnType<typeof assessmentResults> | null> {
    const stored = await this.store.compliance.getAssessment(uuid);
    return stored === null ? null : assessmentResults([stored.result as unknown as AssessmentRecord], this.clock());
  }

  /** Null while no objective was ever found not satisfied (OSCAL needs at least one item). */
  async poam(): Promise<ReturnType<typeof planOfActionAndMilestones> | null> {
    const items = await this.store.compliance.listPoamItems();
    if (items.length === 0) return null;
    const latest = await this.store.compliance.latestAssessment();
    return planOfActionAndMilestones(items, latest === null ? null : (latest.result as unknown as AssessmentRecord), this.clock());
  }

  anchors(chain: ChainName | null, limit: number): Promise<ChainAnchor[]> {
    return this.store.compliance.listAnchors(chain, limit);
  }

  history(limit: number, cursor: string | null): Promise<Page<AssessmentSummary>> {
    return this.store.compliance.listAssessments({ limit, cursor });
  }

  /** Verifies both chains from their first block, against the stored anchors and any `given` from elsewhere. */
  verifyChains(given: ReadonlyArray<GivenAnchor & { chain: ChainName }> = []): Promise<ChainVerification[]> {
    return Promise.all(
      CHAIN_NAMES.map((chain) =>
        this.chains.verify(
          chain,
          given.filter((anchor) => anchor.chain === chain),
        ),
      ),
    );
  }
}
