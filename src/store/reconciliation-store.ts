// The reconciliation part of the store: traffic observed from callers Sluice may not know, the discovered consumers it came
// from, their resolution and the rules that resolve them. The store records and moves; the discovery policy that checks
// hints, keys discoveries and evaluates rules (src/policy/discovery.ts) is given to it at open, not imported by it; the
// shapes both speak are the shared schemas' (src/schemas/observation.ts).
import type { Hints, Identity, ObservationSource, RuleMatch } from '../schemas/observation.js';
import type { ConsumerInput } from './admin-store.js';
import type { EpochMs, Page } from './records.js';

export {
  emptyHints,
  IDENTITY_KINDS,
  type Hints,
  type Identity,
  type IdentityKind,
  type ObservationSource,
  type RuleMatch,
} from '../schemas/observation.js';

/** A problem with one field of an observation's source or a rule's match; `(source)` or `(match)` for the whole. */
export interface FieldProblem<Field extends string> {
  field: Field;
  message: string;
}

/** A rule ready to test observations and discovered consumers against. */
export interface CompiledRule {
  /** Whether one observation's (normalized) source meets every condition. */
  matchesSource(source: ObservationSource): boolean;
  /** Whether a discovered consumer meets every condition: for each, one of its recorded hints does. */
  matchesHints(hints: Hints): boolean;
}

/**
 * The discovery policy the store applies inside intake's and a rule's transaction (so a rule and the discoveries it resolves
 * commit together): src/policy/discovery.ts' DISCOVERY_POLICY, given in DirectorStoreOptions.discovery.
 */
export interface DiscoveryPolicy {
  /** Why each hint of `source` is unusable; empty when it is fine. */
  sourceProblems(source: ObservationSource): Array<FieldProblem<keyof ObservationSource | '(source)'>>;
  /** The hints in their stored form (only for a source without problems). */
  normalizeSource(source: ObservationSource): ObservationSource;
  /** The identity of a normalized source: its strongest hint. */
  identityOf(source: ObservationSource): Identity;
  /** Adds one observation's hints to `hints` (bounded, distinct); whether anything changed. */
  mergeHints(hints: Hints, source: ObservationSource, observer: string): boolean;
  /** Why a rule's match cannot be used; empty when it is fine. */
  matchProblems(match: RuleMatch): Array<FieldProblem<keyof RuleMatch | '(match)'>>;
  /** The match in its stored form (only for one without problems). */
  normalizeMatch(match: RuleMatch): RuleMatch;
  compileRule(match: RuleMatch): CompiledRule;
}

/** One call (or `calls` calls) an observer of traffic saw, whose consumer Sluice may not know. */
export interface Observation {
  /** Who saw it, e.g. `discovery-proxy@10.0.0.5` or a gateway's name. */
  observer: string;
  at: EpochMs;
  source: ObservationSource;
  provider: string;
  model: string;
  /** Default 1. */
  calls?: number;
  inputTokens?: number;
  outputTokens?: number;
  /** Integer micro-USD; absent or null: unpriced (unless costNanoUsd says otherwise). */
  costMicroUsd?: number | null;
  /** The exact cost, integer nano-USD; when given (not null), what is recorded, costMicroUsd then ignored. */
  costNanoUsd?: number | null;
}

export const DISCOVERY_STATUSES = ['pending', 'resolved', 'ignored'] as const;
export type DiscoveryStatus = (typeof DISCOVERY_STATUSES)[number];

/** Traffic from a caller Sluice did not know, keyed by its strongest hint (policy/discovery.ts), and what an admin made of it. */
export interface DiscoveredConsumer {
  id: number;
  identity: Identity;
  hints: Hints;
  firstSeenAt: EpochMs;
  lastSeenAt: EpochMs;
  calls: number;
  status: DiscoveryStatus;
  /** The consumer its usage is attributed to, when resolved. */
  consumer: string | null;
  /** The actor who resolved or ignored it, or `rule:<id>` for a rule. */
  resolvedBy: string | null;
  resolvedAt: EpochMs | null;
}

export interface DiscoveredConsumerFilter {
  status?: DiscoveryStatus;
  /** 1 to 1000; default 100. */
  limit?: number;
  cursor?: string | null;
}

/** Exactly one: attribute to an existing consumer, create one and attribute to it, or ignore (its usage stays unattributed). */
export type DiscoveryResolution = { consumer: string } | { create: ConsumerInput } | { ignore: true };

/** What one intake batch did: rows written, and each discovered consumer it touched as it now is. */
export interface IntakeResult {
  recorded: number;
  consumers: DiscoveredConsumer[];
  /** A batch of this key was recorded before: nothing was recorded now. */
  replayed?: boolean;
}

/** A provider/model the ledger has seen (gateway calls and observations) with no status, or an explicit `unreviewed`. */
export interface DiscoveredResource {
  id: string;
  provider: string;
  model: string;
  /** Whole UTC hours: the rollups' grain. */
  firstSeenAt: EpochMs;
  lastSeenAt: EpochMs;
  calls: number;
}

export interface ReconciliationRuleInput {
  match: RuleMatch;
  consumer: string;
  note?: string | null;
}

export interface ReconciliationRule {
  id: number;
  match: RuleMatch;
  consumer: string;
  note: string | null;
  createdAt: EpochMs;
}

/** Reconciliation: the part of the store that turns traffic from unknown callers into attributed usage. */
export interface ReconciliationStore {
  /**
   * Records the batch all or nothing: a ledger row per observation (operation `observed`, api `discovery`, its calls and
   * usage, in the hourly and daily rollups), and the discovered consumer of each (created, or its hints, times and calls
   * merged). A resolved discovered consumer's new usage goes to its consumer; a pending one whose observation a rule
   * matches (oldest rule first) is resolved by that rule, its past usage moved with it. Not an admin change: no config
   * version, no audit record. StoreInvalid for an observation without an identifying hint or with a malformed one.
   * `batchKey`, the observer's key for the batch: a batch whose key was recorded before (kept a week, as ledger batches'
   * keys) records nothing and answers `replayed`, so an observer's retry never counts the same calls twice.
   */
  recordObservations(observations: readonly Observation[], batchKey?: string): Promise<IntakeResult>;
  getDiscoveredConsumer(id: number): Promise<DiscoveredConsumer | null>;
  /** In the order first discovered; keyset-paginated. */
  listDiscoveredConsumers(filter?: DiscoveredConsumerFilter): Promise<Page<DiscoveredConsumer>>;
  /**
   * Resolves (or re-resolves) one, audited as `discovered-consumer`: every ledger row of it gets the consumer and its team
   * (none when ignored), and the rollups move with them, in one transaction. StoreNotFound for an unknown id; StoreConflict
   * (`reference`) for a consumer that does not exist or a new consumer's team that does not; (`duplicate`) for a taken name.
   */
  resolveDiscoveredConsumer(actor: string, id: number, resolution: DiscoveryResolution): Promise<DiscoveredConsumer>;
  /** Ordered by provider/model. Derived from the hourly rollups: nothing is written on the gateway's path. */
  listDiscoveredResources(): Promise<DiscoveredResource[]>;
  /** Audited; also resolves every pending discovered consumer it matches (each audited), their past usage moved. */
  createReconciliationRule(
    actor: string,
    rule: ReconciliationRuleInput,
  ): Promise<{ rule: ReconciliationRule; resolved: DiscoveredConsumer[] }>;
  getReconciliationRule(id: number): Promise<ReconciliationRule | null>;
  /** Oldest first: the order intake tries them in. */
  listReconciliationRules(): Promise<ReconciliationRule[]>;
  /** What it resolved stays resolved. */
  deleteReconciliationRule(actor: string, id: number): Promise<void>;
}
