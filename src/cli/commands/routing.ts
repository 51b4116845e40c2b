// `sluice providers|models list|get|delete`: the upstreams and the model routes over them, models with the prices the
// API says their calls are charged at (per token and per use). Models are created and changed with `sluice apply`;
// providers through the API (`POST /api/providers`) or sluice.yaml, since their credentials are write-only: listings
// show which credential fields are set, never a value.
import type { ModelConfig, Pricing, ProviderConfig } from '../../config/schema.js';
import type { AdminCommand } from '../args.js';
import { policyCommand, times, type PolicyKind } from './budgets.js';

type ProviderView = Omit<
  ProviderConfig,
  'apiKey' | 'accessKeyId' | 'secretAccessKey' | 'sessionToken' | 'serviceAccountJson' | 'headers'
> & {
  name: string;
  /** The credential fields that are set. */
  credentials: string[];
  /** The id of the master key they are sealed with (absent from directors before it was shown). */
  credentialsSealedWith?: string | null;
};

const where = (p: ProviderView) => p.baseUrl ?? [p.region, p.project, p.location].filter(Boolean).join(' ');

const PROVIDERS: PolicyKind<ProviderView> = {
  noun: 'provider',
  plural: 'providers',
  command: 'providers',
  path: '/api/providers',
  howToChange:
    'Providers are added and changed with POST/PATCH /api/providers (admin role) or in sluice.yaml: their credentials are write-only.',
  columns: ['NAME', 'TYPE', 'ENDPOINT', 'CREDENTIALS'],
  row: (p) => [p.name, p.type, where(p) || 'standard', p.credentials.join(',') || 'none'],
  fields: (p) => [
    ['name', p.name],
    ['type', p.type],
    ['endpoint', where(p) || 'standard'],
    ['api version', p.apiVersion ?? p.anthropicVersion ?? null],
    ['connections', p.connections],
    ['credentials set', p.credentials.join(', ') || 'none'],
    ['sealed with master key', p.credentialsSealedWith ?? null],
    ...times(p),
  ],
};

const targets = (m: ModelConfig) =>
  m.targets.map((t) => `${t.provider}/${t.model}${t.weight === undefined ? '' : ` (${t.weight})`}`).join(' -> ');

/** What the API adds to a model, read-only: each target's price as the gateway charges it. */
interface TargetPrice {
  provider: string;
  model: string;
  source: 'pricing' | 'catalog' | null;
  pricing: Pricing | null;
}
type ModelView = ModelConfig & { prices?: TargetPrice[] };

/** Cents always, and as many decimals as a list price has ($0.075): never rounded away. */
const usd = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD', minimumFractionDigits: 2, maximumFractionDigits: 6 });
const dollars = (value: number) => usd.format(value);
const tokenCount = new Intl.NumberFormat('en-US');

/** Token prices per 1M; `full` adds the cached-input and cache-write prices and the priced tiers. */
function tokenPrices(p: Pricing, full: boolean): string {
  const parts = [`${dollars(p.input)} in`, `${dollars(p.output)} out`];
  if (full && p.cachedInput !== undefined) parts.push(`${dollars(p.cachedInput)} cached in`);
  if (full && p.cacheWrite !== undefined) parts.push(`${dollars(p.cacheWrite)} cache write`);
  if (full && p.cacheWrite1h !== undefined) parts.push(`${dollars(p.cacheWrite1h)} 1-hour cache write`);
  let text = `${parts.join(', ')} per 1M tokens`;
  if (p.inputCharacters !== undefined) text += `, ${dollars(p.inputCharacters)} per 1M characters in`;
  // Every token of a prompt past the threshold is billed at these, its output too: a price a reader must see.
  const long = p.longContext;
  if (long !== undefined) {
    const longParts = [`${dollars(long.input)} in`, `${dollars(long.output)} out`];
    if (full && long.cachedInput !== undefined) longParts.push(`${dollars(long.cachedInput)} cached in`);
    if (full && long.cacheWrite !== undefined) longParts.push(`${dollars(long.cacheWrite)} cache write`);
    if (full && long.cacheWrite1h !== undefined) longParts.push(`${dollars(long.cacheWrite1h)} 1-hour cache write`);
    text += `; prompts over ${tokenCount.format(long.above)} tokens: ${longParts.join(', ')}`;
  }
  if (full)
    for (const tier of ['priority', 'flex'] as const) {
      const prices = p[tier];
      if (prices !== undefined) text += `; ${tier} ${dollars(prices.input)} in, ${dollars(prices.output)} out`;
    }
  if (full && p.fastMode !== undefined) text += `; fast mode ${p.fastMode}x`;
  return text;
}

/** Prices per use beside the tokens, each per 1,000: searches the provider runs, grounded prompts, every call. */
function perUse(p: Pricing): string {
  const parts: string[] = [];
  if (p.webSearch !== undefined) parts.push(`${dollars(p.webSearch)} per 1K web searches`);
  if (p.fileSearch !== undefined) parts.push(`${dollars(p.fileSearch)} per 1K file searches`);
  if (p.groundedPrompt !== undefined) parts.push(`${dollars(p.groundedPrompt)} per 1K grounded prompts`);
  if (p.request !== undefined) parts.push(`${dollars(p.request)} per 1K calls`);
  return parts.join(', ');
}

/** One text for all targets when they are priced alike (the usual one target); else each target's, named. */
function perTarget(m: ModelView, text: (price: TargetPrice) => string): string {
  // A director before prices were answered: the model's own pricing, or the catalog's, unseen.
  const prices =
    m.prices ?? m.targets.map((t) => ({ ...t, source: m.pricing === undefined ? 'catalog' : 'pricing', pricing: m.pricing ?? null }));
  const texts = prices.map(text);
  if (texts.every((t) => t === texts[0])) return texts[0] ?? '';
  return prices.map((price, i) => `${price.provider}/${price.model}: ${texts[i] || 'none'}`).join('; ');
}

const pricing = (m: ModelView, full = false) =>
  perTarget(m, ({ source, pricing }) =>
    pricing === null
      ? source === null
        ? 'unpriced'
        : 'catalog'
      : `${tokenPrices(pricing, full)}${source === 'catalog' ? ' (catalog)' : ''}`,
  );
const perUsePricing = (m: ModelView) => perTarget(m, ({ pricing }) => (pricing === null ? '' : perUse(pricing)));

const MODELS: PolicyKind<ModelView> = {
  noun: 'model',
  plural: 'models',
  command: 'models',
  path: '/api/models',
  columns: ['NAME', 'ROUTE', 'PRICING', 'PER USE'],
  row: (m) => [m.name, targets(m), pricing(m), perUsePricing(m)],
  fields: (m) => [
    ['name', m.name],
    ['route', targets(m)],
    ['pricing', pricing(m, true)],
    ['per use', perUsePricing(m)],
    ['retry', m.retry === undefined ? 'default' : JSON.stringify(m.retry)],
    ...times(m),
  ],
};

export const providersCommand: AdminCommand = policyCommand(PROVIDERS);
export const modelsCommand: AdminCommand = policyCommand(MODELS);
