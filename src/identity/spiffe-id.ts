// SPIFFE ids as the SPIFFE ID standard defines them (github.com/spiffe/spiffe, standards/SPIFFE-ID.md, sections 2 to 2.3),
// and the leaf rule of the X.509-SVID standard (standards/X509-SVID.md, section 5.2: a caller's id has a path). An id that
// breaks them identifies no one. Checked by hand: a few character classes, no URL parser (WHATWG URL lowercases and
// percent-decodes, which would hide exactly what must be refused).

/** SPIFFE-ID.md 2.3: implementations must support 2048 bytes and should not make longer ids; Sluice takes no longer. */
const MAX_LENGTH = 2048;
/** RFC 3986's limit of a host, so of a trust domain (SPIFFE-ID.md 2.3). */
const MAX_TRUST_DOMAIN = 255;
const SCHEME = 'spiffe://';
const TRUST_DOMAIN = /^[a-z0-9._-]+$/;
const SEGMENT = /^[A-Za-z0-9._-]+$/;

/** Whether a URI names the spiffe scheme (case-insensitive in RFC 3986), so is meant as a SPIFFE id. */
export function isSpiffeUri(uri: string): boolean {
  return uri.length >= 7 && uri.slice(0, 7).toLowerCase() === 'spiffe:';
}

/**
 * Why `id` is not a SPIFFE id a caller may present (a leaf SVID's: with a path), or null when it is. The reason never
 * quotes the id: a malformed one may carry a password (userinfo) or a token (query).
 */
export function callerSpiffeIdProblem(id: string): string | null {
  if (id.length > MAX_LENGTH) return `it is longer than ${MAX_LENGTH} bytes`;
  if (!id.startsWith(SCHEME)) {
    return isSpiffeUri(id) && id.slice(0, SCHEME.length).toLowerCase() === SCHEME
      ? 'its scheme must be written spiffe, in lowercase'
      : 'it does not start with spiffe://';
  }
  if (id.includes('?')) return 'it has a query (?), which a SPIFFE id must not';
  if (id.includes('#')) return 'it has a fragment (#), which a SPIFFE id must not';
  if (id.includes('%')) return 'it has percent-encoded characters, which a SPIFFE id must not';
  const rest = id.slice(SCHEME.length);
  const slash = rest.indexOf('/');
  const trustDomain = slash === -1 ? rest : rest.slice(0, slash);
  if (trustDomain.includes('@')) return 'its trust domain has userinfo (@), which a SPIFFE id must not';
  if (trustDomain.includes(':')) return 'its trust domain has a port (:), which a SPIFFE id must not';
  if (trustDomain === '') return 'its trust domain is empty';
  if (trustDomain.length > MAX_TRUST_DOMAIN) return `its trust domain is longer than ${MAX_TRUST_DOMAIN} characters`;
  if (!TRUST_DOMAIN.test(trustDomain)) {
    return trustDomain.toLowerCase() !== trustDomain && TRUST_DOMAIN.test(trustDomain.toLowerCase())
      ? 'its trust domain must be lowercase'
      : 'its trust domain has a character outside a-z 0-9 . - _';
  }
  // X509-SVID.md 5.2: an id without a path is a trust domain's own (its signing certificates'), never a caller's.
  if (slash === -1) return 'it has no path (an id without one names a trust domain, not a workload)';
  for (const segment of rest.slice(slash + 1).split('/')) {
    if (segment === '') return 'its path has an empty segment (// or a trailing /)';
    if (segment === '.' || segment === '..') return `its path has a "${segment}" segment`;
    if (!SEGMENT.test(segment)) return 'its path has a character outside A-Z a-z 0-9 . - _';
  }
  return null;
}

/**
 * An id fit for a log line: without userinfo, query or fragment (where a malformed id may carry a secret), at most 200
 * characters.
 */
export function printableSpiffeId(id: string): string {
  let shown = id;
  const cut = shown.search(/[?#]/);
  if (cut !== -1) shown = `${shown.slice(0, cut)}${shown[cut]}(removed)`;
  let start = shown.indexOf(':') + 1;
  while (shown[start] === '/') start++;
  const end = shown.indexOf('/', start);
  const at = shown.lastIndexOf('@', end === -1 ? shown.length : end);
  if (at >= start) shown = `${shown.slice(0, start)}(removed)@${shown.slice(at + 1)}`;
  return shown.length > 200 ? `${shown.slice(0, 200)}...` : shown;
}
