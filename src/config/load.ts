// Reads sluice.yaml: YAML, then ${ENV} interpolation in string values, then validation with precise errors.
import { readFile } from 'node:fs/promises';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { configSchema, type SluiceConfig } from './schema.js';

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
  const document = parseDocument(text, { prettyErrors: true });
  if (document.errors.length > 0) {
    const first = document.errors[0]!;
    throw new ConfigError(`${source}: not valid YAML: ${first.message}`);
  }
  const raw: unknown = document.toJS() ?? {};
  const interpolated = interpolate(raw, [], source, env);
  return validateConfig(interpolated, source);
}

export function validateConfig(raw: unknown, source: string): SluiceConfig {
  const result = configSchema.safeParse(raw);
  if (!result.success) throw new ConfigError(formatIssues(result.error.issues, source));
  checkReferences(result.data, source);
  return result.data;
}

const ENV_REFERENCE = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/** Replaces ${NAME} and ${NAME:-default} in every string; an unset variable without a default is an error. */
function interpolate(value: unknown, path: (string | number)[], source: string, env: NodeJS.ProcessEnv): unknown {
  if (typeof value === 'string') {
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
    for (const [key, item] of Object.entries(value)) out[key] = interpolate(item, [...path, key], source, env);
    return out;
  }
  return value;
}

function formatPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(top level)';
  let out = '';
  for (const part of path) out += typeof part === 'number' ? `[${part}]` : out === '' ? String(part) : `.${String(part)}`;
  return out;
}

function formatIssues(issues: z.core.$ZodIssue[], source: string): string {
  const lines = issues.slice(0, 10).map((issue) => `${source}: ${formatPath(issue.path)}: ${issue.message}`);
  if (issues.length > 10) lines.push(`... and ${issues.length - 10} more`);
  return lines.join('\n');
}

const HAS_STANDARD_ENDPOINT = new Set(['bedrock', 'gemini', 'vertex']);

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
  for (const [name, provider] of Object.entries(config.providers)) {
    if (provider.type === 'azure-openai' && !provider.apiVersion) problems.push(`providers.${name}.apiVersion: required for azure-openai`);
    if (!HAS_STANDARD_ENDPOINT.has(provider.type) && provider.baseUrl === undefined) problems.push(`providers.${name}.baseUrl: required for ${provider.type}`);
  }
  if (problems.length > 0) throw new ConfigError(problems.map((p) => `${source}: ${p}`).join('\n'));
}
