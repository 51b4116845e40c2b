// Reconciliation's pure parts: the hints an observer of traffic reports, the identity a discovered consumer is keyed by,
// and the rules that attribute discoveries to consumers (CIDR matching with node's own net.BlockList, no hand-written math).
import { createHash } from 'node:crypto';
import { BlockList, isIP } from 'node:net';
import { LABEL_HINTS, MAX_LABEL_HINT, type Hints, type Identity, type ObservationSource, type RuleMatch } from '../schemas/observation.js';

export {
  emptyHints,
  IDENTITY_KINDS,
  LABEL_HINTS,
  MAX_LABEL_HINT,
  type Hints,
  type Identity,
  type IdentityKind,
  type ObservationSource,
  type RuleMatch,
} from '../schemas/observation.js';

export const MAX_HINTS = 20;

/**
 * `<algorithm>:<8 to 24 hex digits>`, e.g. `sha256:9f86d081884c7d65`. The length cap is deliberate: no whole provider
 * key fits (an Azure OpenAI key alone is 32 hex digits), so an observer cannot send one by mistake.
 */
export const KEY_FINGERPRINT_PATTERN = /^[a-z0-9-]{2,16}:[0-9a-f]{8,24}$/;
export const MAX_USER_AGENT = 512;
export const MAX_HOST = 255;
const HOST_PATTERN = /^[a-z0-9._:[\]-]+$/;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

/** The fingerprint an observer should send for a provider key it saw: `sha256:` and the first 16 hex digits of its SHA-256. */
export function keyFingerprint(key: string): string {
  return `sha256:${createHash('sha256').update(key, 'utf8').digest('hex').slice(0, 16)}`;
}

/** One form per address: IPv4-mapped IPv6 (`::ffff:10.0.0.1`) as IPv4, IPv6 compressed and lower-case. Null if not an IP. */
export function normalizeIp(ip: string): string | null {
  const trimmed = ip.trim();
  const family = isIP(trimmed);
  if (family === 4) return trimmed;
  if (family !== 6 || trimmed.includes('%')) return null;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(trimmed);
  if (mapped !== null && isIP(mapped[1]!) === 4) return mapped[1]!;
  // The WHATWG URL parser writes IPv6 hosts in their canonical (RFC 5952) form.
  return new URL(`http://[${trimmed}]/`).hostname.slice(1, -1);
}

/** Why each hint of `source` is unusable, by field name; an empty list when it is fine. */
export function sourceProblems(source: ObservationSource): Array<{ field: keyof ObservationSource | '(source)'; message: string }> {
  const problems: Array<{ field: keyof ObservationSource | '(source)'; message: string }> = [];
  if (source.ip !== undefined && normalizeIp(source.ip) === null) problems.push({ field: 'ip', message: 'not an IPv4 or IPv6 address' });
  if (source.keyFingerprint !== undefined && !KEY_FINGERPRINT_PATTERN.test(source.keyFingerprint.toLowerCase())) {
    problems.push({
      field: 'keyFingerprint',
      message: 'expected <algorithm>:<8 to 24 hex digits>, e.g. sha256:9f86d081884c7d65 (never a key)',
    });
  }
  if (
    source.userAgent !== undefined &&
    (source.userAgent.trim() === '' || source.userAgent.length > MAX_USER_AGENT || CONTROL.test(source.userAgent))
  ) {
    problems.push({ field: 'userAgent', message: `1 to ${MAX_USER_AGENT} characters, no control characters` });
  }
  if (source.host !== undefined && (source.host.length > MAX_HOST || !HOST_PATTERN.test(source.host.toLowerCase()))) {
    problems.push({ field: 'host', message: 'a host name or address' });
  }
  for (const field of LABEL_HINTS) {
    const value = source[field];
    if (value !== undefined && (value.trim() === '' || value.length > MAX_LABEL_HINT || CONTROL.test(value))) {
      problems.push({ field, message: `1 to ${MAX_LABEL_HINT} characters, no control characters` });
    }
  }
  if (source.keyFingerprint === undefined && source.ip === undefined && source.userAgent === undefined) {
    problems.push({ field: '(source)', message: 'needs at least one of keyFingerprint, ip, userAgent to tell who called' });
  }
  return problems;
}

/** The hints in their stored form (call only on a source without problems). */
export function normalizeSource(source: ObservationSource): ObservationSource {
  const out: ObservationSource = {};
  if (source.ip !== undefined) out.ip = normalizeIp(source.ip)!;
  if (source.keyFingerprint !== undefined) out.keyFingerprint = source.keyFingerprint.toLowerCase();
  if (source.userAgent !== undefined) out.userAgent = source.userAgent.trim();
  if (source.host !== undefined) out.host = source.host.toLowerCase();
  for (const field of LABEL_HINTS) {
    const value = source[field];
    if (value !== undefined) out[field] = value.trim();
  }
  return out;
}

/** The identity of a normalized source: its strongest hint. */
export function identityOf(source: ObservationSource): Identity {
  if (source.keyFingerprint !== undefined) return { kind: 'keyFingerprint', value: source.keyFingerprint, host: null };
  if (source.ip !== undefined) return { kind: 'ip', value: source.ip, host: null };
  if (source.userAgent !== undefined) return { kind: 'userAgent', value: source.userAgent, host: source.host ?? null };
  throw new Error('a source without an identifying hint');
}

/** `hints` with those of one more observation added (each list distinct, at most MAX_HINTS long); whether anything changed. */
export function mergeHints(hints: Hints, source: ObservationSource, observer: string): boolean {
  let changed = false;
  const add = (list: string[], value: string | undefined) => {
    if (value === undefined || list.length >= MAX_HINTS || list.includes(value)) return;
    list.push(value);
    changed = true;
  };
  add(hints.ips, source.ip);
  add(hints.keyFingerprints, source.keyFingerprint);
  add(hints.userAgents, source.userAgent);
  add(hints.hosts, source.host);
  add(hints.observers, observer);
  add(hints.users, source.user);
  add(hints.organizations, source.organization);
  add(hints.projects, source.project);
  add(hints.services, source.service);
  return changed;
}

export interface ParsedCidr {
  /** The network as stored: its address normalized, the prefix length always written. */
  text: string;
  address: string;
  prefix: number;
  family: 'ipv4' | 'ipv6';
}

/** `10.1.0.0/16`, `2001:db8::/32`; null when it is not one. */
export function parseCidr(cidr: string): ParsedCidr | null {
  const [addressPart, prefixPart, extra] = cidr.trim().split('/');
  if (addressPart === undefined || extra !== undefined) return null;
  const address = normalizeIp(addressPart);
  if (address === null) return null;
  const family = isIP(address) === 4 ? 'ipv4' : 'ipv6';
  const max = family === 'ipv4' ? 32 : 128;
  if (prefixPart !== undefined && !/^\d{1,3}$/.test(prefixPart)) return null;
  // An IPv4-mapped network (::ffff:10.0.0.0/104) is read as the IPv4 one it names (10.0.0.0/8), as its address is;
  // its prefix counts the 96 bits before the IPv4 address, and one shorter than that names no IPv4 network.
  const mapped = family === 'ipv4' && isIP(addressPart.trim()) === 6;
  if (mapped && prefixPart !== undefined && (Number(prefixPart) < 96 || Number(prefixPart) > 128)) return null;
  const prefix = prefixPart === undefined ? max : Number(prefixPart) - (mapped ? 96 : 0);
  if (prefix > max) return null;
  return { text: `${address}/${prefix}`, address, prefix, family };
}

/** Why a rule's match cannot be used, by field name; an empty list when it is fine. */
export function matchProblems(match: RuleMatch): Array<{ field: keyof RuleMatch | '(match)'; message: string }> {
  const problems: Array<{ field: keyof RuleMatch | '(match)'; message: string }> = [];
  if (match.cidr === undefined && match.keyFingerprint === undefined && match.userAgent === undefined) {
    problems.push({ field: '(match)', message: 'needs at least one of cidr, keyFingerprint, userAgent' });
  }
  if (match.cidr !== undefined && parseCidr(match.cidr) === null)
    problems.push({ field: 'cidr', message: 'an IPv4 or IPv6 network, e.g. 10.1.0.0/16' });
  if (match.keyFingerprint !== undefined && !KEY_FINGERPRINT_PATTERN.test(match.keyFingerprint.toLowerCase())) {
    problems.push({ field: 'keyFingerprint', message: 'expected <algorithm>:<8 to 24 hex digits>, e.g. sha256:9f86d081884c7d65' });
  }
  if (
    match.userAgent !== undefined &&
    (match.userAgent === '' || match.userAgent.length > MAX_USER_AGENT || CONTROL.test(match.userAgent))
  ) {
    problems.push({ field: 'userAgent', message: `1 to ${MAX_USER_AGENT} characters, no control characters` });
  }
  return problems;
}

/** The match in its stored form (call only on one without problems). */
export function normalizeMatch(match: RuleMatch): RuleMatch {
  const out: RuleMatch = {};
  if (match.cidr !== undefined) out.cidr = parseCidr(match.cidr)!.text;
  if (match.keyFingerprint !== undefined) out.keyFingerprint = match.keyFingerprint.toLowerCase();
  if (match.userAgent !== undefined) out.userAgent = match.userAgent;
  return out;
}

/** A rule ready to test sources and discovered consumers against. */
export class RuleMatcher {
  readonly match: RuleMatch;
  private readonly network: BlockList | null;

  constructor(match: RuleMatch) {
    this.match = match;
    const cidr = match.cidr === undefined ? null : parseCidr(match.cidr);
    if (match.cidr !== undefined && cidr === null) throw new Error(`not a network: ${match.cidr}`);
    this.network = null;
    if (cidr !== null) {
      this.network = new BlockList();
      this.network.addSubnet(cidr.address, cidr.prefix, cidr.family);
    }
  }

  private ipMatches(ip: string): boolean {
    if (this.network === null) return true;
    const family = isIP(ip);
    return family !== 0 && this.network.check(ip, family === 4 ? 'ipv4' : 'ipv6');
  }

  /** Whether one observation's (normalized) source meets every condition. */
  matchesSource(source: ObservationSource): boolean {
    if (this.match.cidr !== undefined && (source.ip === undefined || !this.ipMatches(source.ip))) return false;
    if (this.match.keyFingerprint !== undefined && source.keyFingerprint !== this.match.keyFingerprint) return false;
    if (this.match.userAgent !== undefined && (source.userAgent === undefined || !source.userAgent.startsWith(this.match.userAgent)))
      return false;
    return true;
  }

  /** Whether a discovered consumer meets every condition: for each, one of its recorded hints does. */
  matchesHints(hints: Hints): boolean {
    if (this.match.cidr !== undefined && !hints.ips.some((ip) => this.ipMatches(ip))) return false;
    if (this.match.keyFingerprint !== undefined && !hints.keyFingerprints.includes(this.match.keyFingerprint)) return false;
    const prefix = this.match.userAgent;
    if (prefix !== undefined && !hints.userAgents.some((agent) => agent.startsWith(prefix))) return false;
    return true;
  }
}

/**
 * What the director gives the store to apply in intake's and a rule's transaction: the store's DiscoveryPolicy
 * (src/store/reconciliation-store.ts), which this satisfies without policy importing the store.
 */
export const DISCOVERY_POLICY = {
  sourceProblems,
  normalizeSource,
  identityOf,
  mergeHints,
  matchProblems,
  normalizeMatch,
  compileRule: (match: RuleMatch) => new RuleMatcher(match),
};
