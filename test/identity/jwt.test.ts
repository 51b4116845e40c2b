// JWT consumers and OIDC admin tokens, against a JWKS served on loopback: a valid token is served as the consumer its
// claims map to; an expired one, a wrong audience, an unknown kid after a key rotation, alg none and HS256 signed with
// the public key are all refused (401); a valid token no rule maps gets 403. Admin tokens from the OIDC issuer carry a role.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { createHmac } from 'node:crypto';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type JWK, type JWTPayload, type CryptoKey as JoseKey } from 'jose';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { adminClient } from '../support/admin-client.js';
import { json, MockProvider, openaiCompletion } from '../support/mock-provider.js';
import { ledgerRows, startTestSluice, type TestSluice } from '../support/sluice.js';

const BOOTSTRAP = 'sa-bootstrap-jwt-test-token-0123456789';
const ISSUER = 'https://idp.example.test/realms/acme';

interface SigningKey {
  kid: string;
  privateKey: JoseKey;
  publicJwk: JWK;
  spki: string;
}

async function signingKey(kid: string): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  return {
    kid,
    privateKey,
    publicJwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' },
    spki: await exportSPKI(publicKey),
  };
}

const base64url = (value: string | Buffer) => Buffer.from(value).toString('base64url');

describe('JWT consumers and OIDC admin tokens', () => {
  let jwks: Server;
  let published: JWK[];
  let fetches = 0;
  /** While set, the JWKS endpoint answers 503, as an identity provider in an outage does. */
  let jwksDown = false;
  let mock: MockProvider;
  let sluice: TestSluice;
  let first: SigningKey;
  let second: SigningKey;

  function token(key: SigningKey, claims: JWTPayload, options: { audience?: string; expiresIn?: string | number } = {}): Promise<string> {
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', kid: key.kid, typ: 'JWT' })
      .setIssuer(ISSUER)
      .setAudience(options.audience ?? 'sluice-gateway')
      .setIssuedAt()
      .setExpirationTime(options.expiresIn ?? '5m')
      .sign(key.privateKey);
  }

  function chat(credential: string) {
    return fetch(`${sluice.baseURL}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${credential}` },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] }),
    });
  }

  async function refused(credential: string, status: number, message: RegExp): Promise<void> {
    const response = await chat(credential);
    const body = (await response.json()) as { error: { code: string; message: string; type: string } };
    assert.equal(response.status, status, JSON.stringify(body));
    assert.equal(body.error.code, status === 401 ? 'invalid_api_key' : 'identity_not_mapped');
    assert.match(body.error.message, message);
  }

  before(async () => {
    first = await signingKey('key-2026-11');
    second = await signingKey('key-2026-12');
    published = [first.publicJwk];
    jwks = createServer((req, res) => {
      fetches++;
      if (jwksDown) {
        res.writeHead(503, { 'content-type': 'text/plain' }).end('identity provider unavailable');
        return;
      }
      res.writeHead(req.url === '/jwks' ? 200 : 404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ keys: published }));
    });
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
    const address = jwks.address() as { port: number };
    const jwksUri = `http://127.0.0.1:${address.port}/jwks`;
    mock = await MockProvider.start((_request, res) => json(res, 200, openaiCompletion('Hello, token holder')));
    sluice = await startTestSluice({
      admin: { host: '127.0.0.1', port: 0, token: BOOTSTRAP },
      providers: { openai: { type: 'openai', baseUrl: `${mock.url}/v1`, apiKey: 'sk-upstream-jwt' } },
      models: [{ name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] }],
      identity: {
        jwtIssuers: [
          { issuer: ISSUER, jwksUri, audience: 'sluice-gateway', algorithms: ['RS256'], clockToleranceSeconds: 5, jwksCooldownSeconds: 1 },
        ],
        adminOidc: {
          issuer: ISSUER,
          jwksUri,
          audience: 'sluice-admin',
          algorithms: ['RS256'],
          roleClaim: 'sluice_role',
          jwksCooldownSeconds: 1,
        },
      },
    });
    const admin = adminClient(sluice, BOOTSTRAP);
    for (const rule of [
      { field: 'sub', match: 'exact', value: 'svc-checkout', issuer: ISSUER, consumer: 'checkout-service' },
      { field: 'group', match: 'prefix', value: 'search-', consumer: 'search-service' },
    ]) {
      const made = await admin('POST', '/api/identity-rules', rule);
      assert.equal(made.status, 201, JSON.stringify(made.body));
    }
  });

  after(async () => {
    await sluice.stop();
    await mock.close();
    jwks.closeAllConnections();
    await new Promise<void>((resolve) => jwks.close(() => resolve()));
  });

  test('serves a valid JWT through the openai SDK as the consumer its sub maps to, recording issuer and subject', async () => {
    const client = new OpenAI({ apiKey: await token(first, { sub: 'svc-checkout' }), baseURL: `${sluice.baseURL}/v1`, maxRetries: 0 });
    const completion = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] });
    assert.equal(completion.choices[0]!.message.content, 'Hello, token holder');
    const row = (await ledgerRows(sluice)).at(-1)!;
    assert.equal(row.consumer, 'checkout-service');
    assert.equal(row.identity, `jwt:${ISSUER}#svc-checkout`);
  });

  test('maps a JWT by its groups claim, and refuses a valid one no rule maps with 403', async () => {
    assert.equal((await chat(await token(first, { sub: 'alice', groups: ['staff', 'search-readers'] }))).status, 200);
    assert.equal((await ledgerRows(sluice)).at(-1)!.consumer, 'search-service');
    await refused(await token(first, { sub: 'mallory', groups: ['staff'] }), 403, /jwt:https:\/\/idp\.example\.test\/realms\/acme#mallory/);
  });

  test('a prefix rule on a JWT value stops at a boundary (/ or :) unless the prefix ends with a separator of its own', async () => {
    const admin = adminClient(sluice, BOOTSTRAP);
    const made = await admin('POST', '/api/identity-rules', {
      field: 'group',
      match: 'prefix',
      value: '/ai/team-a',
      consumer: 'search-service',
    });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    try {
      for (const [group, status] of [
        ['/ai/team-a', 200],
        ['/ai/team-a/readers', 200],
        ['/ai/team-ab', 403],
        ['/ai/team-ab/readers', 403],
      ] as const) {
        const response = await chat(await token(first, { sub: 'someone', groups: [group] }));
        assert.equal(response.status, status, `${group}: ${await response.text()}`);
      }
    } finally {
      await admin('DELETE', `/api/identity-rules/${(made.body as { id: number }).id}`);
    }
  });

  test('refuses an expired JWT with 401 in the OpenAI and the Anthropic shape', async () => {
    const expired = await token(first, { sub: 'svc-checkout' }, { expiresIn: Math.floor(Date.now() / 1000) - 600 });
    await refused(expired, 401, /expired/);
    const client = new Anthropic({ apiKey: expired, baseURL: sluice.baseURL, maxRetries: 0 });
    await assert.rejects(
      client.messages.create({ model: 'gpt-4o-mini', max_tokens: 10, messages: [{ role: 'user', content: 'Hi' }] }),
      (error: unknown) => {
        assert.ok(error instanceof Anthropic.AuthenticationError, String(error));
        return true;
      },
    );
  });

  test('refuses a JWT whose sub is not a string (RFC 7519 4.1.2) with 401, whatever rules there are', async () => {
    const made = await adminClient(sluice, BOOTSTRAP)('POST', '/api/identity-rules', {
      field: 'sub',
      match: 'prefix',
      value: 'batch-',
      consumer: 'checkout-service',
    });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    for (const sub of [12345, { id: 'batch-1' }, ['batch-1']]) {
      await refused(await token(first, { sub } as unknown as JWTPayload), 401, /"sub"/);
    }
    assert.equal((await chat(await token(first, { sub: 'batch-7' }))).status, 200);
    await adminClient(sluice, BOOTSTRAP)('DELETE', `/api/identity-rules/${(made.body as { id: number }).id}`);
  });

  test('refuses a JWT that is not yet valid (nbf past the clock tolerance) with 401, and takes one within it', async () => {
    const now = Math.floor(Date.now() / 1000);
    await refused(await token(first, { sub: 'svc-checkout', nbf: now + 60 }), 401, /"nbf"/);
    assert.equal((await chat(await token(first, { sub: 'svc-checkout', nbf: now + 2 }))).status, 200);
  });

  test('refuses a JWT for another audience with 401', async () => {
    await refused(await token(first, { sub: 'svc-checkout' }, { audience: 'some-other-service' }), 401, /"aud"/);
  });

  test('refuses alg none with 401', async () => {
    const now = Math.floor(Date.now() / 1000);
    const unsigned = `${base64url(JSON.stringify({ alg: 'none', typ: 'JWT' }))}.${base64url(
      JSON.stringify({
        iss: ISSUER,
        aud: 'sluice-gateway',
        sub: 'svc-checkout',
        iat: now,
        exp: now + 300,
      }),
    )}.`;
    await refused(unsigned, 401, /algorithm|does not verify/);
  });

  test("refuses HS256 signed with the issuer's public key as the secret with 401", async () => {
    const now = Math.floor(Date.now() / 1000);
    const signingInput = `${base64url(JSON.stringify({ alg: 'HS256', typ: 'JWT', kid: first.kid }))}.${base64url(
      JSON.stringify({
        iss: ISSUER,
        aud: 'sluice-gateway',
        sub: 'svc-checkout',
        iat: now,
        exp: now + 300,
      }),
    )}`;
    for (const secret of [first.spki, JSON.stringify(first.publicJwk)]) {
      const forged = `${signingInput}.${createHmac('sha256', secret).update(signingInput).digest('base64url')}`;
      await refused(forged, 401, /algorithm/);
    }
  });

  test('after a key rotation: fetches the JWKS again for the new kid (within its cooldown), refuses the retired and unknown kids', async () => {
    published = [second.publicJwk];
    const renewed = await token(second, { sub: 'svc-checkout' });
    // The cached set lacks the new kid: the JWKS is fetched again once the cooldown since the last fetch has passed.
    const deadline = Date.now() + 30_000;
    let status = 0;
    while (Date.now() < deadline) {
      const response = await chat(renewed);
      status = response.status;
      await response.arrayBuffer();
      if (status === 200) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    assert.equal(status, 200);
    await refused(await token(first, { sub: 'svc-checkout' }), 401, /kid/);
    // A flood of unknown kids fetches the JWKS at most once per cooldown (1 s here), not once per token.
    const stranger = await signingKey('made-up');
    const started = Date.now();
    const before = fetches;
    await Promise.all(
      Array.from({ length: 20 }, async () => {
        const response = await chat(await token(stranger, { sub: 'svc-checkout' }));
        assert.equal(response.status, 401);
        await response.arrayBuffer();
      }),
    );
    const seconds = Math.ceil((Date.now() - started) / 1000);
    assert.ok(fetches - before <= seconds + 1, `${fetches - before} JWKS fetches in ${seconds} s for 20 tokens`);
  });

  test('takes OIDC admin tokens: the role claim decides, a token without a role gets 403, an expired one 401', async () => {
    const key = published[0]!.kid === second.kid ? second : first;
    const adminToken = (claims: JWTPayload, expiresIn?: number) =>
      token(key, claims, { audience: 'sluice-admin', ...(expiresIn === undefined ? {} : { expiresIn }) });
    const viewer = adminClient(sluice, await adminToken({ sub: 'auditor@acme.mil', sluice_role: 'viewer' }));
    assert.equal((await viewer('GET', '/api/teams')).status, 200);
    const refusedWrite = await viewer('POST', '/api/teams', {});
    assert.equal(refusedWrite.status, 403);
    assert.equal(refusedWrite.body.error.code, 'forbidden');
    const noRole = await adminClient(sluice, await adminToken({ sub: 'someone@acme.mil' }))('GET', '/api/teams');
    assert.equal(noRole.status, 403);
    const expired = await adminClient(
      sluice,
      await adminToken({ sub: 'auditor@acme.mil', sluice_role: 'admin' }, Math.floor(Date.now() / 1000) - 600),
    )('GET', '/api/teams');
    assert.equal(expired.status, 401);
    assert.equal(expired.body.error.code, 'unauthenticated');
    // A gateway token (another audience) is no admin token.
    const gatewayToken = await adminClient(sluice, await token(key, { sub: 'svc-checkout', sluice_role: 'admin' }))('GET', '/api/teams');
    assert.equal(gatewayToken.status, 401);
    const operator = adminClient(sluice, await adminToken({ sub: 'ops@acme.mil', sluice_role: 'operator' }));
    const made = await operator('POST', '/api/teams', { name: 'oidc-made', owner: 'ops@acme.mil' });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    const audit = await adminClient(sluice, BOOTSTRAP)('GET', '/api/audit?entityType=team&entityId=oidc-made');
    assert.equal(audit.body.items[0].actor, `oidc:${ISSUER}#ops@acme.mil`);
  });

  test("while the issuer's JWKS cannot be fetched, a token it would have to vouch for is a 503 to retry, not a 401", async () => {
    const newcomer = await signingKey('key-2027-01');
    published = [...published, newcomer.publicJwk];
    jwksDown = true;
    try {
      // Past the cooldown, the unknown kid makes the gateway fetch the JWKS, which fails.
      await new Promise((resolve) => setTimeout(resolve, 1_100));
      const openai = await chat(await token(newcomer, { sub: 'svc-checkout' }));
      const body = (await openai.json()) as { error: { code: string; message: string; type: string } };
      assert.equal(openai.status, 503, JSON.stringify(body));
      assert.equal(body.error.code, 'identity_unavailable');
      assert.equal(body.error.type, 'api_error');
      assert.match(body.error.message, /signing keys of issuer https:\/\/idp\.example\.test\/realms\/acme cannot be fetched/);
      await new Promise((resolve) => setTimeout(resolve, 1_100));
      const anthropic = await fetch(`${sluice.baseURL}/v1/messages`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-api-key': await token(newcomer, { sub: 'svc-checkout' }),
          'anthropic-version': '2023-06-01',
        },
        body: JSON.stringify({ model: 'gpt-4o-mini', max_tokens: 10, messages: [{ role: 'user', content: 'Hi' }] }),
      });
      assert.equal(anthropic.status, 503);
      assert.equal(((await anthropic.json()) as { error: { type: string } }).error.type, 'api_error');
      await new Promise((resolve) => setTimeout(resolve, 1_100));
      const admin = await adminClient(
        sluice,
        await token(newcomer, { sub: 'ops@acme.mil', sluice_role: 'admin' }, { audience: 'sluice-admin' }),
      )('GET', '/api/teams');
      assert.equal(admin.status, 503, JSON.stringify(admin.body));
      assert.equal(admin.body.error.code, 'unavailable');
    } finally {
      jwksDown = false;
    }
    // The issuer back: the same token is served.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    assert.equal((await chat(await token(newcomer, { sub: 'svc-checkout' }))).status, 200);
  });
  test("while the issuer's JWKS cannot be fetched, tokens with unknown kids fetch it at most once per cooldown, not once per token", async () => {
    // jose's cooldown starts at a successful fetch only: after a failed one, every token with an unknown kid (anyone can
    // make one, no signature needed) would fetch again, hammering an issuer that is already failing.
    const stranger = await signingKey('made-up-during-outage');
    jwksDown = true;
    try {
      await new Promise((resolve) => setTimeout(resolve, 1_100));
      const started = Date.now();
      const before = fetches;
      for (let i = 0; i < 10; i++) {
        const response = await chat(await token(stranger, { sub: 'svc-checkout' }));
        assert.equal(response.status, 503);
        await response.arrayBuffer();
      }
      const seconds = Math.ceil((Date.now() - started) / 1000);
      assert.ok(fetches - before <= seconds + 1, `${fetches - before} JWKS fetches in ${seconds} s for 10 tokens`);
    } finally {
      jwksDown = false;
    }
    // The issuer back: once the cooldown since the failure has passed, a token is verified again.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    assert.equal((await chat(await token(second, { sub: 'svc-checkout' }))).status, 200);
  });
});

describe('JWTs without a key id, from an issuer publishing several keys of their algorithm', () => {
  let jwks: Server;
  let mock: MockProvider;
  let sluice: TestSluice;
  let older: SigningKey;
  let newer: SigningKey;

  /** Signed without `kid`, as some identity providers do while their JWKS holds the old and the new key of a rotation. */
  function tokenWithoutKid(key: SigningKey, claims: JWTPayload, expiresIn: string | number = '5m'): Promise<string> {
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT' })
      .setIssuer(ISSUER)
      .setAudience('sluice-gateway')
      .setIssuedAt()
      .setExpirationTime(expiresIn)
      .sign(key.privateKey);
  }

  function chat(credential: string) {
    return fetch(`${sluice.baseURL}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${credential}` },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] }),
    });
  }

  before(async () => {
    older = await signingKey('rotation-old');
    newer = await signingKey('rotation-new');
    // The older key also published a second time under another kid, as a JWKS sometimes lists one key twice.
    const keys = [older.publicJwk, newer.publicJwk, { ...older.publicJwk, kid: 'rotation-old-alias' }];
    jwks = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys }));
    });
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
    const jwksUri = `http://127.0.0.1:${(jwks.address() as { port: number }).port}/jwks`;
    mock = await MockProvider.start((_request, res) => json(res, 200, openaiCompletion('Hello, kid-less token holder')));
    sluice = await startTestSluice({
      admin: { host: '127.0.0.1', port: 0, token: BOOTSTRAP },
      providers: { openai: { type: 'openai', baseUrl: `${mock.url}/v1`, apiKey: 'sk-upstream-jwt' } },
      models: [{ name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] }],
      identity: { jwtIssuers: [{ issuer: ISSUER, jwksUri, audience: 'sluice-gateway', algorithms: ['RS256'] }] },
    });
    const made = await adminClient(sluice, BOOTSTRAP)('POST', '/api/identity-rules', {
      field: 'sub',
      match: 'exact',
      value: 'svc-checkout',
      consumer: 'checkout-service',
    });
    assert.equal(made.status, 201, JSON.stringify(made.body));
  });

  after(async () => {
    await sluice.stop();
    await mock.close();
    jwks.closeAllConnections();
    await new Promise<void>((resolve) => jwks.close(() => resolve()));
  });

  test('serves a token signed by any of the published keys, trying each key its algorithm matches', async () => {
    for (const key of [newer, older]) {
      const client = new OpenAI({
        apiKey: await tokenWithoutKid(key, { sub: 'svc-checkout' }),
        baseURL: `${sluice.baseURL}/v1`,
        maxRetries: 0,
      });
      const completion = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] });
      assert.equal(completion.choices[0]!.message.content, 'Hello, kid-less token holder');
      const row = (await ledgerRows(sluice)).at(-1)!;
      assert.equal(row.consumer, 'checkout-service');
      assert.equal(row.identity, `jwt:${ISSUER}#svc-checkout`);
    }
  });

  test('refuses with 401 a token no published key verifies, and one a key verifies that has expired', async () => {
    const stranger = await signingKey('not-published');
    for (const [credential, message] of [
      [await tokenWithoutKid(stranger, { sub: 'svc-checkout' }), /signature/],
      [await tokenWithoutKid(newer, { sub: 'svc-checkout' }, Math.floor(Date.now() / 1000) - 600), /expired/],
    ] as const) {
      const response = await chat(credential);
      const body = (await response.json()) as { error: { code: string; message: string } };
      assert.equal(response.status, 401, JSON.stringify(body));
      assert.equal(body.error.code, 'invalid_api_key');
      assert.match(body.error.message, message);
    }
  });
});
