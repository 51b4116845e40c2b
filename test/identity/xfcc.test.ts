// Mesh identity behind a sidecar or waypoint: Envoy's x-forwarded-client-cert, parsed per Envoy's documented format,
// believed only from a trusted proxy's address; the same header from any other peer is ignored (a forgery test).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { parseXfcc } from '../../src/identity/xfcc.js';
import { validateConfig } from '../../src/config/load.js';
import { adminClient, OFFLINE_CATALOG } from '../support/admin-client.js';
import { KeyUsage, makeCa, type Issued, type TestCa } from '../support/certificates.js';
import { forwardedChat } from '../support/xfcc.js';
import { json, MockProvider, openaiCompletion } from '../support/mock-provider.js';
import { capturedLogger, KEYS, ledgerRows, startTestSluice, type TestSluice } from '../support/sluice.js';

const BOOTSTRAP = 'sa-bootstrap-xfcc-test-token-0123456789';
const CHECKOUT_ID = 'spiffe://acme.mil/ns/payments/sa/checkout';
const CHAT = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] };
/** What an Istio sidecar (forwardClientCertDetails APPEND_FORWARD / SANITIZE_SET) adds for the workload it terminated mTLS for. */
const SIDECAR_XFCC =
  `By=spiffe://acme.mil/ns/ai/sa/sluice;Hash=9ba61d6425303443c0748a02dd8de688468ed33be74eee6556d90c0149c1309e;` +
  `Subject="O=Acme,CN=checkout";URI=${CHECKOUT_ID}`;

/**
 * A PEM certificate as Envoy forwards it in Cert= and Chain=: URL-encoded (its connection info's
 * urlEncodedPemEncodedPeerCertificate, which replaces newline, space, +, / and = with their %XX), in double quotes.
 */
function envoyEncoded(...pems: string[]): string {
  const replaced: Record<string, string> = { '\n': '%0A', ' ': '%20', '+': '%2B', '/': '%2F', '=': '%3D' };
  return pems.join('').replace(/[\n +/=]/g, (char) => replaced[char]!);
}

/** Envoy's Hash=: the SHA-256 of the certificate's DER, in lowercase hex. */
function envoyHash(issued: Issued): string {
  return new X509Certificate(issued.cert).fingerprint256.replaceAll(':', '').toLowerCase();
}

describe("Envoy's x-forwarded-client-cert format", () => {
  test("parses the elements of Envoy's documented examples, quoted values with commas and semicolons included", () => {
    const elements = parseXfcc(
      'By=http://frontend.lyft.com;Hash=468ed33be74eee6556d90c0149c1309e9ba61d6425303443c0748a02dd8de688;' +
        'Subject="/C=US/ST=CA/L=San Francisco/OU=Lyft/CN=Test Client";URI=http://testclient.lyft.com,' +
        'By=http://backend.lyft.com;Hash=9ba61d6425303443c0748a02dd8de688468ed33be74eee6556d90c0149c1309e;URI=http://frontend.lyft.com;DNS=lyft.com;DNS=www.lyft.com',
    );
    assert.deepEqual(elements, [
      {
        by: ['http://frontend.lyft.com'],
        hash: '468ed33be74eee6556d90c0149c1309e9ba61d6425303443c0748a02dd8de688',
        subject: '/C=US/ST=CA/L=San Francisco/OU=Lyft/CN=Test Client',
        uri: ['http://testclient.lyft.com'],
        dns: [],
        cert: null,
        chain: null,
      },
      {
        by: ['http://backend.lyft.com'],
        hash: '9ba61d6425303443c0748a02dd8de688468ed33be74eee6556d90c0149c1309e',
        subject: null,
        uri: ['http://frontend.lyft.com'],
        dns: ['lyft.com', 'www.lyft.com'],
        cert: null,
        chain: null,
      },
    ]);
    assert.equal(parseXfcc('By="spiffe://a/b;c \\"quoted\\""')![0]!.by[0], 'spiffe://a/b;c "quoted"');
  });

  test("keeps a Subject's RFC 2253 escapes as Envoy writes them (OpenSSL's escapes, not re-escaped for XFCC)", () => {
    // Envoy quotes the subject OpenSSL wrote (XN_FLAG_RFC2253) as it is: \, \+ \" \\ and \C3\AB are the subject's own.
    assert.equal(
      parseXfcc('Subject="O=Acme,CN=Smith\\, J.+UID=a\\+b\\"c\\\\";URI=x')![0]!.subject,
      'O=Acme,CN=Smith\\, J.+UID=a\\+b\\"c\\\\',
    );
    assert.equal(parseXfcc('Subject="CN=Zo\\C3\\AB"')![0]!.subject, 'CN=Zo\\C3\\AB');
  });

  test('refuses malformed values: an unterminated quote, a pair without =', () => {
    assert.equal(parseXfcc('Subject="CN=a'), null);
    assert.equal(parseXfcc('By=x;nonsense'), null);
  });
});

describe('mesh identity from a trusted proxy', () => {
  let mock: MockProvider;
  let trusting: TestSluice;
  let distrusting: TestSluice;
  let meshCa: TestCa;
  const log = capturedLogger();

  /** A rule on the trusting instance mapping this subject to checkout-service. */
  async function subjectRule(value: string): Promise<void> {
    const made = await adminClient(trusting, BOOTSTRAP)('POST', '/api/identity-rules', {
      field: 'subject',
      match: 'exact',
      value,
      consumer: 'checkout-service',
    });
    assert.equal(made.status, 201, JSON.stringify(made.body));
  }

  /** A chat call from the trusted proxy's address with this XFCC element, and a Sluice key when given. */
  const forwardedCall = (element: string, key?: string): Promise<Response> => forwardedChat(trusting.baseURL, element, key);

  before(async () => {
    meshCa = await makeCa('Mesh Test CA');
    mock = await MockProvider.start((_request, res) => json(res, 200, openaiCompletion('Hello through the mesh')));
    const common = {
      admin: { host: '127.0.0.1', port: 0, token: BOOTSTRAP },
      providers: { openai: { type: 'openai', baseUrl: `${mock.url}/v1`, apiKey: 'sk-upstream-xfcc' } },
      models: [{ name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] }],
    };
    // The test client connects from 127.0.0.1: a sidecar on the same pod network for one, a stranger for the other.
    trusting = await startTestSluice({ ...common, identity: { trustedProxies: ['127.0.0.1/32', '::1'] } }, { logger: log.logger });
    distrusting = await startTestSluice({ ...common, identity: { trustedProxies: ['10.0.0.0/8'] } });
    for (const sluice of [trusting, distrusting]) {
      const made = await adminClient(sluice, BOOTSTRAP)('POST', '/api/identity-rules', {
        field: 'spiffe',
        match: 'prefix',
        value: 'spiffe://acme.mil/ns/payments/',
        consumer: 'checkout-service',
      });
      assert.equal(made.status, 201, JSON.stringify(made.body));
    }
  });

  after(async () => {
    await trusting.stop();
    await distrusting.stop();
    await mock.close();
  });

  test('takes the workload identity from x-forwarded-client-cert when the direct peer is a trusted proxy', async () => {
    const response = await fetch(`${trusting.baseURL}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-client-cert': SIDECAR_XFCC },
      body: JSON.stringify(CHAT),
    });
    assert.equal(response.status, 200, await response.clone().text());
    const row = (await ledgerRows(trusting)).at(-1)!;
    assert.equal(row.consumer, 'checkout-service');
    assert.equal(row.identity, `xfcc:${CHECKOUT_ID}`);
  });

  test('uses the element the trusted proxy added (the last), not one a client put before it', async () => {
    const forgedFirst = `URI=spiffe://acme.mil/ns/payments/sa/forged,By=spiffe://acme.mil/ns/ai/sa/sluice;URI=spiffe://acme.mil/ns/web/sa/frontend`;
    const response = await fetch(`${trusting.baseURL}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-client-cert': forgedFirst },
      body: JSON.stringify(CHAT),
    });
    assert.equal(response.status, 403);
    const body = (await response.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, 'identity_not_mapped');
    assert.match(body.error.message, /spiffe:\/\/acme\.mil\/ns\/web\/sa\/frontend/);
  });

  test('refuses a forwarded certificate with more than one URI SAN (not an X.509-SVID)', async () => {
    const twoNames = `By=spiffe://acme.mil/ns/ai/sa/sluice;URI=${CHECKOUT_ID};URI=spiffe://acme.mil/ns/other/sa/batch`;
    const response = await fetch(`${trusting.baseURL}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-client-cert': twoNames },
      body: JSON.stringify(CHAT),
    });
    assert.equal(response.status, 401, await response.clone().text());
    assert.equal(((await response.json()) as { error: { code: string } }).error.code, 'invalid_api_key');
  });

  test("maps a forwarded subject with RFC 2253 escapes as the certificate's subject, not as the subject its unescaped text would be", async () => {
    for (const value of ['O=Acme,CN=Smith\\, J.', 'O=Acme,CN=admin']) await subjectRule(value);
    const smith = await forwardedCall('By=spiffe://acme.mil/ns/ai/sa/sluice;Subject="O=Acme,CN=Smith\\, J."');
    assert.equal(smith.status, 200, await smith.clone().text());
    assert.equal((await ledgerRows(trusting)).at(-1)!.identity, 'xfcc:O=Acme,CN=Smith\\, J.');
    // One RDN, O = "Acme,CN=admin": not the subject O=Acme,CN=admin, which the rule maps.
    const lookalike = await forwardedCall('By=spiffe://acme.mil/ns/ai/sa/sluice;Subject="O=Acme\\,CN=admin"');
    assert.equal(lookalike.status, 403, await lookalike.clone().text());
    assert.equal(((await lookalike.json()) as { error: { code: string } }).error.code, 'identity_not_mapped');
    // Envoy's Subject= escapes what is not ASCII (OpenSSL's RFC 2253 form: ë is \C3\AB); the certificate's subject says ë.
    const zoe = await meshCa.issue({ subject: 'CN=Zoë,O=Acme' });
    const escaped = await forwardedCall(
      `By=spiffe://acme.mil/ns/ai/sa/sluice;Cert="${envoyEncoded(zoe.cert)}";Subject="O=Acme,CN=Zo\\C3\\AB"`,
    );
    // Believed (mapped by no rule: 403), not taken as no identity (401).
    assert.equal(escaped.status, 403, await escaped.clone().text());
    assert.match(((await escaped.json()) as { error: { message: string } }).error.message, /xfcc:O=Acme,CN=Zoë/);
  });

  test('maps a forwarded subject whose letters beyond ASCII Envoy escapes (\\C3\\A9) by the rule that names them, as over mTLS', async () => {
    await subjectRule('O=Acme,CN=Renée');
    const response = await forwardedCall('By=spiffe://acme.mil/ns/ai/sa/sluice;Subject="O=Acme,CN=Ren\\C3\\A9e"');
    assert.equal(response.status, 200, await response.clone().text());
    assert.equal((await ledgerRows(trusting)).at(-1)!.identity, 'xfcc:O=Acme,CN=Renée');
    // An escaped backslash before hex digits is a backslash, and bytes that are not UTF-8 stay escaped.
    for (const subject of ['O=Acme,CN=Ren\\\\C3\\\\A9e', 'O=Acme,CN=Ren\\C3e']) {
      const other = await forwardedCall(`By=spiffe://acme.mil/ns/ai/sa/sluice;Subject="${subject}"`);
      assert.equal(other.status, 403, `${subject}: ${await other.clone().text()}`);
      assert.match(((await other.json()) as { error: { message: string } }).error.message, /Ren\\/);
    }
  });

  test('a prefix rule stops at a boundary: a SPIFFE prefix at a path segment, a subject prefix at an RDN', async () => {
    const admin = adminClient(trusting, BOOTSTRAP);
    for (const rule of [
      { field: 'spiffe', match: 'prefix', value: 'spiffe://acme.mil/ns/team-a', consumer: 'search-service' },
      { field: 'subject', match: 'prefix', value: 'CN=reports', consumer: 'search-service' },
    ]) {
      const made = await admin('POST', '/api/identity-rules', rule);
      assert.equal(made.status, 201, JSON.stringify(made.body));
    }
    const forwarded = (element: string) =>
      fetch(`${trusting.baseURL}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-forwarded-client-cert': `By=spiffe://acme.mil/ns/ai/sa/sluice;${element}` },
        body: JSON.stringify(CHAT),
      });
    for (const [element, status] of [
      ['URI=spiffe://acme.mil/ns/team-a/sa/worker', 200],
      ['URI=spiffe://acme.mil/ns/team-a', 200],
      ['URI=spiffe://acme.mil/ns/team-ab/sa/worker', 403],
      ['URI=spiffe://acme.mil/ns/team-a-dev/sa/worker', 403],
      ['Subject="CN=reports,O=Acme"', 200],
      ['Subject="CN=reports"', 200],
      ['Subject="CN=reports2,O=Acme"', 403],
      ['Subject="CN=reports-archive,O=Acme"', 403],
    ] as const) {
      const response = await forwarded(element);
      assert.equal(response.status, status, `${element}: ${await response.text()}`);
    }
    // The prefix the docs show, ending with its separator, still takes the whole namespace.
    assert.equal((await forwarded(`URI=${CHECKOUT_ID}`)).status, 200);
  });

  test('takes a forwarded SPIFFE id that breaks the SPIFFE ID standard as no identity: the caller needs a key of its own', async () => {
    // Each would match the spiffe://acme.mil/ns/payments/ prefix (checkout-service) if it were taken.
    for (const id of [
      'spiffe://acme.mil/ns/payments/../admin/sa/root',
      'spiffe://acme.mil/ns/payments//sa/checkout',
      'spiffe://acme.mil/ns/payments/sa/checkout?token=s3cret-query',
    ]) {
      const xfcc = `By=spiffe://acme.mil/ns/ai/sa/sluice;Subject="O=Acme,CN=checkout";URI=${id}`;
      const alone = await fetch(`${trusting.baseURL}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-forwarded-client-cert': xfcc },
        body: JSON.stringify(CHAT),
      });
      const body = (await alone.json()) as { error: { code: string; message: string } };
      assert.equal(alone.status, 401, `${id}: ${JSON.stringify(body)}`);
      assert.equal(body.error.code, 'invalid_api_key');
      const withKey = await fetch(`${trusting.baseURL}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-forwarded-client-cert': xfcc, authorization: `Bearer ${KEYS.search}` },
        body: JSON.stringify(CHAT),
      });
      assert.equal(withKey.status, 200, await withKey.text());
      const row = (await ledgerRows(trusting)).at(-1)!;
      assert.equal(row.consumer, 'search-service');
      assert.match(row.identity ?? '', /^key:/);
    }
    const logged = log.lines().filter((line) => line.includes('SPIFFE id'));
    assert.ok(logged.length >= 6, `${logged.length} log lines`);
    assert.match(logged.join('\n'), /xfcc/);
    assert.doesNotMatch(log.lines().join('\n'), /s3cret/);
  });

  test('takes trusted proxies written as IPv4-mapped IPv6 networks (::ffff:127.0.0.0/104 is 127.0.0.0/8)', async () => {
    const mapped = await startTestSluice({
      admin: { host: '127.0.0.1', port: 0, token: BOOTSTRAP },
      providers: { openai: { type: 'openai', baseUrl: `${mock.url}/v1`, apiKey: 'sk-upstream-xfcc' } },
      models: [{ name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] }],
      identity: { trustedProxies: ['::ffff:127.0.0.0/104'] },
    });
    try {
      const response = await fetch(`${mapped.baseURL}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-forwarded-client-cert': SIDECAR_XFCC },
        body: JSON.stringify(CHAT),
      });
      // Believed (mapped by no rule on this instance), not ignored (which would be 401: no key).
      assert.equal(response.status, 403, await response.clone().text());
      assert.match(((await response.json()) as { error: { message: string } }).error.message, /xfcc:spiffe:\/\/acme\.mil/);
    } finally {
      await mapped.stop();
    }
    // A mapped network wider than the mapped range (a prefix under 96) names no IPv4 network: refused as config.
    assert.throws(
      () => validateConfig({ identity: { trustedProxies: ['::ffff:10.0.0.0/64'] } }, 'sluice.yaml'),
      /identity\.trustedProxies\[0\]/,
    );
  });

  test('a deleted consumer takes its identity rules with it: a consumer made later under its name is not the workload', async () => {
    const admin = adminClient(trusting, BOOTSTRAP);
    const writer = 'spiffe://acme.mil/ns/ledger/sa/writer';
    assert.equal((await admin('POST', '/api/consumers', { name: 'ledger-writer', team: 'payments' })).status, 201);
    const rule = await admin('POST', '/api/identity-rules', { field: 'spiffe', match: 'exact', value: writer, consumer: 'ledger-writer' });
    assert.equal(rule.status, 201, JSON.stringify(rule.body));
    assert.equal((await admin('DELETE', '/api/consumers/ledger-writer')).status, 204);
    assert.equal((await admin('GET', `/api/identity-rules/${rule.body.id}`)).status, 404);
    const audit = await admin('GET', `/api/audit?entityType=identity-rule&entityId=${rule.body.id}`);
    assert.deepEqual(
      audit.body.items.map((record: { action: string }) => record.action),
      ['delete', 'create'],
    );
    // Another team's consumer, later, under the same name: the ledger writer's certificate must not call as it.
    assert.equal((await admin('POST', '/api/consumers', { name: 'ledger-writer', team: 'discovery' })).status, 201);
    const response = await fetch(`${trusting.baseURL}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-client-cert': `By=spiffe://acme.mil/ns/ai/sa/sluice;URI=${writer}` },
      body: JSON.stringify(CHAT),
    });
    assert.equal(response.status, 403, await response.clone().text());
    assert.equal(((await response.json()) as { error: { code: string } }).error.code, 'identity_not_mapped');
  });

  test('with Cert= or Chain= (set_current_client_cert_details cert, chain), takes the identity the certificate and the element agree on, from the certificate when no URI= comes', async () => {
    const checkout = await meshCa.issue({ subject: 'CN=checkout,O=Acme', spiffe: CHECKOUT_ID });
    const by = `By=spiffe://acme.mil/ns/ai/sa/sluice;Hash=${envoyHash(checkout)}`;
    for (const element of [
      `${by};Cert="${envoyEncoded(checkout.cert)}";Subject="O=Acme,CN=checkout";URI=${CHECKOUT_ID}`,
      `${by};Cert="${envoyEncoded(checkout.cert)}"`,
      `${by};Chain="${envoyEncoded(checkout.cert, meshCa.cert)}";URI=${CHECKOUT_ID}`,
      // Envoy's newer percent-encoding encodes more characters; any %XX reads the same.
      `${by};Cert="${encodeURIComponent(checkout.cert)}";Chain="${encodeURIComponent(checkout.cert + meshCa.cert)}";URI=${CHECKOUT_ID}`,
    ]) {
      const response = await forwardedCall(element);
      assert.equal(response.status, 200, `${element.slice(0, 160)}: ${await response.clone().text()}`);
      await response.arrayBuffer();
      const row = (await ledgerRows(trusting)).at(-1)!;
      assert.equal(row.consumer, 'checkout-service');
      assert.equal(row.identity, `xfcc:${CHECKOUT_ID}`);
    }
  });

  test('takes an element whose URI=, Subject= or Hash= disagrees with its Cert= or Chain= as no identity: the caller needs a key of its own', async () => {
    const checkout = await meshCa.issue({ subject: 'CN=checkout,O=Acme', spiffe: CHECKOUT_ID });
    const frontend = await meshCa.issue({ subject: 'CN=frontend,O=Acme', spiffe: 'spiffe://acme.mil/ns/web/sa/frontend' });
    const by = 'By=spiffe://acme.mil/ns/ai/sa/sluice';
    for (const [what, element] of [
      ['a URI= its Cert= does not name', `${by};Hash=${envoyHash(frontend)};Cert="${envoyEncoded(frontend.cert)}";URI=${CHECKOUT_ID}`],
      ['a Hash= of another certificate', `${by};Hash=${envoyHash(frontend)};Cert="${envoyEncoded(checkout.cert)}";URI=${CHECKOUT_ID}`],
      [
        'a Subject= its Cert= does not have',
        `${by};Hash=${envoyHash(checkout)};Cert="${envoyEncoded(checkout.cert)}";Subject="O=Acme,CN=admin";URI=${CHECKOUT_ID}`,
      ],
      [
        'a Chain= that starts with another certificate than Cert=',
        `${by};Cert="${envoyEncoded(checkout.cert)}";Chain="${envoyEncoded(frontend.cert, meshCa.cert)}";URI=${CHECKOUT_ID}`,
      ],
    ] as const) {
      const alone = await forwardedCall(element);
      const body = (await alone.json()) as { error: { code: string } };
      assert.equal(alone.status, 401, `${what}: ${JSON.stringify(body)}`);
      assert.equal(body.error.code, 'invalid_api_key', what);
      const withKey = await forwardedCall(element, KEYS.search);
      assert.equal(withKey.status, 200, `${what}: ${await withKey.text()}`);
      const row = (await ledgerRows(trusting)).at(-1)!;
      assert.equal(row.consumer, 'search-service', what);
      assert.match(row.identity ?? '', /^key:/, what);
    }
    const logged = log.lines().filter((line) => line.includes('does not agree'));
    assert.ok(logged.length >= 8, `${logged.length} log lines`);
    assert.doesNotMatch(logged.join('\n'), /BEGIN CERTIFICATE/);
  });

  test("refuses with 401 a CA's certificate, an expired one, or one that does not read, forwarded in Cert=, as on a direct mTLS connection", async () => {
    const signing = KeyUsage.digitalSignature | KeyUsage.keyCertSign | KeyUsage.cRLSign;
    const intermediate = await meshCa.issue({ subject: 'CN=checkout,O=Acme', spiffe: CHECKOUT_ID, ca: true, keyUsages: signing });
    const expired = await meshCa.issue({ subject: 'CN=checkout,O=Acme', spiffe: CHECKOUT_ID, notAfter: new Date(Date.now() - 60_000) });
    for (const [what, cert, reason] of [
      ["a CA's certificate", envoyEncoded(intermediate.cert), /CA/],
      ['an expired certificate', envoyEncoded(expired.cert), /expired/],
      ['not a certificate', 'not-a-certificate%ZZ', /malformed|certificate/],
    ] as const) {
      const response = await forwardedCall(`By=spiffe://acme.mil/ns/ai/sa/sluice;Cert="${cert}";URI=${CHECKOUT_ID}`, KEYS.search);
      const body = (await response.json()) as { error: { code: string; message: string } };
      assert.equal(response.status, 401, `${what}: ${JSON.stringify(body)}`);
      assert.equal(body.error.code, 'invalid_api_key', what);
      assert.match(body.error.message, reason, what);
    }
    // A chain whose intermediate, the leaf's issuer, has expired, forwarded in Chain=, its leaf still valid: the chain
    // links (the intermediate issued and signed the leaf, the mesh CA the intermediate), so only its expiry refuses it.
    const lapsed = await meshCa.intermediate('Lapsed CA', { notAfter: new Date(Date.now() - 60_000) });
    const leaf = await lapsed.issue({ subject: 'CN=checkout,O=Acme', spiffe: CHECKOUT_ID });
    const chain = envoyEncoded(leaf.cert, lapsed.cert, meshCa.cert);
    for (const element of [`Chain="${chain}"`, `Cert="${envoyEncoded(leaf.cert)}";Chain="${chain}"`]) {
      const response = await forwardedCall(`By=spiffe://acme.mil/ns/ai/sa/sluice;${element};URI=${CHECKOUT_ID}`, KEYS.search);
      const body = (await response.json()) as { error: { code: string; message: string } };
      assert.equal(response.status, 401, `${element.slice(0, 20)}: ${JSON.stringify(body)}`);
      assert.match(body.error.message, /expired/);
    }
  });

  test('ignores a forged x-forwarded-client-cert from a peer that is not a trusted proxy', async () => {
    const alone = await fetch(`${distrusting.baseURL}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-client-cert': SIDECAR_XFCC },
      body: JSON.stringify(CHAT),
    });
    assert.equal(alone.status, 401);
    assert.equal(((await alone.json()) as { error: { code: string } }).error.code, 'invalid_api_key');
    // With a key of its own, the caller is that key's consumer, whatever the header claims.
    const withKey = await fetch(`${distrusting.baseURL}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-client-cert': SIDECAR_XFCC, authorization: `Bearer ${KEYS.search}` },
      body: JSON.stringify(CHAT),
    });
    assert.equal(withKey.status, 200);
    const row = (await ledgerRows(distrusting)).at(-1)!;
    assert.equal(row.consumer, 'search-service');
    assert.match(row.identity ?? '', /^key:/);
  });
});

describe('identity.unmappedCertificate: discover', () => {
  let sluice: TestSluice;

  before(async () => {
    sluice = await startTestSluice({
      admin: { host: '127.0.0.1', port: 0, token: BOOTSTRAP },
      identity: { trustedProxies: ['127.0.0.1/32', '::1'], unmappedCertificate: 'discover' },
      ...OFFLINE_CATALOG,
    });
  });

  after(async () => {
    await sluice.stop();
  });

  test('refuses an unmapped mesh identity with 403 and reports it to reconciliation as a discovered consumer', async () => {
    const unknown = 'spiffe://acme.mil/ns/labs/sa/notebook';
    for (let i = 0; i < 3; i++) {
      const response = await fetch(`${sluice.baseURL}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-forwarded-client-cert': `By=spiffe://acme.mil/ns/ai/sa/sluice;URI=${unknown}` },
        body: JSON.stringify(CHAT),
      });
      assert.equal(response.status, 403);
      await response.arrayBuffer();
    }
    const admin = adminClient(sluice, BOOTSTRAP);
    // Reports are batched away from the calls: wait for the batch, not for a fixed time.
    const deadline = Date.now() + 30_000;
    let found: any;
    while (found === undefined && Date.now() < deadline) {
      const listed = await admin('GET', '/api/reconciliation/consumers');
      found = listed.body.items.find((item: { hints: { userAgents: string[] } }) => item.hints.userAgents.includes(`xfcc:${unknown}`));
      if (found === undefined) await new Promise((resolve) => setTimeout(resolve, 250));
    }
    assert.ok(found !== undefined, 'the unmapped identity is a discovered consumer');
    assert.equal(found.status, 'pending');
    assert.equal(found.calls, 3);
    assert.match(found.identity.value, /^x509:[0-9a-f]{16}$/);
  });
});
