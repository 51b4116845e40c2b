// Reads sluice.yaml: YAML, then ${ENV} interpolation in string values, then validation with precise errors.
import { readFile } from 'node:fs/promises';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { describeIssue } from './issue-messages.js';
import { ProviderTargets } from './provider-targets.js';
import { retentionProblem } from './retention.js';
import { configSchema, type ProviderConfig, type SluiceConfig } from './schema.js';

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

export async function loadConfigFile(path: string, env: NodeJS.ProcessEnv = process.env): Promise<SluiceConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`${path}: cannot read the file (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
  return parseConfig(text, path, env);
}

export function parseConfig(text: string, source: string, env: NodeJS.ProcessEnv = process.env): SluiceConfig {
  return validateConfig(parseYamlWithEnv(text, source, env), source);
}

/**
 * YAML text to plain data with ${ENV} resolved, before any validation: shared with `sluice apply`, whose files
 * interpolate exactly as sluice.yaml does. Errors (bad YAML, an unset variable) are ConfigErrors naming `source`.
 */
export function parseYamlWithEnv(text: string, source: string, env: NodeJS.ProcessEnv = process.env): unknown {
  const document = parseDocument(text, { prettyErrors: true });
  if (document.errors.length > 0) {
    const first = document.errors[0]!;
    throw new ConfigError(`${source}: not valid YAML: ${first.message}`);
  }
  const raw: unknown = document.toJS() ?? {};
  return interpolate(raw, [], source, env);
}

export function validateConfig(raw: unknown, source: string): SluiceConfig {
  const result = configSchema.safeParse(raw, { error: describeIssue });
  if (!result.success) throw new ConfigError(formatIssues(result.error.issues, source));
  checkReferences(result.data, source);
  return result.data;
}

const ENV_REFERENCE = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/**
 * Replaces ${NAME} and ${NAME:-default} in every string; an unset variable without a default is an error. So is a NUL
 * character (YAML's "\0") in a string or a key: PostgreSQL cannot store one, and the director API refuses it too.
 */
function interpolate(value: unknown, path: (string | number)[], source: string, env: NodeJS.ProcessEnv): unknown {
  if (typeof value === 'string') {
    if (value.includes('\u0000')) refuseNul(path, source);
    return value.replace(ENV_REFERENCE, (_match, name: string, fallback: string | undefined) => {
      const found = env[name];
      if (found !== undefined && found !== '') return found;
      if (fallback !== undefined) return fallback;
      throw new ConfigError(`${source}: ${formatPath(path)}: environment variable ${name} is not set`);
    });
  }
  if (Array.isArray(value)) return value.map((item, index) => interpolate(item, [...path, index], source, env));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      if (key.includes('\u0000')) refuseNul([...path, key.replaceAll('\u0000', '\\0')], source);
      out[key] = interpolate(item, [...path, key], source, env);
    }
    return out;
  }
  return value;
}

function refuseNul(path: readonly PropertyKey[], source: string): never {
  throw new ConfigError(`${source}: ${formatPath(path)}: contains a NUL character (U+0000), which no field may hold`);
}

function formatPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(top level)';
  let out = '';
  for (const part of path) out += typeof part === 'number' ? `[${part}]` : out === '' ? String(part) : `.${String(part)}`;
  return out;
}

/** Zod issues as `source: path: message` lines (at most ten), the way every config error reads. */
export function formatIssues(issues: z.core.$ZodIssue[], source: string): string {
  const lines = issues.slice(0, 10).map((issue) => `${source}: ${formatPath(issue.path)}: ${issue.message}`);
  if (issues.length > 10) lines.push(`... and ${issues.length - 10} more`);
  return lines.join('\n');
}

const HAS_STANDARD_ENDPOINT = new Set(['bedrock', 'gemini', 'vertex']);

/** What a provider's fields must hold together beyond their schema, as [field, message] pairs (the director API checks the same). */
export function providerProblems(provider: ProviderConfig): Array<[string, string]> {
  const problems: Array<[string, string]> = [];
  if (provider.type === 'azure-openai' && !provider.apiVersion) problems.push(['apiVersion', 'required for azure-openai']);
  if (provider.api !== undefined && provider.type !== 'bedrock') problems.push(['api', 'only for bedrock']);
  // Converse is signed with AWS credentials, always: a key there would go unused while the inventory listed it.
  if (provider.type === 'bedrock' && provider.api !== 'messages' && provider.apiKey !== undefined)
    problems.push([
      'apiKey',
      'a Bedrock API key is sent only with api: messages (bedrock-mantle); Converse is signed with AWS credentials',
    ]);
  if (!HAS_STANDARD_ENDPOINT.has(provider.type) && provider.baseUrl === undefined)
    problems.push(['baseUrl', `required for ${provider.type}`]);
  return problems;
}

/** Cross-references zod cannot see: targets name configured providers, names are unique, keys are not shared. */
function checkReferences(config: SluiceConfig, source: string): void {
  const problems: string[] = [];
  const modelNames = new Set<string>();
  config.models.forEach((model, m) => {
    if (modelNames.has(model.name)) problems.push(`models[${m}].name: "${model.name}" is defined twice`);
    modelNames.add(model.name);
    model.targets.forEach((target, t) => {
      if (!(target.provider in config.providers)) {
        const known = Object.keys(config.providers).join(', ') || 'none';
        problems.push(`models[${m}].targets[${t}].provider: expected one of the providers (${known}), got "${target.provider}"`);
      }
    });
  });
  const consumerNames = new Set<string>();
  const keys = new Set<string>();
  config.consumers.forEach((consumer, c) => {
    if (consumerNames.has(consumer.name)) problems.push(`consumers[${c}].name: "${consumer.name}" is defined twice`);
    consumerNames.add(consumer.name);
    consumer.keys.forEach((key, k) => {
      if (keys.has(key)) problems.push(`consumers[${c}].keys[${k}]: this key is already given to another consumer`);
      keys.add(key);
    });
    consumer.models?.forEach((name, i) => {
      if (!modelNames.has(name)) problems.push(`consumers[${c}].models[${i}]: no model named "${name}"`);
    });
  });
  const targets = ProviderTargets.fromConfig(config);
  for (const [name, provider] of Object.entries(config.providers)) {
    for (const [field, message] of providerProblems(provider)) problems.push(`providers.${name}.${field}: ${message}`);
    const refusal = provider.baseUrl === undefined ? null : targets.baseUrlRefusal(provider.baseUrl);
    if (refusal !== null) problems.push(`providers.${name}.baseUrl: ${refusal}`);
  }
  // Webhooks and MCP servers are outbound targets too: the same policy keeps them off metadata and Sluice's own parts.
  config.alerts.webhooks.forEach((webhook, w) => {
    const refusal = targets.baseUrlRefusal(webhook.url);
    if (refusal !== null) problems.push(`alerts.webhooks[${w}].url: ${refusal}`);
  });
  for (const [name, server] of Object.entries(config.mcp.servers)) {
    const refusal = targets.baseUrlRefusal(server.url);
    if (refusal !== null) problems.push(`mcp.servers.${name}.url: ${refusal}`);
  }
  checkGovernance(config, modelNames, consumerNames, problems);
  checkScopes(config, modelNames, consumerNames, problems);
  const retentionDays = config.ledger.retention?.transactionsDays;
  const retention = retentionDays === undefined ? null : retentionProblem(retentionDays, config);
  if (retention !== null) problems.push(retention);
  if (problems.length > 0) throw new ConfigError(problems.map((p) => `${source}: ${p}`).join('\n'));
}

/** Budgets, templates, rate limits and resource statuses name things that must exist. */
function checkGovernance(config: SluiceConfig, modelNames: Set<string>, consumerNames: Set<string>, problems: string[]): void {
  const providerNames = Object.keys(config.providers);
  const checkResources = (scope: unknown, path: string) => {
    if (typeof scope !== 'object' || scope === null) return;
    if ('model' in scope && !modelNames.has(String(scope.model))) problems.push(`${path}.model: no model named "${String(scope.model)}"`);
    if ('provider' in scope && !(String(scope.provider) in config.providers)) {
      problems.push(
        `${path}.provider: expected one of the providers (${providerNames.join(', ') || 'none'}), got "${String(scope.provider)}"`,
      );
    }
    if ('resource' in scope) {
      const provider = String(scope.resource).split('/')[0]!;
      if (!(provider in config.providers)) problems.push(`${path}.resource: no provider named "${provider}"`);
    }
  };
  const checkConsumers = (scope: unknown, path: string) => {
    if (typeof scope === 'object' && scope !== null && 'consumer' in scope && !consumerNames.has(String(scope.consumer))) {
      problems.push(`${path}.consumer: no consumer named "${String(scope.consumer)}"`);
    }
  };
  const checkDowngrade = (action: unknown, path: string, model: unknown) => {
    if (typeof action !== 'object' || action === null || !('downgrade' in action)) return;
    const target = String(action.downgrade);
    if (!modelNames.has(target)) problems.push(`${path}.onExhausted.downgrade: no model named "${target}"`);
    else if (typeof model === 'object' && model !== null && 'model' in model && model.model === target) {
      problems.push(`${path}.onExhausted.downgrade: "${target}" is the budget's own model`);
    }
  };
  const unique = (names: string[], path: string) => {
    const seen = new Set<string>();
    names.forEach((name, i) => {
      if (seen.has(name)) problems.push(`${path}[${i}].name: "${name}" is defined twice`);
      seen.add(name);
    });
  };
  unique(
    config.budgets.map((b) => b.name),
    'budgets',
  );
  unique(
    config.budgetTemplates.map((t) => t.name),
    'budgetTemplates',
  );
  unique(
    config.rateLimits.map((r) => r.name),
    'rateLimits',
  );
  config.budgets.forEach((budget, i) => {
    checkConsumers(budget.consumers, `budgets[${i}].consumers`);
    checkResources(budget.resources, `budgets[${i}].resources`);
    checkDowngrade(budget.onExhausted, `budgets[${i}]`, budget.resources);
  });
  config.budgetTemplates.forEach((template, i) => {
    checkResources(template.resources, `budgetTemplates[${i}].resources`);
    checkDowngrade(template.onExhausted, `budgetTemplates[${i}]`, template.resources);
  });
  config.rateLimits.forEach((limit, i) => {
    checkConsumers(limit.consumers, `rateLimits[${i}].consumers`);
    checkResources(limit.resources, `rateLimits[${i}].resources`);
  });
  for (const resource of Object.keys(config.resources)) {
    const provider = resource.split('/')[0]!;
    if (!(provider in config.providers)) problems.push(`resources.${resource}: no provider named "${provider}"`);
  }
}

/**
 * Guardrails name the consumers and models they apply to, the cache the models it serves, MCP grants the consumers they
 * grant to: a name that matches nothing would leave the control applied to no call at all, so it is refused as budgets'
 * are (the file's consumers and models, as everywhere in the file).
 */
function checkScopes(config: SluiceConfig, modelNames: Set<string>, consumerNames: Set<string>, problems: string[]): void {
  config.guardrails.forEach((guardrail, g) => {
    guardrail.consumers?.forEach((name, i) => {
      if (!consumerNames.has(name)) problems.push(`guardrails[${g}].consumers[${i}]: no consumer named "${name}"`);
    });
    guardrail.models?.forEach((name, i) => {
      if (!modelNames.has(name)) problems.push(`guardrails[${g}].models[${i}]: no model named "${name}"`);
    });
  });
  for (const name of Object.keys(config.cache.models)) {
    if (!modelNames.has(name)) problems.push(`cache.models.${name}: no model named "${name}"`);
  }
  config.mcp.access.forEach((grant, i) => {
    if (grant.consumer !== undefined && !consumerNames.has(grant.consumer))
      problems.push(`mcp.access[${i}].consumer: no consumer named "${grant.consumer}"`);
  });
}

/** A team sluice.yaml names in a scope (a budget's, a template's selector, a rate limit's, an MCP grant's), by its path. */
export interface TeamReference {
  path: string;
  team: string;
}

/**
 * The teams the file names that none of its consumers belongs to. Not an error: a team may exist only in the director's
 * store (created through the API, its consumers too), so the director checks these against its store and warns of the
 * ones it lacks; `sluice check`, which has no store, warns of them all.
 */
export function teamsBeyondFile(config: SluiceConfig): TeamReference[] {
  const teams = new Set(config.consumers.flatMap((consumer) => (consumer.team === undefined ? [] : [consumer.team])));
  const found: TeamReference[] = [];
  const check = (scope: unknown, path: string) => {
    if (typeof scope === 'object' && scope !== null && 'team' in scope && !teams.has(String(scope.team)))
      found.push({ path: `${path}.team`, team: String(scope.team) });
  };
  config.budgets.forEach((budget, i) => check(budget.consumers, `budgets[${i}].consumers`));
  config.budgetTemplates.forEach((template, i) => check(template.selector, `budgetTemplates[${i}].selector`));
  config.rateLimits.forEach((limit, i) => check(limit.consumers, `rateLimits[${i}].consumers`));
  config.mcp.access.forEach((grant, i) => check(grant, `mcp.access[${i}]`));
  return found;
}
