// Envoy's x-forwarded-client-cert header, as documented for Envoy's HTTP connection manager: elements separated by
// commas, one per proxy that handled the request, each a list of Key=value pairs separated by semicolons; a value holding
// a comma, semicolon or equals sign is double-quoted, with `\"` for a quote inside (a Subject's backslashes are its RFC
// 2253 escapes, kept). Keys: By, Hash, Cert, Chain, Subject, URI, DNS (URI and DNS may repeat). No maintained npm library
// parses it, so this small state machine does.

export interface XfccElement {
  by: string[];
  hash: string | null;
  subject: string | null;
  uri: string[];
  dns: string[];
  /** The client certificate, URL-encoded PEM, as forwarded (set_current_client_cert_details cert); null when absent. */
  cert: string | null;
  /** The client's chain, leaf first, URL-encoded PEM, as forwarded (set_current_client_cert_details chain); null when absent. */
  chain: string | null;
}

/** The elements of a header value, in order; null when it is malformed (an unterminated quote, a pair without `=`). */
export function parseXfcc(header: string): XfccElement[] | null {
  const elements: XfccElement[] = [];
  let element = emptyElement();
  let at = 0;
  const length = header.length;
  while (at < length) {
    // One Key=value pair.
    while (at < length && header[at] === ' ') at++;
    const equals = header.indexOf('=', at);
    if (equals === -1) return null;
    const key = header.slice(at, equals).trim().toLowerCase();
    at = equals + 1;
    let value = '';
    if (header[at] === '"') {
      at++;
      let closed = false;
      while (at < length) {
        const char = header[at]!;
        if (char === '\\' && at + 1 < length) {
          // Envoy quotes the subject OpenSSL wrote in RFC 2253 form as it is, its escapes (\, \" \\ \C3) its own: they
          // stay, or `O=Acme\,CN=admin` (one RDN) would read as the subject O=Acme,CN=admin. Elsewhere \" is a quote.
          value += key === 'subject' ? header.slice(at, at + 2) : header[at + 1];
          at += 2;
        } else if (char === '"') {
          at++;
          closed = true;
          break;
        } else {
          value += char;
          at++;
        }
      }
      if (!closed) return null;
    } else {
      let end = at;
      while (end < length && header[end] !== ';' && header[end] !== ',') end++;
      value = header.slice(at, end).trim();
      at = end;
    }
    add(element, key, value);
    while (at < length && header[at] === ' ') at++;
    if (at >= length) break;
    const separator = header[at];
    at++;
    if (separator === ',') {
      elements.push(element);
      element = emptyElement();
    } else if (separator !== ';') return null;
  }
  elements.push(element);
  return elements;
}

function emptyElement(): XfccElement {
  return { by: [], hash: null, subject: null, uri: [], dns: [], cert: null, chain: null };
}

function add(element: XfccElement, key: string, value: string): void {
  if (key === 'by') element.by.push(value);
  else if (key === 'hash') element.hash = value;
  // Istio sends `Subject=""` for SPIFFE certificates, which have none.
  else if (key === 'subject') element.subject = value === '' ? null : value;
  else if (key === 'uri') element.uri.push(value);
  else if (key === 'dns') element.dns.push(value);
  // Kept as forwarded: decoded and read only when the element is the trusted proxy's (forwarded-certificate.ts).
  else if (key === 'cert') element.cert = value === '' ? null : value;
  else if (key === 'chain') element.chain = value === '' ? null : value;
}
