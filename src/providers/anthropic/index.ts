// The `anthropic` provider: Anthropic's Messages API.
import type { ProviderConfig } from '../../config/schema.js';
import { SluiceError } from '../../errors.js';
import type { Feature, Provider } from '../provider.js';
import { anthropicHeaders } from './auth.js';
import { anthropicFailure } from './errors.js';
import { countTokensBody } from './count-tokens.js';
import { anthropicRequestBody } from './request.js';
import { anthropicChatResponse } from './response.js';
import { AnthropicStreamDecoder } from './stream.js';

const FEATURES: ReadonlySet<Feature> = new Set<Feature>(['chat', 'stream', 'tools', 'images']);

export function createAnthropicProvider(name: string, config: ProviderConfig): Provider {
  // Config validation requires baseUrl for this type.
  const base = new URL(config.baseUrl!);
  const path = `${base.pathname.replace(/\/+$/, '')}/v1/messages`;
  const headers = anthropicHeaders(config);
  const noEmbeddings = (): never => {
    throw new SluiceError('unsupported_by_provider', `Provider ${name} (anthropic) does not offer embeddings.`, { param: 'model' });
  };
  return {
    name,
    type: 'anthropic',
    dialect: 'anthropic',
    origin: base.origin,
    features: FEATURES,
    chatRequest: (request, targetModel, client) => ({ path, headers, body: JSON.stringify(anthropicRequestBody(request, targetModel, client)) }),
    chatResponse: anthropicChatResponse,
    chatStreamDecoder: () => new AnthropicStreamDecoder(),
    embeddingsRequest: noEmbeddings,
    embeddingsResponse: noEmbeddings,
    upstreamFailure: anthropicFailure,
    countTokensRequest: (body, targetModel) => ({ path: `${path}/count_tokens`, headers, body: JSON.stringify(countTokensBody(body, targetModel)) }),
  };
}
