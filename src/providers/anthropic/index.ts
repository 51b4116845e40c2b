// The `anthropic` provider: Anthropic's Messages API.
import type { ProviderSettings } from '../settings.js';
import { SluiceError } from '../../errors.js';
import type { Feature, Provider } from '../provider.js';
import { anthropicHeaders, withClientBetas } from './auth.js';
import { countTokensBody } from './count-tokens.js';
import { anthropicPassedFailure } from './errors.js';
import { openAnthropicChat } from './exchange.js';

const FEATURES: ReadonlySet<Feature> = new Set<Feature>([
  'chat',
  'stream',
  'tools',
  'images',
  'text_documents',
  'json_mode',
  'json_schema',
]);

export function createAnthropicProvider(name: string, config: ProviderSettings): Provider {
  // Config validation requires baseUrl for this type.
  const base = new URL(config.baseUrl!);
  const path = `${base.pathname.replace(/\/+$/, '')}/v1/messages`;
  const headers = anthropicHeaders(config);
  return {
    name,
    type: 'anthropic',
    origin: base.origin,
    features: FEATURES,
    openChat: (request, model, client) => openAnthropicChat(name, path, headers, request, model, client),
    openEmbeddings: () => {
      throw new SluiceError('unsupported_by_provider', `Provider ${name} (anthropic) does not offer embeddings.`, { param: 'model' });
    },
    openCountTokens: (body, model, betas) => ({
      provider: name,
      request: {
        path: `${path}/count_tokens`,
        headers: withClientBetas(headers, betas),
        body: JSON.stringify(countTokensBody(body, model)),
      },
      failure: anthropicPassedFailure,
    }),
  };
}
