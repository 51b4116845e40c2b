// The `azure-openai` provider: OpenAI's wire at deployment URLs, with api-version and the api-key header.
// Reference: https://learn.microsoft.com/azure/ai-services/openai/reference
import type { ProviderConfig } from '../../config/schema.js';
import type { Provider } from '../provider.js';
import { OPENAI_FEATURES } from '../openai/index.js';
import { openaiFailure } from '../openai/errors.js';
import { openaiChatBody, openaiEmbeddingsBody } from '../openai/request.js';
import { openaiChatResponse, openaiEmbeddingsResponse } from '../openai/response.js';
import { OpenAIStreamDecoder } from '../openai/stream.js';
import { azureHeaders } from './auth.js';

export function createAzureOpenAIProvider(name: string, config: ProviderConfig): Provider {
  // Config validation requires baseUrl for this type.
  const base = new URL(config.baseUrl!);
  const prefix = base.pathname.replace(/\/+$/, '');
  const query = `?api-version=${encodeURIComponent(config.apiVersion ?? '')}`;
  const headers = azureHeaders(config);
  // The deployment in the path selects the model; the body's `model` is ignored by Azure but kept for logs.
  const deploymentPath = (deployment: string, operation: string) =>
    `${prefix}/openai/deployments/${encodeURIComponent(deployment)}/${operation}${query}`;
  return {
    name,
    type: 'azure-openai',
    dialect: 'openai',
    origin: base.origin,
    features: OPENAI_FEATURES,
    chatRequest: (request, deployment, client) => ({
      path: deploymentPath(deployment, 'chat/completions'), headers, body: JSON.stringify(openaiChatBody(request, deployment, client)),
    }),
    chatResponse: openaiChatResponse,
    chatStreamDecoder: () => new OpenAIStreamDecoder(),
    embeddingsRequest: (request, deployment, client) => ({
      path: deploymentPath(deployment, 'embeddings'), headers, body: JSON.stringify(openaiEmbeddingsBody(request, deployment, client)),
    }),
    embeddingsResponse: openaiEmbeddingsResponse,
    upstreamFailure: openaiFailure,
  };
}
