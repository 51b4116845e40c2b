// The catalog of AI provider hosts the discovery proxy intercepts and reads: data, extended and narrowed by config.
// A "*" in a pattern stands for part of one label (never a dot): `*.openai.azure.com`, `bedrock-runtime.*.amazonaws.com`.
import type { DiscoveryConfig, WireFormat } from '../config/discovery-schema.js';

export interface HostEntry {
  pattern: string;
  /** The provider name observations carry (and resources are named by: `<provider>/<model>`). */
  provider: string;
  /** Which wire format the host speaks, to read model and usage from. */
  wire: WireFormat;
}

export const BUILT_IN_HOSTS: readonly HostEntry[] = [
  { pattern: 'api.openai.com', provider: 'openai', wire: 'openai' },
  { pattern: '*.openai.azure.com', provider: 'azure-openai', wire: 'openai' },
  { pattern: '*.cognitiveservices.azure.com', provider: 'azure-openai', wire: 'openai' },
  { pattern: '*.services.ai.azure.com', provider: 'azure-openai', wire: 'openai' },
  { pattern: 'api.anthropic.com', provider: 'anthropic', wire: 'anthropic' },
  { pattern: 'bedrock-runtime.*.amazonaws.com', provider: 'bedrock', wire: 'bedrock' },
  { pattern: 'bedrock-runtime-fips.*.amazonaws.com', provider: 'bedrock', wire: 'bedrock' },
  // Bedrock's endpoint for OpenAI's and Anthropic's own APIs (API keys, Claude Opus 4.7 and later, GPT OSS).
  { pattern: 'bedrock-mantle.*.api.aws', provider: 'bedrock', wire: 'bedrock' },
  { pattern: 'generativelanguage.googleapis.com', provider: 'gemini', wire: 'gemini' },
  { pattern: 'aiplatform.googleapis.com', provider: 'vertex', wire: 'gemini' },
  { pattern: '*-aiplatform.googleapis.com', provider: 'vertex', wire: 'gemini' },
  { pattern: 'api.mistral.ai', provider: 'mistral', wire: 'openai' },
  { pattern: 'codestral.mistral.ai', provider: 'mistral', wire: 'openai' },
  { pattern: 'api.groq.com', provider: 'groq', wire: 'openai' },
  { pattern: 'api.together.xyz', provider: 'together', wire: 'openai' },
  { pattern: 'api.together.ai', provider: 'together', wire: 'openai' },
  { pattern: 'api.cohere.com', provider: 'cohere', wire: 'cohere' },
  { pattern: 'api.cohere.ai', provider: 'cohere', wire: 'cohere' },
  { pattern: 'api.deepseek.com', provider: 'deepseek', wire: 'openai' },
  { pattern: 'openrouter.ai', provider: 'openrouter', wire: 'openai' },
  { pattern: 'api.fireworks.ai', provider: 'fireworks', wire: 'openai' },
  { pattern: 'api.x.ai', provider: 'xai', wire: 'openai' },
  { pattern: 'api.perplexity.ai', provider: 'perplexity', wire: 'openai' },
];

/**
 * The entry a request is read by, by its path: Bedrock serves OpenAI's APIs (`/openai/v1/...` on bedrock-runtime, also
 * `/v1/...` on bedrock-mantle) and Anthropic's Messages API (`/anthropic/v1/messages`) beside Converse and InvokeModel,
 * each naming its model in the body and answering in its own shape, which the Bedrock wire does not read.
 */
export function entryAt(entry: HostEntry, path: string): HostEntry {
  if (entry.wire !== 'bedrock') return entry;
  if (path.startsWith('/anthropic/')) return { ...entry, wire: 'anthropic' };
  if (path.startsWith('/openai/') || path.startsWith('/v1/')) return { ...entry, wire: 'openai' };
  return entry;
}

function patternRegex(pattern: string): RegExp {
  const body = pattern
    .toLowerCase()
    .split('*')
    .map((part) => part.replace(/[.-]/g, (c) => `\\${c}`))
    .join('[a-z0-9-]+');
  return new RegExp(`^${body}$`);
}

/** Looks hosts up against the catalog; exact names in a map, wildcards in order. */
export class HostCatalog {
  private readonly exact: Map<string, HostEntry>;
  private readonly wildcards: Array<{ regex: RegExp; entry: HostEntry }>;
  private readonly excluded: RegExp[];

  constructor(entries: readonly HostEntry[], exclude: readonly string[] = []) {
    this.exact = new Map();
    this.wildcards = [];
    // Configured entries come first, so they win over the built-in ones.
    for (const entry of entries) {
      if (entry.pattern.includes('*')) this.wildcards.push({ regex: patternRegex(entry.pattern), entry });
      else if (!this.exact.has(entry.pattern.toLowerCase())) this.exact.set(entry.pattern.toLowerCase(), entry);
    }
    this.excluded = exclude.map(patternRegex);
  }

  static fromConfig(config: Pick<DiscoveryConfig, 'hosts' | 'exclude'>): HostCatalog {
    return new HostCatalog([...config.hosts, ...BUILT_IN_HOSTS], config.exclude);
  }

  /** The entry of a host to intercept and read; null for every other host (tunneled untouched) and for excluded ones. */
  lookup(host: string): HostEntry | null {
    const name = host.toLowerCase();
    if (this.excluded.some((regex) => regex.test(name))) return null;
    const exact = this.exact.get(name);
    if (exact !== undefined) return exact;
    for (const { regex, entry } of this.wildcards) if (regex.test(name)) return entry;
    return null;
  }

  isExcluded(host: string): boolean {
    const name = host.toLowerCase();
    return this.excluded.some((regex) => regex.test(name));
  }
}
