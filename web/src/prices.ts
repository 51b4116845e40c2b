// How the console shows a model's prices, as GET /api/models answers them per target: USD per 1M tokens, and per use
// (each per 1,000) what the provider bills beside the tokens. The same words as `sluice models`.

export interface Pricing {
  input: number;
  output: number;
  inputCharacters?: number;
  webSearch?: number;
  fileSearch?: number;
  groundedPrompt?: number;
  request?: number;
  /** The prices of every token of a call whose prompt is longer than `above` tokens (Gemini Pro's, Claude Sonnet's). */
  longContext?: { above: number; input: number; output: number };
}
export interface TargetPrice {
  provider: string;
  model: string;
  source: 'pricing' | 'catalog' | null;
  pricing: Pricing | null;
}

/** Cents always, and as many decimals as a list price has ($0.075): never rounded away. */
const listPrice = new Intl.NumberFormat('en-US', {
  style: 'currency',
  currency: 'USD',
  minimumFractionDigits: 2,
  maximumFractionDigits: 6,
});
const dollars = (value: number) => listPrice.format(value);
const tokenCount = new Intl.NumberFormat('en-US');

export function tokenPrices({ source, pricing }: TargetPrice): string {
  if (pricing === null) return 'unpriced';
  let text = `${dollars(pricing.input)} in, ${dollars(pricing.output)} out per 1M tokens`;
  if (pricing.inputCharacters !== undefined) text += `, ${dollars(pricing.inputCharacters)} per 1M characters in`;
  const long = pricing.longContext;
  if (long !== undefined)
    text += `; prompts over ${tokenCount.format(long.above)} tokens: ${dollars(long.input)} in, ${dollars(long.output)} out`;
  return source === 'catalog' ? `${text} (catalog)` : text;
}

export function perUsePrices({ pricing }: TargetPrice): string {
  if (pricing === null) return '';
  const parts: string[] = [];
  if (pricing.webSearch !== undefined) parts.push(`${dollars(pricing.webSearch)} per 1K web searches`);
  if (pricing.fileSearch !== undefined) parts.push(`${dollars(pricing.fileSearch)} per 1K file searches`);
  if (pricing.groundedPrompt !== undefined) parts.push(`${dollars(pricing.groundedPrompt)} per 1K grounded prompts`);
  if (pricing.request !== undefined) parts.push(`${dollars(pricing.request)} per 1K calls`);
  return parts.join(', ');
}

/** One text when every target is priced alike (the usual one target); else each target's, named. */
export function perTarget(prices: TargetPrice[] | undefined, text: (price: TargetPrice) => string): string {
  if (prices === undefined || prices.length === 0) return '';
  const texts = prices.map(text);
  if (texts.every((each) => each === texts[0])) return texts[0]!;
  return prices.map((price, i) => `${price.provider}/${price.model}: ${texts[i] || 'none'}`).join('; ');
}
