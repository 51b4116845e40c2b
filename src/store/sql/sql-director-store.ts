// The DirectorStore written once over a driver: each mutation is one transaction that bumps the config version and audits.
// sqlite-store.ts and postgres-store.ts only supply the driver; the behaviour lives here and in this folder's modules.
import { AsyncLocalStorage } from 'node:async_hooks';
import type { ResourceStatus } from '../../config/governance-schema.js';
import type { Transaction } from '../../ir/transaction.js';
import type { DiscoveryPolicy } from '../reconciliation-store.js';
import type {
  ActiveKey,
  KeyImport,
  ExpiringKeysQuery,
  AdminToken,
  AdminTokenInput,
  AuditFilter,
  AuditRecord,
  Consumer,
  ConsumerFilter,
  ConsumerInput,
  ConsumerKey,
  ConsumerPatch,
  CreatedAdminToken,
  CreatedKey,
  DefinitionKind,
  DefinitionKinds,
  DirectorBatch,
  DirectorStore,
  DirectorStoreOptions,
  KeyInput,
  KeyMatch,
  Page,
  Resource,
  ResourcePatch,
  StoredDefinition,
  Team,
  Webhook,
  WebhookInput,
  CostDriver,
  TopDriversQuery,
  UsageFilter,
  UsageQuery,
  UsageRow,
  UsagePeriod,
  AdmittedUsageRow,
  ProviderInput,
  ProviderPatch,
  StoredProvider,
  DiscoveredConsumer,
  DiscoveredConsumerFilter,
  DiscoveredResource,
  DiscoveryResolution,
  IntakeResult,
  Observation,
  ReconciliationRule,
  ReconciliationRuleInput,
  IdentityRule,
  IdentityRuleInput,
  LedgerEntry,
  LedgerFilter,
} from '../director-store.js';
import type { ModelConfig } from '../../config/schema.js';
import { StoreInvalid } from '../errors.js';
import * as analytics from './analytics.js';
import { admittedUsage } from './admitted-usage.js';
import { listAudit } from './audit.js';
import { SqlBatch } from './batch.js';
import { SqlComplianceStore } from './compliance.js';
import { Change, translateError, type Reader, type Subject } from './change.js';
import * as credentials from './credentials.js';
import * as directory from './directory.js';
import * as governance from './governance.js';
import * as providers from './providers.js';
import * as identityRules from './identity-rules.js';
import * as reconciliation from './reconciliation.js';
import { JsonColumns, type VersionRow } from './rows.js';
import { getTransaction, listTransactions } from './transactions.js';
import type { SqlSession, StatementDriver } from './session.js';
import { SqlLedgerStore } from './sql-ledger-store.js';

/** Thrown through a dry run's transaction, or one that wrote nothing, to roll it back; never leaves batch(). */
class BatchRollback extends Error {}

/** The transaction an allOrNothing() call holds open, and whether any change inside it wrote anything. */
interface Joined {
  session: SqlSession;
  changed: boolean;
}

export class SqlDirectorStore implements DirectorStore {
  readonly dialect: 'sqlite' | 'postgres';
  readonly compliance: SqlComplianceStore;
  private readonly driver: StatementDriver;
  private readonly json: JsonColumns;
  private readonly clock: () => number;
  private readonly ledger: SqlLedgerStore;
  private readonly discovery: DiscoveryPolicy | null;
  /**
   * Set while allOrNothing() runs its work: every read and change made in that work, however deep in its calls, joins
   * its one transaction (the work is written against the store's ordinary methods, as a reload of sluice.yaml is).
   */
  private readonly joined = new AsyncLocalStorage<Joined>();
  /**
   * allOrNothing() works now running. When the last ends, `joined` is disabled: on Node 20 an AsyncLocalStorage that has
   * run once keeps async hooks and V8's promise hooks on for the process's life, and a gateway serving from the same
   * process then pays them on every promise of every call (about a tenth of its calls/s, measured) for a transaction
   * it ran at start.
   */
  private joinedRuns = 0;

  protected constructor(driver: StatementDriver, options: DirectorStoreOptions) {
    this.driver = driver;
    this.dialect = driver.dialect.name;
    this.json = new JsonColumns(driver.dialect);
    this.clock = options.clock ?? Date.now;
    this.ledger = new SqlLedgerStore(driver, options);
    this.discovery = options.discovery ?? null;
    this.compliance = new SqlComplianceStore(driver, this.json);
  }

  async configVersion(): Promise<number> {
    const [row] = await this.read((read) => read.session.all<VersionRow>('versionGet', []));
    return row?.config_version ?? 0;
  }

  async batch<T>(actor: string, work: (batch: DirectorBatch) => Promise<T>, options: { commit?: boolean } = {}): Promise<T> {
    if (typeof actor !== 'string' || actor.length === 0) throw new StoreInvalid('every change needs an actor', { field: '(actor)' });
    let result: T;
    try {
      await this.driver.transaction(async (session) => {
        // First, as in change(): the version row's lock serializes this batch with every other admin change.
        await session.run('versionBump', []);
        const change = new Change(session, this.clock(), actor, this.json);
        result = await work(new SqlBatch(change, this.driver.dialect));
        // A batch that wrote nothing (everything already matched) commits nothing: no version bump for gateways to
        // reload on.
        if (options.commit === false || !change.changedAnything) throw new BatchRollback();
      });
    } catch (error) {
      if (!(error instanceof BatchRollback)) throw error;
    }
    return result!;
  }

  async allOrNothing<T>(work: () => Promise<T>): Promise<T> {
    if (this.joined.getStore() !== undefined) return work();
    let result: T;
    try {
      await this.driver.transaction(async (session) => {
        // First, as in change(): the version row's lock serializes this work with every other admin change.
        await session.run('versionBump', []);
        const joined: Joined = { session, changed: false };
        this.joinedRuns++;
        try {
          result = await this.joined.run(joined, work);
        } finally {
          // No work is inside `joined` any more, so disabling it exits no one's transaction.
          if (--this.joinedRuns === 0) this.joined.disable();
        }
        if (!joined.changed) throw new BatchRollback();
      });
    } catch (error) {
      if (!(error instanceof BatchRollback)) throw error;
    }
    return result!;
  }

  createTeam(actor: string, team: { name: string; owner: string }): Promise<Team> {
    return this.change(actor, { type: 'team', id: team.name }, (change) => directory.createTeam(change, team));
  }
  getTeam(name: string): Promise<Team | null> {
    return this.read((read) => directory.getTeam(read, name));
  }
  listTeams(): Promise<Team[]> {
    return this.read((read) => directory.listTeams(read));
  }
  updateTeam(actor: string, name: string, patch: { owner?: string }): Promise<Team> {
    return this.change(actor, { type: 'team', id: name }, (change) => directory.updateTeam(change, name, patch));
  }
  deleteTeam(actor: string, name: string): Promise<void> {
    const subject: Subject = { type: 'team', id: name, reference: 'consumers or team-owner tokens still belong to it' };
    return this.change(actor, subject, (change) => directory.deleteTeam(change, name));
  }

  createConsumer(actor: string, consumer: ConsumerInput): Promise<Consumer> {
    const subject: Subject = { type: 'consumer', id: consumer.name, reference: `team "${consumer.team ?? ''}" does not exist` };
    return this.change(actor, subject, (change) => directory.createConsumer(change, consumer));
  }
  getConsumer(name: string): Promise<Consumer | null> {
    return this.read((read) => directory.getConsumer(read, name));
  }
  listConsumers(filter: ConsumerFilter = {}): Promise<Page<Consumer>> {
    return this.read((read) => directory.listConsumers(read, filter));
  }
  updateConsumer(actor: string, name: string, patch: ConsumerPatch): Promise<Consumer> {
    const subject: Subject = { type: 'consumer', id: name, reference: `team "${patch.team ?? ''}" does not exist` };
    return this.change(actor, subject, (change) => directory.updateConsumer(change, name, patch));
  }
  deleteConsumer(actor: string, name: string): Promise<void> {
    return this.change(actor, { type: 'consumer', id: name }, async (change) => {
      await directory.deleteConsumer(change, name);
      await identityRules.deleteRulesOfConsumer(change, name);
      await reconciliation.deleteRulesOfConsumer(change, name);
    });
  }

  createKey(actor: string, consumer: string, key: KeyInput): Promise<CreatedKey> {
    return this.change(actor, { type: 'consumer-key', id: key.name }, (change) => credentials.createKey(change, consumer, key));
  }
  listKeys(consumer: string): Promise<ConsumerKey[]> {
    return this.read((read) => credentials.listKeys(read, consumer));
  }
  expiringKeys(query: ExpiringKeysQuery): Promise<ConsumerKey[]> {
    return this.read((read) => credentials.expiringKeys(read, query));
  }
  revokeKey(actor: string, id: string): Promise<ConsumerKey> {
    return this.change(actor, { type: 'consumer-key', id }, (change) => credentials.revokeKey(change, id));
  }
  rotateKey(actor: string, id: string, graceSeconds: number, expiresAt?: number | null): Promise<CreatedKey> {
    return this.change(actor, { type: 'consumer-key', id }, (change) => credentials.rotateKey(change, id, graceSeconds, expiresAt));
  }
  importKey(actor: string, consumer: string, key: KeyImport): Promise<ConsumerKey> {
    return this.change(actor, { type: 'consumer-key', id: key.name }, (change) => credentials.importKey(change, consumer, key));
  }
  activeKeys(): Promise<ActiveKey[]> {
    return this.read((read) => credentials.activeKeys(read));
  }
  findConsumerByKeyHash(hash: string, now: number = this.clock()): Promise<KeyMatch | null> {
    return this.read((read) => credentials.findConsumerByKeyHash(read, hash, now));
  }
  async touchKeys(lastUsed: ReadonlyMap<string, number>): Promise<void> {
    if (lastUsed.size === 0) return;
    // Its own transaction without the version bump or an audit record: use is not an admin change.
    await this.driver.transaction((session) => credentials.touchKeys(session, lastUsed));
  }

  createAdminToken(actor: string, token: AdminTokenInput): Promise<CreatedAdminToken> {
    const subject: Subject = { type: 'admin-token', id: token.name, reference: `team "${token.team ?? ''}" does not exist` };
    return this.change(actor, subject, (change) => credentials.createAdminToken(change, token));
  }
  listAdminTokens(): Promise<AdminToken[]> {
    return this.read((read) => credentials.listAdminTokens(read));
  }
  revokeAdminToken(actor: string, id: string): Promise<AdminToken> {
    return this.change(actor, { type: 'admin-token', id }, (change) => credentials.revokeAdminToken(change, id));
  }
  findAdminTokenByHash(hash: string): Promise<AdminToken | null> {
    return this.read((read) => credentials.findAdminTokenByHash(read, hash));
  }

  createDefinition<K extends DefinitionKind>(
    actor: string,
    kind: K,
    definition: DefinitionKinds[K],
  ): Promise<StoredDefinition<DefinitionKinds[K]>> {
    return this.change(actor, { type: governance.DOCUMENT_ENTITY[kind], id: definition.name }, (change) =>
      governance.createDocument(change, kind, definition),
    );
  }
  getDefinition<K extends DefinitionKind>(kind: K, name: string): Promise<StoredDefinition<DefinitionKinds[K]> | null> {
    return this.read((read) => governance.getDocument<DefinitionKinds[K]>(read, kind, name));
  }
  listDefinitions<K extends DefinitionKind>(kind: K): Promise<StoredDefinition<DefinitionKinds[K]>[]> {
    return this.read((read) => governance.listDocuments<DefinitionKinds[K]>(read, kind));
  }
  updateDefinition<K extends DefinitionKind>(
    actor: string,
    kind: K,
    name: string,
    definition: DefinitionKinds[K],
  ): Promise<StoredDefinition<DefinitionKinds[K]>> {
    return this.change(actor, { type: governance.DOCUMENT_ENTITY[kind], id: name }, (change) =>
      governance.updateDocument(change, kind, name, definition),
    );
  }
  deleteDefinition(actor: string, kind: DefinitionKind, name: string): Promise<void> {
    const subject: Subject = { type: governance.DOCUMENT_ENTITY[kind], id: name };
    return this.change(actor, subject, (change) => governance.deleteDocument(change, kind, name));
  }

  createResource(actor: string, resource: { id: string; status: ResourceStatus; note?: string | null }): Promise<Resource> {
    return this.change(actor, { type: 'resource', id: resource.id }, (change) => governance.createResource(change, resource));
  }
  getResource(id: string): Promise<Resource | null> {
    return this.read((read) => governance.getResource(read, id));
  }
  listResources(): Promise<Resource[]> {
    return this.read((read) => governance.listResources(read));
  }
  updateResource(actor: string, id: string, patch: ResourcePatch): Promise<Resource> {
    return this.change(actor, { type: 'resource', id }, (change) => governance.updateResource(change, id, patch));
  }
  deleteResource(actor: string, id: string): Promise<void> {
    return this.change(actor, { type: 'resource', id }, (change) => governance.deleteResource(change, id));
  }

  createProvider(actor: string, provider: ProviderInput): Promise<StoredProvider> {
    return this.change(actor, { type: 'provider', id: provider.name }, (change) => providers.createProvider(change, provider));
  }
  getProvider(name: string): Promise<StoredProvider | null> {
    return this.read((read) => providers.getProvider(read, name));
  }
  listProviders(): Promise<StoredProvider[]> {
    return this.read((read) => providers.listProviders(read));
  }
  updateProvider(actor: string, name: string, patch: ProviderPatch): Promise<StoredProvider> {
    return this.change(actor, { type: 'provider', id: name }, (change) => providers.updateProvider(change, name, patch));
  }
  deleteProvider(actor: string, name: string): Promise<void> {
    return this.change(actor, { type: 'provider', id: name }, (change) => providers.deleteProvider(change, name));
  }

  createModel(actor: string, model: ModelConfig): Promise<StoredDefinition<ModelConfig>> {
    return this.change(actor, { type: 'model', id: model.name }, (change) => providers.createModel(change, model));
  }
  getModel(name: string): Promise<StoredDefinition<ModelConfig> | null> {
    return this.read((read) => providers.getModel(read, name));
  }
  listModels(): Promise<StoredDefinition<ModelConfig>[]> {
    return this.read((read) => providers.listModels(read));
  }
  updateModel(actor: string, name: string, model: ModelConfig): Promise<StoredDefinition<ModelConfig>> {
    return this.change(actor, { type: 'model', id: name }, (change) => providers.updateModel(change, name, model));
  }
  deleteModel(actor: string, name: string): Promise<void> {
    return this.change(actor, { type: 'model', id: name }, (change) => providers.deleteModel(change, name));
  }

  createWebhook(actor: string, webhook: WebhookInput): Promise<Webhook> {
    return this.change(actor, { type: 'webhook', id: webhook.url }, (change) => governance.createWebhook(change, webhook));
  }
  getWebhook(id: string): Promise<Webhook | null> {
    return this.read((read) => governance.getWebhook(read, id));
  }
  listWebhooks(): Promise<Webhook[]> {
    return this.read((read) => governance.listWebhooks(read));
  }
  updateWebhook(actor: string, id: string, patch: Partial<WebhookInput>): Promise<Webhook> {
    return this.change(actor, { type: 'webhook', id }, (change) => governance.updateWebhook(change, id, patch));
  }
  deleteWebhook(actor: string, id: string): Promise<void> {
    return this.change(actor, { type: 'webhook', id }, (change) => governance.deleteWebhook(change, id));
  }

  listAudit(filter: AuditFilter): Promise<Page<AuditRecord>> {
    return this.read((read) => listAudit(read, filter));
  }

  insertTransactions(rows: readonly Transaction[]): Promise<void> {
    return this.ledger.insertTransactions(rows);
  }
  insertLedgerBatch(key: string, rows: readonly Transaction[]): Promise<boolean> {
    return this.ledger.insertLedgerBatch(key, rows);
  }
  countTransactions(): Promise<number> {
    return this.ledger.countTransactions();
  }
  rejectsData(error: unknown): boolean {
    return this.ledger.rejectsData(error);
  }

  listTransactions(filter: LedgerFilter): Promise<Page<LedgerEntry>> {
    return this.read((read) => listTransactions(read, filter));
  }
  getTransaction(id: number): Promise<LedgerEntry | null> {
    return this.read((read) => getTransaction(read, id));
  }

  usage(query: UsageQuery): Promise<UsageRow[]> {
    return this.read((read) => analytics.usage(read, query));
  }
  topDrivers(query: TopDriversQuery): Promise<CostDriver[]> {
    return this.read((read) => analytics.topDrivers(read, query));
  }
  usageExtent(): Promise<{ firstHour: number; lastHour: number } | null> {
    return this.read((read) => analytics.usageExtent(read));
  }
  firstHour(filter: UsageFilter): Promise<number | null> {
    return this.read((read) => analytics.firstHour(read, filter));
  }
  admittedUsage(period: UsagePeriod): Promise<AdmittedUsageRow[]> {
    return this.read((read) => admittedUsage(read, period));
  }

  async recordObservations(observations: readonly Observation[], batchKey?: string): Promise<IntakeResult> {
    // Its own transaction without the version bump or an audit record: traffic seen is not an admin change.
    const policy = this.discoveryPolicy();
    return this.driver.transaction((session) =>
      reconciliation.recordObservations({ session, json: this.json }, policy, this.clock(), observations, batchKey),
    );
  }
  getDiscoveredConsumer(id: number): Promise<DiscoveredConsumer | null> {
    return this.read((read) => reconciliation.getDiscoveredConsumer(read, id));
  }
  listDiscoveredConsumers(filter: DiscoveredConsumerFilter = {}): Promise<Page<DiscoveredConsumer>> {
    return this.read((read) => reconciliation.listDiscoveredConsumers(read, filter));
  }
  resolveDiscoveredConsumer(actor: string, id: number, resolution: DiscoveryResolution): Promise<DiscoveredConsumer> {
    const subject: Subject = { type: 'discovered-consumer', id: String(id), reference: 'names a consumer or team that does not exist' };
    return this.change(actor, subject, (change) => reconciliation.resolveDiscoveredConsumer(change, actor, id, resolution));
  }
  listDiscoveredResources(): Promise<DiscoveredResource[]> {
    return this.read((read) => reconciliation.listDiscoveredResources(read));
  }
  async createReconciliationRule(
    actor: string,
    rule: ReconciliationRuleInput,
  ): Promise<{ rule: ReconciliationRule; resolved: DiscoveredConsumer[] }> {
    const policy = this.discoveryPolicy();
    return this.change(actor, { type: 'reconciliation-rule', id: rule.consumer }, (change) =>
      reconciliation.createReconciliationRule(change, policy, rule),
    );
  }
  getReconciliationRule(id: number): Promise<ReconciliationRule | null> {
    return this.read((read) => reconciliation.getReconciliationRule(read, id));
  }
  listReconciliationRules(): Promise<ReconciliationRule[]> {
    return this.read((read) => reconciliation.listReconciliationRules(read));
  }
  createIdentityRule(actor: string, rule: IdentityRuleInput): Promise<IdentityRule> {
    return this.change(actor, { type: 'identity-rule', id: rule.value }, (change) => identityRules.createIdentityRule(change, rule));
  }
  getIdentityRule(id: number): Promise<IdentityRule | null> {
    return this.read((read) => identityRules.getIdentityRule(read, id));
  }
  listIdentityRules(): Promise<IdentityRule[]> {
    return this.read((read) => identityRules.listIdentityRules(read));
  }
  deleteIdentityRule(actor: string, id: number): Promise<void> {
    return this.change(actor, { type: 'identity-rule', id: String(id) }, (change) => identityRules.deleteIdentityRule(change, id));
  }
  deleteReconciliationRule(actor: string, id: number): Promise<void> {
    return this.change(actor, { type: 'reconciliation-rule', id: String(id) }, (change) =>
      reconciliation.deleteReconciliationRule(change, id),
    );
  }

  close(): Promise<void> {
    return this.driver.close();
  }

  private discoveryPolicy(): DiscoveryPolicy {
    if (this.discovery === null) throw new Error('this store was opened without a discovery policy (DirectorStoreOptions.discovery)');
    return this.discovery;
  }

  private read<T>(work: (read: Reader) => Promise<T>): Promise<T> {
    // Inside allOrNothing() a read sees that work's changes so far (and SQLite's one queue is held by its transaction).
    const joined = this.joined.getStore();
    if (joined !== undefined) return work({ session: joined.session, json: this.json });
    return this.driver.read((session) => work({ session, json: this.json }));
  }

  /**
   * The version bump comes first: on PostgreSQL its row lock makes concurrent admin changes wait for each other, so
   * checks such as "this team has no consumers" hold until commit (SQLite's write lock does the same).
   */
  private async change<T>(actor: string, subject: Subject, work: (change: Change) => Promise<T>): Promise<T> {
    if (typeof actor !== 'string' || actor.length === 0) throw new StoreInvalid('every change needs an actor', { field: '(actor)' });
    const joined = this.joined.getStore();
    if (joined !== undefined) {
      // Part of an allOrNothing() transaction, whose version bump stands for all its changes; an error rolls it all back.
      const change = new Change(joined.session, this.clock(), actor, this.json);
      try {
        const outcome = await work(change);
        joined.changed ||= change.changedAnything;
        return outcome;
      } catch (error) {
        throw translateError(this.driver.dialect, subject, error);
      }
    }
    let result: T;
    try {
      await this.driver.transaction(async (session) => {
        await session.run('versionBump', []);
        const change = new Change(session, this.clock(), actor, this.json);
        result = await work(change);
        // An update that found everything as asked is rolled back: no version bump for gateways to reload on.
        if (change.leftEverythingAsItWas) throw new BatchRollback();
      });
      return result!;
    } catch (error) {
      if (error instanceof BatchRollback) return result!;
      throw translateError(this.driver.dialect, subject, error);
    }
  }
}
