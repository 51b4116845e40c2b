// Price look-ups by provider and model, O(1) after the first sight of a name (dated variants resolve to their base).
import type { Pricing } from './cost.js';
import { PRICE_CATALOG_AS_OF, PRICE_CATALOG_ENTRIES, PRICE_CATALOG_SOURCE, type CatalogEntry } from './price-catalog-data.js';

/**
 * What may follow a catalog name in a versioned model name: a date (`2024-07-18`, `20251001`), a three-digit version
 * (`001`), a `v` version, or a moving alias. Not a digit or two: `claude-opus-5-5` is a model of its own, not a version of
 * `claude-opus-5`, and is priced only by its own entry.
 */
const VERSION_SUFFIX = /^(\d{3}|v\d|latest|preview)/;

/** A Bedrock model ARN's resource type and id (as policy/resources.ts reads it). */
const BEDROCK_ARN = /^arn:aws[\w-]*:bedrock:[^:]*:[^:]*:(foundation-model|inference-profile|application-inference-profile)\/(.+)$/;
/** A cross-region inference profile's geography, before `<vendor>.<model>`. */
const BEDROCK_GEOGRAPHY = /^(us|eu|apac|jp|au|ca|us-gov|global)\.(?=[a-z0-9-]+\.[^.])/;

/** Provider types that bill at another catalog's list prices (Vertex AI: its own entries first, then the Gemini API's). */
const CATALOG_OF: Record<string, string> = { 'azure-openai': 'openai', vertex: 'gemini' };

export class PriceCatalog {
  readonly source = PRICE_CATALOG_SOURCE;
  readonly asOf = PRICE_CATALOG_AS_OF;
  private readonly byProvider: Map<string, Map<string, Pricing>>;
  private readonly resolved: Map<string, Pricing | null>;
  /** Bedrock models whose geographic profiles cost a multiple of their global prices, by model id. */
  private readonly regionalPremium: Map<string, number>;

  constructor(entries: readonly CatalogEntry[] = PRICE_CATALOG_ENTRIES) {
    this.byProvider = new Map();
    this.resolved = new Map();
    this.regionalPremium = new Map();
    for (const entry of entries) {
      if (entry.regionalPremium !== undefined) this.regionalPremium.set(entry.model, entry.regionalPremium);
      let models = this.byProvider.get(entry.provider);
      if (models === undefined) this.byProvider.set(entry.provider, (models = new Map()));
      const pricing: Pricing = { input: entry.input, output: entry.output };
      if (entry.cachedInput !== undefined) pricing.cachedInput = entry.cachedInput;
      if (entry.cacheWrite !== undefined) pricing.cacheWrite = entry.cacheWrite;
      if (entry.cacheWrite1h !== undefined) pricing.cacheWrite1h = entry.cacheWrite1h;
      if (entry.inputCharacters !== undefined) pricing.inputCharacters = entry.inputCharacters;
      if (entry.webSearch !== undefined) pricing.webSearch = entry.webSearch;
      if (entry.groundedPrompt !== undefined) pricing.groundedPrompt = entry.groundedPrompt;
      if (entry.fileSearch !== undefined) pricing.fileSearch = entry.fileSearch;
      if (entry.request !== undefined) pricing.request = entry.request;
      if (entry.longContext !== undefined) pricing.longContext = entry.longContext;
      if (entry.priority !== undefined) pricing.priority = entry.priority;
      if (entry.flex !== undefined) pricing.flex = entry.flex;
      if (entry.priorityMultiple !== undefined) pricing.priorityMultiple = entry.priorityMultiple;
      if (entry.flexMultiple !== undefined) pricing.flexMultiple = entry.flexMultiple;
      if (entry.usOnlyInference !== undefined) pricing.usOnlyInference = entry.usOnlyInference;
      models.set(entry.model, pricing);
    }
  }

  /** The list price of a model at a provider type, matching `gpt-4o-mini-2024-07-18` to `gpt-4o-mini`; undefined if unknown. */
  lookup(providerType: string, name: string): Pricing | undefined {
    // A Vertex AI model may be named with its publisher (`anthropic/claude-...`, `google/gemini-...`), as Vertex's
    // OpenAI-compatible API and the discovery proxy's inventory name them: the price is the model's.
    const model = providerType === 'vertex' ? name.replace(/^(?:anthropic|google)\//, '') : name;
    // Claude on Vertex is billed at Anthropic's prices (its versions written claude-3-5-haiku@20241022), Gemini at Gemini's.
    const claudeOnVertex = providerType === 'vertex' && model.startsWith('claude');
    const catalog = claudeOnVertex ? 'anthropic' : (CATALOG_OF[providerType] ?? providerType);
    // By provider type: Vertex AI and the Gemini API share a catalog but not every price.
    const key = `${providerType}\u0000${model}`;
    const cached = this.resolved.get(key);
    if (cached !== undefined) return cached ?? undefined;
    const found = claudeOnVertex
      ? this.match(catalog, model.replace('@', '-'))
      : providerType === 'bedrock'
        ? this.matchBedrock(model)
        : ((providerType === 'vertex' ? this.match('vertex', model) : undefined) ?? this.match(catalog, model));
    this.resolved.set(key, found ?? null);
    return found;
  }

  /**
   * A Bedrock model by its id, a cross-region inference profile's (`global.anthropic.claude-opus-4-6-v1`,
   * `us.anthropic.claude-sonnet-4-6`) or an ARN's; a profile other than `global.`, and a model called in its region,
   * at the model's regional premium. An application inference profile's id does not say what it serves: no price.
   */
  private matchBedrock(model: string): Pricing | undefined {
    const arn = BEDROCK_ARN.exec(model);
    if (arn?.[1] === 'application-inference-profile') return undefined;
    const id = arn === null ? model : arn[2]!;
    const geography = BEDROCK_GEOGRAPHY.exec(id)?.[1];
    const base = geography === undefined ? id : id.slice(geography.length + 1);
    const found = this.match('bedrock', base);
    const premium = found === undefined || geography === 'global' ? undefined : this.premiumOf(base);
    return premium === undefined ? found : withPremium(found!, premium);
  }

  private premiumOf(model: string): number | undefined {
    const exact = this.regionalPremium.get(model);
    if (exact !== undefined) return exact;
    for (const [name, premium] of this.regionalPremium) if (model.startsWith(name)) return premium;
    return undefined;
  }

  private match(catalog: string, model: string): Pricing | undefined {
    const models = this.byProvider.get(catalog);
    if (models === undefined) return undefined;
    const exact = models.get(model);
    if (exact !== undefined) return exact;
    // The longest catalog name that the model extends with a version suffix: gpt-4o-mini-2024-07-18, claude-haiku-4-5-20251001.
    let best: string | undefined;
    for (const name of models.keys()) {
      if (
        model.length > name.length + 1 &&
        model.startsWith(name) &&
        '-@:'.includes(model[name.length]!) &&
        VERSION_SUFFIX.test(model.slice(name.length + 1)) &&
        (best === undefined || name.length > best.length)
      ) {
        best = name;
      }
    }
    return best === undefined ? undefined : models.get(best);
  }
}

/** Token prices times a premium (a Bedrock regional endpoint's), to the micro-USD per 1M tokens. */
function withPremium(pricing: Pricing, premium: number): Pricing {
  const scale = (price: number) => Math.round(price * premium * 1e6) / 1e6;
  const scaled: Pricing = { ...pricing, input: scale(pricing.input), output: scale(pricing.output) };
  if (pricing.cachedInput !== undefined) scaled.cachedInput = scale(pricing.cachedInput);
  if (pricing.cacheWrite !== undefined) scaled.cacheWrite = scale(pricing.cacheWrite);
  if (pricing.cacheWrite1h !== undefined) scaled.cacheWrite1h = scale(pricing.cacheWrite1h);
  if (pricing.longContext !== undefined) {
    const long = pricing.longContext;
    scaled.longContext = { ...long, input: scale(long.input), output: scale(long.output) };
    if (long.cachedInput !== undefined) scaled.longContext.cachedInput = scale(long.cachedInput);
    if (long.cacheWrite !== undefined) scaled.longContext.cacheWrite = scale(long.cacheWrite);
    if (long.cacheWrite1h !== undefined) scaled.longContext.cacheWrite1h = scale(long.cacheWrite1h);
  }
  return scaled;
}
