// The client certificate a trusted proxy forwards in XFCC's Cert= (or first in Chain=, leaf first), URL-encoded PEM as
// Envoy writes it (docs/root/configuration/http/http_conn_man/headers.rst; its TLS connection info's
// urlEncodedPemEncodedPeerCertificate), and whether the element's other keys agree with it: Hash= is the SHA-256 of its
// DER in hex, URI= its URI SANs, Subject= its subject (RFC 2253). An element that disagrees with its own certificate is
// forged or broken and identifies no one; a CA's certificate, one expired or not yet valid (or a Chain= with such a CA
// certificate), or a Chain= whose certificates do not each issue the one before them is refused as on a direct mTLS
// connection. With identity.forwardedCaFile, the certificate
// (with its Chain=) must also end at one of that file's roots (forwarded-roots.ts), and an element without one is refused.
// XFCC comes with every call: a certificate is decoded and read once, then found in a bounded cache by its text, with
// the verdict of its anchoring against the roots of the last call (read again only when a reload replaced them).
import { X509Certificate } from 'node:crypto';
import { CertificateRefused, notAfter, notBefore, signingCertificate, subjectOf, uriSans } from './client-certificate.js';
import { sameDistinguishedName } from './distinguished-name.js';
import { anchoring, signedBy, type Anchoring, type TrustedRoots } from './forwarded-roots.js';
import type { XfccElement } from './xfcc.js';

/** What a forwarded certificate says, read once per distinct Cert= or Chain= text. */
interface ForwardedCertificate {
  /** SHA-256 of its DER, lowercase hex: Envoy's Hash=. */
  hash: string;
  uris: string[];
  subject: string | null;
  /** Why it is a CA's certificate, or null for a leaf's. */
  signing: string | null;
  /** The earliest end of validity of the certificates forwarded with it (a Chain='s, leaf first), in epoch ms. */
  expiresAt: number;
  /** The latest start of validity of the certificates forwarded with it, in epoch ms. */
  validFrom: number;
  /** Why the certificates forwarded with it (a Chain='s) do not chain, or null (chainProblem). */
  unchained: string | null;
  /** The certificates forwarded with it, leaf first. */
  certificates: readonly X509Certificate[];
  /** Whether they end at a root of identity.forwardedCaFile, against the roots last asked about; null before. */
  anchored: Anchoring | null;
}

/** The certificate and its identity fields, when the element forwards one and agrees with it. */
export interface Agreed {
  uris: string[];
  subject: string | null;
}

/** The element disagrees with its own certificate: why (never the certificate). */
export class Disagreement {
  constructor(
    readonly reason: string,
    readonly hash: string,
  ) {}
}

const PEM = /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g;
/** Distinct forwarded certificates remembered: a mesh's callers, renewed now and then; the oldest read goes first. */
const CACHE_SIZE = 1024;
const READ = new Map<string, ForwardedCertificate | CertificateRefused>();

/**
 * The identity fields of the element's forwarded certificate (Cert=, else the first of Chain=); null when it forwards
 * none; a Disagreement when its Hash=, URI=, Subject= or Chain= say otherwise. Throws CertificateRefused for a
 * certificate that does not read, is a CA's, has expired or is not yet valid, or (with `roots`, identity.forwardedCaFile's) does not end at
 * one of the roots, and with `roots` for an element that forwards none.
 */
export function forwardedCertificate(element: XfccElement, roots: TrustedRoots | null): Agreed | Disagreement | null {
  const encoded = element.cert ?? element.chain;
  if (encoded === null) {
    if (roots === null) return null;
    throw new CertificateRefused(
      'The trusted proxy forwarded no certificate (Cert= or Chain=) for its client: with identity.forwardedCaFile set, a forwarded identity is taken only from a certificate that chains to one of its roots (Envoy: set_current_client_cert_details cert or chain).',
    );
  }
  const certificate = read(encoded);
  const chain = element.chain === null ? certificate : read(element.chain);
  if (chain.hash !== certificate.hash) return new Disagreement('its Chain= does not start with its Cert=', certificate.hash);
  if (certificate.signing !== null) {
    throw new CertificateRefused(
      `The forwarded client certificate is a CA's (${certificate.signing}), not a client's: a CA certificate identifies no caller (the SPIFFE X.509-SVID standard, section 5.2).`,
    );
  }
  const now = Date.now();
  if (now > Math.min(certificate.expiresAt, chain.expiresAt)) {
    throw new CertificateRefused('The forwarded client certificate (or a CA certificate of its Chain=) has expired (CERT_HAS_EXPIRED).');
  }
  if (now < Math.max(certificate.validFrom, chain.validFrom)) {
    throw new CertificateRefused(
      'The forwarded client certificate (or a CA certificate of its Chain=) is not yet valid (CERT_NOT_YET_VALID): its notBefore is in the future.',
    );
  }
  if (chain.unchained !== null)
    throw new CertificateRefused(`The forwarded client certificate's Chain= does not chain: ${chain.unchained}.`);
  if (roots !== null) anchor(chain, roots, now);
  if (element.hash !== null && element.hash.toLowerCase() !== certificate.hash) {
    return new Disagreement("its Hash= is not its certificate's SHA-256", certificate.hash);
  }
  for (const uri of element.uri) {
    // Envoy writes `URI=` for a certificate without one.
    if (uri !== '' && !certificate.uris.includes(uri))
      return new Disagreement('its URI= is not a URI SAN of its certificate', certificate.hash);
  }
  if (element.subject !== null && (certificate.subject === null || !sameDistinguishedName(element.subject, certificate.subject))) {
    return new Disagreement("its Subject= is not its certificate's subject", certificate.hash);
  }
  return { uris: certificate.uris, subject: certificate.subject };
}

/** Throws CertificateRefused when the forwarded certificates (a Chain='s, or a lone Cert=) do not end at one of the roots. */
function anchor(forwarded: ForwardedCertificate, roots: TrustedRoots, now: number): void {
  let verdict = forwarded.anchored;
  if (verdict?.roots !== roots) verdict = forwarded.anchored = anchoring(forwarded.certificates, roots);
  if (verdict.problem !== null) {
    throw new CertificateRefused(`The forwarded client certificate is not trusted: ${verdict.problem}.`);
  }
  // Valid now through one of the roots it may end at (a rollover bundle may hold a root before its validity starts).
  const through = verdict.rootValidity;
  if (through.some(([from, to]) => from <= now && now <= to)) return;
  if (through.some(([, to]) => now <= to)) {
    throw new CertificateRefused(
      'The root of identity.forwardedCaFile the forwarded client certificate chains to is not yet valid (CERT_NOT_YET_VALID): its notBefore is in the future.',
    );
  }
  throw new CertificateRefused(
    'The root of identity.forwardedCaFile the forwarded client certificate chains to has expired (CERT_HAS_EXPIRED).',
  );
}

/** The certificate of a Cert= (or the first of a Chain=), from the cache or read now. Throws CertificateRefused. */
function read(encoded: string): ForwardedCertificate {
  let known = READ.get(encoded);
  if (known === undefined) {
    known = decode(encoded);
    if (READ.size >= CACHE_SIZE) READ.delete(READ.keys().next().value!);
    READ.set(encoded, known);
  }
  if (known instanceof CertificateRefused) throw known;
  return known;
}

function decode(encoded: string): ForwardedCertificate | CertificateRefused {
  let certificates: X509Certificate[];
  try {
    const pems = decodeURIComponent(encoded).match(PEM);
    if (pems === null) throw new Error('no PEM certificate');
    certificates = pems.slice(0, 10).map((pem) => new X509Certificate(pem));
  } catch {
    return new CertificateRefused(
      'The x-forwarded-client-cert header from the proxy is malformed: its Cert= or Chain= is not a URL-encoded PEM certificate.',
    );
  }
  const certificate = certificates[0]!;
  return {
    hash: certificate.fingerprint256.replaceAll(':', '').toLowerCase(),
    uris: uriSans(certificate.subjectAltName),
    subject: subjectOf(certificate.subject),
    signing: signingCertificate(certificate),
    expiresAt: Math.min(...certificates.map(notAfter)),
    validFrom: Math.max(...certificates.map(notBefore)),
    unchained: chainProblem(certificates),
    certificates,
    anchored: null,
  };
}

/**
 * Why a chain, leaf first, does not chain; null when each certificate after the first issued the one before it: its
 * subject is that one's issuer and its key identifier that one's authority key identifier (OpenSSL's X509_check_issued,
 * which also refuses an issuer whose key usage lacks keyCertSign), its key verifies that one's signature, and it is a
 * CA's (OpenSSL's X509_check_ca: basic constraints cA, and keyCertSign when it has a key usage). The proxy verified the
 * connection's chain; one forwarded that does not chain was not that chain. The last certificate's own issuer (a root
 * the chain leaves out) is checked only with identity.forwardedCaFile (anchoring).
 */
function chainProblem(certificates: readonly X509Certificate[]): string | null {
  for (let index = 1; index < certificates.length; index++) {
    const issued = certificates[index - 1]!;
    const issuer = certificates[index]!;
    const which = `certificate ${index + 1} (${issuer.subject.replaceAll('\n', ', ')})`;
    if (!issued.checkIssued(issuer)) return `${which} is not the issuer of certificate ${index} (names, key identifiers or key usage)`;
    if (!issuer.ca) return `${which} is not a CA's certificate (basic constraints cA with keyCertSign)`;
    if (!signedBy(issued, issuer)) return `${which} did not sign certificate ${index}: the signature does not verify`;
  }
  return null;
}
