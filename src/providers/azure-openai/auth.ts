// Azure OpenAI credentials: the `api-key` header (not a bearer token).
import type { ProviderSettings } from '../settings.js';

export function azureHeaders(config: ProviderSettings): Record<string, string> {
  const headers: Record<string, string> = { 'content-type': 'application/json', ...config.headers };
  if (config.apiKey) headers['api-key'] = config.apiKey;
  return headers;
}
