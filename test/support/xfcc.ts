// Calls as a trusted mesh proxy (Envoy) makes them to Sluice: a chat completion with the x-forwarded-client-cert element
// the proxy adds for its client, the client's certificates as it forwards them in Cert= and Chain=, and a gateway behind
// such a proxy.
import assert from 'node:assert/strict';
import { adminClient } from './admin-client.js';
import type { Issued, TestCa } from './certificates.js';
import { startTestSluice, type TestSluice } from './sluice.js';

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

/**
 * A gateway serving gpt-4o-mini from the mock provider at `mockUrl`, believing XFCC from loopback (`identity` adds to
 * that section), with an identity rule mapping the SPIFFE id `spiffe` to the consumer checkout-service.
 */
export async function startMeshSluice(mockUrl: string, spiffe: string, identity: Record<string, unknown> = {}): Promise<TestSluice> {
  const bootstrap = 'sa-bootstrap-mesh-sluice-test-token-0123';
  const sluice = await startTestSluice({
    admin: { host: '127.0.0.1', port: 0, token: bootstrap },
    providers: { openai: { type: 'openai', baseUrl: `${mockUrl}/v1`, apiKey: 'sk-upstream-mesh-sluice' } },
    models: [{ name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] }],
    identity: { trustedProxies: ['127.0.0.1/32', '::1'], ...identity },
  });
  const made = await adminClient(sluice, bootstrap)('POST', '/api/identity-rules', {
    field: 'spiffe',
    match: 'exact',
    value: spiffe,
    consumer: 'checkout-service',
  });
  assert.equal(made.status, 201, JSON.stringify(made.body));
  return sluice;
}
