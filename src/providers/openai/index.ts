// The `openai` provider: OpenAI itself and any server speaking its API (vLLM, Ollama, LM Studio, ...).
import type { ProviderConfig } from '../../config/schema.js';
import type { Feature, Provider } from '../provider.js';
import { openaiHeaders } from './auth.js';
import { openaiFailure } from './errors.js';
import { openaiChatBody, openaiEmbeddingsBody } from './request.js';
import { openaiChatResponse, openaiEmbeddingsResponse } from './response.js';
import { OpenAIStreamDecoder } from './stream.js';

export const OPENAI_FEATURES: ReadonlySet<Feature> = new Set<Feature>(['chat', 'stream', 'tools', 'images', 'json_mode', 'json_schema', 'embeddings']);

export function createOpenAIProvider(name: string, config: ProviderConfig): Provider {
  // Config validation requires baseUrl for this type.
  const base = new URL(config.baseUrl!);
  const prefix = base.pathname.replace(/\/+$/, '');
  const headers = openaiHeaders(config);
  return {
    name,
    type: 'openai',
    dialect: 'openai',
    origin: base.origin,
    features: OPENAI_FEATURES,
    chatRequest: (request, targetModel, client) => ({
      path: `${prefix}/chat/completions`, headers, body: JSON.stringify(openaiChatBody(request, targetModel, client)),
    }),
    chatResponse: openaiChatResponse,
    chatStreamDecoder: () => new OpenAIStreamDecoder(),
    embeddingsRequest: (request, targetModel, client) => ({
      path: `${prefix}/embeddings`, headers, body: JSON.stringify(openaiEmbeddingsBody(request, targetModel, client)),
    }),
    embeddingsResponse: openaiEmbeddingsResponse,
    upstreamFailure: openaiFailure,
  };
}
