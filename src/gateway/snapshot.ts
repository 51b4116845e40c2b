// Builds the gateway's snapshot from one validated config: routing table, consumers, budgets and admission settings.
import type { SluiceConfig } from '../config/schema.js';
import type { ConfiguredNames } from '../observability/metrics.js';
import type { PriceCatalog } from '../metering/price-catalog.js';
import { BudgetBook, compileBudgets } from '../policy/budgets.js';
import { IdentityRules, type IdentityRuleDefinition } from '../identity/rules.js';
import { ConsumerDirectory, type DirectoryEntry } from '../policy/consumers.js';
import type { Governance } from '../policy/governance.js';
import type { ProviderTargets } from '../config/provider-targets.js';
import type { AdmissionPolicy } from './pipeline/admit.js';
import { RoutingTable } from './routing/model-routes.js';
import { McpDirectory } from './mcp/directory.js';
import { CachePolicy } from './cache/policy.js';
import { Guardrails } from './guardrails/guardrails.js';

export interface Snapshot {
  routing: RoutingTable;
  consumers: ConsumerDirectory;
  /** Certificates, mesh identities and JWTs -> consumers. */
  identityRules: IdentityRules;
  budgets: BudgetBook;
  admission: AdmissionPolicy;
  /** The MCP servers fronted on /mcp and who may call which tools. */
  mcp: McpDirectory;
  /** Which chat calls the response cache serves, and for how long. */
  cachePolicy: CachePolicy;
  /** Detectors on prompts and answers. */
  guardrails: Guardrails;
}

/**
 * `config`: the file's, with consumers, budgets, templates, rate limits and resources as the director store holds them.
 * `targets`: where upstream connections may go.
 */
export function buildSnapshot(
  config: SluiceConfig,
  directory: readonly DirectoryEntry[],
  catalog: PriceCatalog,
  governance: Governance,
  previous?: Snapshot,
  targets?: ProviderTargets,
  identityRules: readonly IdentityRuleDefinition[] = [],
): Snapshot {
  const routing = new RoutingTable(config, (type, model) => catalog.lookup(type, model), previous?.routing, targets);
  const consumers = new ConsumerDirectory(directory);
  const budgets = new BudgetBook(compileBudgets(config.budgets, config.budgetTemplates, config.rateLimits, consumers.consumers));
  return {
    routing,
    consumers,
    identityRules: new IdentityRules(
      identityRules,
      consumers.consumers,
      config.identity.jwtIssuers.map((issuer) => issuer.issuer),
    ),
    budgets,
    admission: {
      governance,
      budgets,
      routes: routing.routes,
      defaultMaxTokens: config.admission.defaultMaxTokens,
      defaultMaxSearches: config.admission.defaultMaxSearches,
      refuseUnpriced: config.admission.unpriced === 'refuse',
    },
    mcp: new McpDirectory(config, targets, previous?.mcp),
    cachePolicy: new CachePolicy(config.cache),
    guardrails: new Guardrails(config.guardrails),
  };
}

/** The names metric labels may carry while this snapshot serves. */
export function configuredNames(snapshot: Snapshot): ConfiguredNames {
  return {
    models: snapshot.routing.routes.keys(),
    consumers: snapshot.consumers.consumers.map((consumer) => consumer.name),
    providers: snapshot.routing.providers.keys(),
    keyEnds: snapshot.consumers.keyEnds(),
  };
}
