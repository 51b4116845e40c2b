// Anthropic credentials: the x-api-key header and the API version.
import type { ProviderSettings } from '../settings.js';

export const DEFAULT_ANTHROPIC_VERSION = '2023-06-01';

/**
 * The headers of a call passing an Anthropic client's body through: with the betas it asked for (its body may use what
 * they enable), joined to the operator's configured anthropic-beta (`headers`), each beta once.
 */
export function withClientBetas(headers: Record<string, string>, asked: string | undefined): Record<string, string> {
  if (asked === undefined) return headers;
  const betas = new Set<string>();
  for (const list of [headers['anthropic-beta'], asked])
    for (const beta of list?.split(',') ?? []) if (beta.trim() !== '') betas.add(beta.trim());
  return betas.size === 0 ? headers : { ...headers, 'anthropic-beta': [...betas].join(',') };
}

export function anthropicHeaders(config: ProviderSettings): Record<string, string> {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'anthropic-version': config.anthropicVersion ?? DEFAULT_ANTHROPIC_VERSION,
  };
  // Lower-cased, so a configured header replaces Sluice's own (or is joined with the client's betas) whatever its case.
  for (const [name, value] of Object.entries(config.headers ?? {})) headers[name.toLowerCase()] = value;
  if (config.apiKey) headers['x-api-key'] = config.apiKey;
  return headers;
}
