// OpenAI credentials: a bearer key, plus any configured static headers (organization, project).
import type { ProviderSettings } from '../settings.js';

export function openaiHeaders(config: ProviderSettings): Record<string, string> {
  const headers: Record<string, string> = { 'content-type': 'application/json', ...config.headers };
  if (config.apiKey) headers.authorization = `Bearer ${config.apiKey}`;
  return headers;
}
