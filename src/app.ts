// Assembles a running Sluice from a validated config: ledger, counters, governance, the snapshot, gateway and admin listeners.
import type { Server } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { createAdminServer } from './admin/server.js';
import { BudgetAlerts } from './alerts/budget-alerts.js';
import { WebhookNotifier } from './alerts/webhooks.js';
import { serveHandedConnections } from './cluster/handed-server.js';
import type { WorkerLink } from './cluster/worker-link.js';
import { ConfigError } from './config/load.js';
import type { SluiceConfig } from './config/schema.js';
import { MasterKey } from './store/master-key.js';
import { loadCertificateParser } from './identity/certificate-extensions.js';
import { counterSettings, openCounterStore } from './counters/open.js';
import type { GatewayContext } from './gateway/context.js';
import { GatewayServer } from './gateway/server.js';
import { ChatCache } from './gateway/cache/chat-cache.js';
import { mcpState, stopMcp } from './gateway/mcp/state.js';
import { openFollowedRecords, StoredResponses } from './gateway/stored-responses/stored-responses.js';
import { BackgroundResponses } from './gateway/stored-responses/background.js';
import { finishCall, finishFollowed } from './gateway/handlers/finish.js';
import { buildSnapshot, configuredNames, type Snapshot } from './gateway/snapshot.js';
import { loadGuardrailDetectors } from './gateway/guardrails/guardrails.js';
import { defaultSpoolDir } from './ledger/spool.js';
import { LedgerWriter } from './ledger/writer.js';
import { PriceCatalog } from './metering/price-catalog.js';
import { countTextTokens } from './metering/tokenizer.js';
import { GatewayMetrics } from './observability/metrics.js';
import { logStartup } from './observability/startup-log.js';
import { readinessProbe } from './observability/readiness.js';
import { systemClock, type Clock } from './policy/clock.js';
import { Governance } from './policy/governance.js';
import { unpricedUnderCostBudgets } from './policy/budgets.js';
import { CounterSeeder, seedAdded, seedAtStart } from './policy/counter-seeding.js';
import { ProviderTargets } from './config/provider-targets.js';
import { Compliance } from './compliance/compliance.js';
import { createDirectorApi } from './director/api.js';
import type { DeclaredOrigin } from './director/declared.js';
import { openLocalDirectory, openRemoteDirectory } from './director/directory.js';
import { openWebhookSecret } from './director/webhook-secrets.js';
import { DirectorSync, stateOf, type DirectoryState } from './director/sync.js';
import { KEYS_ONLY, type GatewayIdentity } from './gateway/pipeline/authenticate.js';
import { JwtVerifier } from './identity/jwt.js';
import { ForwardedRoots } from './identity/forwarded-roots.js';
import { trustedProxyList } from './identity/peer.js';
import { ListenerTls } from './identity/tls.js';
import { UnusableRuleWarnings } from './identity/unusable-rules.js';
import { UnmappedIdentityReports } from './director/unmapped-identities.js';

export interface RunningSluice {
  gateway: { host: string; port: number };
  admin: { host: string; port: number };
  context: GatewayContext;
  /** Resolves when no call is in flight and every record so far is committed to the ledger. */
  settled(): Promise<void>;
  /**
   * Applies a new config without dropping calls in flight: routing, consumers, budgets, templates, rate limits and
   * resource statuses. Listeners, storage, ledger, counters and alerts need a restart; a change to them is logged.
   */
  reload(config: SluiceConfig): Promise<void>;
  /** Drains calls in flight, flushes the ledger, closes connections. */
  stop(drainTimeoutMs?: number): Promise<void>;
}

export interface StartOptions {
  /** The clock budgets count in; tests move one by hand. */
  clock?: Clock;
  /**
   * Compliance sealing and assessments on their schedule (default true). Its timers run in real time, so a test that
   * moves `clock` by hand turns them off and assesses on demand: a scheduled run would land at whatever time the hand
   * clock shows when it fires (an assessment overdue at start runs 5 s after it).
   */
  complianceSchedule?: boolean;
  /** How often the director is asked for changes made elsewhere (default 2 s). */
  directorPollMs?: number;
  /** How often keys' last use is written to the store, or reported to the director (default 10 s). */
  keyUseFlushMs?: number;
  /** Run as a lone gateway: consumers, keys, budgets and resource statuses come from this director. */
  director?: { url: string; token: string };
  /**
   * Seals and opens provider credentials (default: SLUICE_MASTER_KEY; the keys SLUICE_MASTER_KEY_PREVIOUS lists open what
   * they sealed, in a rotation). A director needs one; a lone gateway needs the director's when the director holds
   * providers with credentials.
   */
  masterKey?: MasterKey;
  /** What declared `config`; names the keys it brings (default: sluice.yaml). */
  declaredOrigin?: DeclaredOrigin;
  /** A worker of `sluice start --workers N`: what it shares with the other workers through the primary (src/cluster/). */
  worker?: WorkerLink;
}

/** Config sections a reload cannot change in a running process. */
const FIXED_SECTIONS = [
  'gateway',
  'admin',
  'storage',
  'ledger',
  'counters',
  'alerts',
  'log',
  'providerTargets',
  'identity',
  'responses',
] as const;

/**
 * What of a fixed section a reload cannot change: all of it, but ledger.retention, which the director reads at each
 * pruning (src/compliance/compliance.ts), so a reload changes it from the next one.
 */
function fixedPart(config: SluiceConfig, section: (typeof FIXED_SECTIONS)[number]): unknown {
  if (section !== 'ledger') return config[section];
  const { retention: _retention, ...fixed } = config.ledger;
  return fixed;
}

export async function startSluice(config: SluiceConfig, logger: Logger, options: StartOptions = {}): Promise<RunningSluice> {
  const envKey = process.env.SLUICE_MASTER_KEY;
  const currentKey = options.masterKey ?? (envKey === undefined || envKey === '' ? null : MasterKey.parse(envKey));
  // A rotation: the keys the current one replaces still open what they sealed (a director seals it again at start).
  const masterKey = currentKey?.replacing(MasterKey.parseList(process.env.SLUICE_MASTER_KEY_PREVIOUS)) ?? null;
  if (masterKey === null && options.director === undefined) {
    throw new ConfigError('the director seals provider credentials with a master key: set SLUICE_MASTER_KEY (32 random bytes, base64)');
  }
  const forwardedRoots = await ForwardedRoots.load(config.identity.forwardedCaFile); // first: a bad file fails, nothing to close
  // This process's alone (the spool locks it): the ledger's batches, and a lone gateway's background responses' records.
  const spoolDir = workerSpoolDir(config.ledger.spoolDir ?? defaultSpoolDir(config.storage), options.worker);
  const ledger = await LedgerWriter.open({
    ...config.ledger,
    storage: config.storage,
    spoolDir,
    logger,
    ...(options.worker === undefined ? {} : { sink: options.worker.ledgerSink }),
  });
  const catalog = new PriceCatalog();
  const metrics = new GatewayMetrics(() => ledger.status());
  // A worker answers the primary's requests for its metrics, which the primary sums for /metrics.
  options.worker?.provideMetrics(() => metrics.registry.getMetricsAsJSON());
  // The director's store (sluice.yaml applied to it) in this process, or a director elsewhere.
  const directory =
    options.director === undefined
      ? await openLocalDirectory(config, masterKey!, logger, options.declaredOrigin)
      : await openRemoteDirectory(options.director.url, options.director.token, config, logger);
  const initial = stateOf(config, directory.initial, masterKey);
  const counters = counterSettings(config.counters);
  const store = await openCounterStore(counters, options.worker?.counters);
  // Where upstream connections (providers, MCP servers, webhooks) may go; listeners are added once bound (port 0 chosen then).
  const providerTargets = ProviderTargets.fromConfig(config);
  // Alerts go to sluice.yaml's webhooks and, when this process is the director, to those added through its API.
  const notifier = new WebhookNotifier(config.alerts.webhooks, {
    logger,
    attempts: config.alerts.attempts,
    backoffMs: config.alerts.backoffMs,
    targets: providerTargets,
  });
  const refreshWebhooks = async () => {
    if (directory.store === null) return;
    const added = await directory.store.listWebhooks();
    notifier.setWebhooks([
      ...current.alerts.webhooks,
      ...added.map((webhook) => ({ url: webhook.url, secret: openWebhookSecret(masterKey!, webhook.secret) })),
    ]);
  };
  const governance = new Governance({
    store,
    failOpen: counters.failMode === 'open',
    clock: options.clock ?? systemClock,
    alerts: new BudgetAlerts({ store, notifier, logger, registry: metrics.registry }),
    logger,
    registry: metrics.registry,
  });
  let current = config;
  await refreshWebhooks();
  let stopping = false;
  // Seeds the budget counters from the ledger (below, and when they are lost); a lone gateway has no ledger to read (its
  // Redis counters are seeded by the director's process).
  const seeder =
    directory.store === null
      ? null
      : new CounterSeeder({
          store,
          ledger: directory.store,
          clock: governance.clock,
          logger,
          budgets: () => context.snapshot.budgets.budgets,
          registry: metrics.registry,
        });
  const readiness = readinessProbe({ draining: () => stopping, ledger: () => ledger.status(), counters: governance, seeder });
  const gatewayTls = config.gateway.tls === undefined ? null : await ListenerTls.load(config.gateway.tls);
  const adminTls = config.admin.tls === undefined ? undefined : await ListenerTls.load(config.admin.tls);
  const unmappedReports =
    config.identity.unmappedCertificate === 'discover' && directory.store !== null
      ? new UnmappedIdentityReports((observations) => directory.store!.recordObservations(observations), logger)
      : null;
  await loadGuardrailDetectors(initial.config.guardrails);
  const context: GatewayContext = {
    snapshot: buildSnapshot(initial.config, initial.consumers, catalog, governance, undefined, providerTargets, initial.identityRules),
    identity: gatewayIdentity(config, gatewayTls, forwardedRoots, unmappedReports, logger),
    mcp: mcpState(masterKey, { ledger, metrics, logger, governance }),
    maxBodyBytes: config.gateway.maxBodyBytes,
    ledger,
    metrics,
    logger,
    governance,
    readiness,
    cache: new ChatCache(config.cache, metrics.registry, logger),
    storedResponses: new StoredResponses(
      config.responses,
      counters,
      metrics.registry,
      logger,
      options.worker?.responseRecords,
      join(spoolDir, 'stored-responses', 'records.jsonl'),
    ),
    // Called once the context exists: a followed call's provider is looked up in the snapshot of the time.
    background: new BackgroundResponses({
      mode: config.responses.background,
      maxFollowed: config.responses.maxBackground,
      records:
        config.responses.background === 'meter'
          ? openFollowedRecords(config.responses, counters, options.worker?.followedRecords, join(spoolDir, 'background-responses'), logger)
          : null,
      owner: options.worker?.owner ?? `${hostname()}/${process.pid}/${randomUUID().slice(0, 8)}`,
      claimMs: config.responses.backgroundClaimSeconds * 1000,
      // Redis counters, or the primary's: a reservation there outlives this process, for the adopter to settle.
      sharedCounters: store.kind === 'redis' || options.worker !== undefined,
      upstreamOf: (name) => context.snapshot.routing.upstream(name),
      finish: (call) => finishCall(context, call),
      finishRecord: (record, usage, errorClass) => finishFollowed(context, record, usage, errorClass),
      rememberOwner: (record) => context.storedResponses.rememberFollowed(record),
      registry: metrics.registry,
      logger,
    }),
  };
  metrics.configure(configuredNames(context.snapshot));
  logStartup(logger, {
    storage: config.storage,
    counters: config.counters,
    providers: initial.config.providers,
    built: context.snapshot.routing.providers,
  });
  // Admission counts prompts with the tokenizer; load its tables now rather than on the first budgeted call.
  if (context.snapshot.budgets.budgets.length > 0) await countTextTokens([]);
  // Budget counters start from the ledger's figures, before the first call is taken.
  if (seeder !== null) {
    await seedAtStart(seeder, store.kind, logger);
    store.reseedWith(() => seeder.reseed());
  } else if (store.kind === 'memory') {
    logger.warn(
      'a lone gateway has no ledger to seed in-memory budget counters from: they start from nothing at every start; share Redis counters with the director instead',
    );
  }
  // The director assesses its controls; the ledger accounting is this process's gateway's, since this start.
  const compliance =
    directory.store === null
      ? null
      : new Compliance({
          store: directory.store,
          storage: config.storage,
          config: () => current,
          ledger: {
            since: Date.now(),
            settle: () => ledger.drain(),
            counted: () => metrics.callsObserved,
            committed: () => ledger.written,
            buffered: () => {
              const status = ledger.status();
              return status.bufferedRecords + status.spooledRecords;
            },
          },
          takeExpiredKeyPresentations: () => context.snapshot.consumers.takeExpiredPresentations(),
          registry: metrics.registry,
          logger,
          clock: () => (options.clock ?? systemClock).now(),
          schedule: options.complianceSchedule ?? true,
        });
  warnOfUnpricedUnderBudgets(context.snapshot, logger);
  const ruleWarnings = new UnusableRuleWarnings(logger);
  ruleWarnings.warn(context.snapshot.identityRules);
  const gateway = new GatewayServer(context, config.gateway, gatewayTls);
  const install = async (state: DirectoryState) => {
    const previous = context.snapshot;
    await loadGuardrailDetectors(state.config.guardrails);
    const snapshot = buildSnapshot(state.config, state.consumers, catalog, governance, previous, providerTargets, state.identityRules);
    if (snapshot.budgets.budgets.length > 0) await countTextTokens([]);
    if (seeder !== null) await seedAdded(seeder, ledger, previous.budgets.budgets, snapshot.budgets.budgets, logger);
    // The expired keys the old snapshot counted, taken in the same turn as the swap so none is lost.
    compliance?.collectExpiredKeys();
    // One assignment: a call already past authentication keeps the snapshot it read, new calls get this one.
    context.snapshot = snapshot;
    warnOfUnpricedUnderBudgets(snapshot, logger);
    ruleWarnings.warn(snapshot.identityRules);
    metrics.configure(configuredNames(snapshot));
    void previous.routing.retire(snapshot.routing);
    void previous.mcp.closeUnused(snapshot.mcp);
    await refreshWebhooks();
  };
  const sync = new DirectorSync(
    directory.source,
    () => current,
    install,
    logger,
    masterKey,
    initial.version,
    options.directorPollMs ?? 2_000,
  );
  // Last-used times of keys, written in batches away from any call.
  const touch = setInterval(() => {
    directory
      .recordKeyUse(context.snapshot.consumers.takeUsage())
      .catch((error: unknown) => logger.warn({ err: (error as Error).message }, 'cannot record key use'));
  }, options.keyUseFlushMs ?? 10_000);
  touch.unref();
  const api =
    directory.store === null || compliance === null
      ? undefined
      : createDirectorApi({
          store: directory.store,
          bootstrapToken: config.admin.token ?? null,
          logger,
          masterKey: masterKey!,
          catalog: () => ({
            models: new Set(context.snapshot.routing.routes.keys()),
            providers: new Set(context.snapshot.routing.providers.keys()),
          }),
          onChange: () => sync.refresh(),
          maxBodyBytes: config.admin.maxBodyBytes,
          providerTargets,
          compliance,
          adminOidc: config.identity.adminOidc ?? null,
          jwtIssuers: config.identity.jwtIssuers.map((issuer) => issuer.issuer),
          keyExpiry: () => current.keys,
        });
  const admin = createAdminServer({
    api,
    ...(adminTls === undefined ? {} : { tls: adminTls }),
    registry: metrics.registry,
    ...(options.worker === undefined ? {} : { metrics: options.worker.metrics }),
    readiness,
    health: () => {
      const { routing, budgets } = context.snapshot;
      return {
        ok: !stopping,
        detail: {
          models: routing.routes.size,
          providers: routing.providers.size,
          budgets: budgets.budgets.length,
          counters: store.kind,
          ledgerWritten: ledger.written,
          ledgerBehind: ledger.status().behind,
        },
      };
    },
  });
  let gatewayAddress: { host: string; port: number };
  let adminAddress: { host: string; port: number };
  if (options.worker === undefined) {
    gatewayAddress = await gateway.listen(config.gateway.port, config.gateway.host);
    adminAddress = await listen(admin, config.admin.port, config.admin.host);
  } else {
    // The primary listens on both and hands each connection to a worker (src/cluster/balancer.ts).
    gatewayAddress = { host: config.gateway.host, port: options.worker.gatewayPort };
    adminAddress = { host: config.admin.host, port: options.worker.adminPort };
    options.worker.takeConnections('gateway', serveHandedConnections(gateway.server));
    options.worker.takeConnections('admin', serveHandedConnections(admin));
  }
  if (gatewayTls !== null) gatewayTls.watch(gateway.server as HttpsServer, logger);
  if (adminTls !== undefined) adminTls.watch(admin as HttpsServer, logger);
  providerTargets.setListeners([
    { ...gatewayAddress, what: "Sluice's gateway listener" },
    { ...adminAddress, what: "Sluice's admin listener" },
  ]);
  // One schedule of assessments per gateway, not one per worker.
  if (options.worker === undefined || options.worker.slot === 0) await compliance?.start();
  // Serving: the background responses of a process that died are adopted now (providers reachable, ledger open).
  context.background.start();
  return {
    gateway: gatewayAddress,
    admin: adminAddress,
    context,
    async settled() {
      await gateway.settled();
      await ledger.drain();
    },
    async reload(next: SluiceConfig) {
      const fixed = FIXED_SECTIONS.filter(
        (section) => JSON.stringify(fixedPart(next, section)) !== JSON.stringify(fixedPart(current, section)),
      );
      if (fixed.length > 0) logger.warn({ sections: fixed }, 'config reload: these sections only take effect after a restart');
      await directory.reloaded(next);
      await forwardedRoots?.reload(logger); // its file read again (its path, in identity, changes at a restart)
      current = next;
      // The compliance schedule's waiting sealing and assessment, set from the settings before, follow the new ones.
      compliance?.reloaded();
      await sync.refresh();
      const snapshot = context.snapshot;
      logger.info(
        { models: snapshot.routing.routes.size, consumers: snapshot.consumers.consumers.length, budgets: snapshot.budgets.budgets.length },
        'config reloaded',
      );
    },
    async stop(drainTimeoutMs = 10_000) {
      if (stopping) return;
      stopping = true;
      options.worker?.draining();
      await gateway.drain(drainTimeoutMs);
      // Background responses still running are recorded now, while the ledger and counters are open.
      await context.background.stop();
      await stopMcp(context.mcp);
      gatewayTls?.close();
      adminTls?.close();
      await unmappedReports?.close();
      sync.close();
      clearInterval(touch);
      await compliance?.stop();
      seeder?.stop();
      await directory.recordKeyUse(context.snapshot.consumers.takeUsage()).catch(() => undefined);
      await ledger.close();
      await governance.close();
      await new Promise<void>((resolve) => {
        admin.close(() => resolve());
        admin.closeAllConnections();
      });
      await context.snapshot.routing.close();
      await context.snapshot.mcp.close();
      await context.cache.store.close();
      await context.storedResponses.close();
      await directory.close();
    },
  };
}

/** How the gateway identifies callers besides Sluice keys: nothing to check (the key path as it was) unless configured. */
function gatewayIdentity(
  config: SluiceConfig,
  tls: ListenerTls | null,
  forwardedRoots: ForwardedRoots | null,
  reports: UnmappedIdentityReports | null,
  logger: Logger,
): GatewayIdentity {
  const clientCertificates = tls?.verifiesClients ?? false;
  // Client certificates' extensions (its own, or forwarded in XFCC's Cert=) are read with a parser that takes a moment to
  // load: loaded now, not at the first caller.
  if (clientCertificates || config.identity.trustedProxies.length > 0) loadCertificateParser();
  const trustedProxies = trustedProxyList(config.identity.trustedProxies);
  const jwt = config.identity.jwtIssuers.length === 0 ? null : new JwtVerifier(config.identity.jwtIssuers);
  if (!clientCertificates && trustedProxies === null && jwt === null) return KEYS_ONLY;
  return {
    checksPeer: clientCertificates || trustedProxies !== null,
    peer: {
      clientCertificates,
      certificateRequired: clientCertificates && tls!.config.clientCertificate === 'require',
      trustedProxies,
      forwardedRoots,
      logger,
    },
    jwt,
    onUnmapped: reports === null ? null : reports.report,
  };
}

/** Each worker keeps batches the primary could not take in a spool folder of its own, replayed by its replacement. */
function workerSpoolDir(spoolDir: string, worker: WorkerLink | undefined): string {
  return worker === undefined ? spoolDir : join(spoolDir, `worker-${worker.slot}`);
}

function listen(server: Server | HttpsServer, port: number, host: string): Promise<{ host: string; port: number }> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const address = server.address();
      resolve({ port: typeof address === 'object' && address !== null ? address.port : port, host });
    });
  });
}

/**
 * A cost budget over a target with no price counts that target's calls at $0, so it never holds them back: not an
 * error (the ledger keeps their tokens, marked unpriced), but an operator who set a spending limit must hear of it.
 */
function warnOfUnpricedUnderBudgets(snapshot: Snapshot, logger: Logger): void {
  for (const { budget, model, target, enforced } of unpricedUnderCostBudgets(snapshot.budgets.budgets, snapshot.routing.routes)) {
    const outcome = !enforced
      ? 'its calls count as $0 against it'
      : snapshot.admission.refuseUnpriced
        ? 'the calls it covers are refused (admission.unpriced: refuse)'
        : 'its calls count as $0 against it (admission.unpriced: refuse would refuse them)';
    logger.warn(
      { budget, model, target },
      `budget "${budget}" limits cost, but ${target} (model "${model}") has no price in the catalog or in the model's pricing: ${outcome}; give the model pricing`,
    );
  }
}
