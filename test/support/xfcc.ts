// Calls as a trusted mesh proxy (Envoy) makes them to Sluice: a chat completion with the x-forwarded-client-cert element
// the proxy adds for its client, the client's certificates as it forwards them in Cert= and Chain=, and a gateway behind
// such a proxy.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { adminClient } from './admin-client.js';
import type { Issued, TestCa } from './certificates.js';
import { json, MockProvider, openaiCompletion } from './mock-provider.js';
import { KEYS, ledgerRows, startTestSluice, type TestSluice } from './sluice.js';

/** The SPIFFE id of the mesh caller the tests forward, mapped to checkout-service by startMeshSluice's callers. */
export const CHECKOUT_ID = 'spiffe://acme.mil/ns/payments/sa/checkout';
/** The By= of the elements the mesh proxy adds: Sluice's own SPIFFE id. */
export const BY = 'By=spiffe://acme.mil/ns/ai/sa/sluice';

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

/** Asserts that a chat completion with this element is served, to checkout-service as the forwarded SPIFFE id `spiffe`. */
export async function assertForwardedServed(sluice: TestSluice, element: string, spiffe: string, what: string): Promise<void> {
  const response = await forwardedChat(sluice.baseURL, element);
  assert.equal(response.status, 200, `${what}: ${await response.clone().text()}`);
  await response.arrayBuffer();
  const row = (await ledgerRows(sluice)).at(-1)!;
  assert.equal(row.consumer, 'checkout-service', what);
  assert.equal(row.identity, `xfcc:${spiffe}`, what);
}

/**
 * Asserts that a chat completion with this element is refused with 401 invalid_api_key, its message matching `reason`
 * and quoting no certificate. With a valid Sluice key too: a refused forwarded certificate is not passed over for the key.
 */
export async function assertForwardedRefused(sluice: TestSluice, element: string, what: string, reason: RegExp): Promise<void> {
  const response = await forwardedChat(sluice.baseURL, element, KEYS.search);
  const body = (await response.json()) as { error: { code: string; message: string } };
  assert.equal(response.status, 401, `${what}: ${JSON.stringify(body)}`);
  assert.equal(body.error.code, 'invalid_api_key', what);
  assert.match(body.error.message, reason, `${what}: ${body.error.message}`);
  assert.doesNotMatch(body.error.message, /BEGIN CERTIFICATE/, what);
}

/** Asserts that an Anthropic Messages call with this element is refused with 401 in Anthropic's shape, matching `reason`. */
export async function assertAnthropicForwardedRefused(sluice: TestSluice, element: string, reason: RegExp): Promise<void> {
  const response = await fetch(`${sluice.baseURL}/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-forwarded-client-cert': element },
    body: JSON.stringify({ model: 'gpt-4o-mini', max_tokens: 10, messages: [{ role: 'user', content: 'Hi' }] }),
  });
  const body = (await response.json()) as { type: string; error: { type: string; message: string } };
  assert.equal(response.status, 401, JSON.stringify(body));
  assert.equal(body.type, 'error');
  assert.equal(body.error.type, 'authentication_error');
  assert.match(body.error.message, reason);
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

/** Two mesh gateways on one mock provider: `plain` takes the proxy's word, `anchored` checks against `bundle`. */
export interface PlainAndAnchored {
  plain: TestSluice;
  anchored: TestSluice;
  /** The anchored gateway's identity.forwardedCaFile, in a folder of its own (rewrite it, then reload). */
  bundle: string;
  stop(): Promise<void>;
}

/** startMeshSluice twice for CHECKOUT_ID, without and with identity.forwardedCaFile holding `root`'s certificate. */
export async function startPlainAndAnchored(root: TestCa, folderPrefix: string): Promise<PlainAndAnchored> {
  const folder = await mkdtemp(join(tmpdir(), folderPrefix));
  const bundle = join(folder, 'mesh-roots.pem');
  await writeFile(bundle, root.cert);
  const mock = await MockProvider.start((_request, res) => json(res, 200, openaiCompletion('Hello through the mesh')));
  const plain = await startMeshSluice(mock.url, CHECKOUT_ID);
  const anchored = await startMeshSluice(mock.url, CHECKOUT_ID, { forwardedCaFile: bundle });
  return {
    plain,
    anchored,
    bundle,
    async stop() {
      await plain.stop();
      await anchored.stop();
      await mock.close();
      await rm(folder, { recursive: true, force: true });
    },
  };
}
