// The identity the connection itself proves: the client certificate of an mTLS connection, or, when the direct peer is a
// trusted proxy (a mesh sidecar or waypoint), the client identity that proxy forwards in x-forwarded-client-cert.
// A header from any other peer is ignored, whatever it says: anyone can write one.
import type { X509Certificate } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { BlockList, isIP } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import { normalizeIp, parseCidr } from '../policy/discovery.js';
import { signingMarks, type SigningMarks } from './certificate-extensions.js';
import type { PresentedIdentity } from './rules.js';
import { callerSpiffeIdProblem, isSpiffeUri, printableSpiffeId } from './spiffe-id.js';
import { parseXfcc } from './xfcc.js';

/** Why a connection's certificate is refused (401): none where one is required, or one no configured CA signed. */
export class CertificateRefused extends Error {}

type CertificateIdentity = Extract<PresentedIdentity, { kind: 'certificate' }>;

/**
 * A trusted certificate that identifies no one: its SPIFFE id breaks the SPIFFE ID standard. Its caller is treated as
 * one that sent no certificate (refused where one is required, else left to its key or JWT); its subject is not used
 * instead, since the certificate claims to be an SVID and is not a valid one.
 */
class Unidentified {
  constructor(readonly reason: string) {}
}

/** The result per TLS connection: its certificate is read once, not on every request of a kept-alive connection. */
const PER_SOCKET = new WeakMap<object, CertificateIdentity | CertificateRefused | Unidentified | null>();

export interface PeerSettings {
  /** The listener verifies client certificates (a client CA is configured). */
  clientCertificates: boolean;
  /** A call without a client certificate is refused. */
  certificateRequired: boolean;
  /** Peers whose x-forwarded-client-cert is believed; null when none are configured. */
  trustedProxies: BlockList | null;
  /** Where an identity taken as none is reported (the id's problem, never a secret it may carry); null for no one. */
  logger: Pick<Logger, 'warn'> | null;
}

export function trustedProxyList(cidrs: readonly string[]): BlockList | null {
  if (cidrs.length === 0) return null;
  const list = new BlockList();
  for (const cidr of cidrs) {
    const parsed = parseCidr(cidr)!;
    list.addSubnet(parsed.address, parsed.prefix, parsed.family);
  }
  return list;
}

/**
 * What the connection proves, or null when it proves nothing (no certificate asked for, or optional and not sent,
 * and no trusted forwarded identity). Throws CertificateRefused.
 */
export function peerIdentity(settings: PeerSettings, req: IncomingMessage): CertificateIdentity | null {
  if (settings.trustedProxies !== null) {
    const forwarded = forwardedIdentity(settings.trustedProxies, req, settings.logger);
    if (forwarded !== null) return forwarded;
  }
  if (!settings.clientCertificates) return null;
  const socket = req.socket as TLSSocket;
  let known = PER_SOCKET.get(socket);
  if (known === undefined) {
    known = certificateOf(socket, settings.logger);
    PER_SOCKET.set(socket, known);
  }
  if (known instanceof CertificateRefused) throw known;
  if (known instanceof Unidentified) {
    if (!settings.certificateRequired) return null;
    throw new CertificateRefused(
      `The client certificate's SPIFFE id is not a valid SPIFFE id (${known.reason}): it identifies no one, and this listener requires a client certificate that does.`,
    );
  }
  if (known === null && settings.certificateRequired) {
    throw new CertificateRefused('No client certificate: this listener requires one signed by its client CA.');
  }
  return known;
}

function certificateOf(socket: TLSSocket, logger: PeerSettings['logger']): CertificateIdentity | CertificateRefused | Unidentified | null {
  if (typeof socket.getPeerX509Certificate !== 'function') return null;
  const certificate = socket.getPeerX509Certificate();
  if (certificate === undefined) return null;
  if (!socket.authorized) {
    return new CertificateRefused(`The client certificate is not trusted (${String(socket.authorizationError ?? 'unverified')}).`);
  }
  const signing = signingCertificate(certificate);
  if (signing !== null) {
    return new CertificateRefused(
      `The client certificate is a CA's (${signing}), not a client's: a CA certificate identifies no caller (the SPIFFE X.509-SVID standard, section 5.2).`,
    );
  }
  const spiffe = spiffeOf(uriSans(certificate.subjectAltName), 'client certificate');
  if (spiffe instanceof CertificateRefused) return spiffe;
  const subject = subjectOf(certificate.subject);
  const problem = spiffe === null ? null : callerSpiffeIdProblem(spiffe);
  if (problem !== null) {
    logUnidentified(logger, 'mtls', socket.remoteAddress, spiffe!, problem, { subject, serialNumber: certificate.serialNumber });
    return new Unidentified(problem);
  }
  return { kind: 'certificate', via: 'mtls', spiffe, subject };
}

/**
 * Why a certificate is a CA's, or null for a leaf's. A leaf X.509-SVID has basic constraints cA false and neither
 * keyCertSign nor cRLSign in its key usage, and a validator must check both (X.509-SVID standard, sections 4.1, 4.3 and
 * 5.2). Applied to every client certificate, with a SPIFFE id or a subject: a CA's certificate is for checking others.
 */
function signingCertificate(certificate: X509Certificate): string | null {
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
function uriSans(subjectAltName: string | undefined): string[] {
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

/** A SPIFFE id taken as none: one line per connection (mTLS) or call (XFCC), naming the certificate, not its secrets. */
function logUnidentified(
  logger: PeerSettings['logger'],
  via: CertificateIdentity['via'],
  peer: string | undefined,
  spiffe: string,
  reason: string,
  certificate: { subject: string | null; serialNumber?: string; hash?: string | null },
): void {
  logger?.warn(
    { via, peer, spiffeId: printableSpiffeId(spiffe), reason, ...certificate },
    'A client certificate is taken as no identity: its SPIFFE id is not a valid SPIFFE id',
  );
}

/**
 * The SPIFFE id of a certificate's URI SANs (a URI of the spiffe scheme, in any case: one written `SPIFFE:` is a
 * malformed SPIFFE id, not some other name); null when none is one (not an SVID: its subject may still identify it).
 * An X.509-SVID has exactly one URI SAN, and a validator must reject one with more (the SPIFFE X.509-SVID standard,
 * sections 2 and 5.2): which of two ids would be the caller is for no rule to guess.
 */
function spiffeOf(uris: readonly string[], where: string): string | null | CertificateRefused {
  const spiffe = uris.find(isSpiffeUri);
  if (spiffe === undefined) return null;
  if (uris.length > 1) {
    return new CertificateRefused(`The ${where} has ${uris.length} URI SANs: an X.509-SVID (SPIFFE id) has exactly one.`);
  }
  return spiffe;
}

/**
 * node's subject has one RDN a line in the certificate's (DER) order, `O=Acme\nCN=checkout`, escaped as RFC 2253 escapes.
 * RFC 4514 (section 2.1) writes the last RDN first: `CN=checkout,O=Acme`, as Envoy forwards a subject in XFCC (RFC 2253),
 * so one subject rule maps a certificate whether it reaches Sluice directly or through the mesh.
 */
function subjectOf(subject: string): string | null {
  return subject === '' ? null : subject.split('\n').reverse().join(',');
}

/** The identity a trusted proxy forwards; null for none (or one taken as none: a SPIFFE id that is not valid). */
function forwardedIdentity(trusted: BlockList, req: IncomingMessage, logger: PeerSettings['logger']): CertificateIdentity | null {
  const header = req.headers['x-forwarded-client-cert'];
  if (typeof header !== 'string' || header === '') return null;
  const remote = req.socket.remoteAddress;
  const address = remote === undefined ? null : normalizeIp(remote);
  if (address === null || !trusted.check(address, isIP(address) === 4 ? 'ipv4' : 'ipv6')) return null;
  const elements = parseXfcc(header);
  // The last element is the one the trusted proxy itself added: the client it terminated mTLS for.
  const element = elements?.at(-1);
  if (element === undefined) throw new CertificateRefused('The x-forwarded-client-cert header from the proxy is malformed.');
  const spiffe = spiffeOf(element.uri, 'forwarded client certificate');
  if (spiffe instanceof CertificateRefused) throw spiffe;
  if (spiffe === null && element.subject === null) return null;
  const problem = spiffe === null ? null : callerSpiffeIdProblem(spiffe);
  if (problem !== null) {
    logUnidentified(logger, 'xfcc', address, spiffe!, problem, { subject: element.subject, hash: element.hash });
    return null;
  }
  return { kind: 'certificate', via: 'xfcc', spiffe, subject: element.subject };
}
