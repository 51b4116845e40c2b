// Azure OpenAI credentials: the `api-key` header (not a bearer token).
import type { ProviderConfig } from '../../config/schema.js';

export function azureHeaders(config: ProviderConfig): Record<string, string> {
  const headers: Record<string, string> = { 'content-type': 'application/json', ...config.headers };
  if (config.apiKey) headers['api-key'] = config.apiKey;
  return headers;
}
