// The `gemini` provider: Google's Gemini API (generativelanguage.googleapis.com) with an API key.
import type { ProviderSettings } from '../settings.js';
import type { Feature, Provider } from '../provider.js';
import { geminiHeaders } from './auth.js';
import { geminiChatExchange, geminiEmbeddingsExchange } from './exchange.js';
import { geminiChatBody, geminiEmbedBody } from './request.js';

const FEATURES: ReadonlySet<Feature> = new Set<Feature>([
  'chat',
  'stream',
  'tools',
  'images',
  'text_documents',
  'json_mode',
  'json_schema',
  'embeddings',
]);

export function createGeminiProvider(name: string, config: ProviderSettings): Provider {
  const url = new URL(config.baseUrl ?? 'https://generativelanguage.googleapis.com');
  const prefix = `${url.pathname.replace(/\/+$/, '')}/v1beta/models`;
  const headers = geminiHeaders(config);
  return {
    name,
    type: 'gemini',
    origin: url.origin,
    features: FEATURES,
    openChat: (request, model) =>
      geminiChatExchange(name, {
        path: request.stream
          ? `${prefix}/${encodeURIComponent(model)}:streamGenerateContent?alt=sse`
          : `${prefix}/${encodeURIComponent(model)}:generateContent`,
        headers,
        body: JSON.stringify(geminiChatBody(request, model)),
      }),
    openEmbeddings: (request, model) =>
      geminiEmbeddingsExchange(name, {
        path: `${prefix}/${encodeURIComponent(model)}:batchEmbedContents`,
        headers,
        body: JSON.stringify(geminiEmbedBody(request, model)),
      }),
  };
}
