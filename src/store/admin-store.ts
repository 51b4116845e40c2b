// The admin part of the store: the directory (teams, consumers, keys, admin tokens), governance (budgets, templates, rate
// limits, resource statuses, webhooks) and providers (providers and models), each change audited and versioned.
import type { BudgetConfig, BudgetTemplateConfig, RateLimitConfig, ResourceStatus } from '../config/governance-schema.js';
import type { CredentialField, ModelConfig, ProviderConfig } from '../config/schema.js';
import type { AuditAction, AuditEntityType } from '../schemas/audit.js';
import type { AuditSort, SortOrder } from '../schemas/listing-order.js';
import type { EpochMs, JsonValue, Page } from './records.js';

export { AUDIT_ENTITY_TYPES, type AuditAction, type AuditEntityType } from '../schemas/audit.js';

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
/** Unrevoked keys ending after `from` and by `until`, of one team's consumers or everyone's, soonest first. */
export interface ExpiringKeysQuery {
  from: EpochMs;
  until: EpochMs;
  team: string | null;
  limit: number;
}

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

/** The definitions the store keeps whole, by kind: the caller's validated config of each, keyed by its name. */
export interface DefinitionKinds {
  budget: BudgetConfig;
  budgetTemplate: BudgetTemplateConfig;
  rateLimit: RateLimitConfig;
}
export type DefinitionKind = keyof DefinitionKinds;
export const DEFINITION_KINDS = ['budget', 'budgetTemplate', 'rateLimit'] as const satisfies readonly DefinitionKind[];

/** A budget, budget template, rate limit or model: the caller's validated definition, keyed by its name. */
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
  action?: AuditAction;
  /** Records at or after this time. */
  since?: EpochMs;
  /** Default: time, newest first (desc); ties in order of id. */
  sort?: AuditSort;
  order?: SortOrder;
  /** 1 to 1000. */
  limit: number;
  cursor?: string | null;
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
  getDefinition<K extends DefinitionKind>(kind: K, name: string): Promise<StoredDefinition<DefinitionKinds[K]> | null>;
  createDefinition<K extends DefinitionKind>(kind: K, definition: DefinitionKinds[K]): Promise<StoredDefinition<DefinitionKinds[K]>>;
  updateDefinition<K extends DefinitionKind>(
    kind: K,
    name: string,
    definition: DefinitionKinds[K],
  ): Promise<StoredDefinition<DefinitionKinds[K]>>;
  listResources(): Promise<Resource[]>;
  createResource(resource: { id: string; status: ResourceStatus; note?: string | null }): Promise<Resource>;
  updateResource(id: string, patch: ResourcePatch): Promise<Resource>;
}

/**
 * Teams, consumers, their keys and admin tokens. Every mutating method takes the `actor` (who asked), and in the same
 * transaction writes one audit record per entity changed and increments the config version. Lookups (`get*`) resolve to
 * null for what does not exist; mutations of what does not exist reject with StoreNotFound; taken names and broken
 * references reject with StoreConflict. Listings are ordered by name (byte order) or id.
 */
export interface DirectoryStore {
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
  /**
   * Deletes the consumer's keys, identity rules and reconciliation rules with it (each deletion audited too);
   * StoreConflict (reason `reference`) while a budget or rate limit names it.
   */
  deleteConsumer(actor: string, name: string): Promise<void>;

  /** Generates `sk-sluice-` + 32 random bytes (base64url); stores only its SHA-256 hash and display prefix. */
  createKey(actor: string, consumer: string, key: KeyInput): Promise<CreatedKey>;
  listKeys(consumer: string): Promise<ConsumerKey[]>;
  /** Across consumers: the keys that will stop working in a window (none revoked, none already expired). */
  expiringKeys(query: ExpiringKeysQuery): Promise<ConsumerKey[]>;
  /** StoreConflict (reason `state`) when already revoked. */
  revokeKey(actor: string, id: string): Promise<ConsumerKey>;
  /**
   * A new key for the same consumer, and the old one expiring `graceSeconds` from now (or earlier, if it already
   * expired sooner), in one transaction: clients move to the new key while the old still works. The new key ends when
   * the old one was to end (rotation replaces the secret, not the grant), unless `expiresAt` is given (null: never).
   * StoreConflict (reason `state`) when the old key is revoked, or has expired and no `expiresAt` is given; StoreInvalid
   * (field `expiresAt`) for an `expiresAt` not in the future.
   */
  rotateKey(actor: string, id: string, graceSeconds: number, expiresAt?: EpochMs | null): Promise<CreatedKey>;
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
}

/** Budgets, budget templates, rate limits, resource statuses and webhooks; changes as DirectoryStore's. */
export interface GovernanceStore {
  /** Budgets, budget templates and rate limits alike: one path per kind (DefinitionKinds), audited as that kind. */
  createDefinition<K extends DefinitionKind>(
    actor: string,
    kind: K,
    definition: DefinitionKinds[K],
  ): Promise<StoredDefinition<DefinitionKinds[K]>>;
  getDefinition<K extends DefinitionKind>(kind: K, name: string): Promise<StoredDefinition<DefinitionKinds[K]> | null>;
  listDefinitions<K extends DefinitionKind>(kind: K): Promise<StoredDefinition<DefinitionKinds[K]>[]>;
  /** Replaces the definition; its `name` must be `name` (renaming is delete and create). */
  updateDefinition<K extends DefinitionKind>(
    actor: string,
    kind: K,
    name: string,
    definition: DefinitionKinds[K],
  ): Promise<StoredDefinition<DefinitionKinds[K]>>;
  deleteDefinition(actor: string, kind: DefinitionKind, name: string): Promise<void>;

  createResource(actor: string, resource: { id: string; status: ResourceStatus; note?: string | null }): Promise<Resource>;
  getResource(id: string): Promise<Resource | null>;
  listResources(): Promise<Resource[]>;
  updateResource(actor: string, id: string, patch: ResourcePatch): Promise<Resource>;
  deleteResource(actor: string, id: string): Promise<void>;

  createWebhook(actor: string, webhook: WebhookInput): Promise<Webhook>;
  getWebhook(id: string): Promise<Webhook | null>;
  listWebhooks(): Promise<Webhook[]>;
  updateWebhook(actor: string, id: string, patch: Partial<WebhookInput>): Promise<Webhook>;
  deleteWebhook(actor: string, id: string): Promise<void>;
}

/** Providers (settings and sealed credentials) and the models that route to them; changes as DirectoryStore's. */
export interface ProviderStore {
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
}

/**
 * Everything an admin API handler changes. The audit log can only be appended to: no method changes or removes a record,
 * and the schema refuses it too.
 */
export interface AdminStore extends DirectoryStore, GovernanceStore, ProviderStore {
  /** Incremented by every committed change but touchKeys: gateways poll it (as an ETag) to know when to reload. */
  configVersion(): Promise<number>;

  /**
   * Runs `work` as one admin change: what it does through the batch commits together, with one config version bump, or
   * not at all (work rejects). A batch that changes nothing commits nothing (no version bump). With `commit: false` (a
   * dry run) everything is done and checked, then rolled back, and work's result returned.
   */
  batch<T>(actor: string, work: (batch: DirectorBatch) => Promise<T>, options?: { commit?: boolean }): Promise<T>;

  /**
   * Runs `work`, written against this store's own methods, as one transaction: every read in it sees its changes so far,
   * and every change it makes (each still audited under its own actor) commits together with one config version bump,
   * or none does (work rejects). Nothing changed, nothing committed. Other callers' changes wait until it ends.
   */
  allOrNothing<T>(work: () => Promise<T>): Promise<T>;

  /** Newest first. */
  listAudit(filter: AuditFilter): Promise<Page<AuditRecord>>;
}
