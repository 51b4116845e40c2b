// A certificate's basic constraints and key usage (RFC 5280 sections 4.2.1.9 and 4.2.1.3), which node's X509Certificate
// does not expose as such: its `ca` is OpenSSL's X509_check_ca (false for a cA certificate whose key usage lacks
// keyCertSign), its `keyUsage` the extended key usage. Read by hand with a minimal DER walk down to those two extensions:
// @peculiar/x509 parses them, but costs milliseconds a certificate on the event loop (once per connection) and a second
// to load. The input is a certificate OpenSSL has already parsed and verified; anything unexpected reads as absent.

/** id-ce-keyUsage (2.5.29.15) and id-ce-basicConstraints (2.5.29.19), as DER content octets. */
const KEY_USAGE_OID = Buffer.from([0x55, 0x1d, 0x0f]);
const BASIC_CONSTRAINTS_OID = Buffer.from([0x55, 0x1d, 0x13]);
const SEQUENCE = 0x30;
const EXTENSIONS = 0xa3; // [3] EXPLICIT, in TBSCertificate
const OBJECT_IDENTIFIER = 0x06;
const BOOLEAN = 0x01;
const OCTET_STRING = 0x04;
const BIT_STRING = 0x03;

/** What a signing (CA) certificate sets and a leaf must not. */
export interface SigningMarks {
  cA: boolean;
  keyCertSign: boolean;
  cRLSign: boolean;
}

interface Element {
  tag: number;
  /** Where the content starts and ends. */
  start: number;
  end: number;
}

function element(der: Uint8Array, at: number, limit: number): Element | null {
  if (at + 2 > limit) return null;
  const tag = der[at]!;
  let length = der[at + 1]!;
  let start = at + 2;
  if (length & 0x80) {
    const octets = length & 0x7f;
    if (octets === 0 || octets > 4 || start + octets > limit) return null;
    length = 0;
    for (let i = 0; i < octets; i++) length = length * 256 + der[start + i]!;
    start += octets;
  }
  const end = start + length;
  return end > limit ? null : { tag, start, end };
}

/** The children of a constructed element, in order; stops at the first that does not read. */
function* children(der: Uint8Array, parent: Element): Generator<Element> {
  let at = parent.start;
  while (at < parent.end) {
    const child = element(der, at, parent.end);
    if (child === null) return;
    yield child;
    at = child.end;
  }
}

/**
 * The marks of a signing (CA) certificate in a DER certificate: its basic constraints' cA, its key usage's keyCertSign and
 * cRLSign, each false when its extension is absent (or does not read).
 */
export function signingMarks(der: Uint8Array): SigningMarks {
  const marks: SigningMarks = { cA: false, keyCertSign: false, cRLSign: false };
  const certificate = element(der, 0, der.length);
  if (certificate?.tag !== SEQUENCE) return marks;
  const tbs = element(der, certificate.start, certificate.end);
  if (tbs?.tag !== SEQUENCE) return marks;
  for (const field of children(der, tbs)) {
    if (field.tag !== EXTENSIONS) continue;
    const list = element(der, field.start, field.end);
    if (list?.tag !== SEQUENCE) return marks;
    for (const extension of children(der, list)) {
      // Extension ::= SEQUENCE { extnID OBJECT IDENTIFIER, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING }
      const [id, second, third] = [...children(der, extension)];
      if (id?.tag !== OBJECT_IDENTIFIER) continue;
      const value = second?.tag === BOOLEAN ? third : second;
      if (value?.tag !== OCTET_STRING) continue;
      const inner = element(der, value.start, value.end);
      if (inner === null) continue;
      const oid = der.subarray(id.start, id.end);
      if (KEY_USAGE_OID.equals(oid) && inner.tag === BIT_STRING && inner.end - inner.start >= 2) {
        // KeyUsage ::= BIT STRING: the first octet counts the unused bits; named bit n is bit 7 - n % 8 of octet n / 8.
        const first = der[inner.start + 1]!;
        marks.keyCertSign = (first & 0x04) !== 0; // keyCertSign (5)
        marks.cRLSign = (first & 0x02) !== 0; // cRLSign (6)
      } else if (BASIC_CONSTRAINTS_OID.equals(oid) && inner.tag === SEQUENCE) {
        // BasicConstraints ::= SEQUENCE { cA BOOLEAN DEFAULT FALSE, pathLenConstraint INTEGER OPTIONAL }
        const cA = element(der, inner.start, inner.end);
        marks.cA = cA?.tag === BOOLEAN && cA.end - cA.start === 1 && der[cA.start] !== 0;
      }
    }
    return marks;
  }
  return marks;
}
