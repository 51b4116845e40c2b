// The identity the connection itself proves: the client certificate of an mTLS connection, or, when the direct peer is a
// trusted proxy (a mesh sidecar or waypoint), the client identity that proxy forwards in x-forwarded-client-cert.
// A header from any other peer is ignored, whatever it says: anyone can write one.
import type { X509Certificate } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { BlockList, isIP } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import { normalizeIp, parseCidr } from '../policy/discovery.js';
import { CertificateRefused, notAfter, signingCertificate, spiffeOf, subjectOf, uriSans } from './client-certificate.js';
import type { PresentedIdentity } from './rules.js';
import { callerSpiffeIdProblem, printableSpiffeId } from './spiffe-id.js';
import { withUnicodeCharacters } from './distinguished-name.js';
import { Disagreement, forwardedCertificate } from './forwarded-certificate.js';
import type { ForwardedRoots } from './forwarded-roots.js';
import { parseXfcc } from './xfcc.js';

export { CertificateRefused };

type CertificateIdentity = Extract<PresentedIdentity, { kind: 'certificate' }>;

/**
 * A trusted certificate that identifies no one: its SPIFFE id breaks the SPIFFE ID standard. Its caller is treated as
 * one that sent no certificate (refused where one is required, else left to its key or JWT); its subject is not used
 * instead, since the certificate claims to be an SVID and is not a valid one.
 */
class Unidentified {
  constructor(readonly reason: string) {}
}

/**
 * A certificate that identifies its caller until `expiresAt` (epoch ms): the earliest end of validity of its chain. The
 * handshake checked the dates once; a kept-alive connection outlives them, so each request checks the time again.
 */
class Identified {
  constructor(
    readonly identity: CertificateIdentity,
    readonly expiresAt: number,
  ) {}
}

/** The result per TLS connection: its certificate is read once, not on every request of a kept-alive connection. */
const PER_SOCKET = new WeakMap<object, Identified | CertificateRefused | Unidentified | null>();

export interface PeerSettings {
  /** The listener verifies client certificates (a client CA is configured). */
  clientCertificates: boolean;
  /** A call without a client certificate is refused. */
  certificateRequired: boolean;
  /** Peers whose x-forwarded-client-cert is believed; null when none are configured. */
  trustedProxies: BlockList | null;
  /** The roots forwarded certificates must chain to (identity.forwardedCaFile); null to take the proxy's word. */
  forwardedRoots: ForwardedRoots | null;
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
    const forwarded = forwardedIdentity(settings, settings.trustedProxies, req);
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
  if (known === null) {
    if (settings.certificateRequired)
      throw new CertificateRefused('No client certificate: this listener requires one signed by its client CA.');
    return null;
  }
  if (Date.now() > known.expiresAt) {
    throw new CertificateRefused(
      'The client certificate (or a CA certificate of its chain) has expired since this connection was opened (CERT_HAS_EXPIRED): open a new connection with a renewed one.',
    );
  }
  return known.identity;
}

/** The earliest end of validity of the peer's chain as the handshake verified it (node links each certificate to its issuer). */
function chainExpiry(certificate: X509Certificate): number {
  let expiresAt = notAfter(certificate);
  let current = certificate;
  for (let depth = 0; depth < 10; depth++) {
    const issuer = current.issuerCertificate;
    if (issuer === undefined || issuer.fingerprint256 === current.fingerprint256) break;
    expiresAt = Math.min(expiresAt, notAfter(issuer));
    current = issuer;
  }
  return expiresAt;
}

function certificateOf(socket: TLSSocket, logger: PeerSettings['logger']): Identified | CertificateRefused | Unidentified | null {
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
  return new Identified({ kind: 'certificate', via: 'mtls', spiffe, subject }, chainExpiry(certificate));
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
 * The identity a trusted proxy forwards; null for none (or one taken as none: a SPIFFE id that is not valid, an element
 * that disagrees with the certificate it forwards).
 */
function forwardedIdentity(settings: PeerSettings, trusted: BlockList, req: IncomingMessage): CertificateIdentity | null {
  const logger = settings.logger;
  const header = req.headers['x-forwarded-client-cert'];
  if (typeof header !== 'string' || header === '') return null;
  const remote = req.socket.remoteAddress;
  const address = remote === undefined ? null : normalizeIp(remote);
  if (address === null || !trusted.check(address, isIP(address) === 4 ? 'ipv4' : 'ipv6')) return null;
  const elements = parseXfcc(header);
  // The last element is the one the trusted proxy itself added: the client it terminated mTLS for.
  const element = elements?.at(-1);
  if (element === undefined) throw new CertificateRefused('The x-forwarded-client-cert header from the proxy is malformed.');
  // With the certificate itself (Cert=, Chain=), the identity is the certificate's, and the element must agree with it.
  const forwarded = forwardedCertificate(element, settings.forwardedRoots?.current ?? null);
  if (forwarded instanceof Disagreement) {
    logger?.warn(
      { via: 'xfcc', peer: address, reason: forwarded.reason, hash: forwarded.hash },
      'A forwarded client certificate is taken as no identity: the x-forwarded-client-cert element does not agree with its own certificate',
    );
    return null;
  }
  const uris = forwarded === null ? element.uri : forwarded.uris;
  // Without the certificate, its subject as Envoy wrote it, its letters beyond ASCII as node writes a direct client's.
  const subject = forwarded === null ? (element.subject === null ? null : withUnicodeCharacters(element.subject)) : forwarded.subject;
  const spiffe = spiffeOf(uris, 'forwarded client certificate');
  if (spiffe instanceof CertificateRefused) throw spiffe;
  if (spiffe === null && subject === null) return null;
  const problem = spiffe === null ? null : callerSpiffeIdProblem(spiffe);
  if (problem !== null) {
    logUnidentified(logger, 'xfcc', address, spiffe!, problem, { subject, hash: element.hash });
    return null;
  }
  return { kind: 'certificate', via: 'xfcc', spiffe, subject };
}
