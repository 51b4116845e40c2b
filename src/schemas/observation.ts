// What an observer of traffic reports of a caller, how a discovered consumer is keyed, and what a reconciliation rule
// matches: the shapes /api/observations and /api/reconciliation take, the store keeps, and the discovery policy checks.

/** What an observer saw of who made a call. A key fingerprint is a short hash prefix, never a key (see keyFingerprint). */
export interface ObservationSource {
  ip?: string;
  keyFingerprint?: string;
  userAgent?: string;
  host?: string;
  /** The user an observer authenticated (a discovery proxy's Proxy-Authorization user). */
  user?: string;
  /** The provider organization or account the call named (OpenAI-Organization, anthropic-organization-id). */
  organization?: string;
  /** The provider project the call named (OpenAI-Project). */
  project?: string;
  /** The calling service's own name (OpenTelemetry service.name). */
  service?: string;
}

/** The hints that describe a caller without identifying it: kept, never used as its identity. */
export const LABEL_HINTS = ['user', 'organization', 'project', 'service'] as const;
export const MAX_LABEL_HINT = 200;

/** The strongest hint present names a discovered consumer: a key fingerprint, else the source IP, else the user agent (with the host). */
export const IDENTITY_KINDS = ['keyFingerprint', 'ip', 'userAgent'] as const;
export type IdentityKind = (typeof IDENTITY_KINDS)[number];

export interface Identity {
  kind: IdentityKind;
  value: string;
  /** Part of the identity only for `userAgent` (the same agent calling another host is another discovery); else null. */
  host: string | null;
}

/** Every distinct hint seen for one discovered consumer, the first MAX_HINTS of each kind, in the order first seen. */
export interface Hints {
  ips: string[];
  keyFingerprints: string[];
  userAgents: string[];
  hosts: string[];
  observers: string[];
  users: string[];
  organizations: string[];
  projects: string[];
  services: string[];
}

/** What a rule matches; every condition given must hold. */
export interface RuleMatch {
  /** An IPv4 or IPv6 network, e.g. `10.1.0.0/16` or `2001:db8::/32`; a bare address is its /32 or /128. */
  cidr?: string;
  keyFingerprint?: string;
  /** A prefix of the user agent, e.g. `python-requests/`. */
  userAgent?: string;
}

/** Hints with none recorded yet: where every discovered consumer's start. */
export function emptyHints(): Hints {
  return {
    ips: [],
    keyFingerprints: [],
    userAgents: [],
    hosts: [],
    observers: [],
    users: [],
    organizations: [],
    projects: [],
    services: [],
  };
}
