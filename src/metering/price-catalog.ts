// Price look-ups by provider and model, O(1) after the first sight of a name (dated variants resolve to their base).
import type { Pricing } from './cost.js';
import { PRICE_CATALOG_AS_OF, PRICE_CATALOG_ENTRIES, PRICE_CATALOG_SOURCE, type CatalogEntry } from './price-catalog-data.js';

/** What may follow a catalog name in a versioned model name: a date, a version, or a moving alias. */
const VERSION_SUFFIX = /^(\d|v\d|latest|preview)/;

/** Provider types that bill at another catalog's list prices (Vertex AI: its own entries first, then the Gemini API's). */
const CATALOG_OF: Record<string, string> = { 'azure-openai': 'openai', vertex: 'gemini' };

export class PriceCatalog {
  readonly source = PRICE_CATALOG_SOURCE;
  readonly asOf = PRICE_CATALOG_AS_OF;
  private readonly byProvider: Map<string, Map<string, Pricing>>;
  private readonly resolved: Map<string, Pricing | null>;

  constructor(entries: readonly CatalogEntry[] = PRICE_CATALOG_ENTRIES) {
    this.byProvider = new Map();
    this.resolved = new Map();
    for (const entry of entries) {
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
      models.set(entry.model, pricing);
    }
  }

  /** The list price of a model at a provider type, matching `gpt-4o-mini-2024-07-18` to `gpt-4o-mini`; undefined if unknown. */
  lookup(providerType: string, model: string): Pricing | undefined {
    // Claude on Vertex is billed at Anthropic's prices (its versions written claude-3-5-haiku@20241022), Gemini at Gemini's.
    const claudeOnVertex = providerType === 'vertex' && model.startsWith('claude');
    const catalog = claudeOnVertex ? 'anthropic' : (CATALOG_OF[providerType] ?? providerType);
    // By provider type: Vertex AI and the Gemini API share a catalog but not every price.
    const key = `${providerType}\u0000${model}`;
    const cached = this.resolved.get(key);
    if (cached !== undefined) return cached ?? undefined;
    const found = claudeOnVertex
      ? this.match(catalog, model.replace('@', '-'))
      : ((providerType === 'vertex' ? this.match('vertex', model) : undefined) ?? this.match(catalog, model));
    this.resolved.set(key, found ?? null);
    return found;
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
