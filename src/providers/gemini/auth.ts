// Gemini API credentials: the x-goog-api-key header (kept out of the URL, where it would reach access logs).
import type { ProviderSettings } from '../settings.js';

export function geminiHeaders(config: ProviderSettings): Record<string, string> {
  const headers: Record<string, string> = { 'content-type': 'application/json', ...config.headers };
  if (config.apiKey) headers['x-goog-api-key'] = config.apiKey;
  return headers;
}
