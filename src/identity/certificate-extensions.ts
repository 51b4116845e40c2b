// A certificate's basic constraints and key usage (RFC 5280 sections 4.2.1.9 and 4.2.1.3), which node's X509Certificate
// does not expose as such: its `ca` is OpenSSL's X509_check_ca (false for a cA certificate whose key usage lacks
// keyCertSign), its `keyUsage` the extended key usage. Parsed with @peculiar/asn1-x509 (the ASN.1 schemas @peculiar/x509
// is built on, without its WebCrypto layer). Loading it takes a few hundred milliseconds, so only a listener that
// verifies client certificates loads it, at start (loadCertificateParser), and each connection's certificate is read once.
import { createRequire } from 'node:module';

type Asn1Schema = typeof import('@peculiar/asn1-schema');
type Asn1X509 = typeof import('@peculiar/asn1-x509');

/** What a signing (CA) certificate sets and a leaf must not. */
export interface SigningMarks {
  cA: boolean;
  keyCertSign: boolean;
  cRLSign: boolean;
  /** Its basic constraints' pathLenConstraint: how many CA certificates may follow it on a path; null for no limit. */
  pathLength: number | null;
}

let parser: { schema: Asn1Schema; x509: Asn1X509 } | null = null;

/** Loads the parser now rather than at the first client certificate, which would then wait for it. */
export function loadCertificateParser(): { schema: Asn1Schema; x509: Asn1X509 } {
  if (parser === null) {
    // require(), not import(): a connection's identity is decided synchronously, so the parser must be there to call.
    const require = createRequire(import.meta.url);
    parser = { schema: require('@peculiar/asn1-schema') as Asn1Schema, x509: require('@peculiar/asn1-x509') as Asn1X509 };
  }
  return parser;
}

/**
 * The marks of a signing (CA) certificate in a DER certificate: its basic constraints' cA and pathLenConstraint, its key
 * usage's keyCertSign and cRLSign, each false (null) when its extension is absent. Throws when the certificate does not
 * parse (OpenSSL, which verified it, did parse it).
 */
export function signingMarks(der: Uint8Array): SigningMarks {
  const { schema, x509 } = loadCertificateParser();
  const certificate = schema.AsnConvert.parse(der, x509.Certificate);
  const marks: SigningMarks = { cA: false, keyCertSign: false, cRLSign: false, pathLength: null };
  for (const extension of certificate.tbsCertificate.extensions ?? []) {
    if (extension.extnID === x509.id_ce_basicConstraints) {
      const constraints = schema.AsnConvert.parse(extension.extnValue, x509.BasicConstraints);
      marks.cA = constraints.cA;
      marks.pathLength = constraints.pathLenConstraint ?? null;
    } else if (extension.extnID === x509.id_ce_keyUsage) {
      const usage = schema.AsnConvert.parse(extension.extnValue, x509.KeyUsage).toNumber();
      marks.keyCertSign = (usage & x509.KeyUsageFlags.keyCertSign) !== 0;
      marks.cRLSign = (usage & x509.KeyUsageFlags.cRLSign) !== 0;
    }
  }
  return marks;
}
