// The `openai` provider: OpenAI itself and any server speaking its API (vLLM, Ollama, LM Studio, ...).
import type { ProviderSettings } from '../settings.js';
import type { Feature, Provider } from '../provider.js';
import { openaiHeaders } from './auth.js';
import { openaiChatExchange, openaiEmbeddingsExchange } from './exchange.js';
import { openaiResponsesExchange, storedResponseRequest } from './responses.js';
import { responseObjectUsage } from './responses-response.js';

export const OPENAI_FEATURES: ReadonlySet<Feature> = new Set<Feature>([
  'chat',
  'stream',
  'tools',
  'images',
  'json_mode',
  'json_schema',
  'embeddings',
]);

export function createOpenAIProvider(name: string, config: ProviderSettings): Provider {
  // Config validation requires baseUrl for this type.
  const base = new URL(config.baseUrl!);
  const prefix = base.pathname.replace(/\/+$/, '');
  const headers = openaiHeaders(config);
  const chatPath = `${prefix}/chat/completions`;
  const embeddingsPath = `${prefix}/embeddings`;
  const responsesPath = `${prefix}/responses`;
  return {
    name,
    type: 'openai',
    origin: base.origin,
    features: OPENAI_FEATURES,
    // A Responses API client's body goes to /responses as it is; every other client's call is a chat completion.
    openChat: (request, model, client) =>
      client?.dialect === 'openai-responses'
        ? openaiResponsesExchange(name, responsesPath, headers, client.body, model)
        : openaiChatExchange(name, chatPath, headers, request, model, client),
    openEmbeddings: (request, model, client) => openaiEmbeddingsExchange(name, embeddingsPath, headers, request, model, client),
    openStoredResponse: (id, action, query) => storedResponseRequest(responsesPath, headers, id, action, query),
    storedResponseUsage: responseObjectUsage,
  };
}
