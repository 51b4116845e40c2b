// Anthropic credentials: the x-api-key header and the API version.
import type { ProviderSettings } from '../settings.js';

export const DEFAULT_ANTHROPIC_VERSION = '2023-06-01';

export function anthropicHeaders(config: ProviderSettings): Record<string, string> {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'anthropic-version': config.anthropicVersion ?? DEFAULT_ANTHROPIC_VERSION,
    ...config.headers,
  };
  if (config.apiKey) headers['x-api-key'] = config.apiKey;
  return headers;
}
