// Every front-door error, as the client sees it: status, shape (OpenAI or Anthropic) and x-request-id.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ERRORS } from '../../src/errors.js';
import { json, MockProvider, openaiCompletion, openaiStreamFrames, sse } from '../support/mock-provider.js';
import { KEYS, startTestSluice, type TestSluice } from '../support/sluice.js';

describe("errors in the caller's shape", () => {
  let mock: MockProvider;
  let sluice: TestSluice;

  before(async () => {
    mock = await MockProvider.start((r, res) =>
      r.body.stream === true
        ? sse(res, openaiStreamFrames(['o', 'k'], { prompt_tokens: 3, completion_tokens: 2 }))
        : json(res, 200, openaiCompletion('ok')),
    );
    sluice = await startTestSluice({
      gateway: { host: '127.0.0.1', port: 0, maxBodyBytes: 2048 },
      providers: { openai: { type: 'openai', baseUrl: `${mock.url}/v1`, apiKey: 'upstream-key-not-real' } },
      models: [{ name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] }],
    });
  });

  after(async () => {
    await sluice.stop();
    await mock.close();
  });

  const post = (path: string, body: string, headers: Record<string, string> = {}) =>
    fetch(`${sluice.baseURL}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${KEYS.checkout}`, ...headers },
      body,
    });
  const chat = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
  const messages = JSON.stringify({ model: 'gpt-4o-mini', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] });

  const cases: Array<{ name: string; path: string; body: string; headers?: Record<string, string>; status: number; code: string }> = [
    {
      name: 'unknown key',
      path: '/v1/chat/completions',
      body: chat,
      headers: { authorization: 'Bearer sk-unknown-key-0000' },
      status: 401,
      code: 'invalid_api_key',
    },
    { name: 'no key', path: '/v1/chat/completions', body: chat, headers: { authorization: '' }, status: 401, code: 'invalid_api_key' },
    {
      name: 'unknown model',
      path: '/v1/chat/completions',
      body: JSON.stringify({ model: 'nope', messages: [{ role: 'user', content: 'hi' }] }),
      status: 404,
      code: 'model_not_found',
    },
    { name: 'invalid JSON', path: '/v1/chat/completions', body: '{"model":', status: 400, code: 'invalid_json' },
    {
      name: 'missing messages',
      path: '/v1/chat/completions',
      body: JSON.stringify({ model: 'gpt-4o-mini' }),
      status: 400,
      code: 'invalid_value',
    },
    {
      name: 'body too large',
      path: '/v1/chat/completions',
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x'.repeat(4096) }] }),
      status: 413,
      code: 'request_too_large',
    },
    { name: 'unknown endpoint', path: '/v1/nothing', body: '{}', status: 404, code: 'unknown_url' },
  ];

  for (const c of cases) {
    test(`OpenAI route: ${c.name} -> ${c.status} ${c.code}`, async () => {
      const response = await post(c.path, c.body, c.headers);
      assert.equal(response.status, c.status);
      assert.ok(response.headers.get('x-request-id'));
      const body = (await response.json()) as { error: { code: string; message: string; type: string } };
      assert.equal(body.error.code, c.code);
      assert.ok(body.error.message.length > 0);
      assert.ok(body.error.type);
    });
  }

  test('a bad field is named in the message and in param', async () => {
    const response = await post(
      '/v1/chat/completions',
      JSON.stringify({
        model: 'gpt-4o-mini',
        messages: [
          { role: 'user', content: 'hi' },
          { role: 'wizard', content: 'x' },
        ],
      }),
    );
    const body = (await response.json()) as { error: { param: string; message: string } };
    assert.equal(response.status, 400);
    assert.equal(body.error.param, 'messages[1].role');
    assert.match(body.error.message, /messages\[1\]\.role/);
  });

  test('Anthropic route: errors come as Anthropic error objects', async () => {
    const unknownKey = await post('/v1/messages', messages, { authorization: '', 'x-api-key': 'sk-unknown-key-0000' });
    assert.equal(unknownKey.status, 401);
    assert.deepEqual(((await unknownKey.json()) as { type: string; error: { type: string } }).error.type, 'authentication_error');
    const badField = await post('/v1/messages', JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }), {
      authorization: '',
      'x-api-key': KEYS.checkout,
    });
    assert.equal(badField.status, 400);
    const body = (await badField.json()) as { type: string; error: { type: string; message: string } };
    assert.equal(body.type, 'error');
    assert.equal(body.error.type, 'invalid_request_error');
    assert.match(body.error.message, /max_tokens/);
    const tooLarge = await post(
      '/v1/messages',
      JSON.stringify({ model: 'gpt-4o-mini', max_tokens: 5, messages: [{ role: 'user', content: 'x'.repeat(4096) }] }),
      { 'x-api-key': KEYS.checkout },
    );
    assert.equal(tooLarge.status, 413);
    assert.equal(((await tooLarge.json()) as { error: { type: string } }).error.type, 'request_too_large');
  });

  test('keeps a valid client-sent x-request-id', async () => {
    const response = await post('/v1/chat/completions', chat, { 'x-request-id': 'trace-abc-123' });
    assert.equal(response.headers.get('x-request-id'), 'trace-abc-123');
    await response.arrayBuffer();
  });

  test("every kind of answer carries the call's x-request-id, once", async () => {
    const streamed = JSON.stringify({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'hi' }] });
    const asks: Array<[string, () => Promise<Response>]> = [
      ['an answer', () => post('/v1/chat/completions', chat, { 'x-request-id': 'every-1' })],
      ['a stream', () => post('/v1/chat/completions', streamed, { 'x-request-id': 'every-1' })],
      ['a refusal', () => post('/v1/chat/completions', chat, { 'x-request-id': 'every-1', authorization: 'Bearer sk-nobody-000' })],
      ['an unknown route', () => post('/v1/nothing', '{}', { 'x-request-id': 'every-1' })],
      ...['/healthz', '/readyz', '/v1/models', '/v1/models/nope', '/v1/chat/completions'].map((path): [string, () => Promise<Response>] => [
        `GET ${path}`,
        () => fetch(`${sluice.baseURL}${path}`, { headers: { authorization: `Bearer ${KEYS.checkout}`, 'x-request-id': 'every-1' } }),
      ]),
    ];
    for (const [name, ask] of asks) {
      const response = await ask();
      await response.arrayBuffer();
      assert.equal(response.headers.get('x-request-id'), 'every-1', name);
    }
    // One the gateway makes when the client sends none, or one it cannot use (too long).
    for (const sent of [undefined, 'x'.repeat(200)]) {
      const response = await post('/v1/chat/completions', chat, sent === undefined ? {} : { 'x-request-id': sent });
      await response.arrayBuffer();
      assert.match(response.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
    }
  });

  test('rejects a GET on a POST endpoint with 405', async () => {
    const response = await fetch(`${sluice.baseURL}/v1/chat/completions`, { headers: { authorization: `Bearer ${KEYS.checkout}` } });
    assert.equal(response.status, 405);
    assert.equal(response.headers.get('allow'), 'POST', 'a 405 names the methods the endpoint takes');
    await response.arrayBuffer();
    const models = await fetch(`${sluice.baseURL}/v1/models`, { method: 'POST', headers: { authorization: `Bearer ${KEYS.checkout}` } });
    assert.equal(models.status, 405);
    assert.equal(models.headers.get('allow'), 'GET');
    await models.arrayBuffer();
  });

  test("docs/errors.md's error table is the registry: every code, with its status, OpenAI type and code, and Anthropic type", () => {
    const page = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');
    // | `code` | status | `openai type` / `openai code` | `anthropic type` (a note may follow) | when |
    const rows = new Map(
      page
        .split('\n')
        .filter((line) => line.startsWith('| `'))
        .map((line) => {
          const cells = line.split('|').map((cell) => cell.trim());
          return [cells[1]!.replaceAll('`', ''), cells] as const;
        }),
    );
    assert.deepEqual([...rows.keys()].sort(), Object.keys(ERRORS).sort(), 'the table has a row for each code, and no other');
    for (const [code, spec] of Object.entries(ERRORS)) {
      const cells = rows.get(code)!;
      assert.equal(cells[2], String(spec.status), `${code}: status`);
      assert.equal(cells[3], `\`${spec.openaiType}\` / \`${spec.openaiCode}\``, `${code}: OpenAI type / code`);
      assert.ok(cells[4]!.startsWith(`\`${spec.anthropicType}\``), `${code}: Anthropic type, got ${cells[4]}`);
    }
  });
});
