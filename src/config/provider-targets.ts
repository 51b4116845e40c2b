// Where a provider's base URL may point. Private addresses are fine (vLLM on a private network is normal), but an admin
// token or a sluice.yaml must not turn the gateway into a way to reach cloud metadata services (link-local addresses,
// their well-known names) or Sluice's own parts (its listeners, its PostgreSQL, its Redis), which answer with what the
// upstream's caller should never see. Checked when a base URL is written, and again at connect time on the addresses a
// name resolves to (src/gateway/routing/guarded-connector.ts). `providerTargets.allow` lists exceptions.
import { BlockList, isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import type { SluiceConfig } from './schema.js';

/** An endpoint of Sluice itself. */
export interface OwnEndpoint {
  host: string;
  port: number;
  /** What it is, for the refusal message. */
  what: string;
}

/** Names that always mean a cloud's instance metadata service. */
const METADATA_NAMES = new Set(['metadata', 'metadata.google.internal', 'metadata.goog', 'instance-data', 'instance-data.ec2.internal']);

/** Link-local ranges (where AWS, GCP and Azure serve instance metadata) and other clouds' metadata addresses. */
const METADATA_ADDRESSES = new BlockList();
METADATA_ADDRESSES.addSubnet('169.254.0.0', 16, 'ipv4');
METADATA_ADDRESSES.addSubnet('fe80::', 10, 'ipv6');
// AWS's IPv6 instance metadata address, and Alibaba Cloud's.
METADATA_ADDRESSES.addAddress('fd00:ec2::254', 'ipv6');
METADATA_ADDRESSES.addAddress('100.100.100.200', 'ipv4');

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/** What an entry of providerTargets.allow says: a CIDR, an address, or host:port. */
export type AllowEntry =
  { kind: 'cidr'; address: string; prefix: number; family: 'ipv4' | 'ipv6' } | { kind: 'host-port'; host: string; port: number };

/** Null when `text` is none of `10.0.0.0/8`, `169.254.10.5`, `fe80::1`, `host:port`, `[::1]:4001`. */
export function parseAllowEntry(text: string): AllowEntry | null {
  const cidr = /^([^/]+)\/(\d{1,3})$/.exec(text);
  if (cidr !== null) {
    const family = isIP(cidr[1]!);
    const prefix = Number(cidr[2]);
    if (family === 0 || prefix > (family === 4 ? 32 : 128)) return null;
    return { kind: 'cidr', address: cidr[1]!, prefix, family: family === 4 ? 'ipv4' : 'ipv6' };
  }
  const family = isIP(text);
  if (family !== 0) return { kind: 'cidr', address: text, prefix: family === 4 ? 32 : 128, family: family === 4 ? 'ipv4' : 'ipv6' };
  const hostPort = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(text);
  if (hostPort === null || Number(hostPort[2]) > 65535) return null;
  return { kind: 'host-port', host: normalizeHost(hostPort[1]!), port: Number(hostPort[2]) };
}

/** Lower case, without IPv6 brackets, an IPv4-mapped IPv6 address as IPv4, without a trailing dot. */
export function normalizeHost(host: string): string {
  let value = host.toLowerCase();
  if (value.startsWith('[') && value.endsWith(']')) value = value.slice(1, -1);
  if (value.endsWith('.')) value = value.slice(0, -1);
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(value);
  return mapped === null ? value : mapped[1]!;
}

function familyOf(address: string): 'ipv4' | 'ipv6' {
  return isIP(address) === 6 ? 'ipv6' : 'ipv4';
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host.endsWith('.localhost') || (isIP(host) !== 0 && LOOPBACK.check(host, familyOf(host)));
}

function isUnspecified(host: string): boolean {
  return host === '0.0.0.0' || host === '::';
}

/** The addresses of this machine's interfaces, for listeners bound to every interface. */
function localAddresses(): Set<string> {
  return new Set(Object.values(networkInterfaces()).flatMap((list) => (list ?? []).map((item) => normalizeHost(item.address))));
}

/**
 * Sluice's storage, counters, stored-response record and response cache endpoints as the config names them (SQLite
 * and memory have none). `responses` and `cache` are optional for callers that build a config by hand; a validated
 * one always has them.
 */
export function configuredEndpoints(
  config: Pick<SluiceConfig, 'storage' | 'counters'> & Partial<Pick<SluiceConfig, 'responses' | 'cache'>>,
): OwnEndpoint[] {
  const endpoints: OwnEndpoint[] = [];
  const add = (text: string, defaultPort: number, what: string) => {
    try {
      const url = new URL(text);
      if (url.hostname !== '')
        endpoints.push({ host: normalizeHost(url.hostname), port: url.port === '' ? defaultPort : Number(url.port), what });
    } catch {
      // Validation of storage and counters reports a malformed URL.
    }
  };
  if (/^postgres(ql)?:\/\//.test(config.storage)) add(config.storage, 5432, "Sluice's PostgreSQL store");
  const counters = typeof config.counters === 'string' ? config.counters : config.counters.url;
  if (/^rediss?:\/\//.test(counters)) add(counters, 6379, "Sluice's Redis counters");
  const responses = config.responses?.store;
  if (responses !== undefined && /^rediss?:\/\//.test(responses)) add(responses, 6379, "Sluice's Redis record of stored responses");
  const cache = config.cache?.store;
  if (cache !== undefined && /^rediss?:\/\//.test(cache)) add(cache, 6379, "Sluice's Redis response cache");
  return endpoints;
}

export class ProviderTargets {
  private readonly allowed = new BlockList();
  private readonly allowedHostPorts = new Set<string>();
  private readonly configured: OwnEndpoint[];
  private listeners: OwnEndpoint[] = [];

  /** `endpoints`: storage and counters; the listeners are set once they are bound (their ports may be chosen then). */
  constructor(allow: readonly string[], endpoints: readonly OwnEndpoint[]) {
    for (const text of allow) {
      const entry = parseAllowEntry(text);
      if (entry === null) throw new TypeError(`providerTargets.allow: "${text}" is not a CIDR, an address or host:port`);
      if (entry.kind === 'cidr') this.allowed.addSubnet(entry.address, entry.prefix, entry.family);
      else this.allowedHostPorts.add(`${entry.host}:${entry.port}`);
    }
    this.configured = [...endpoints];
  }

  /** From sluice.yaml alone: its listeners at their configured ports (a port 0 is not known yet, so not checked). */
  static fromConfig(
    config: Pick<SluiceConfig, 'storage' | 'counters' | 'gateway' | 'admin' | 'providerTargets'> & Partial<Pick<SluiceConfig, 'responses'>>,
  ): ProviderTargets {
    const targets = new ProviderTargets(config.providerTargets.allow, configuredEndpoints(config));
    targets.setListeners([
      { host: config.gateway.host, port: config.gateway.port, what: "Sluice's gateway listener" },
      { host: config.admin.host, port: config.admin.port, what: "Sluice's admin listener" },
    ]);
    return targets;
  }

  setListeners(listeners: readonly OwnEndpoint[]): void {
    this.listeners = listeners
      .filter((listener) => listener.port !== 0)
      .map((listener) => ({ ...listener, host: normalizeHost(listener.host) }));
  }

  /** Why a base URL may not be a provider's, or null; checked when it is written. */
  baseUrlRefusal(baseUrl: string): string | null {
    let url: URL;
    try {
      url = new URL(baseUrl);
    } catch {
      return null;
    }
    const host = normalizeHost(url.hostname);
    const port = url.port !== '' ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
    return this.refusal(host, isIP(host) !== 0 ? host : isLoopback(host) ? '127.0.0.1' : null, port);
  }

  /**
   * Why a connection to `hostname` (as the base URL names it), resolved to `address`, on `port` is refused, or null.
   * `address` is null when not known (a name checked at write time).
   */
  refusal(hostname: string, address: string | null, port: number): string | null {
    const host = normalizeHost(hostname);
    const resolved = address === null ? null : normalizeHost(address);
    if (this.isAllowed(host, resolved, port)) return null;
    const advice = `; list it in providerTargets.allow to use it anyway`;
    if (METADATA_NAMES.has(host)) return `${host} is a cloud metadata service${advice}`;
    if (resolved !== null && isIP(resolved) !== 0 && METADATA_ADDRESSES.check(resolved, familyOf(resolved))) {
      return `${host === resolved ? host : `${host} (${resolved})`} is a link-local or cloud metadata address${advice}`;
    }
    for (const endpoint of [...this.listeners, ...this.configured]) {
      if (endpoint.port === port && this.sameHost(endpoint.host, host, resolved)) return `${host}:${port} is ${endpoint.what}${advice}`;
    }
    return null;
  }

  private isAllowed(host: string, address: string | null, port: number): boolean {
    if (this.allowedHostPorts.has(`${host}:${port}`)) return true;
    if (address === null) return false;
    return this.allowedHostPorts.has(`${address}:${port}`) || (isIP(address) !== 0 && this.allowed.check(address, familyOf(address)));
  }

  /** Whether a connection to `host` (resolved to `address`) reaches an endpoint bound to or named `endpointHost`. */
  private sameHost(endpointHost: string, host: string, address: string | null): boolean {
    if (endpointHost === host || (address !== null && endpointHost === address)) return true;
    if (address === null) return false;
    if (isLoopback(endpointHost)) return isLoopback(address) || isUnspecified(address);
    if (isUnspecified(endpointHost)) return isLoopback(address) || isUnspecified(address) || localAddresses().has(address);
    return false;
  }
}
