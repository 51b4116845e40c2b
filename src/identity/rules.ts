// Identity rules: which consumer a client certificate, a mesh identity or a JWT stands for. A rule matches one field
// (a SPIFFE id or certificate subject; a JWT's sub, team claim or one of its groups) exactly, by a prefix that stops at
// a boundary of the field (a path segment, an RDN), or by a pattern where `*` is one path segment and `**` any rest.
// Compiled once per snapshot; a call costs a map look-up for exact rules and a scan of the few prefix and pattern rules.
import type { Consumer } from '../policy/consumers.js';
import { ruleValueProblem } from './rule-values.js';

export const IDENTITY_FIELDS = ['spiffe', 'subject', 'sub', 'team', 'group'] as const;
export type IdentityField = (typeof IDENTITY_FIELDS)[number];
export const IDENTITY_MATCHES = ['exact', 'prefix', 'pattern'] as const;
export type IdentityMatch = (typeof IDENTITY_MATCHES)[number];

/** The fields a certificate (or forwarded certificate) has; the others are a JWT's. */
export const CERTIFICATE_FIELDS: ReadonlySet<IdentityField> = new Set(['spiffe', 'subject']);

export interface IdentityRuleDefinition {
  id: number;
  field: IdentityField;
  match: IdentityMatch;
  value: string;
  /** JWT rules only: the issuer whose tokens the rule applies to; null: the one configured issuer (issuerProblem). */
  issuer: string | null;
  consumer: string;
}

/** What a caller proved, before it is mapped to a consumer. */
export type PresentedIdentity =
  | { kind: 'certificate'; via: 'mtls' | 'xfcc'; spiffe: string | null; subject: string | null }
  | { kind: 'jwt'; issuer: string; sub: string; team: string | null; groups: readonly string[] };

interface CompiledRule {
  definition: IdentityRuleDefinition;
  /** The issuer whose tokens it maps (its own, or the sole configured one); null for a certificate rule. */
  issuer: string | null;
  test: (value: string) => boolean;
}

const MAX_VALUE = 1024;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

/** Why a rule cannot be used; null when it is fine. */
export function ruleProblem(rule: Pick<IdentityRuleDefinition, 'field' | 'match' | 'value' | 'issuer'>): string | null {
  if (rule.value === '' || rule.value.length > MAX_VALUE || CONTROL.test(rule.value))
    return `value: 1 to ${MAX_VALUE} characters, no control characters`;
  if (rule.field === 'spiffe' && (rule.match !== 'prefix' || rule.value.length > 9) && !rule.value.startsWith('spiffe://')) {
    return 'value: a SPIFFE id (or prefix or pattern of one) starts with spiffe://';
  }
  const valueProblem = ruleValueProblem(rule.field, rule.match, rule.value);
  if (valueProblem !== null) return `value: ${valueProblem}`;
  if (rule.issuer !== null && CERTIFICATE_FIELDS.has(rule.field))
    return `issuer: only for JWT fields (sub, team, group), not ${rule.field}`;
  return null;
}

/**
 * Why a rule on a JWT field without an issuer cannot be used with these issuers configured (identity.jwtIssuers); null
 * when it can. Each issuer sets its own tokens' sub, team and groups, so with more than one such a rule cannot tell a
 * principal of one from a token another mints with the same value (a partner's IdP issuing a corporate user's sub):
 * it must name its issuer. With one issuer it stands for that issuer's tokens.
 */
export function issuerProblem(rule: Pick<IdentityRuleDefinition, 'field' | 'issuer'>, issuers: readonly string[]): string | null {
  if (CERTIFICATE_FIELDS.has(rule.field)) return null;
  if (rule.issuer === null) {
    if (issuers.length === 1) return null;
    return issuers.length === 0
      ? 'issuer: no JWT issuer is configured (identity.jwtIssuers), so no token can match a JWT rule'
      : `issuer: ${issuers.length} JWT issuers are configured (identity.jwtIssuers): a ${rule.field} rule must name the issuer whose tokens it maps, or any of them could mint a token with its value`;
  }
  return issuers.includes(rule.issuer) ? null : 'issuer: not one of the configured JWT issuers (identity.jwtIssuers)';
}

/** Why a stored rule maps no one with these JWT issuers configured: its value, or its issuer; null when it can match. */
export function storedRuleProblem(rule: IdentityRuleDefinition, issuers: readonly string[]): string | null {
  return ruleProblem(rule) ?? issuerProblem(rule, issuers);
}

/** `spiffe://acme.mil/ns/*\/sa/checkout`: `*` one path segment, `**` anything; everything else literal. */
export function patternRegExp(pattern: string): RegExp {
  const source = pattern
    .split(/(\*\*|\*)/)
    .map((part) => (part === '**' ? '.*' : part === '*' ? '[^/]+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${source}$`);
}

/**
 * Where a value may go on after a prefix that ends in a letter or digit: a SPIFFE id's path segments (and its trust
 * domain, which ends at the first `/`); a subject's RDNs (`,`) and the values of a multi-valued RDN (`+`), RFC 4514
 * section 2; a JWT value's path segments (`/`, as Keycloak's group paths) and URN-like parts (`:`, as Kubernetes
 * service-account subjects). Inside an RFC 4514 value a `,` or `+` is escaped (`\,`), so one right after a letter or
 * digit is where the value ends.
 */
const SEPARATORS: Readonly<Record<IdentityField, string>> = { spiffe: '/', subject: ',+', sub: '/:', team: '/:', group: '/:' };
const WORD_END = /[\p{L}\p{N}]$/u;

/**
 * A prefix that ends with a letter or digit never stops inside a name: `spiffe://acme.mil/ns/team-a` takes `.../team-a` and `.../team-a/sa/x`, never
 * `.../team-ab`. A prefix that ends with any other character (`spiffe://acme.mil/ns/`, `search-`) says where it stops
 * itself and takes whatever follows.
 */
function prefixTest(field: IdentityField, prefix: string): (value: string) => boolean {
  if (!WORD_END.test(prefix)) return (value) => value.startsWith(prefix);
  const separators = SEPARATORS[field];
  const length = prefix.length;
  return (value) => value.startsWith(prefix) && (value.length === length || separators.includes(value[length]!));
}

export class IdentityRules {
  private readonly exact: Map<string, IdentityRuleDefinition>;
  /** Prefix rules longest first, then pattern rules oldest first. */
  private readonly scanned: CompiledRule[];
  private readonly consumers: Map<string, Consumer>;
  /** Stored rules that map no one (storedRuleProblem), left out: for the gateway to warn of. */
  readonly unusable: ReadonlyArray<{ rule: IdentityRuleDefinition; problem: string }>;
  readonly size: number;

  /**
   * `issuers`: the JWT issuers this gateway verifies tokens of. A JWT rule without an issuer stands for the one issuer's
   * tokens, and maps no one while there are several (issuerProblem).
   */
  constructor(rules: readonly IdentityRuleDefinition[], consumers: readonly Consumer[], issuers: readonly string[] = []) {
    this.exact = new Map();
    this.consumers = new Map(consumers.map((consumer) => [consumer.name, consumer]));
    const unusable: Array<{ rule: IdentityRuleDefinition; problem: string }> = [];
    const usable: Array<{ rule: IdentityRuleDefinition; issuer: string | null }> = [];
    for (const rule of [...rules].sort((a, b) => a.id - b.id)) {
      const problem = storedRuleProblem(rule, issuers);
      if (problem !== null) unusable.push({ rule, problem });
      else usable.push({ rule, issuer: CERTIFICATE_FIELDS.has(rule.field) ? null : (rule.issuer ?? issuers[0]!) });
    }
    // An exact rule naming its issuer is tried before one that stands for the sole issuer without naming it.
    for (const { rule, issuer } of [...usable].sort((a, b) => Number(a.rule.issuer === null) - Number(b.rule.issuer === null))) {
      const key = exactKey(rule.field, issuer, rule.value);
      if (rule.match === 'exact' && !this.exact.has(key)) this.exact.set(key, rule);
    }
    const prefixes: CompiledRule[] = [];
    const patterns: CompiledRule[] = [];
    for (const { rule, issuer } of usable) {
      if (rule.match === 'prefix') {
        prefixes.push({ definition: rule, issuer, test: prefixTest(rule.field, rule.value) });
      } else if (rule.match === 'pattern') {
        const pattern = patternRegExp(rule.value);
        patterns.push({ definition: rule, issuer, test: (value) => pattern.test(value) });
      }
    }
    prefixes.sort((a, b) => b.definition.value.length - a.definition.value.length || a.definition.id - b.definition.id);
    this.scanned = [...prefixes, ...patterns];
    this.unusable = unusable;
    this.size = rules.length;
  }

  /**
   * The consumer the identity maps to and the rule that mapped it; null when no rule maps it to a consumer that exists.
   * Exact rules first, then the longest prefix, then patterns; for a certificate the SPIFFE id before the subject, for a
   * JWT its sub, then its team, then its groups in order. A JWT is mapped by its own issuer's rules only.
   */
  resolve(identity: PresentedIdentity): { consumer: Consumer; rule: IdentityRuleDefinition } | null {
    const candidates = candidatesOf(identity);
    const issuer = identity.kind === 'jwt' ? identity.issuer : null;
    for (const [field, value] of candidates) {
      const rule = this.exact.get(exactKey(field, issuer, value));
      const found = rule === undefined ? null : this.consumerOf(rule);
      if (found !== null) return found;
    }
    for (const compiled of this.scanned) {
      if (compiled.issuer !== issuer) continue;
      const rule = compiled.definition;
      for (const [field, value] of candidates) {
        if (field !== rule.field || !compiled.test(value)) continue;
        const found = this.consumerOf(rule);
        if (found !== null) return found;
      }
    }
    return null;
  }

  private consumerOf(rule: IdentityRuleDefinition): { consumer: Consumer; rule: IdentityRuleDefinition } | null {
    const consumer = this.consumers.get(rule.consumer);
    return consumer === undefined ? null : { consumer, rule };
  }
}

function exactKey(field: IdentityField, issuer: string | null, value: string): string {
  return `${field}\u0000${issuer ?? ''}\u0000${value}`;
}

function candidatesOf(identity: PresentedIdentity): Array<[IdentityField, string]> {
  if (identity.kind === 'certificate') {
    const out: Array<[IdentityField, string]> = [];
    if (identity.spiffe !== null) out.push(['spiffe', identity.spiffe]);
    if (identity.subject !== null) out.push(['subject', identity.subject]);
    return out;
  }
  return [
    ['sub', identity.sub],
    ...(identity.team === null ? [] : [['team', identity.team] as [IdentityField, string]]),
    ...identity.groups.map((group) => ['group', group] as [IdentityField, string]),
  ];
}

/** How the ledger and the API name an identity: never a secret, only what it proved. */
export function identityLabel(identity: PresentedIdentity): string {
  if (identity.kind === 'jwt') return `jwt:${identity.issuer}#${identity.sub}`;
  return `${identity.via}:${identity.spiffe ?? identity.subject ?? 'unnamed'}`;
}
