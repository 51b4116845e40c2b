// Calls as a trusted mesh proxy (Envoy) makes them to Sluice: a chat completion with the x-forwarded-client-cert element
// the proxy adds for its client, and the client's certificates as it forwards them in Cert= and Chain=.
import type { Issued, TestCa } from './certificates.js';

/** A PEM chain as Envoy forwards it in Cert= and Chain=: URL-encoded, leaf first. */
export function envoyEncodedChain(...certificates: Array<Issued | TestCa>): string {
  return encodeURIComponent(certificates.map((certificate) => certificate.cert).join(''));
}

/** A gpt-4o-mini chat completion to the gateway at `baseURL` with this XFCC element, and a Sluice key when given. */
export function forwardedChat(baseURL: string, element: string, key?: string): Promise<Response> {
  return fetch(`${baseURL}/v1/chat/completions`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-forwarded-client-cert': element,
      ...(key === undefined ? {} : { authorization: `Bearer ${key}` }),
    },
    body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] }),
  });
}
