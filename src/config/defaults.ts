// The configuration used when there is no sluice.yaml: every provider whose standard environment variables are set
// (Bedrock is left to sluice.yaml: AWS credentials in the environment do not say the account uses Bedrock), and one
// consumer, "default", whose key is SLUICE_API_KEY, else the one kept in the data folder since the first start.
import { randomBytes } from 'node:crypto';
import { PRICE_CATALOG_ENTRIES } from '../metering/price-catalog-data.js';
import { dataFile, readDataFile } from './data-folder.js';
import type { SluiceConfig } from './schema.js';
import { ConfigError, validateConfig } from './load.js';

/** Where the default consumer's key came from; a `generated` one is written to `file` once the listeners are up. */
export type DefaultKeyOrigin = 'SLUICE_API_KEY' | 'file' | 'generated';

export interface DefaultConfig {
  config: SluiceConfig;
  /** Providers found, for the start-up message. */
  providers: string[];
  consumerKey: { value: string; origin: DefaultKeyOrigin; file: string };
}

interface EnvironmentProvider {
  name: string;
  type: 'openai' | 'anthropic' | 'gemini';
  /** The first one set is the API key. */
  keys: readonly string[];
  /** Points the provider at another server speaking its API (a proxy, an OpenAI-compatible server). */
  baseUrl?: { variable: string; standard: string };
}

// Azure deployments have names of the customer's choosing, so they cannot be guessed: Azure needs a sluice.yaml, as do
// Bedrock (see above) and Vertex AI (a project and a service account, not one variable).
const ENVIRONMENT_PROVIDERS: readonly EnvironmentProvider[] = [
  {
    name: 'openai',
    type: 'openai',
    keys: ['OPENAI_API_KEY'],
    baseUrl: { variable: 'OPENAI_BASE_URL', standard: 'https://api.openai.com/v1' },
  },
  {
    name: 'anthropic',
    type: 'anthropic',
    keys: ['ANTHROPIC_API_KEY'],
    baseUrl: { variable: 'ANTHROPIC_BASE_URL', standard: 'https://api.anthropic.com' },
  },
  { name: 'gemini', type: 'gemini', keys: ['GEMINI_API_KEY', 'GOOGLE_API_KEY'] },
];

/** What to do when no provider was found: every variable read here, and nothing this file does not read. */
export const NO_PROVIDER_HINT =
  `no provider: set ${ENVIRONMENT_PROVIDERS.map((p) => p.keys.join(' or ')).join(', ')}` +
  ` (${ENVIRONMENT_PROVIDERS.flatMap((p) => (p.baseUrl === undefined ? [] : [p.baseUrl.variable])).join(' and ')} point them at another server)` +
  '; Azure OpenAI, Bedrock and Vertex AI need a sluice.yaml';

const CATALOG_PROVIDER: Record<string, string> = { openai: 'openai', anthropic: 'anthropic', gemini: 'gemini' };

export function defaultConfig(env: NodeJS.ProcessEnv = process.env): DefaultConfig {
  const providers: Record<string, Record<string, unknown>> = {};
  for (const candidate of ENVIRONMENT_PROVIDERS) {
    const apiKey = candidate.keys.map((variable) => env[variable]).find((value) => value !== undefined && value !== '');
    if (apiKey === undefined) continue;
    providers[candidate.name] = {
      type: candidate.type,
      apiKey,
      ...(candidate.baseUrl === undefined ? {} : { baseUrl: env[candidate.baseUrl.variable] || candidate.baseUrl.standard }),
    };
  }
  const models: Array<Record<string, unknown>> = [];
  for (const [name, provider] of Object.entries(providers)) {
    const catalogProvider = CATALOG_PROVIDER[String(provider.type)];
    for (const entry of PRICE_CATALOG_ENTRIES) {
      if (entry.provider !== catalogProvider) continue;
      if (models.some((model) => model.name === entry.model)) continue;
      models.push({ name: entry.model, targets: [{ provider: name, model: entry.model }] });
    }
  }
  const storage = env.SLUICE_STORAGE || 'sqlite:./data/sluice.db';
  const consumerKey = defaultConsumerKey(env, dataFile(storage, 'default-consumer.key'));
  const raw = { storage, providers, models, consumers: [{ name: 'default', team: 'default', keys: [consumerKey.value] }] };
  return { config: validateConfig(raw, '(embedded defaults)'), providers: Object.keys(providers), consumerKey };
}

/** SLUICE_API_KEY, else the key file a previous start wrote: a restart must not take a client's key away. */
function defaultConsumerKey(env: NodeJS.ProcessEnv, file: string): DefaultConfig['consumerKey'] {
  const fromEnv = env.SLUICE_API_KEY;
  if (fromEnv !== undefined && fromEnv !== '') {
    if (fromEnv.length < 8) throw new ConfigError('SLUICE_API_KEY: a key of at least 8 characters');
    return { value: fromEnv, origin: 'SLUICE_API_KEY', file };
  }
  const kept = readDataFile(file);
  if (kept !== null) {
    if (kept.length < 8) throw new ConfigError(`${file}: a key of at least 8 characters (delete the file to have a new one made)`);
    return { value: kept, origin: 'file', file };
  }
  return { value: `sk-sluice-${randomBytes(24).toString('base64url')}`, origin: 'generated', file };
}
