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

/** Why `name` is not a distinguished name in RFC 4514 string form, or null when it is one. */
export function distinguishedNameProblem(name: string): string | null {
  if (name === '') return 'it is empty';
  let at = 0;
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
    if (end === name.length) return null;
    at = end + 1;
    if (at === name.length) return 'it ends with a separator (, or +)';
  }
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
