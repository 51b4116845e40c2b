// The name constraints of the CAs on a forwarded chain's path to a root of identity.forwardedCaFile, and the critical
// extensions of its certificates (RFC 5280 sections 4.2.1.10, 6.1.3 (b), (c) and 6.1.4 (g), (o)). Each CA's permitted and
// excluded subtrees, the root's included, apply to the names of every certificate below it: its subject (a directory
// name; its emailAddress attributes as email) and its subject alternative names. A name of a form the CA constrains must
// be within one of its permitted subtrees of that form, and within none of its excluded ones; checking each CA's
// constraints in turn is the RFC's intersection of permitted and union of excluded subtrees. A self-issued CA certificate
// below another is not checked (6.1.3 (b)). The forms: a URI's host (a SPIFFE id's trust domain) against a host, or with
// a leading period a domain's subdomains; a DNS name against a domain and its subdomains; an email against a mailbox, a
// host, or with a leading period a domain's subdomains; an IP address against an address and mask; a directory name
// against the leading RDNs of the name. A constraint Sluice cannot read or does not process (otherName, x400Address,
// ediPartyName, registeredID; a minimum or maximum, which the RFC forbids) refuses a certificate below with a name of its
// form, as the RFC asks of a critical constraint it cannot process. A certificate with a critical extension Sluice does
// not process is refused (6.1.4 (o)); the leaf's extended key usage, one it processes, must allow clientAuth. Read with
// @peculiar/asn1-x509, the ASN.1 schemas @peculiar/x509 is built on (as certificate-extensions.ts: @peculiar/x509 itself
// has no name constraints class, hands back the extension's DER, and needs its WebCrypto layer loaded).
import type { X509Certificate } from 'node:crypto';
import { BlockList, isIP } from 'node:net';
import { loadCertificateParser } from './certificate-extensions.js';

type Asn1X509 = ReturnType<typeof loadCertificateParser>['x509'];
type GeneralName = InstanceType<Asn1X509['GeneralName']>;
type Name = InstanceType<Asn1X509['Name']>;

/** A name of a certificate under a form of RFC 5280's GeneralName: `value` as shown, `key` as compared. */
interface CertificateName {
  form: string;
  value: string;
  /** The host or domain (URI, DNS, email), the address (IP), the RDNs (directory name) compared; null when none reads. */
  key: string | readonly string[] | null;
}

/** One subtree of a CA's name constraints; `within` null when Sluice cannot read or does not process it. */
interface Subtree {
  form: string;
  text: string;
  within: ((key: string | readonly string[]) => boolean) | null;
}

/** What the path checks need of one certificate, read once. */
interface PathCertificate {
  names: CertificateName[];
  selfIssued: boolean;
  permitted: Subtree[];
  excluded: Subtree[];
  /** The OID of a critical extension Sluice does not process, or null. */
  unknownCritical: string | null;
}

/** Extensions Sluice processes on a forwarded path: it refuses the others marked critical (RFC 5280 section 6.1.4 (o)). */
const PROCESSED = new Set([
  '2.5.29.14', // subjectKeyIdentifier, authorityKeyIdentifier: the issuer match (X509Certificate.checkIssued)
  '2.5.29.35',
  '2.5.29.15', // keyUsage, basicConstraints: signingCertificate, chainProblem, the path length constraints
  '2.5.29.19',
  '2.5.29.17', // subjectAltName: the caller's SPIFFE id, and the names checked here
  '2.5.29.30', // nameConstraints: here
  '2.5.29.37', // extKeyUsage: the leaf's must allow clientAuth (leafUsageProblem)
]);
const EMAIL_ADDRESS = '1.2.840.113549.1.9.1'; // PKCS #9 emailAddress, checked as an email (RFC 5280 section 4.2.1.10)
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
const ANY_EXTENDED_KEY_USAGE = '2.5.29.37.0';
const HOST = /^[a-z0-9_-]+(\.[a-z0-9_-]+)*$/;

/**
 * Why a path (leaf first, its root last) breaks a name constraint or carries a critical extension Sluice does not
 * process, or null. `which` names the certificate at an index, as the caller numbers them.
 */
export function pathNamesProblem(path: readonly X509Certificate[], which: (index: number) => string): string | null {
  let read: PathCertificate[];
  try {
    read = path.map(readCertificate);
  } catch {
    return 'a certificate of its path does not parse to read its names and extensions';
  }
  for (const [index, certificate] of read.entries()) {
    if (certificate.unknownCritical !== null) {
      return `${which(index)} has a critical extension ${certificate.unknownCritical} that Sluice does not process (RFC 5280 section 6.1.4)`;
    }
  }
  const usage = leafUsageProblem(path[0]!);
  if (usage !== null) return `${which(0)} ${usage}`;
  for (let ca = 1; ca < read.length; ca++) {
    const { permitted, excluded } = read[ca]!;
    if (permitted.length === 0 && excluded.length === 0) continue;
    for (let below = 0; below < ca; below++) {
      const certificate = read[below]!;
      if (below > 0 && certificate.selfIssued) continue;
      for (const name of certificate.names) {
        const problem = constraintProblem(name, permitted, excluded);
        if (problem === null) continue;
        const [what, detail] = problem;
        return `the ${name.form} ${name.value} of ${which(below)} ${what} of ${which(ca)}${detail === null ? '' : `, ${detail}`}`;
      }
    }
  }
  return null;
}

/** Why a name breaks one CA's subtrees, in two parts around `of <the CA>`, or null. */
function constraintProblem(
  name: CertificateName,
  permitted: readonly Subtree[],
  excluded: readonly Subtree[],
): [what: string, detail: string | null] | null {
  const allowed = permitted.filter((subtree) => subtree.form === name.form);
  const barred = excluded.filter((subtree) => subtree.form === name.form);
  if (allowed.length === 0 && barred.length === 0) return null;
  const unread = [...allowed, ...barred].find((subtree) => subtree.within === null);
  if (unread !== undefined) {
    return ['cannot be checked against the name constraints', `whose ${unread.form} ${unread.text} Sluice does not process`];
  }
  const key = name.key;
  if (key === null) return [`has no ${name.form === 'URI' ? 'host' : 'value'} to check against the name constraints`, null];
  if (allowed.length > 0 && !allowed.some((subtree) => subtree.within!(key))) {
    return ['is outside the name constraints', `which permit only ${name.form} ${allowed.map((subtree) => subtree.text).join(', ')}`];
  }
  const hit = barred.find((subtree) => subtree.within!(key));
  return hit === undefined ? null : ['is within the name constraints', `which exclude ${name.form} ${hit.text}`];
}

/** Why the leaf's extended key usage does not let it identify a TLS client (RFC 5280 section 4.2.1.12), or null. */
function leafUsageProblem(leaf: X509Certificate): string | null {
  const usage = leaf.keyUsage as string[] | undefined; // node's keyUsage is the extended key usage; undefined without one
  if (usage === undefined || usage.includes(CLIENT_AUTH) || usage.includes(ANY_EXTENDED_KEY_USAGE)) return null;
  return 'has an extended key usage without clientAuth: it is not a client certificate';
}

function readCertificate(certificate: X509Certificate): PathCertificate {
  const { schema, x509 } = loadCertificateParser();
  const parsed = schema.AsnConvert.parse(certificate.raw, x509.Certificate);
  const tbs = parsed.tbsCertificate;
  const read: PathCertificate = {
    names: subjectNames(tbs.subject),
    selfIssued: certificate.subject === certificate.issuer,
    permitted: [],
    excluded: [],
    unknownCritical: null,
  };
  for (const extension of tbs.extensions ?? []) {
    if (extension.critical && !PROCESSED.has(extension.extnID)) read.unknownCritical ??= extension.extnID;
    if (extension.extnID === x509.id_ce_subjectAltName) {
      const names = schema.AsnConvert.parse(extension.extnValue, x509.SubjectAlternativeName);
      read.names.push(...names.map(generalName));
    } else if (extension.extnID === x509.id_ce_nameConstraints) {
      const constraints = schema.AsnConvert.parse(extension.extnValue, x509.NameConstraints);
      read.permitted = (constraints.permittedSubtrees ?? []).map(subtree);
      read.excluded = (constraints.excludedSubtrees ?? []).map(subtree);
    }
  }
  return read;
}

/** The subject as a directory name (none when empty, as OpenSSL), and its emailAddress attributes as emails. */
function subjectNames(subject: Name): CertificateName[] {
  const names: CertificateName[] = [];
  if (subject.length > 0) names.push({ form: 'directory name', value: directoryText(subject), key: relativeNames(subject) });
  for (const rdn of subject) {
    for (const attribute of rdn) {
      if (attribute.type === EMAIL_ADDRESS) names.push(emailName(attribute.value.toString()));
    }
  }
  return names;
}

function generalName(name: GeneralName): CertificateName {
  if (name.uniformResourceIdentifier !== undefined) {
    return { form: 'URI', value: name.uniformResourceIdentifier, key: uriHost(name.uniformResourceIdentifier) };
  }
  if (name.dNSName !== undefined) return { form: 'DNS', value: name.dNSName, key: hostKey(name.dNSName) };
  if (name.rfc822Name !== undefined) return emailName(name.rfc822Name);
  if (name.iPAddress !== undefined) return { form: 'IP', value: name.iPAddress, key: isIP(name.iPAddress) === 0 ? null : name.iPAddress };
  if (name.directoryName !== undefined) {
    return { form: 'directory name', value: directoryText(name.directoryName), key: relativeNames(name.directoryName) };
  }
  const form = otherForm(name);
  return { form, value: `(${form})`, key: null };
}

function subtree({ base, minimum, maximum }: InstanceType<Asn1X509['GeneralSubtree']>): Subtree {
  const name = generalName(base);
  // RFC 5280 section 4.2.1.10: minimum MUST be zero and maximum absent; a subtree with either is not processed.
  if (minimum !== 0 || maximum !== undefined) return { form: name.form, text: `${name.value} (minimum, maximum)`, within: null };
  return { form: name.form, text: name.value, within: within(base, name) };
}

/** Whether a name's key is within the subtree whose base is this name; null for a base Sluice cannot read. */
function within(base: GeneralName, name: CertificateName): Subtree['within'] {
  if (base.uniformResourceIdentifier !== undefined) {
    // A host, or with a leading period any host of that domain's subdomains (not the domain itself).
    const host = base.uniformResourceIdentifier.toLowerCase();
    if (!HOST.test(host.replace(/^\./, ''))) return null;
    return (key) => (host.startsWith('.') ? (key as string).endsWith(host) : key === host);
  }
  if (base.dNSName !== undefined) {
    // Any name made by adding labels on the left (a leading period: only those), the empty base all names.
    const domain = base.dNSName.toLowerCase();
    if (domain !== '' && !HOST.test(domain.replace(/^\./, ''))) return null;
    if (domain === '') return () => true;
    return (key) => (domain.startsWith('.') ? (key as string).endsWith(domain) : key === domain || (key as string).endsWith(`.${domain}`));
  }
  if (base.rfc822Name !== undefined) {
    // A mailbox (local part as written, host in any case), all mailboxes of a host, or with a leading period of its subdomains.
    const text = base.rfc822Name;
    const at = text.lastIndexOf('@');
    if (at !== -1) {
      const mailbox = `${text.slice(0, at)}@${text.slice(at + 1).toLowerCase()}`;
      return (key) => key === mailbox;
    }
    const domain = text.toLowerCase();
    return (key) => {
      const host = (key as string).slice((key as string).lastIndexOf('@') + 1);
      return domain.startsWith('.') ? host.endsWith(domain) : host === domain;
    };
  }
  if (base.iPAddress !== undefined) return addressRange(base.iPAddress);
  if (base.directoryName !== undefined) {
    const leading = name.key as readonly string[];
    return (key) => leading.length <= key.length && leading.every((rdn, index) => key[index] === rdn);
  }
  return null;
}

/** An IP subtree, `address/prefix` as the parser shows its address and mask, as a range; null when it is not one. */
function addressRange(text: string): Subtree['within'] {
  const match = /^(.+)\/(\d+)$/.exec(text);
  const family = match === null ? 0 : isIP(match[1]!);
  if (match === null || family === 0) return null;
  const type = family === 4 ? 'ipv4' : 'ipv6';
  const range = new BlockList();
  range.addSubnet(match[1]!, Number(match[2]), type);
  return (key) => isIP(key as string) === family && range.check(key as string, type);
}

function emailName(value: string): CertificateName {
  const at = value.lastIndexOf('@');
  return { form: 'email', value, key: at <= 0 ? null : `${value.slice(0, at)}@${value.slice(at + 1).toLowerCase()}` };
}

/** The host of a URI, lower case; null when it has none (RFC 5280: a URI constraint applies to the host part). */
function uriHost(uri: string): string | null {
  try {
    const host = new URL(uri).hostname.toLowerCase();
    return host === '' ? null : host;
  } catch {
    return null;
  }
}

function hostKey(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

/** Each RDN as compared: its attributes' type and value (case and runs of spaces folded, RFC 5280 section 7.1), sorted. */
function relativeNames(name: Name): string[] {
  return name.map((rdn) =>
    rdn
      .map(({ type, value }) => `${type}=${value.toString().trim().replace(/\s+/g, ' ').toLowerCase()}`)
      .sort()
      .join('+'),
  );
}

const SHORT: Record<string, string> = {
  '2.5.4.3': 'CN',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '0.9.2342.19200300.100.1.25': 'DC',
  [EMAIL_ADDRESS]: 'emailAddress',
};

/** A directory name as node shows a subject, in DER order: `CN=Team CA, O=Acme`. */
function directoryText(name: Name): string {
  return name.map((rdn) => rdn.map(({ type, value }) => `${SHORT[type] ?? type}=${value.toString()}`).join(' + ')).join(', ');
}

function otherForm(name: GeneralName): string {
  if (name.otherName !== undefined) return 'otherName';
  if (name.x400Address !== undefined) return 'x400Address';
  if (name.ediPartyName !== undefined) return 'ediPartyName';
  return 'registeredID';
}
