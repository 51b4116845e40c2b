// The configuration used when there is no sluice.yaml: every provider whose standard environment variables are set
// (Bedrock is left to sluice.yaml: AWS credentials in the environment do not say the account uses Bedrock).
import { randomBytes } from 'node:crypto';
import { PRICE_CATALOG_ENTRIES } from '../metering/price-catalog-data.js';
import type { SluiceConfig } from './schema.js';
import { validateConfig } from './load.js';

export interface DefaultConfig {
  config: SluiceConfig;
  /** Providers found, for the start-up message. */
  providers: string[];
  /** A key generated for the default consumer when SLUICE_API_KEY is not set. */
  generatedKey: string | null;
}

const CATALOG_PROVIDER: Record<string, string> = { openai: 'openai', anthropic: 'anthropic', gemini: 'gemini' };

export function defaultConfig(env: NodeJS.ProcessEnv = process.env): DefaultConfig {
  const providers: Record<string, Record<string, unknown>> = {};
  if (env.OPENAI_API_KEY) {
    providers.openai = { type: 'openai', baseUrl: env.OPENAI_BASE_URL || 'https://api.openai.com/v1', apiKey: env.OPENAI_API_KEY };
  }
  if (env.ANTHROPIC_API_KEY) {
    providers.anthropic = { type: 'anthropic', baseUrl: env.ANTHROPIC_BASE_URL || 'https://api.anthropic.com', apiKey: env.ANTHROPIC_API_KEY };
  }
  const googleKey = env.GEMINI_API_KEY || env.GOOGLE_API_KEY;
  if (googleKey) providers.gemini = { type: 'gemini', apiKey: googleKey };
  // Azure deployments have names of the customer's choosing, so they cannot be guessed: Azure needs a sluice.yaml.
  const models: Array<Record<string, unknown>> = [];
  for (const [name, provider] of Object.entries(providers)) {
    const catalogProvider = CATALOG_PROVIDER[String(provider.type)];
    for (const entry of PRICE_CATALOG_ENTRIES) {
      if (entry.provider !== catalogProvider) continue;
      if (models.some((model) => model.name === entry.model)) continue;
      models.push({ name: entry.model, targets: [{ provider: name, model: entry.model }] });
    }
  }
  const generatedKey = env.SLUICE_API_KEY ? null : `sk-sluice-${randomBytes(24).toString('base64url')}`;
  const raw = {
    storage: env.SLUICE_STORAGE || 'sqlite:./data/sluice.db',
    gateway: { host: env.SLUICE_HOST || '127.0.0.1', port: Number(env.SLUICE_PORT || 4000) },
    admin: { host: env.SLUICE_ADMIN_HOST || '127.0.0.1', port: Number(env.SLUICE_ADMIN_PORT || 4001) },
    providers,
    models,
    consumers: [{ name: 'default', team: 'default', keys: [env.SLUICE_API_KEY || generatedKey] }],
  };
  return { config: validateConfig(raw, '(embedded defaults)'), providers: Object.keys(providers), generatedKey };
}
