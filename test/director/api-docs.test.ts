// The director API's interactive docs at /api/docs over HTTP: a Swagger UI page served offline from swagger-ui-dist,
// its assets with their content types, a strict Content-Security-Policy with no inline script, public page and assets,
// and every API call still needing the admin token the page's "Authorize" button sends as a bearer header.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { startTestSluice, type TestSluice } from '../support/sluice.js';

const TOKEN = 'sa-bootstrap-api-docs-test-token-01';
const SWAGGER_UI_DIR = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));

describe('interactive API docs at /api/docs', () => {
  let sluice: TestSluice;
  let page: URL;

  before(async () => {
    // A provider and model because the test config's consumers name one; nothing calls it.
    sluice = await startTestSluice({
      admin: { host: '127.0.0.1', port: 0, token: TOKEN },
      providers: { openai: { type: 'openai', baseUrl: 'http://127.0.0.1:9/v1', apiKey: 'sk-upstream-not-real' } },
      models: [{ name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] }],
    });
    page = new URL('/api/docs', sluice.adminURL);
  });

  after(() => sluice.stop());

  test('answers an HTML page, without a token, that loads Swagger UI and its initializer from this origin', async () => {
    const answer = await fetch(page);
    assert.equal(answer.status, 200);
    assert.match(answer.headers.get('content-type') ?? '', /^text\/html; charset=utf-8$/i);
    const html = await answer.text();
    const scripts = [...html.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)];
    assert.deepEqual(
      scripts.map((script) => /src="([^"]+)"/.exec(script[1]!)?.[1]),
      ['docs/swagger-ui-bundle.js', 'docs/sluice-api-docs.js'],
    );
    for (const script of scripts) assert.equal(script[2]!.trim(), '', 'no inline script');
    assert.match(html, /<link rel="stylesheet" href="docs\/swagger-ui\.css">/);
    assert.ok(!/https?:\/\//.test(html), 'nothing is loaded from another origin');
  });

  test('sets a strict Content-Security-Policy on the page and its assets', async () => {
    for (const path of ['/api/docs', '/api/docs/sluice-api-docs.js', '/api/docs/swagger-ui-bundle.js']) {
      const answer = await fetch(new URL(path, sluice.adminURL));
      await answer.arrayBuffer();
      const policy = new Map(
        (answer.headers.get('content-security-policy') ?? '').split(/;\s*/).map((directive) => {
          const [name, ...values] = directive.split(' ');
          return [name!, values.join(' ')] as const;
        }),
      );
      assert.equal(policy.get('default-src'), "'none'", path);
      assert.equal(policy.get('script-src'), "'self'", `${path}: scripts from this origin only, none inline, no eval`);
      assert.equal(policy.get('connect-src'), "'self'", `${path}: calls to this origin only`);
      assert.equal(policy.get('frame-ancestors'), "'none'", path);
      assert.equal(answer.headers.get('x-content-type-options'), 'nosniff', path);
    }
  });

  test('serves the assets the page references from the swagger-ui-dist package, with their content types', async () => {
    const expected: Record<string, string> = {
      'docs/swagger-ui.css': 'text/css; charset=utf-8',
      'docs/swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
      'docs/favicon-32x32.png': 'image/png',
      'docs/favicon-16x16.png': 'image/png',
    };
    for (const [reference, type] of Object.entries(expected)) {
      const answer = await fetch(new URL(reference, page));
      assert.equal(answer.status, 200, reference);
      assert.equal(answer.headers.get('content-type'), type, reference);
      const served = Buffer.from(await answer.arrayBuffer());
      assert.ok(served.equals(readFileSync(join(SWAGGER_UI_DIR, reference.slice('docs/'.length)))), `${reference} is the package's file`);
    }
    const initializer = await fetch(new URL('docs/sluice-api-docs.js', page));
    assert.equal(initializer.headers.get('content-type'), 'text/javascript; charset=utf-8');
    const code = await initializer.text();
    assert.match(code, /url: 'openapi\.json'/);
    assert.match(code, /validatorUrl: null/, 'no call to validator.swagger.io');
  });

  test('the document the page loads is public and declares the bearer scheme its Authorize button fills in', async () => {
    const answer = await fetch(new URL('openapi.json', page));
    assert.equal(answer.status, 200);
    const doc = (await answer.json()) as {
      components: { securitySchemes: Record<string, { type: string; scheme: string }> };
      security: unknown;
    };
    const scheme = doc.components.securitySchemes.adminToken;
    assert.equal(scheme?.type, 'http');
    assert.equal(scheme?.scheme, 'bearer');
    assert.deepEqual(doc.security, [{ adminToken: [] }]);
  });

  test('the API behind the page still needs the token, sent as Authorization: Bearer', async () => {
    const anonymous = await fetch(new URL('/api/teams', sluice.adminURL));
    assert.equal(anonymous.status, 401);
    await anonymous.arrayBuffer();
    const authorized = await fetch(new URL('/api/teams', sluice.adminURL), { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(authorized.status, 200);
    await authorized.arrayBuffer();
  });

  test('serves nothing else from the package, and sends /api/docs/ to /api/docs', async () => {
    for (const path of [
      '/api/docs/package.json',
      '/api/docs/index.html',
      '/api/docs/swagger-initializer.js',
      '/api/docs/swagger-ui-bundle.js.map',
    ]) {
      const answer = await fetch(new URL(path, sluice.adminURL));
      assert.equal(answer.status, 404, path);
      assert.equal(((await answer.json()) as { error: { code: string } }).error.code, 'route_not_found', path);
    }
    const slash = await fetch(new URL('/api/docs/', sluice.adminURL), { redirect: 'manual' });
    assert.equal(slash.status, 301);
    assert.equal(new URL(slash.headers.get('location')!, sluice.adminURL).pathname, '/api/docs');
  });
});
