// A certificate subject in the string form of RFC 4514 (section 3), as OpenSSL writes one with its RFC 2253 flags (Envoy's
// XFCC `Subject`, `openssl x509 -noout -subject -nameopt RFC2253`) and as Sluice writes a client certificate's: RDNs
// separated by `,`, the values of a multi-valued RDN by `+`, each `type=value` with no space around either; a type is a
// name (`CN`) or a dotted OID (`2.5.4.3`); a value is `#` and hex pairs, or text where `" + , ; < > \` (and a leading
// `#` or space, a trailing space) are escaped with `\` or written as `\` and two hex digits. Checked by hand: no
// maintained npm library parses RFC 4514 strings without also rewriting them.

const TYPE_NAME = /^[A-Za-z][A-Za-z0-9-]*$/;
const TYPE_OID = /^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))+$/;
const HEX_VALUE = /^#([0-9A-Fa-f]{2})+$/;
const HEX = /[0-9A-Fa-f]/;
/** What RFC 4514 section 2.4 lets follow a `\`, besides two hex digits. */
const ESCAPABLE = '"+,;<>\\ #=';
/** What must not stand unescaped in a value. */
const SPECIAL = '"+,;<>\\';

/** One attribute of a name: its type, its value with escapes undone (null for a `#` hex value), whether it starts an RDN. */
interface Attribute {
  type: string;
  value: string | null;
  startsRdn: boolean;
}

/** Why `name` is not a distinguished name in RFC 4514 string form, or null when it is one. */
export function distinguishedNameProblem(name: string): string | null {
  const parsed = attributesOf(name);
  return typeof parsed === 'string' ? parsed : null;
}

/**
 * Whether two RFC 4514 strings name the same subject: the same attributes in the same RDNs, each value the same once
 * escapes are undone (OpenSSL writes `é` as `\C3\A9` for Envoy, as it is for node). A `#` hex value (OpenSSL's for an
 * attribute type it does not know) is compared by type only. Equal strings cost one comparison.
 */
export function sameDistinguishedName(one: string, other: string): boolean {
  if (one === other) return true;
  const a = attributesOf(one);
  const b = attributesOf(other);
  if (typeof a === 'string' || typeof b === 'string' || a.length !== b.length) return false;
  return a.every((attribute, index) => {
    const twin = b[index]!;
    return (
      attribute.type.toLowerCase() === twin.type.toLowerCase() &&
      attribute.startsRdn === twin.startsRdn &&
      (attribute.value === null || twin.value === null || attribute.value === twin.value)
    );
  });
}

function attributesOf(name: string): Attribute[] | string {
  if (name === '') return 'it is empty';
  const attributes: Attribute[] = [];
  let at = 0;
  let startsRdn = true;
  for (;;) {
    const equals = name.indexOf('=', at);
    if (equals === -1) return 'an attribute has no "=" (each is type=value, such as CN=checkout)';
    const type = name.slice(at, equals);
    if (!TYPE_NAME.test(type) && !TYPE_OID.test(type)) {
      return type.trim() !== type
        ? 'an attribute type has a space around it (RFC 4514 has none: CN=checkout,O=Acme)'
        : 'an attribute type is neither a name (CN) nor a dotted OID (2.5.4.3)';
    }
    const end = valueEnd(name, equals + 1);
    if (typeof end === 'string') return end;
    attributes.push({ type, value: name[equals + 1] === '#' ? null : unescaped(name.slice(equals + 1, end)), startsRdn });
    if (end === name.length) return attributes;
    startsRdn = name[end] === ',';
    at = end + 1;
    if (at === name.length) return 'it ends with a separator (, or +)';
  }
}

/** A value's text with its escapes undone: `\,` is `,`, `\C3\A9` the UTF-8 bytes of `é`. */
function unescaped(value: string): string {
  if (!value.includes('\\')) return value;
  const bytes: number[] = [];
  for (let at = 0; at < value.length;) {
    if (value[at] === '\\' && HEX.test(value[at + 1] ?? '') && HEX.test(value[at + 2] ?? '')) {
      bytes.push(Number.parseInt(value.slice(at + 1, at + 3), 16));
      at += 3;
    } else {
      const char = value[at] === '\\' ? value[at + 1]! : String.fromCodePoint(value.codePointAt(at)!);
      bytes.push(...Buffer.from(char, 'utf8'));
      at += value[at] === '\\' ? 2 : char.length;
    }
  }
  return Buffer.from(bytes).toString('utf8');
}
/** Where the value starting at `start` ends (at a `,` or `+`, or the end of the name), or why it is not a value. */
function valueEnd(name: string, start: number): number | string {
  if (name[start] === '#') {
    let end = start + 1;
    while (end < name.length && name[end] !== ',' && name[end] !== '+') end++;
    return HEX_VALUE.test(name.slice(start, end)) ? end : 'a value starting with # is not hex pairs (escape a leading # as \\#)';
  }
  let at = start;
  while (at < name.length) {
    const char = name[at]!;
    if (char === ',' || char === '+') break;
    if (char === '\\') {
      const next = name[at + 1];
      if (next !== undefined && ESCAPABLE.includes(next)) at += 2;
      else if (next !== undefined && HEX.test(next) && HEX.test(name[at + 2] ?? '')) at += 3;
      else return 'a value has a \\ that escapes nothing (\\ is followed by a special character or two hex digits)';
      continue;
    }
    if (SPECIAL.includes(char)) return `a value has an unescaped ${char} (write it \\${char})`;
    if (char === ' ' && (at === start || at + 1 === name.length || name[at + 1] === ',' || name[at + 1] === '+')) {
      return 'a value starts or ends with an unescaped space (a space after , or + is not RFC 4514)';
    }
    at++;
  }
  return at;
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The name with its escaped bytes beyond ASCII written as the characters they encode in UTF-8 (`Ren\C3\A9e` is `Renée`):
 * OpenSSL's RFC 2253 form (Envoy's XFCC Subject) escapes them, node's (a direct client certificate's) does not, and one
 * subject rule must map a certificate either way. Bytes that are not UTF-8 stay escaped; a name without escapes is returned
 * as it is.
 */
export function withUnicodeCharacters(name: string): string {
  if (!name.includes('\\')) return name;
  let out = '';
  let at = 0;
  while (at < name.length) {
    const char = name[at]!;
    if (char !== '\\') {
      out += char;
      at++;
      continue;
    }
    // A run of escaped bytes from 0x80 on; anything else escaped (\, \\ \41) is copied with its backslash.
    const bytes: number[] = [];
    let end = at;
    while (name[end] === '\\' && /^[89A-Fa-f][0-9A-Fa-f]$/.test(name.slice(end + 1, end + 3))) {
      bytes.push(Number.parseInt(name.slice(end + 1, end + 3), 16));
      end += 3;
    }
    if (bytes.length === 0) {
      out += name.slice(at, at + 2);
      at += 2;
      continue;
    }
    try {
      out += UTF8.decode(Uint8Array.from(bytes));
    } catch {
      out += name.slice(at, end);
    }
    at = end;
  }
  return out;
}
