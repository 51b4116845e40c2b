// Two JWT issuers (a corporate IdP and a partner's), each with its own JWKS served on loopback: each issuer sets its
// tokens' sub, team and groups, so a rule on them that names no issuer cannot tell a corporate principal from a partner
// token minted with the same sub. With more than one issuer such a rule is refused where it is made (400 naming
// `issuer`), and one stored while a single issuer was configured maps no one once a second is added; a rule naming its
// issuer maps that issuer's tokens only. With one issuer, a rule without one keeps mapping its tokens.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { exportJWK, generateKeyPair, SignJWT, type JWK, type JWTPayload, type CryptoKey as JoseKey } from 'jose';
import { adminClient, type AdminClient } from '../support/admin-client.js';
import { json, MockProvider, openaiCompletion } from '../support/mock-provider.js';
import { capturedLogger, ledgerRows, startTestSluice, type TestSluice } from '../support/sluice.js';

const BOOTSTRAP = 'sa-bootstrap-jwt-issuers-test-token-0123';
const CORPORATE = 'https://login.acme.test/realms/corp';
const PARTNER = 'https://sso.partner.test/realms/partner';

interface Idp {
  issuer: string;
  jwksUri: string;
  server: Server;
  key: JoseKey;
  kid: string;
  /** A token this issuer signs with these claims. */
  token(claims: JWTPayload): Promise<string>;
}

/** An identity provider: its signing key and its JWKS on a loopback port of its own. */
async function startIdp(issuer: string, kid: string): Promise<Idp> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const published: JWK = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
  const server = createServer((req, res) => {
    res.writeHead(req.url === '/jwks' ? 200 : 404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ keys: [published] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    issuer,
    jwksUri: `http://127.0.0.1:${port}/jwks`,
    server,
    key: privateKey,
    kid,
    token: (claims) =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: 'RS256', kid, typ: 'JWT' })
        .setIssuer(issuer)
        .setAudience('sluice-gateway')
        .setIssuedAt()
        .setExpirationTime('5m')
        .sign(privateKey),
  };
}

function issuerConfig(idp: Idp) {
  return { issuer: idp.issuer, jwksUri: idp.jwksUri, audience: 'sluice-gateway', algorithms: ['RS256'] };
}

describe('identity rules on JWT claims with more than one issuer', () => {
  let corporate: Idp;
  let partner: Idp;
  let mock: MockProvider;
  const started: TestSluice[] = [];
  let oneIssuer: TestSluice;
  let twoIssuers: TestSluice;
  let admin: AdminClient;
  const log = capturedLogger();

  function chat(sluice: TestSluice, token: string): Promise<Response> {
    return fetch(`${sluice.baseURL}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] }),
    });
  }

  /** The call is served as `consumer`, recorded with the token's issuer and sub. */
  async function servedAs(sluice: TestSluice, token: string, consumer: string, identity: string): Promise<void> {
    const response = await chat(sluice, token);
    assert.equal(response.status, 200, await response.clone().text());
    await response.arrayBuffer();
    const row = (await ledgerRows(sluice)).at(-1)!;
    assert.equal(row.consumer, consumer);
    assert.equal(row.identity, identity);
  }

  async function notMapped(sluice: TestSluice, token: string, what: string): Promise<void> {
    const response = await chat(sluice, token);
    const body = (await response.json()) as { error: { code: string } };
    assert.equal(response.status, 403, `${what}: ${JSON.stringify(body)}`);
    assert.equal(body.error.code, 'identity_not_mapped', what);
  }

  before(async () => {
    corporate = await startIdp(CORPORATE, 'corp-2026');
    partner = await startIdp(PARTNER, 'partner-2026');
    mock = await MockProvider.start((_request, res) => json(res, 200, openaiCompletion('Hello, token holder')));
    const common = {
      admin: { host: '127.0.0.1', port: 0, token: BOOTSTRAP },
      providers: { openai: { type: 'openai', baseUrl: `${mock.url}/v1`, apiKey: 'sk-upstream-jwt-issuers' } },
      models: [{ name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] }],
    };
    // A deployment that trusted the corporate IdP alone, its rules made then, and later added the partner's.
    oneIssuer = await startTestSluice({ ...common, identity: { jwtIssuers: [issuerConfig(corporate)] } });
    started.push(oneIssuer);
    const single = adminClient(oneIssuer, BOOTSTRAP);
    for (const rule of [
      { field: 'sub', match: 'exact', value: 'bob@acme.test', consumer: 'search-service' },
      { field: 'group', match: 'prefix', value: 'payments-', consumer: 'checkout-service' },
    ]) {
      const made = await single('POST', '/api/identity-rules', rule);
      assert.equal(made.status, 201, JSON.stringify(made.body));
    }
    await servedAs(oneIssuer, await corporate.token({ sub: 'bob@acme.test' }), 'search-service', `jwt:${CORPORATE}#bob@acme.test`);
    await oneIssuer.stop();
    started.pop();
    const restarted = await startTestSluice(
      { ...common, storage: `sqlite:${oneIssuer.dbPath}`, identity: { jwtIssuers: [issuerConfig(corporate), issuerConfig(partner)] } },
      { logger: log.logger },
    );
    started.push(restarted);
    // Its ledger is in the store it was started on.
    twoIssuers = { ...restarted, dbPath: oneIssuer.dbPath };
    admin = adminClient(twoIssuers, BOOTSTRAP);
  });

  after(async () => {
    for (const sluice of started) await sluice.stop();
    await mock.close();
    for (const idp of [corporate, partner]) await new Promise((resolve) => idp.server.close(resolve));
  });

  test('a rule on sub, team or group without an issuer is refused where it is made, naming issuer', async () => {
    for (const field of ['sub', 'team', 'group']) {
      const answer = await admin('POST', '/api/identity-rules', {
        field,
        match: 'exact',
        value: 'alice@acme.test',
        consumer: 'checkout-service',
      });
      const shown = `${field}: ${JSON.stringify(answer.body)}`;
      assert.equal(answer.status, 400, shown);
      assert.equal(answer.body.error.code, 'invalid_request', shown);
      assert.deepEqual(
        answer.body.error.issues.map((issue: { path: string }) => issue.path),
        ['issuer'],
        shown,
      );
      assert.match(answer.body.error.issues[0].message, /2 JWT issuers/, shown);
    }
    // Certificate rules name no issuer, whatever the JWT issuers.
    const spiffe = await admin('POST', '/api/identity-rules', {
      field: 'spiffe',
      match: 'exact',
      value: 'spiffe://acme.mil/ns/payments/sa/checkout',
      consumer: 'checkout-service',
    });
    assert.equal(spiffe.status, 201, JSON.stringify(spiffe.body));
  });

  test("a partner token with a corporate principal's sub is not that principal: a rule naming its issuer maps only that issuer's tokens", async () => {
    const made = await admin('POST', '/api/identity-rules', {
      field: 'sub',
      match: 'exact',
      value: 'alice@acme.test',
      issuer: CORPORATE,
      consumer: 'checkout-service',
    });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    await servedAs(twoIssuers, await corporate.token({ sub: 'alice@acme.test' }), 'checkout-service', `jwt:${CORPORATE}#alice@acme.test`);
    await notMapped(twoIssuers, await partner.token({ sub: 'alice@acme.test' }), "the partner's alice");
  });

  test('a rule without an issuer stored while one issuer was configured maps no one once there are two, and says so', async () => {
    // The partner mints the sub and the group the corporate rules map: neither is taken.
    await notMapped(twoIssuers, await partner.token({ sub: 'bob@acme.test' }), "the partner's bob");
    await notMapped(twoIssuers, await partner.token({ sub: 'mallory', groups: ['payments-admins'] }), "the partner's payments group");
    // Nor the corporate tokens: which issuer the rule was meant for is not the gateway's to guess.
    await notMapped(twoIssuers, await corporate.token({ sub: 'bob@acme.test' }), 'the corporate bob, by a rule naming no issuer');
    const listed = await admin('GET', '/api/identity-rules');
    assert.equal(listed.status, 200);
    const stale = (listed.body.items as Array<{ value: string; valid: boolean; problem: string | null }>).filter(
      (rule) => rule.value === 'bob@acme.test' || rule.value === 'payments-',
    );
    assert.equal(stale.length, 2);
    for (const rule of stale) {
      assert.equal(rule.valid, false, JSON.stringify(rule));
      assert.match(rule.problem ?? '', /issuer/, JSON.stringify(rule));
    }
    const warned = log.lines().filter((line) => line.includes('bob@acme.test') && line.includes('maps no one'));
    assert.equal(warned.length, 1, warned.join('\n'));
  });
});
