// Provider type -> adapter factory: adding a provider is one folder and one line here.
import type { ProviderConfig } from '../config/schema.js';
import { createAnthropicProvider } from './anthropic/index.js';
import { createAzureOpenAIProvider } from './azure-openai/index.js';
import { createBedrockProvider } from './bedrock/index.js';
import { createGeminiProvider } from './gemini/index.js';
import { createVertexProvider } from './vertex/index.js';
import { createOpenAIProvider } from './openai/index.js';
import type { Provider, ProviderFactory } from './provider.js';
import { ProviderSecrets } from './shared/secret-redactor.js';

const FACTORIES: Record<ProviderConfig['type'], ProviderFactory> = {
  openai: createOpenAIProvider,
  'azure-openai': createAzureOpenAIProvider,
  anthropic: createAnthropicProvider,
  bedrock: createBedrockProvider,
  gemini: createGeminiProvider,
  vertex: createVertexProvider,
};

/** `secrets`: where the provider's credentials are kept for redaction, those it obtains at runtime included. */
export function createProvider(name: string, config: ProviderConfig, secrets: ProviderSecrets = ProviderSecrets.of(config)): Provider {
  return FACTORIES[config.type](name, config, secrets);
}
