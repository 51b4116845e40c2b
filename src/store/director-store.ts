// The one storage interface of everything the control plane owns; SQLite and PostgreSQL implement it alike.
import type { BudgetConfig, BudgetTemplateConfig, RateLimitConfig, ResourceStatus } from '../config/governance-schema.js';
import type { CredentialField, ModelConfig, ProviderConfig } from '../config/schema.js';
import type { Transaction } from '../ledger/transaction.js';
import type { ComplianceStore } from './compliance-store.js';
import type { Hints, Identity, ObservationSource, RuleMatch } from '../policy/discovery.js';

export { StoreConflict, StoreError, StoreInvalid, StoreNotFound, type ConflictReason } from './errors.js';

/** Epoch milliseconds, as the ledger counts time. */
export type EpochMs = number;

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** One page of a keyset-paginated listing; pass `nextCursor` back for the next page, null when this is the last. */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface Team {
  name: string;
  owner: string;
  createdAt: EpochMs;
}

export interface Consumer {
  name: string;
  team: string | null;
  owner: string | null;
  labels: Record<string, string>;
  /** Model names this consumer may use; null means every model. */
  models: string[] | null;
  createdAt: EpochMs;
  updatedAt: EpochMs;
}

export interface ConsumerInput {
  name: string;
  team?: string | null;
  owner?: string | null;
  labels?: Record<string, string>;
  models?: string[] | null;
}

/** Absent fields stay as they are; null clears a nullable one. */
export type ConsumerPatch = Partial<Omit<ConsumerInput, 'name'>>;

export interface ConsumerFilter {
  team?: string;
  /** Consumers carrying every one of these labels with these values. */
  labels?: Record<string, string>;
  /** At most this many items per page (1 to 1000; default 100). */
  limit?: number;
  cursor?: string | null;
}

/** A consumer key as listings show it: never its hash, never its plaintext. */
export interface ConsumerKey {
  id: string;
  consumer: string;
  /** The first 12 characters of the key, to tell keys apart. */
  prefix: string;
  name: string;
  createdAt: EpochMs;
  expiresAt: EpochMs | null;
  revokedAt: EpochMs | null;
  lastUsedAt: EpochMs | null;
}

export interface KeyInput {
  name: string;
  expiresAt?: EpochMs | null;
}

/** What creating a key returns: the only time the plaintext exists outside the caller's hands. */
export interface CreatedKey {
  key: ConsumerKey;
  plaintext: string;
}

/** An unrevoked key as the gateway holds it in memory: its hash, whose it is, until when. Never leaves the process. */
export interface ActiveKey {
  id: string;
  consumer: string;
  hash: string;
  name: string;
  expiresAt: EpochMs | null;
}

/** A key declared in sluice.yaml: Sluice stores its hash and display prefix, never the plaintext. */
export interface KeyImport {
  name: string;
  hash: string;
  prefix: string;
}

/** A presented key that is valid now, and whose it is. `keyId` is what `touchKeys` is later given. */
export interface KeyMatch {
  keyId: string;
  consumer: Consumer;
}

export const ADMIN_ROLES = ['admin', 'operator', 'viewer', 'team-owner'] as const;
export type AdminRole = (typeof ADMIN_ROLES)[number];

export interface AdminToken {
  id: string;
  name: string;
  role: AdminRole;
  /** The team a team-owner token governs; null for every other role. */
  team: string | null;
  prefix: string;
  createdAt: EpochMs;
  revokedAt: EpochMs | null;
}

export interface AdminTokenInput {
  name: string;
  role: AdminRole;
  /** Required for team-owner, refused for the other roles. */
  team?: string | null;
}

export interface CreatedAdminToken {
  token: AdminToken;
  plaintext: string;
}

/** A budget, budget template or rate limit: the caller's validated definition, keyed by its name. */
export interface StoredDefinition<T> {
  name: string;
  definition: T;
  createdAt: EpochMs;
  updatedAt: EpochMs;
}

export interface Resource {
  /** provider/model */
  id: string;
  status: ResourceStatus;
  note: string | null;
}

export type ResourcePatch = Partial<Omit<Resource, 'id'>>;

/** A provider's settings: its config without the credential fields (CREDENTIAL_FIELDS in src/config/schema.ts). */
export type ProviderSettings = Omit<ProviderConfig, CredentialField>;

/** Credentials as the store holds them: sealed with the master key by the caller (src/store/master-key.ts), never open. */
export interface SealedCredentials {
  /** Which credential fields the sealed value holds, for readers to see what is set. */
  fields: CredentialField[];
  sealed: string;
}

export interface StoredProvider {
  name: string;
  settings: ProviderSettings;
  credentials: SealedCredentials | null;
  createdAt: EpochMs;
  updatedAt: EpochMs;
}

export interface ProviderInput {
  name: string;
  settings: ProviderSettings;
  credentials: SealedCredentials | null;
}

/** Absent fields stay as they are; `credentials: null` removes them. */
export type ProviderPatch = Partial<Omit<ProviderInput, 'name'>>;

export interface Webhook {
  id: string;
  url: string;
  /**
   * Signs deliveries. Opaque to the store: the director seals it with the master key (src/director/webhook-secrets.ts);
   * rows written before that hold plaintext until the director's next start. Never written to the audit log.
   */
  secret: string;
  createdAt: EpochMs;
}

export interface WebhookInput {
  url: string;
  secret: string;
}

export const AUDIT_ENTITY_TYPES = [
  'team', 'consumer', 'consumer-key', 'admin-token', 'budget', 'budget-template', 'rate-limit', 'resource', 'webhook',
  'provider', 'model', 'discovered-consumer', 'reconciliation-rule',
] as const;
export type AuditEntityType = (typeof AUDIT_ENTITY_TYPES)[number];
export type AuditAction = 'create' | 'update' | 'delete' | 'revoke' | 'rotate';

/** One change, written in the transaction that made it. `before` is null for a creation, `after` for a deletion. */
export interface AuditRecord {
  id: number;
  at: EpochMs;
  actor: string;
  action: AuditAction;
  entityType: AuditEntityType;
  entityId: string;
  before: JsonValue | null;
  after: JsonValue | null;
}

export interface AuditFilter {
  entityType?: AuditEntityType;
  entityId?: string;
  actor?: string;
  /** Records at or after this time. */
  since?: EpochMs;
  /** 1 to 1000. */
  limit: number;
  cursor?: string | null;
}

/** What usage can be grouped by. `model` is the Sluice model asked for; `resource` is provider/provider-model; `status` is
 * `ok` or `error` (HTTP 400 and above); `resourceStatus` is the resource's sanctioned / unsanctioned / unreviewed now. */
export const USAGE_DIMENSIONS = ['consumer', 'team', 'model', 'provider', 'resource', 'status', 'resourceStatus'] as const;
export type UsageDimension = (typeof USAGE_DIMENSIONS)[number];
export const USAGE_BUCKETS = ['hour', 'day', 'month'] as const;
/** UTC hours, days and calendar months. */
export type UsageBucket = (typeof USAGE_BUCKETS)[number];

/** Usage of these only; '' matches calls the ledger has no such name for (a call refused before it was known). */
export interface UsageFilter {
  team?: string;
  consumer?: string;
  model?: string;
  provider?: string;
  /** provider/provider-model */
  resource?: string;
}

/** What gateways admitted and routed for one rollup key (consumer, team, model asked for, provider, provider model). */
export interface AdmittedUsageRow {
  consumer: string;
  /** '' where the ledger had none; likewise model and providerModel. */
  team: string;
  model: string;
  provider: string;
  providerModel: string;
  /** Calls a target answered, whatever their status. */
  calls: number;
  inputTokens: number;
  outputTokens: number;
  /** Integer micro-USD; an unpriced call adds nothing. */
  costMicroUsd: number;
}

/** A span of whole UTC hours, [from, to): the rollups' grain. */
export interface UsagePeriod {
  from: EpochMs;
  to: EpochMs;
}

export interface UsageQuery extends UsagePeriod {
  bucket: UsageBucket;
  /** Empty: one total per bucket. */
  groupBy: readonly UsageDimension[];
  filter?: UsageFilter;
}

/**
 * Every call is served, refused or failed (src/store/sql/rollup.ts' callOutcome): `calls` counts all three; what a budget of
 * requests counts, the calls the gateway admitted, is calls - refusedCalls; the served are calls - refusedCalls - failedCalls.
 */
export interface UsageTotals {
  calls: number;
  inputTokens: number;
  outputTokens: number;
  cachedInputTokens: number;
  /** Integer micro-USD of the priced calls. */
  costMicroUsd: number;
  /** Served calls whose model had no known price: their cost is not in costMicroUsd. */
  unpricedCalls: number;
  /** Calls the gateway refused before admitting them (401, 403, 404, 429 and the like): no provider was asked, no budget counts them. */
  refusedCalls: number;
  /** Calls admitted that the provider did not serve (upstream errors and timeouts, no target able to serve them). */
  failedCalls: number;
}

export interface UsageRow extends UsageTotals {
  /** The bucket's start; its hours before `from` are not in it. */
  bucketStart: EpochMs;
  /** The value of each dimension grouped by ('' where the ledger had none). */
  group: Partial<Record<UsageDimension, string>>;
}

export interface TopDriversQuery {
  current: UsagePeriod;
  previous: UsagePeriod;
  groupBy: readonly UsageDimension[];
  filter?: UsageFilter;
  /** 1 to 1000. */
  limit: number;
}

/** A group's cost in two periods; the largest changes (either way) first. */
export interface CostDriver {
  group: Partial<Record<UsageDimension, string>>;
  currentCostMicroUsd: number;
  previousCostMicroUsd: number;
  /** current - previous. */
  deltaMicroUsd: number;
  currentCalls: number;
  previousCalls: number;
}

/**
 * The changes DirectorStore.batch makes in its one transaction: the store's own operations (the same checks, one audit
 * record per entity changed), without an actor (the batch's) and without a version bump each (the batch bumps it once).
 * Reads see what the batch has written so far.
 */
export interface DirectorBatch {
  getTeam(name: string): Promise<Team | null>;
  createTeam(team: { name: string; owner: string }): Promise<Team>;
  updateTeam(name: string, patch: { owner?: string }): Promise<Team>;
  getConsumer(name: string): Promise<Consumer | null>;
  createConsumer(consumer: ConsumerInput): Promise<Consumer>;
  updateConsumer(name: string, patch: ConsumerPatch): Promise<Consumer>;
  listProviders(): Promise<StoredProvider[]>;
  listModels(): Promise<StoredDefinition<ModelConfig>[]>;
  createModel(model: ModelConfig): Promise<StoredDefinition<ModelConfig>>;
  updateModel(name: string, model: ModelConfig): Promise<StoredDefinition<ModelConfig>>;
  getBudget(name: string): Promise<StoredDefinition<BudgetConfig> | null>;
  createBudget(budget: BudgetConfig): Promise<StoredDefinition<BudgetConfig>>;
  updateBudget(name: string, budget: BudgetConfig): Promise<StoredDefinition<BudgetConfig>>;
  getBudgetTemplate(name: string): Promise<StoredDefinition<BudgetTemplateConfig> | null>;
  createBudgetTemplate(template: BudgetTemplateConfig): Promise<StoredDefinition<BudgetTemplateConfig>>;
  updateBudgetTemplate(name: string, template: BudgetTemplateConfig): Promise<StoredDefinition<BudgetTemplateConfig>>;
  getRateLimit(name: string): Promise<StoredDefinition<RateLimitConfig> | null>;
  createRateLimit(rateLimit: RateLimitConfig): Promise<StoredDefinition<RateLimitConfig>>;
  updateRateLimit(name: string, rateLimit: RateLimitConfig): Promise<StoredDefinition<RateLimitConfig>>;
  listResources(): Promise<Resource[]>;
  createResource(resource: { id: string; status: ResourceStatus; note?: string | null }): Promise<Resource>;
  updateResource(id: string, patch: ResourcePatch): Promise<Resource>;
}

/**
 * Everything the director owns, as an admin API handler calls it. Every mutating method takes the `actor` (who asked),
 * and in the same transaction writes one audit record per entity changed and increments the config version. Lookups
 * (`get*`) resolve to null for what does not exist; mutations of what does not exist reject with StoreNotFound;
 * taken names and broken references reject with StoreConflict. Listings are ordered by name (byte order) or id.
 * The audit log can only be appended to: no method changes or removes a record, and the schema refuses it too.
 */
export interface DirectorStore extends ReconciliationStore {
  readonly dialect: 'sqlite' | 'postgres';
  /** Assessments, POA&M items and the hash chains, on the same database (src/store/compliance-store.ts). */
  readonly compliance: ComplianceStore;

  /** Incremented by every committed change but touchKeys: gateways poll it (as an ETag) to know when to reload. */
  configVersion(): Promise<number>;

  /**
   * Runs `work` as one admin change: what it does through the batch commits together, with one config version bump, or
   * not at all (work rejects). With `commit: false` (a dry run) everything is done and checked, then rolled back, and
   * work's result returned.
   */
  batch<T>(actor: string, work: (batch: DirectorBatch) => Promise<T>, options?: { commit?: boolean }): Promise<T>;

  createTeam(actor: string, team: { name: string; owner: string }): Promise<Team>;
  getTeam(name: string): Promise<Team | null>;
  listTeams(): Promise<Team[]>;
  updateTeam(actor: string, name: string, patch: { owner?: string }): Promise<Team>;
  /**
   * Refused with StoreConflict (reason `reference`) while a consumer or an unrevoked team-owner token belongs to the
   * team; revoked tokens of the team are deleted with it (each deletion audited).
   */
  deleteTeam(actor: string, name: string): Promise<void>;

  createConsumer(actor: string, consumer: ConsumerInput): Promise<Consumer>;
  getConsumer(name: string): Promise<Consumer | null>;
  listConsumers(filter?: ConsumerFilter): Promise<Page<Consumer>>;
  updateConsumer(actor: string, name: string, patch: ConsumerPatch): Promise<Consumer>;
  /** Deletes the consumer's keys with it (each key's deletion is audited too). */
  deleteConsumer(actor: string, name: string): Promise<void>;

  /** Generates `sk-sluice-` + 32 random bytes (base64url); stores only its SHA-256 hash and display prefix. */
  createKey(actor: string, consumer: string, key: KeyInput): Promise<CreatedKey>;
  listKeys(consumer: string): Promise<ConsumerKey[]>;
  /** StoreConflict (reason `state`) when already revoked. */
  revokeKey(actor: string, id: string): Promise<ConsumerKey>;
  /**
   * A new key for the same consumer, and the old one expiring `graceSeconds` from now (or earlier, if it already
   * expired sooner), in one transaction: clients move to the new key while the old still works.
   */
  rotateKey(actor: string, id: string, graceSeconds: number): Promise<CreatedKey>;
  /** The consumer whose key has this hash, if that key is neither revoked nor expired at `now` (default: the store's clock). */
  findConsumerByKeyHash(hash: string, now?: EpochMs): Promise<KeyMatch | null>;
  /** Stores a key known by its hash (declared in sluice.yaml); audited like a created key. */
  importKey(actor: string, consumer: string, key: KeyImport): Promise<ConsumerKey>;
  /** Every unrevoked key with its hash, for the gateway's in-memory key table (expired ones included: it checks). */
  activeKeys(): Promise<ActiveKey[]>;
  /** Batch-records when keys were last used (keeping the later time). Not an admin change: no audit, no version. */
  touchKeys(lastUsed: ReadonlyMap<string, EpochMs>): Promise<void>;

  /** Generates `sa-sluice-` + 32 random bytes (base64url); stores only its hash and prefix. */
  createAdminToken(actor: string, token: AdminTokenInput): Promise<CreatedAdminToken>;
  listAdminTokens(): Promise<AdminToken[]>;
  revokeAdminToken(actor: string, id: string): Promise<AdminToken>;
  /** The token with this hash, unless revoked. */
  findAdminTokenByHash(hash: string): Promise<AdminToken | null>;

  createBudget(actor: string, budget: BudgetConfig): Promise<StoredDefinition<BudgetConfig>>;
  getBudget(name: string): Promise<StoredDefinition<BudgetConfig> | null>;
  listBudgets(): Promise<StoredDefinition<BudgetConfig>[]>;
  /** Replaces the definition; its `name` must be `name` (renaming is delete and create). */
  updateBudget(actor: string, name: string, budget: BudgetConfig): Promise<StoredDefinition<BudgetConfig>>;
  deleteBudget(actor: string, name: string): Promise<void>;

  createBudgetTemplate(actor: string, template: BudgetTemplateConfig): Promise<StoredDefinition<BudgetTemplateConfig>>;
  getBudgetTemplate(name: string): Promise<StoredDefinition<BudgetTemplateConfig> | null>;
  listBudgetTemplates(): Promise<StoredDefinition<BudgetTemplateConfig>[]>;
  updateBudgetTemplate(actor: string, name: string, template: BudgetTemplateConfig): Promise<StoredDefinition<BudgetTemplateConfig>>;
  deleteBudgetTemplate(actor: string, name: string): Promise<void>;

  createRateLimit(actor: string, rateLimit: RateLimitConfig): Promise<StoredDefinition<RateLimitConfig>>;
  getRateLimit(name: string): Promise<StoredDefinition<RateLimitConfig> | null>;
  listRateLimits(): Promise<StoredDefinition<RateLimitConfig>[]>;
  updateRateLimit(actor: string, name: string, rateLimit: RateLimitConfig): Promise<StoredDefinition<RateLimitConfig>>;
  deleteRateLimit(actor: string, name: string): Promise<void>;

  createResource(actor: string, resource: { id: string; status: ResourceStatus; note?: string | null }): Promise<Resource>;
  getResource(id: string): Promise<Resource | null>;
  listResources(): Promise<Resource[]>;
  updateResource(actor: string, id: string, patch: ResourcePatch): Promise<Resource>;
  deleteResource(actor: string, id: string): Promise<void>;

  createProvider(actor: string, provider: ProviderInput): Promise<StoredProvider>;
  getProvider(name: string): Promise<StoredProvider | null>;
  listProviders(): Promise<StoredProvider[]>;
  updateProvider(actor: string, name: string, patch: ProviderPatch): Promise<StoredProvider>;
  /** Refused with StoreConflict (reason `reference`) while a model routes to it. */
  deleteProvider(actor: string, name: string): Promise<void>;

  /** A model and its route (targets tried in order); every target's provider must exist (StoreConflict `reference`). */
  createModel(actor: string, model: ModelConfig): Promise<StoredDefinition<ModelConfig>>;
  getModel(name: string): Promise<StoredDefinition<ModelConfig> | null>;
  listModels(): Promise<StoredDefinition<ModelConfig>[]>;
  updateModel(actor: string, name: string, model: ModelConfig): Promise<StoredDefinition<ModelConfig>>;
  /** Refused with StoreConflict (reason `reference`) while a consumer, budget, budget template or rate limit names it. */
  deleteModel(actor: string, name: string): Promise<void>;

  createWebhook(actor: string, webhook: WebhookInput): Promise<Webhook>;
  getWebhook(id: string): Promise<Webhook | null>;
  listWebhooks(): Promise<Webhook[]>;
  updateWebhook(actor: string, id: string, patch: Partial<WebhookInput>): Promise<Webhook>;
  deleteWebhook(actor: string, id: string): Promise<void>;

  /** Newest first. */
  listAudit(filter: AuditFilter): Promise<Page<AuditRecord>>;

  /**
   * All rows in one transaction, one multi-row INSERT per up to 50 rows: all are written or none. The same transaction adds
   * them to the hourly usage rollups, so the analytics below never disagree with the ledger.
   */
  insertTransactions(rows: readonly Transaction[]): Promise<void>;
  /**
   * The ledger writer's insert: like insertTransactions, under the batch's key (its idempotency key). Resolves false, and
   * writes nothing, when a batch with this key was committed before.
   */
  insertLedgerBatch(key: string, rows: readonly Transaction[]): Promise<boolean>;
  countTransactions(): Promise<number>;
  /** Ledger rows, newest first, keyset-paginated on their id (sql/transactions.ts). */
  listTransactions(filter: LedgerFilter): Promise<Page<LedgerEntry>>;
  /** One ledger row by its id, or null. */
  getTransaction(id: number): Promise<LedgerEntry | null>;

  /**
   * Usage per bucket and group, read from the hourly rollups only (never the ledger's rows), ordered by bucket then group.
   * `from` and `to` must be whole UTC hours (StoreInvalid otherwise); a day or month bucket holds the hours of [from, to)
   * that fall in it. Resource statuses are today's, applied to all of the period.
   */
  usage(query: UsageQuery): Promise<UsageRow[]>;
  /** The groups whose cost changed most between the two periods, from the rollups. */
  topDrivers(query: TopDriversQuery): Promise<CostDriver[]>;
  /** The first and last hour the rollups hold, or null while the ledger is empty. */
  usageExtent(): Promise<{ firstHour: EpochMs; lastHour: EpochMs } | null>;
  /**
   * What gateways admitted and routed in [from, to) (any epoch milliseconds), per rollup key: the figure budget counters
   * are seeded with at start. Calls a target answered, with a consumer; not refusals (no target), nor observed traffic.
   * Whole hours are read from the rollups, the partial hours at either end from the ledger's rows.
   */
  admittedUsage(period: UsagePeriod): Promise<AdmittedUsageRow[]>;

  close(): Promise<void>;
}

/** Which ledger rows a listing returns; every field optional. `model` matches the model asked for or the one that served. */
export interface LedgerFilter {
  consumer?: string;
  team?: string;
  model?: string;
  provider?: string;
  outcome?: 'served' | 'refused' | 'failed';
  /** [from, to) on the call's start, epoch milliseconds. */
  from?: EpochMs;
  to?: EpochMs;
  /** 1 to 1000; default 100. */
  limit?: number;
  cursor?: string | null;
}

/** A ledger row as read back: the transaction, its row id, how it ended, and for observed traffic its calls and discovery. */
export interface LedgerEntry extends Omit<Transaction, 'operation' | 'violations'> {
  id: number;
  /** `chat`, `embeddings`, or `observed` for traffic reported through the reconciliation intake. */
  operation: string;
  violations: string[];
  outcome: 'served' | 'refused' | 'failed';
  /** How many calls the row stands for: 1 for a gateway's call. */
  calls: number;
  discoveredConsumer: number | null;
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
  /** Integer micro-USD; absent or null: unpriced. */
  costMicroUsd?: number | null;
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
   */
  recordObservations(observations: readonly Observation[]): Promise<IntakeResult>;
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
  createReconciliationRule(actor: string, rule: ReconciliationRuleInput): Promise<{ rule: ReconciliationRule; resolved: DiscoveredConsumer[] }>;
  getReconciliationRule(id: number): Promise<ReconciliationRule | null>;
  /** Oldest first: the order intake tries them in. */
  listReconciliationRules(): Promise<ReconciliationRule[]>;
  /** What it resolved stays resolved. */
  deleteReconciliationRule(actor: string, id: number): Promise<void>;
}

export interface DirectorStoreOptions {
  /** The time changes are stamped with and keys expire by; tests move one by hand. */
  clock?: () => EpochMs;
  /** Told about failures no caller is waiting for (an idle PostgreSQL connection dropping). */
  onBackgroundError?: (error: Error) => void;
}
