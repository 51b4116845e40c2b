// What a client certificate says about its holder, read the same way whether it reaches Sluice on an mTLS connection or
// forwarded by a trusted proxy in XFCC's Cert= or Chain=: whether it is a CA's, its SPIFFE id, its subject in RFC 4514
// form, and until when it is valid.
import type { X509Certificate } from 'node:crypto';
import { signingMarks, type SigningMarks } from './certificate-extensions.js';
import { isSpiffeUri } from './spiffe-id.js';

/** Why a certificate does not identify its caller and the call is refused (401). */
export class CertificateRefused extends Error {}

/**
 * Why a certificate is a CA's, or null for a leaf's. A leaf X.509-SVID has basic constraints cA false and neither
 * keyCertSign nor cRLSign in its key usage, and a validator must check both (X.509-SVID standard, sections 4.1, 4.3 and
 * 5.2). Applied to every client certificate, with a SPIFFE id or a subject: a CA's certificate is for checking others.
 */
export function signingCertificate(certificate: X509Certificate): string | null {
  let marks: SigningMarks;
  try {
    marks = signingMarks(certificate.raw);
  } catch {
    // OpenSSL verified it, so this is a certificate the parser cannot read: whether it is a CA's cannot be told.
    return 'its basic constraints and key usage do not read';
  }
  if (marks.cA) return 'its basic constraints say cA';
  if (marks.keyCertSign) return 'its key usage has keyCertSign';
  if (marks.cRLSign) return 'its key usage has cRLSign';
  // OpenSSL's own judgement (X509_check_ca) also takes a version 1 self-signed certificate for a CA's.
  return certificate.ca ? 'OpenSSL takes it for a CA certificate' : null;
}

/** The URIs of node's SAN text, `URI:spiffe://..., DNS:...` (values with odd characters JSON-quoted). */
export function uriSans(subjectAltName: string | undefined): string[] {
  const uris: string[] = [];
  if (subjectAltName === undefined) return uris;
  for (const entry of subjectAltName.split(', ')) {
    if (!entry.startsWith('URI:')) continue;
    let value = entry.slice(4);
    if (value.startsWith('"')) {
      try {
        value = JSON.parse(value) as string;
      } catch {
        continue;
      }
    }
    uris.push(value);
  }
  return uris;
}

/**
 * The SPIFFE id of a certificate's URI SANs (a URI of the spiffe scheme, in any case: one written `SPIFFE:` is a
 * malformed SPIFFE id, not some other name); null when none is one (not an SVID: its subject may still identify it).
 * An X.509-SVID has exactly one URI SAN, and a validator must reject one with more (the SPIFFE X.509-SVID standard,
 * sections 2 and 5.2): which of two ids would be the caller is for no rule to guess.
 */
export function spiffeOf(uris: readonly string[], where: string): string | null | CertificateRefused {
  const spiffe = uris.find(isSpiffeUri);
  if (spiffe === undefined) return null;
  if (uris.length > 1) {
    return new CertificateRefused(`The ${where} has ${uris.length} URI SANs: an X.509-SVID (SPIFFE id) has exactly one.`);
  }
  return spiffe;
}

/**
 * node's subject has one RDN a line in the certificate's (DER) order, `O=Acme\nCN=checkout`, escaped as RFC 2253 escapes,
 * the values of a multi-valued RDN joined by ` + `. RFC 4514 (section 2.1) writes the last RDN first and `+` with no
 * spaces: `CN=checkout+OU=jobs,O=Acme`, as Envoy forwards a subject in XFCC (OpenSSL's RFC 2253 form), so one subject
 * rule maps a certificate whether it reaches Sluice directly or through the mesh. Inside a value a `+` is escaped (`\+`),
 * so ` + ` is always the separator.
 */
export function subjectOf(subject: string): string | null {
  return subject === '' ? null : subject.split('\n').reverse().join(',').replaceAll(' + ', '+');
}

/** When the certificate starts being valid, in epoch milliseconds. */
export function notBefore(certificate: X509Certificate): number {
  return Date.parse(certificate.validFrom);
}

/** When the certificate stops being valid, in epoch milliseconds. */
export function notAfter(certificate: X509Certificate): number {
  return Date.parse(certificate.validTo);
}
