// The `azure-openai` provider: OpenAI's wire at deployment URLs, with api-version and the api-key header.
// Reference: https://learn.microsoft.com/azure/ai-services/openai/reference
import type { ProviderSettings } from '../settings.js';
import type { Provider } from '../provider.js';
import { OPENAI_FEATURES } from '../openai/index.js';
import { openaiChatExchange, openaiEmbeddingsExchange } from '../openai/exchange.js';
import { openaiResponsesExchange, storedResponseRequest } from '../openai/responses.js';
import { responseObjectUsage } from '../openai/responses-response.js';
import { azureHeaders } from './auth.js';

export function createAzureOpenAIProvider(name: string, config: ProviderSettings): Provider {
  // Config validation requires baseUrl for this type.
  const base = new URL(config.baseUrl!);
  const prefix = base.pathname.replace(/\/+$/, '');
  const query = `?api-version=${encodeURIComponent(config.apiVersion ?? '')}`;
  const headers = azureHeaders(config);
  // The deployment in the path selects the model; the body's `model` is ignored by Azure but kept for logs.
  const deploymentPath = (deployment: string, operation: string) =>
    `${prefix}/openai/deployments/${encodeURIComponent(deployment)}/${operation}${query}`;
  // The Responses API is on Azure's v1 surface only: no deployment in the path, the deployment named as the body's model,
  // no api-version (https://learn.microsoft.com/azure/ai-foundry/openai/how-to/responses).
  const responsesPath = `${prefix}/openai/v1/responses`;
  return {
    name,
    type: 'azure-openai',
    origin: base.origin,
    features: OPENAI_FEATURES,
    openChat: (request, deployment, client, baseModel) =>
      client?.dialect === 'openai-responses'
        ? openaiResponsesExchange(name, responsesPath, headers, client.body, deployment)
        : openaiChatExchange(name, deploymentPath(deployment, 'chat/completions'), headers, request, deployment, client, baseModel),
    openEmbeddings: (request, deployment, client) =>
      openaiEmbeddingsExchange(name, deploymentPath(deployment, 'embeddings'), headers, request, deployment, client),
    // Stored responses are on the v1 surface too, without a deployment: the response id names the one that made it.
    openStoredResponse: (id, action, query) => storedResponseRequest(responsesPath, headers, id, action, query),
    storedResponseUsage: responseObjectUsage,
  };
}
