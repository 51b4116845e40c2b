// Certificates made in the test with @peculiar/x509 over node's WebCrypto: a CA, server certificates for 127.0.0.1 and
// client certificates with a subject and a SPIFFE id. No openssl, no files checked in.
import 'reflect-metadata';
import { webcrypto, type webcrypto as WebCrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { AsnConvert } from '@peculiar/asn1-schema';
import { GeneralName, GeneralSubtree, GeneralSubtrees, NameConstraints, id_ce_nameConstraints } from '@peculiar/asn1-x509';

// node's WebCrypto is the standard Crypto the library asks for; its declared type is node's own.
x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[1]);

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY_MS = 86_400_000;

export const KeyUsage = x509.KeyUsageFlags;

export interface Issued {
  /** PEM certificate. */
  cert: string;
  /** PEM PKCS#8 private key. */
  key: string;
  serialNumber: string;
}

export interface TestCa extends Issued {
  /**
   * `uris`: URI SANs after the SPIFFE id (an X.509-SVID has exactly one; for certificates that break that rule).
   * `ca` and `keyUsages` (x509.KeyUsageFlags): a signing certificate's basic constraints and key usage, for certificates a
   * leaf must not have; a leaf's (not a CA, digitalSignature and keyAgreement) when absent. `names`: more SANs (DNS, IP,
   * email); `extensions`: more extensions.
   */
  issue(options: {
    subject: string;
    spiffe?: string;
    uris?: string[];
    server?: boolean;
    notBefore?: Date;
    notAfter?: Date;
    ca?: boolean;
    keyUsages?: number;
    names?: x509.JsonGeneralName[];
    extensions?: x509.Extension[];
  }): Promise<Issued>;
  /**
   * A CA this one signs, issuing leaves in turn: an intermediate. `ca` and `keyUsages` as for a leaf (a CA's,
   * cA and keyCertSign with cRLSign, when absent); `subjectKeyIdentifier` (hex) the key identifier it claims (its own
   * key's when absent), for an impostor that names another CA's; `notBefore` and `notAfter` its validity (from a day ago
   * to 30 days on when absent); `pathLength` its basic constraints' pathLenConstraint (none when absent); `extensions`
   * more extensions it carries (name constraints, or one no verifier knows).
   */
  intermediate(
    name: string,
    options?: {
      ca?: boolean;
      keyUsages?: number;
      subjectKeyIdentifier?: string;
      notBefore?: Date;
      notAfter?: Date;
      pathLength?: number;
      extensions?: x509.Extension[];
    },
  ): Promise<TestCa>;
  /** The key identifier of its public key (its SubjectKeyIdentifier), hex. */
  subjectKeyIdentifier: string;
}

let serial = 1;
function nextSerial(): string {
  serial++;
  return serial.toString(16).padStart(4, '0');
}

async function keyPem(key: WebCrypto.CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key));
  return `-----BEGIN PRIVATE KEY-----\n${der
    .toString('base64')
    .match(/.{1,64}/g)!
    .join('\n')}\n-----END PRIVATE KEY-----\n`;
}

/**
 * A name constraints extension (RFC 5280 section 4.2.1.10), critical as the RFC asks, with these permitted and excluded
 * subtrees (an IP subtree as `10.0.0.0/8`). @peculiar/x509 has no class for it: built on its ASN.1 schemas.
 */
export function nameConstraints({
  permitted,
  excluded,
}: {
  permitted?: x509.JsonGeneralName[];
  excluded?: x509.JsonGeneralName[];
}): x509.Extension {
  const subtrees = (names: x509.JsonGeneralName[] | undefined): GeneralSubtrees | undefined =>
    names === undefined
      ? undefined
      : new GeneralSubtrees(
          names.map(
            ({ type, value }) => new GeneralSubtree({ base: AsnConvert.parse(new x509.GeneralName(type, value).rawData, GeneralName) }),
          ),
        );
  const value = new NameConstraints({ permittedSubtrees: subtrees(permitted), excludedSubtrees: subtrees(excluded) });
  return new x509.Extension(id_ce_nameConstraints, true, AsnConvert.serialize(value));
}

/**
 * A self-signed root CA; `pathLength` its basic constraints' pathLenConstraint (none when absent), `notBefore` and
 * `notAfter` its validity (a day ago to 30 days on when absent), `extensions` more extensions it carries.
 */
export async function makeCa(
  name: string,
  {
    pathLength,
    notBefore,
    notAfter,
    extensions = [],
  }: { pathLength?: number; notBefore?: Date; notAfter?: Date; extensions?: x509.Extension[] } = {},
): Promise<TestCa> {
  const keys = (await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify'])) as WebCrypto.CryptoKeyPair;
  const serialNumber = nextSerial();
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber,
    name: `CN=${name}`,
    notBefore: notBefore ?? new Date(Date.now() - DAY_MS),
    notAfter: notAfter ?? new Date(Date.now() + 30 * DAY_MS),
    signingAlgorithm: ALGORITHM,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, pathLength, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      ...extensions,
    ],
  });
  return caOf(ca, keys, serialNumber);
}

/** The CA of this certificate and key pair: it issues leaves and intermediates signed with the key. */
async function caOf(ca: x509.X509Certificate, keys: WebCrypto.CryptoKeyPair, serialNumber: string): Promise<TestCa> {
  return {
    cert: ca.toString('pem'),
    key: await keyPem(keys.privateKey),
    serialNumber,
    subjectKeyIdentifier: ca.getExtension(x509.SubjectKeyIdentifierExtension)!.keyId,
    async intermediate(
      name,
      { ca: signing = true, keyUsages, subjectKeyIdentifier, notBefore, notAfter, pathLength, extensions = [] } = {},
    ) {
      const validity = { notBefore, notAfter: notAfter ?? new Date(Date.now() + 30 * DAY_MS) };
      const made = await signedCertificate(ca, keys.privateKey, `CN=${name}`, validity, async (publicKey) => [
        new x509.BasicConstraintsExtension(signing, pathLength, true),
        new x509.KeyUsagesExtension(keyUsages ?? x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        subjectKeyIdentifier === undefined
          ? await x509.SubjectKeyIdentifierExtension.create(publicKey)
          : new x509.SubjectKeyIdentifierExtension(subjectKeyIdentifier),
        ...extensions,
      ]);
      return caOf(made.certificate, made.keys, made.serialNumber);
    },
    async issue({
      subject,
      spiffe,
      uris = [],
      server = false,
      notBefore,
      notAfter,
      ca: signing = false,
      keyUsages,
      names: more = [],
      extensions = [],
    }) {
      const names: x509.JsonGeneralName[] = [];
      if (spiffe !== undefined) names.push({ type: 'url', value: spiffe });
      for (const uri of uris) names.push({ type: 'url', value: uri });
      if (server) names.push({ type: 'ip', value: '127.0.0.1' }, { type: 'dns', value: 'localhost' });
      names.push(...more);
      const validity = { notBefore, notAfter: notAfter ?? new Date(Date.now() + 7 * DAY_MS) };
      const leaf = await signedCertificate(ca, keys.privateKey, subject, validity, () =>
        Promise.resolve([
          new x509.BasicConstraintsExtension(signing, undefined, true),
          new x509.KeyUsagesExtension(keyUsages ?? x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyAgreement, true),
          new x509.ExtendedKeyUsageExtension([server ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth]),
          ...(names.length === 0 ? [] : [new x509.SubjectAlternativeNameExtension(names)]),
          ...extensions,
        ]),
      );
      return { cert: leaf.certificate.toString('pem'), key: await keyPem(leaf.keys.privateKey), serialNumber: leaf.serialNumber };
    },
  };
}

/**
 * A certificate for a new key pair, signed with the CA's key: valid from `notBefore` (a day ago when absent) until
 * `notAfter`, with `extensions` (made for its public key) and the CA's authority key identifier.
 */
async function signedCertificate(
  ca: x509.X509Certificate,
  signingKey: WebCrypto.CryptoKey,
  subject: string,
  { notBefore, notAfter }: { notBefore: Date | undefined; notAfter: Date },
  extensions: (publicKey: WebCrypto.CryptoKey) => Promise<x509.Extension[]>,
): Promise<{ certificate: x509.X509Certificate; keys: WebCrypto.CryptoKeyPair; serialNumber: string }> {
  const keys = (await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify'])) as WebCrypto.CryptoKeyPair;
  const serialNumber = nextSerial();
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber,
    subject,
    issuer: ca.subject,
    notBefore: notBefore ?? new Date(Date.now() - DAY_MS),
    notAfter,
    signingAlgorithm: ALGORITHM,
    publicKey: keys.publicKey,
    signingKey,
    extensions: [...(await extensions(keys.publicKey)), await x509.AuthorityKeyIdentifierExtension.create(ca)],
  });
  return { certificate, keys, serialNumber };
}
