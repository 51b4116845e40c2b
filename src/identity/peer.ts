// The identity the connection itself proves: the client certificate of an mTLS connection, or, when the direct peer is a
// trusted proxy (a mesh sidecar or waypoint), the client identity that proxy forwards in x-forwarded-client-cert.
// A header from any other peer is ignored, whatever it says: anyone can write one.
import type { IncomingMessage } from 'node:http';
import { BlockList, isIP } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { normalizeIp, parseCidr } from '../policy/discovery.js';
import type { PresentedIdentity } from './rules.js';
import { parseXfcc } from './xfcc.js';

/** Why a connection's certificate is refused (401): none where one is required, or one no configured CA signed. */
export class CertificateRefused extends Error {}

type CertificateIdentity = Extract<PresentedIdentity, { kind: 'certificate' }>;

/** The result per TLS connection: its certificate is read once, not on every request of a kept-alive connection. */
const PER_SOCKET = new WeakMap<object, CertificateIdentity | CertificateRefused | null>();

export interface PeerSettings {
  /** The listener verifies client certificates (a client CA is configured). */
  clientCertificates: boolean;
  /** A call without a client certificate is refused. */
  certificateRequired: boolean;
  /** Peers whose x-forwarded-client-cert is believed; null when none are configured. */
  trustedProxies: BlockList | null;
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
    const forwarded = forwardedIdentity(settings.trustedProxies, req);
    if (forwarded !== null) return forwarded;
  }
  if (!settings.clientCertificates) return null;
  const socket = req.socket as TLSSocket;
  let known = PER_SOCKET.get(socket);
  if (known === undefined) {
    known = certificateOf(socket);
    PER_SOCKET.set(socket, known);
  }
  if (known instanceof CertificateRefused) throw known;
  if (known === null && settings.certificateRequired) {
    throw new CertificateRefused('No client certificate: this listener requires one signed by its client CA.');
  }
  return known;
}

function certificateOf(socket: TLSSocket): CertificateIdentity | CertificateRefused | null {
  if (typeof socket.getPeerX509Certificate !== 'function') return null;
  const certificate = socket.getPeerX509Certificate();
  if (certificate === undefined) return null;
  if (!socket.authorized) {
    return new CertificateRefused(`The client certificate is not trusted (${String(socket.authorizationError ?? 'unverified')}).`);
  }
  const spiffe = spiffeOf(uriSans(certificate.subjectAltName), 'client certificate');
  if (spiffe instanceof CertificateRefused) return spiffe;
  return { kind: 'certificate', via: 'mtls', spiffe, subject: subjectOf(certificate.subject) };
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

/**
 * The SPIFFE id of a certificate's URI SANs; null when none is one (not an SVID: its subject may still identify it).
 * An X.509-SVID has exactly one URI SAN, and a validator must reject one with more (the SPIFFE X.509-SVID standard,
 * sections 2 and 5.2): which of two ids would be the caller is for no rule to guess.
 */
function spiffeOf(uris: readonly string[], where: string): string | null | CertificateRefused {
  const spiffe = uris.find((uri) => uri.startsWith('spiffe://'));
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

function forwardedIdentity(trusted: BlockList, req: IncomingMessage): CertificateIdentity | null {
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
  return { kind: 'certificate', via: 'xfcc', spiffe, subject: element.subject };
}
