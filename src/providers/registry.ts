// Provider type -> adapter factory: adding a provider is one folder and one line here. Config takes the types it accepts
// from this table (config/schema.ts), so a type named in sluice.yaml, an apply file or the admin API is one of these.
import { createAnthropicProvider } from './anthropic/index.js';
import { createAzureOpenAIProvider } from './azure-openai/index.js';
import { createBedrockProvider } from './bedrock/index.js';
import { createGeminiProvider } from './gemini/index.js';
import { createVertexProvider } from './vertex/index.js';
import { createOpenAIProvider } from './openai/index.js';
import type { Provider, ProviderFactory } from './provider.js';
import type { ProviderSettings } from './settings.js';
import { ProviderSecrets } from './shared/secret-redactor.js';

const FACTORIES = {
  openai: createOpenAIProvider,
  'azure-openai': createAzureOpenAIProvider,
  anthropic: createAnthropicProvider,
  bedrock: createBedrockProvider,
  gemini: createGeminiProvider,
  vertex: createVertexProvider,
} as const satisfies Record<string, ProviderFactory>;

export type ProviderType = keyof typeof FACTORIES;

/** Every provider type, in the registry's order (the order a validation message lists them in). */
export const PROVIDER_TYPES = Object.keys(FACTORIES) as [ProviderType, ...ProviderType[]];

/** `secrets`: where the provider's credentials are kept for redaction, those it obtains at runtime included. */
export function createProvider(name: string, config: ProviderSettings, secrets: ProviderSecrets = ProviderSecrets.of(config)): Provider {
  const create: ProviderFactory | undefined = FACTORIES[config.type as ProviderType];
  // Config validation admits only the registry's types; a settings object built some other way gets a plain refusal.
  if (create === undefined) throw new Error(`unknown provider type "${config.type}"`);
  return create(name, config, secrets);
}
