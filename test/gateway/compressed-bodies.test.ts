// Request bodies a client sends compressed (content-encoding gzip, deflate or br): inflated within the body limit and
// served as the same body sent plain; an encoding Sluice does not read, a body that does not inflate, or one that
// inflates past the limit gets a clear error in the route's shape.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { anthropicMessage, json, MockProvider, openaiCompletion } from '../support/mock-provider.js';
import { KEYS, ledgerRows, startTestSluice, type TestSluice } from '../support/sluice.js';
import { until } from '../support/until.js';

describe('compressed request bodies', () => {
  let openaiMock: MockProvider;
  let anthropicMock: MockProvider;
  let sluice: TestSluice;

  before(async () => {
    openaiMock = await MockProvider.start((_request, res) => json(res, 200, openaiCompletion('inflated fine')));
    anthropicMock = await MockProvider.start((_request, res) => json(res, 200, anthropicMessage('inflated fine')));
    sluice = await startTestSluice({
      gateway: { host: '127.0.0.1', port: 0, maxBodyBytes: 4096 },
      providers: {
        openai: { type: 'openai', baseUrl: `${openaiMock.url}/v1`, apiKey: 'upstream-key-not-real' },
        anthropic: { type: 'anthropic', baseUrl: anthropicMock.url, apiKey: 'upstream-key-not-real' },
      },
      models: [
        { name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] },
        { name: 'claude', targets: [{ provider: 'anthropic', model: 'claude-sonnet-4-5' }] },
      ],
    });
  });

  after(async () => {
    await sluice?.stop();
    await openaiMock?.close();
    await anthropicMock?.close();
  });

  const post = (path: string, body: Buffer | string, encoding: string) =>
    fetch(`${sluice.baseURL}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-encoding': encoding, authorization: `Bearer ${KEYS.checkout}` },
      body,
    });
  const chat = (content: string) => JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content }] });

  for (const [encoding, compress] of [
    ['gzip', gzipSync],
    ['deflate', deflateSync],
    ['br', brotliCompressSync],
    ['GZIP', gzipSync],
  ] as const) {
    test(`a ${encoding} body is served as if sent plain`, async () => {
      const response = await post('/v1/chat/completions', compress(Buffer.from(chat(`sent as ${encoding}`))), encoding);
      assert.equal(response.status, 200, await response.clone().text());
      const answer = (await response.json()) as { choices: Array<{ message: { content: string } }> };
      assert.equal(answer.choices[0]!.message.content, 'inflated fine');
      const received = openaiMock.received.at(-1)!;
      assert.deepEqual(received.body.messages, [{ role: 'user', content: `sent as ${encoding}` }]);
      assert.equal(received.headers['content-encoding'], undefined);
    });
  }

  test('codings applied one over another (gzip, then br) are undone last first', async () => {
    const body = brotliCompressSync(gzipSync(Buffer.from(chat('twice compressed'))));
    const response = await post('/v1/chat/completions', body, 'gzip, br');
    assert.equal(response.status, 200, await response.clone().text());
    assert.deepEqual(openaiMock.received.at(-1)!.body.messages, [{ role: 'user', content: 'twice compressed' }]);
  });

  test('an Anthropic client may compress too', async () => {
    const body = JSON.stringify({ model: 'claude', max_tokens: 16, messages: [{ role: 'user', content: 'gzipped' }] });
    const response = await post('/v1/messages', gzipSync(Buffer.from(body)), 'gzip');
    assert.equal(response.status, 200);
    assert.deepEqual(anthropicMock.received.at(-1)!.body.messages, [{ role: 'user', content: 'gzipped' }]);
  });

  test('an encoding Sluice does not read is a 415 naming it, in the route shape, and reaches no provider', async () => {
    const before = openaiMock.received.length + anthropicMock.received.length;
    const openai = await post('/v1/chat/completions', Buffer.from(chat('hi')), 'compress');
    assert.equal(openai.status, 415);
    const error = ((await openai.json()) as { error: { code: string; param: string; message: string } }).error;
    assert.equal(error.code, 'unsupported_encoding');
    assert.equal(error.param, 'content-encoding');
    assert.match(error.message, /'compress'/);
    const anthropic = await post('/v1/messages', Buffer.from('{}'), 'zstd');
    assert.equal(anthropic.status, 415);
    const body = (await anthropic.json()) as { type: string; error: { type: string; message: string } };
    assert.equal(body.type, 'error');
    assert.equal(body.error.type, 'invalid_request_error');
    assert.match(body.error.message, /'zstd'/);
    assert.equal(openaiMock.received.length + anthropicMock.received.length, before);
  });

  test('a body that inflates past gateway.maxBodyBytes is a 413, however small sent', async () => {
    const bomb = gzipSync(Buffer.from(chat('x'.repeat(1_000_000))));
    assert.ok(bomb.length < 4096);
    const response = await post('/v1/chat/completions', bomb, 'gzip');
    assert.equal(response.status, 413);
    assert.equal(((await response.json()) as { error: { code: string } }).error.code, 'request_too_large');
  });

  test('a compressed body over the limit as sent is a 413 too, streamed without a length', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const call = request(`${sluice.baseURL}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-encoding': 'gzip', authorization: `Bearer ${KEYS.checkout}` },
      });
      call.once('response', (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      call.once('error', reject);
      // Random bytes do not compress: 8 KB sent, chunked, against a 4 KB limit.
      call.end(gzipSync(randomBytes(8192)));
    });
    assert.equal(status, 413);
  });

  test('a body that is not what its encoding says is a 400 naming the encoding', async () => {
    const response = await post('/v1/chat/completions', Buffer.from(chat('not gzip at all')), 'gzip');
    assert.equal(response.status, 400);
    const error = ((await response.json()) as { error: { param: string; message: string } }).error;
    assert.equal(error.param, 'content-encoding');
    assert.match(error.message, /not valid gzip data/);
  });

  test('each refusal is a ledger row, and calls go on after one', async () => {
    await until('the 415s are recorded', async () => (await ledgerRows(sluice)).filter((row) => row.status === 415).length === 2);
    const refused = await post('/v1/chat/completions', Buffer.from(chat('hi')), 'compress');
    await refused.arrayBuffer();
    const after = await post('/v1/chat/completions', gzipSync(Buffer.from(chat('again'))), 'gzip');
    assert.equal(after.status, 200);
    await after.arrayBuffer();
  });
});
