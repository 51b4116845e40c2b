// SA-9 / SC-8 / SC-13: the external AI services Sluice sends traffic to are registered, each with its endpoint and kind
// of credential, and every connection that leaves the host is encrypted with TLS whose certificates are verified.
import type { SluiceConfig } from '../../config/schema.js';
import type { StoredProvider } from '../../store/director-store.js';
import { outcome, type Check } from '../check.js';

/** Provider types whose endpoint has a standard https address when baseUrl is absent. */
const STANDARD_ENDPOINTS: Readonly<Record<string, string>> = {
  bedrock: 'https://bedrock-runtime.<region>.amazonaws.com',
  gemini: 'https://generativelanguage.googleapis.com',
  vertex: 'https://<location>-aiplatform.googleapis.com',
};

/** Bedrock's Messages API (`api: messages`) is on another host than Converse. */
const BEDROCK_MESSAGES_ENDPOINT = 'https://bedrock-mantle.<region>.api.aws/anthropic';

export function providerEndpoint(provider: StoredProvider): string | null {
  const { baseUrl, type, api } = provider.settings;
  if (baseUrl !== undefined) return baseUrl;
  return type === 'bedrock' && api === 'messages' ? BEDROCK_MESSAGES_ENDPOINT : (STANDARD_ENDPOINTS[type] ?? null);
}

/** How the provider authenticates Sluice: the kinds of credential it holds (never their values). */
export function credentialKind(provider: StoredProvider): string {
  const fields = new Set(provider.credentials?.fields ?? []);
  const kinds: string[] = [];
  if (fields.has('apiKey')) kinds.push('api key');
  if (fields.has('accessKeyId') || fields.has('secretAccessKey')) kinds.push('AWS access key');
  if (fields.has('serviceAccountJson') || provider.settings.serviceAccountFile !== undefined) kinds.push('service account');
  if (fields.has('headers')) kinds.push('custom headers');
  if (kinds.length > 0) return kinds.join(' + ');
  if (provider.settings.type === 'bedrock' || provider.settings.type === 'vertex') return 'from the environment';
  return 'none';
}

export const externalServices: Check = {
  id: 'external-services',
  title: 'Every upstream provider is registered, with its endpoint and credential kind',
  description:
    'Lists the providers registered in the director (type, endpoint, kind of credential) and the providers the ' +
    'ledger saw traffic to in the period, gateway calls and observed traffic alike; names each provider with traffic ' +
    'that is not registered, and each registered one without a known endpoint.',
  method: 'TEST',
  async run({ evidence, store, period }) {
    const providers = await store.listProviders();
    const registered = new Map(providers.map((provider) => [provider.name, provider]));
    const problems: string[] = [];
    for (const seen of await evidence.callsByProvider(period.from, period.to)) {
      if (!registered.has(seen.name)) problems.push(`provider "${seen.name}" had ${seen.calls} calls but is not registered`);
    }
    for (const provider of providers) {
      if (providerEndpoint(provider) === null) problems.push(`provider "${provider.name}" (${provider.settings.type}) has no endpoint`);
    }
    const inventory = providers.map(
      (p) => `${p.name} (${p.settings.type}, ${providerEndpoint(p) ?? 'no endpoint'}, credential: ${credentialKind(p)})`,
    );
    return outcome(
      problems,
      `All upstream providers with traffic are registered: ${inventory.join('; ') || 'none'}.`,
      `Upstream providers are not all registered: ${problems.join('; ')}.`,
      {
        registeredProviders: providers.length,
        unregisteredProvidersWithTraffic: problems.filter((p) => p.endsWith('not registered')).length,
      },
    );
  },
};

/** A host that is this machine: traffic to it never crosses a network. */
export function isLoopback(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  return bare === 'localhost' || bare.endsWith('.localhost') || bare === '::1' || /^127\.\d+\.\d+\.\d+$/.test(bare);
}

/** Plaintext connections this deployment makes or accepts across a network, each named. */
function plaintextLinks(
  config: SluiceConfig,
  providers: readonly StoredProvider[],
  env: NodeJS.ProcessEnv,
): { links: string[]; upstreams: number } {
  const links: string[] = [];
  let upstreams = 0;
  for (const provider of providers) {
    const endpoint = providerEndpoint(provider);
    if (endpoint === null) continue;
    upstreams++;
    const url = new URL(endpoint.replace(/<[^>]+>/g, 'x'));
    if (url.protocol === 'http:' && !isLoopback(url.hostname))
      links.push(`upstream provider "${provider.name}" is plaintext HTTP (${url.origin})`);
  }
  // Node's process-wide switch: with it, no https upstream's certificate is checked.
  if (env.NODE_TLS_REJECT_UNAUTHORIZED === '0') links.push('NODE_TLS_REJECT_UNAUTHORIZED=0: upstream TLS certificates are not verified');
  if (config.compliance.listenerTls === 'none') {
    for (const [name, listener] of [
      ['gateway', config.gateway],
      ['admin', config.admin],
    ] as const) {
      if (!isLoopback(listener.host))
        links.push(
          `the ${name} listener on ${listener.host}:${listener.port} speaks plain HTTP off this host (set compliance.listenerTls: proxy when a TLS proxy fronts it)`,
        );
    }
  }
  if (config.storage.startsWith('postgres')) {
    const url = new URL(config.storage);
    const mode = url.searchParams.get('sslmode');
    if (!isLoopback(url.hostname) && mode !== 'verify-full' && mode !== 'verify-ca') {
      links.push(`the PostgreSQL storage at ${url.hostname} is reached without verified TLS (sslmode=${mode ?? 'unset'})`);
    }
  }
  return { links, upstreams };
}

export const transmissionProtection: Check = {
  id: 'transmission-protection',
  title: 'Connections that leave the host use TLS with verified certificates',
  description:
    "Examines the registered providers' endpoints (http:// to a host other than this one is plaintext), Node's " +
    'certificate verification (NODE_TLS_REJECT_UNAUTHORIZED=0 turns it off for every upstream), the gateway and admin ' +
    'listeners (plain HTTP: fine on loopback or behind a TLS proxy declared with compliance.listenerTls: proxy) and the ' +
    'PostgreSQL storage (sslmode verify-full or verify-ca off this host). Names each plaintext or unverified link.',
  method: 'EXAMINE',
  async run({ store, config, env }) {
    const { links, upstreams } = plaintextLinks(config, await store.listProviders(), env);
    return outcome(
      links,
      `All ${upstreams} upstream endpoints and the listeners use verified TLS or stay on this host.`,
      `${links.length} connections are plaintext or unverified.`,
      { upstreamEndpoints: upstreams, plaintextOrUnverifiedLinks: links.length },
    );
  },
};
