// mTLS on the gateway: client certificates made in the test, mapped to consumers by identity rules (exact SPIFFE id,
// pattern), served through the OpenAI SDK; a missing, unmapped or foreign-CA certificate refused in the caller's API
// shape; a renewed server certificate picked up without a restart while an open connection keeps working.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { renameSync, writeFileSync } from 'node:fs';
import { Agent as HttpsAgent, request } from 'node:https';
import { join } from 'node:path';
import { connect } from 'node:tls';
import OpenAI from 'openai';
import { Agent, fetch as undiciFetch } from 'undici';
import type { AdminClient } from '../support/admin-client.js';
import { KeyUsage, makeCa, type Issued, type TestCa } from '../support/certificates.js';
import { json, MockProvider, openaiCompletion } from '../support/mock-provider.js';
import { capturedLogger, KEYS, ledgerRows, startTestSluice, type TestSluice } from '../support/sluice.js';
import { scratchDir } from '../support/scratch.js';

const BOOTSTRAP = 'sa-bootstrap-mtls-test-token-0123456789';
const CHECKOUT_ID = 'spiffe://acme.mil/ns/payments/sa/checkout';
const CHAT = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] };

interface Answer {
  status: number;
  body: any;
  reusedSocket: boolean;
}

/** The director API over HTTPS, trusting the test CA. */
function httpsAdminClient(url: string, token: string, caCert: string): AdminClient {
  const dispatcher = new Agent({ connect: { ca: caCert } });
  return async (method, path, payload) => {
    const response = await undiciFetch(`${url}${path}`, {
      method,
      dispatcher,
      headers: { authorization: `Bearer ${token}`, ...(payload === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(payload === undefined ? {} : { body: JSON.stringify(payload) }),
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers as unknown as Headers, body: text === '' ? null : JSON.parse(text) };
  };
}

describe('mTLS on the gateway listener', () => {
  let mock: MockProvider;
  let sluice: TestSluice;
  let admin: AdminClient;
  let ca: TestCa;
  let otherCa: TestCa;
  let folder: string;
  let gatewayURL: string;
  let checkout: Issued;
  const log = capturedLogger();

  /** One HTTPS call with node's client, optionally with a client certificate and a kept-alive agent. */
  function call(
    path: string,
    body: unknown,
    options: { client?: Issued; agent?: HttpsAgent; headers?: Record<string, string> } = {},
  ): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const req = request(
        `${gatewayURL}${path}`,
        {
          method: 'POST',
          ca: ca.cert,
          agent: options.agent ?? false,
          ...(options.client === undefined ? {} : { cert: options.client.cert, key: options.client.key }),
          headers: { 'content-type': 'application/json', ...options.headers },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () =>
            resolve({ status: res.statusCode!, body: JSON.parse(Buffer.concat(chunks).toString('utf8')), reusedSocket: req.reusedSocket }),
          );
        },
      );
      req.on('error', reject);
      req.end(JSON.stringify(body));
    });
  }

  function sdk(client: Issued): OpenAI {
    const dispatcher = new Agent({ connect: { cert: client.cert, key: client.key, ca: ca.cert } });
    const viaAgent = ((url: string, init?: Record<string, unknown>) =>
      undiciFetch(url, { ...init, dispatcher })) as unknown as typeof fetch;
    // The SDK insists on an API key; with a mapped client certificate Sluice does not look at it.
    return new OpenAI({ apiKey: 'not-used-with-a-client-certificate', baseURL: `${gatewayURL}/v1`, maxRetries: 0, fetch: viaAgent });
  }

  /** The serial number of the certificate the gateway presents to a new connection now. */
  function servedSerial(): Promise<string> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port: sluice.sluice.gateway.port, ca: ca.cert, servername: 'localhost' }, () => {
        const serial = socket.getPeerCertificate().serialNumber;
        socket.end();
        resolve(serial);
      });
      socket.on('error', reject);
    });
  }

  function writeServerCertificate(issued: Issued): void {
    // As certificate managers do: a new file renamed over the old one.
    writeFileSync(join(folder, 'server.key.new'), issued.key);
    writeFileSync(join(folder, 'server.crt.new'), issued.cert);
    renameSync(join(folder, 'server.key.new'), join(folder, 'server.key'));
    renameSync(join(folder, 'server.crt.new'), join(folder, 'server.crt'));
  }

  before(async () => {
    ca = await makeCa('Sluice Test Mesh CA');
    otherCa = await makeCa('Another CA');
    folder = scratchDir('sluice-mtls-');
    writeServerCertificate(await ca.issue({ subject: 'CN=sluice-gateway', server: true }));
    writeFileSync(join(folder, 'client-ca.pem'), ca.cert);
    checkout = await ca.issue({ subject: 'CN=checkout,O=Acme', spiffe: CHECKOUT_ID });
    mock = await MockProvider.start((_request, res) => json(res, 200, openaiCompletion('Hello over mTLS')));
    sluice = await startTestSluice(
      {
        gateway: {
          host: '127.0.0.1',
          port: 0,
          tls: {
            certFile: join(folder, 'server.crt'),
            keyFile: join(folder, 'server.key'),
            clientCaFile: join(folder, 'client-ca.pem'),
            minVersion: 'TLSv1.2',
          },
        },
        admin: {
          host: '127.0.0.1',
          port: 0,
          token: BOOTSTRAP,
          tls: { certFile: join(folder, 'server.crt'), keyFile: join(folder, 'server.key'), minVersion: 'TLSv1.3' },
        },
        providers: { openai: { type: 'openai', baseUrl: `${mock.url}/v1`, apiKey: 'sk-upstream-mtls' } },
        models: [{ name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] }],
      },
      { logger: log.logger },
    );
    gatewayURL = `https://127.0.0.1:${sluice.sluice.gateway.port}`;
    admin = httpsAdminClient(`https://127.0.0.1:${sluice.sluice.admin.port}`, BOOTSTRAP, ca.cert);
    const exact = await admin('POST', '/api/identity-rules', {
      field: 'spiffe',
      match: 'exact',
      value: CHECKOUT_ID,
      consumer: 'checkout-service',
    });
    assert.equal(exact.status, 201, JSON.stringify(exact.body));
    const pattern = await admin('POST', '/api/identity-rules', {
      field: 'spiffe',
      match: 'pattern',
      value: 'spiffe://acme.mil/ns/*/sa/search',
      consumer: 'search-service',
    });
    assert.equal(pattern.status, 201, JSON.stringify(pattern.body));
  });

  after(async () => {
    await sluice.stop();
    await mock.close();
  });

  test('serves the openai SDK over HTTPS with a client certificate as the consumer its SPIFFE id maps to, and records that identity', async () => {
    const completion = await sdk(checkout).chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] });
    assert.equal(completion.choices[0]!.message.content, 'Hello over mTLS');
    const row = (await ledgerRows(sluice)).at(-1)!;
    assert.equal(row.consumer, 'checkout-service');
    assert.equal(row.team, 'payments');
    assert.equal(row.identity, `mtls:${CHECKOUT_ID}`);
    const listed = await admin('GET', '/api/transactions?consumer=checkout-service&limit=1');
    assert.equal(listed.status, 200);
    assert.equal(listed.body.items[0].identity, `mtls:${CHECKOUT_ID}`);
    assert.ok(!JSON.stringify(listed.body).includes('PRIVATE KEY'));
  });

  test('maps a SPIFFE id by a pattern rule (* is one path segment)', async () => {
    const search = await ca.issue({ subject: 'CN=search', spiffe: 'spiffe://acme.mil/ns/discovery/sa/search' });
    const answer = await call('/v1/chat/completions', CHAT, { client: search });
    // search-service may use gpt-4o-mini only, which is what is asked for.
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assert.equal((await ledgerRows(sluice)).at(-1)!.consumer, 'search-service');
    const deeper = await ca.issue({ subject: 'CN=search', spiffe: 'spiffe://acme.mil/ns/discovery/extra/sa/search' });
    assert.equal((await call('/v1/chat/completions', CHAT, { client: deeper })).status, 403);
  });

  test('refuses a certificate with more than one URI SAN (not an X.509-SVID), whichever SPIFFE id comes first', async () => {
    // The SPIFFE X.509-SVID standard (sections 2 and 5.2): exactly one URI SAN; validators must reject more.
    for (const uris of [['spiffe://acme.mil/ns/other/sa/batch'], ['https://checkout.acme.mil/']]) {
      const twoNames = await ca.issue({ subject: 'CN=checkout,O=Acme', spiffe: CHECKOUT_ID, uris });
      const answer = await call('/v1/chat/completions', CHAT, { client: twoNames });
      assert.equal(answer.status, 401, JSON.stringify(answer.body));
      assert.equal(answer.body.error.code, 'invalid_api_key');
      assert.match(answer.body.error.message, /URI/);
    }
  });

  test('takes a certificate whose SPIFFE id breaks the SPIFFE ID standard as no identity (401 here, where one is required), logging why without its secrets', async () => {
    // SPIFFE-ID.md sections 2, 2.1, 2.2, 2.3; X509-SVID.md 5.2 (a leaf's id has a path). Rules that would map each id, and
    // its subject, if the certificate were taken.
    const rules: number[] = [];
    for (const rule of [
      { field: 'spiffe', match: 'pattern', value: 'spiffe://**', consumer: 'checkout-service' },
      { field: 'subject', match: 'exact', value: 'O=Acme,CN=malformed', consumer: 'checkout-service' },
    ]) {
      const made = await admin('POST', '/api/identity-rules', rule);
      assert.equal(made.status, 201, JSON.stringify(made.body));
      rules.push(made.body.id);
    }
    try {
      for (const [id, reason] of [
        ['SPIFFE://acme.mil/ns/payments/sa/checkout', /scheme/],
        ['spiffe://Acme.mil/ns/payments/sa/checkout', /trust domain.*lowercase/],
        ['spiffe:///ns/payments/sa/checkout', /trust domain/],
        ['spiffe://acme.mil:8443/ns/payments/sa/checkout', /port/],
        ['spiffe://checkout:s3cret-password@acme.mil/ns/payments/sa/checkout', /userinfo/],
        ['spiffe://acme.mil/ns/payments/sa/checkout?token=s3cret-query', /query/],
        ['spiffe://acme.mil/ns/payments/sa/checkout#s3cret-fragment', /fragment/],
        ['spiffe://acme.mil/ns/payments/../sa/checkout', /\.\./],
        ['spiffe://acme.mil/ns/./sa/checkout', /"\."/],
        ['spiffe://acme.mil/ns//sa/checkout', /empty/],
        ['spiffe://acme.mil/ns/payments/sa/checkout/', /empty|trailing/],
        ['spiffe://acme.mil/ns/pay%20ments/sa/checkout', /percent/],
        ['spiffe://acme.mil/ns/payments/sa/check$out', /character/],
        ['spiffe://acme.mil', /path/],
        [`spiffe://acme.mil/${'a'.repeat(2040)}`, /2048/],
      ] as const) {
        const malformed = await ca.issue({ subject: 'CN=malformed,O=Acme', spiffe: id });
        const answer = await call('/v1/chat/completions', CHAT, { client: malformed });
        assert.equal(answer.status, 401, `${id}: ${JSON.stringify(answer.body)}`);
        assert.equal(answer.body.error.code, 'invalid_api_key');
        assert.match(answer.body.error.message, /SPIFFE id/, id);
        assert.match(answer.body.error.message, reason, id);
        assert.doesNotMatch(answer.body.error.message, /s3cret/);
      }
      const logged = log.lines().filter((line) => line.includes('SPIFFE id'));
      assert.ok(logged.length >= 15, `${logged.length} log lines`);
      assert.match(logged.join('\n'), /userinfo/);
      assert.doesNotMatch(log.lines().join('\n'), /s3cret/);
    } finally {
      for (const id of rules) await admin('DELETE', `/api/identity-rules/${id}`);
    }
  });

  test('with clientCertificate: optional, a certificate whose SPIFFE id is not valid leaves the caller to its Sluice key', async () => {
    const optional = await startTestSluice({
      gateway: {
        host: '127.0.0.1',
        port: 0,
        tls: {
          certFile: join(folder, 'server.crt'),
          keyFile: join(folder, 'server.key'),
          clientCaFile: join(folder, 'client-ca.pem'),
          clientCertificate: 'optional',
          minVersion: 'TLSv1.2',
        },
      },
      providers: { openai: { type: 'openai', baseUrl: `${mock.url}/v1`, apiKey: 'sk-upstream-mtls' } },
      models: [{ name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] }],
    });
    try {
      const malformed = await ca.issue({ subject: 'CN=checkout,O=Acme', spiffe: 'spiffe://acme.mil/ns/payments/../sa/checkout' });
      const dispatcher = new Agent({ connect: { cert: malformed.cert, key: malformed.key, ca: ca.cert } });
      const chat = (headers: Record<string, string>) =>
        undiciFetch(`https://127.0.0.1:${optional.sluice.gateway.port}/v1/chat/completions`, {
          method: 'POST',
          dispatcher,
          headers: { 'content-type': 'application/json', ...headers },
          body: JSON.stringify(CHAT),
        });
      const alone = await chat({});
      assert.equal(alone.status, 401);
      assert.match(((await alone.json()) as { error: { message: string } }).error.message, /No API key/);
      const withKey = await chat({ authorization: `Bearer ${KEYS.search}` });
      assert.equal(withKey.status, 200, await withKey.text());
      const row = (await ledgerRows(optional)).at(-1)!;
      assert.equal(row.consumer, 'search-service');
      assert.match(row.identity ?? '', /^key:/);
      await dispatcher.close();
    } finally {
      await optional.stop();
    }
  });

  test('maps a certificate without a SPIFFE id by its subject in RFC 4514 order, as Envoy forwards the same certificate in XFCC', async () => {
    // Written CN first, so its DER sequence is CN then O; RFC 4514 (and RFC 2253, Envoy's XFCC Subject) write the last
    // RDN first: O=Acme,CN=reporting; the values of a multi-valued RDN joined by + with no spaces.
    for (const [subject, rfc4514] of [
      ['CN=reporting,O=Acme', 'O=Acme,CN=reporting'],
      ['CN=batch+OU=jobs,O=Acme', 'O=Acme,CN=batch+OU=jobs'],
    ] as const) {
      const rule = await admin('POST', '/api/identity-rules', {
        field: 'subject',
        match: 'exact',
        value: rfc4514,
        consumer: 'checkout-service',
      });
      assert.equal(rule.status, 201, JSON.stringify(rule.body));
      const answer = await call('/v1/chat/completions', CHAT, { client: await ca.issue({ subject }) });
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      assert.equal((await ledgerRows(sluice)).at(-1)!.identity, `mtls:${rfc4514}`);
    }
  });

  test('refuses with 401 a certificate that expires while its connection stays open, on that same connection', async () => {
    // X.509 times have whole seconds: valid for 3 s from now, at most a second less.
    const brief = await ca.issue({ subject: 'CN=checkout,O=Acme', spiffe: CHECKOUT_ID, notAfter: new Date(Date.now() + 3_000) });
    const agent = new HttpsAgent({ keepAlive: true, maxSockets: 1, ca: ca.cert, cert: brief.cert, key: brief.key });
    try {
      assert.equal((await call('/v1/chat/completions', CHAT, { client: brief, agent })).status, 200);
      await new Promise((resolve) => setTimeout(resolve, 3_500));
      const later = await call('/v1/chat/completions', CHAT, { client: brief, agent });
      assert.equal(later.reusedSocket, true, 'the same connection');
      assert.equal(later.status, 401, JSON.stringify(later.body));
      assert.equal(later.body.error.code, 'invalid_api_key');
      assert.match(later.body.error.message, /expired/);
    } finally {
      agent.destroy();
    }
  });

  test("refuses a CA's certificate presented as a client's with 401, whatever SPIFFE id or subject it names (X.509-SVID 5.2)", async () => {
    // Each names an identity a rule maps (the checkout SPIFFE id; the reporting subject, mapped by the test before).
    const signing = KeyUsage.digitalSignature | KeyUsage.keyCertSign | KeyUsage.cRLSign;
    for (const [what, options] of [
      ['basicConstraints CA, keyCertSign and cRLSign', { ca: true, keyUsages: signing }],
      ['basicConstraints CA only', { ca: true, keyUsages: KeyUsage.digitalSignature }],
      ['keyCertSign without CA', { keyUsages: KeyUsage.digitalSignature | KeyUsage.keyCertSign }],
      ['cRLSign without CA', { keyUsages: KeyUsage.digitalSignature | KeyUsage.cRLSign }],
    ] as const) {
      const intermediate = await ca.issue({ subject: 'CN=checkout,O=Acme', spiffe: CHECKOUT_ID, ...options });
      const answer = await call('/v1/chat/completions', CHAT, { client: intermediate });
      assert.equal(answer.status, 401, `${what}: ${JSON.stringify(answer.body)}`);
      assert.equal(answer.body.error.code, 'invalid_api_key');
      assert.match(answer.body.error.message, /CA/, what);
    }
    const bySubject = await ca.issue({ subject: 'CN=reporting,O=Acme', ca: true, keyUsages: signing });
    assert.equal((await call('/v1/chat/completions', CHAT, { client: bySubject })).status, 401);
    // The same names on leaf certificates are served.
    assert.equal((await call('/v1/chat/completions', CHAT, { client: checkout })).status, 200);
    assert.equal((await call('/v1/chat/completions', CHAT, { client: await ca.issue({ subject: 'CN=reporting,O=Acme' }) })).status, 200);
  });

  test('refuses a call without a client certificate with 401 in the OpenAI and the Anthropic shape, even with a valid key', async () => {
    const openai = await call('/v1/chat/completions', CHAT, { headers: { authorization: 'Bearer sk-sluice-test-checkout-0001' } });
    assert.equal(openai.status, 401);
    assert.equal(openai.body.error.code, 'invalid_api_key');
    assert.match(openai.body.error.message, /client certificate/);
    const anthropic = await call('/v1/messages', { model: 'gpt-4o-mini', max_tokens: 10, messages: [{ role: 'user', content: 'Hi' }] });
    assert.equal(anthropic.status, 401);
    assert.equal(anthropic.body.type, 'error');
    assert.equal(anthropic.body.error.type, 'authentication_error');
  });

  test('refuses a certificate of the trusted CA that no rule maps with 403 identity_not_mapped (the SDK sees PermissionDeniedError)', async () => {
    const stranger = await ca.issue({ subject: 'CN=stranger', spiffe: 'spiffe://acme.mil/ns/other/sa/stranger' });
    await assert.rejects(
      sdk(stranger).chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] }),
      (error: unknown) => {
        assert.ok(error instanceof OpenAI.PermissionDeniedError, String(error));
        assert.equal(error.status, 403);
        assert.equal(error.code, 'identity_not_mapped');
        return true;
      },
    );
  });

  test('refuses a certificate from another CA with 401, even when its SPIFFE id is one a rule maps', async () => {
    const forged = await otherCa.issue({ subject: 'CN=checkout,O=Acme', spiffe: CHECKOUT_ID });
    const answer = await call('/v1/chat/completions', CHAT, { client: forged });
    assert.equal(answer.status, 401);
    assert.equal(answer.body.error.code, 'invalid_api_key');
    assert.match(answer.body.error.message, /not trusted/);
    const anthropic = await call(
      '/v1/messages',
      { model: 'gpt-4o-mini', max_tokens: 10, messages: [{ role: 'user', content: 'Hi' }] },
      { client: forged },
    );
    assert.equal(anthropic.body.error.type, 'authentication_error');
  });

  test('refuses an expired certificate of the trusted CA with 401 naming the reason, in the shape of each route', async () => {
    const expired = await ca.issue({ subject: 'CN=checkout,O=Acme', spiffe: CHECKOUT_ID, notAfter: new Date(Date.now() - 60_000) });
    for (const [path, body] of [
      ['/v1/chat/completions', CHAT],
      ['/v1/embeddings', { model: 'gpt-4o-mini', input: 'Hi' }],
    ] as const) {
      const answer = await call(path, body, { client: expired });
      assert.equal(answer.status, 401, path);
      assert.equal(answer.body.error.code, 'invalid_api_key');
      assert.match(answer.body.error.message, /CERT_HAS_EXPIRED/);
    }
    const anthropic = await call(
      '/v1/messages',
      { model: 'gpt-4o-mini', max_tokens: 10, messages: [{ role: 'user', content: 'Hi' }] },
      { client: expired },
    );
    assert.equal(anthropic.status, 401);
    assert.equal(anthropic.body.error.type, 'authentication_error');
  });

  test('ignores an x-forwarded-client-cert header from a client (no proxy is trusted): its own certificate decides', async () => {
    const stranger = await ca.issue({ subject: 'CN=stranger2', spiffe: 'spiffe://acme.mil/ns/other/sa/stranger2' });
    const answer = await call('/v1/chat/completions', CHAT, {
      client: stranger,
      headers: { 'x-forwarded-client-cert': `By=spiffe://acme.mil/ns/ai/sa/sluice;URI=${CHECKOUT_ID}` },
    });
    assert.equal(answer.status, 403);
    assert.equal(answer.body.error.code, 'identity_not_mapped');
  });

  test('serves the admin API over HTTPS only, with TLS 1.3 as its minimum', async () => {
    assert.equal((await admin('GET', '/api/identity-rules')).status, 200);
    const version = await new Promise<string | null>((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port: sluice.sluice.admin.port, ca: ca.cert, servername: 'localhost' }, () => {
        resolve(socket.getProtocol());
        socket.end();
      });
      socket.on('error', reject);
    });
    assert.equal(version, 'TLSv1.3');
    await assert.rejects(
      new Promise((resolve, reject) => {
        const socket = connect(
          { host: '127.0.0.1', port: sluice.sluice.admin.port, ca: ca.cert, servername: 'localhost', maxVersion: 'TLSv1.2' },
          () => resolve(socket),
        );
        socket.on('error', reject);
      }),
    );
    await assert.rejects(fetch(`http://127.0.0.1:${sluice.sluice.admin.port}/healthz`));
  });

  test('picks up a renewed server certificate without a restart, and a connection open across the renewal keeps working', async () => {
    const agent = new HttpsAgent({ keepAlive: true, maxSockets: 1, ca: ca.cert, cert: checkout.cert, key: checkout.key });
    try {
      assert.equal((await call('/v1/chat/completions', CHAT, { client: checkout, agent })).status, 200);
      const before = await servedSerial();
      const renewed = await ca.issue({ subject: 'CN=sluice-gateway-renewed', server: true });
      writeServerCertificate(renewed);
      const deadline = Date.now() + 30_000;
      let served = before;
      const same = (a: string, b: string) => BigInt(`0x${a}`) === BigInt(`0x${b}`);
      while (!same(served, renewed.serialNumber) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        served = await servedSerial();
      }
      assert.ok(same(served, renewed.serialNumber), `still serving ${served} (was ${before})`);
      const again = await call('/v1/chat/completions', CHAT, { client: checkout, agent });
      assert.equal(again.status, 200);
      assert.equal(again.reusedSocket, true, 'the connection opened before the renewal was kept');
    } finally {
      agent.destroy();
    }
  });
});
