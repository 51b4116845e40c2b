// Enforce mode and request bodies the model is read from: a compressed body (gzip, deflate, br) is read decompressed,
// within the bound, and forwarded as sent; a body whose model cannot be read (over maxParseBytes as sent or inflated,
// an encoding the proxy cannot undo, a corrupt one) is refused in the provider's shape rather than let through unchecked,
// unless the policy refuses no model of that provider. In observe mode the same calls pass and are inventoried.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect as tlsConnect } from 'node:tls';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import OpenAI from 'openai';
import { FormData } from 'undici';
import Anthropic from '@anthropic-ai/sdk';
import { anthropicMessage, json, openaiCompletion } from '../support/mock-provider.js';
import { connectTunnel, counter, HttpsMock, proxiedFetch, startTestDiscovery, tlsFixture, type TlsFixture } from '../support/discovery.js';
import type { RunningDiscovery } from '../../src/discovery/discovery.js';

const MAX_PARSE_BYTES = 64 * 1024;
const COMPRESS = { gzip: gzipSync, deflate: deflateSync, br: brotliCompressSync } as const;

describe('discovery: enforce mode reads compressed bodies and refuses bodies it cannot read', () => {
  let tls: TlsFixture;
  let mock: HttpsMock;
  let enforcing: RunningDiscovery;
  let observing: RunningDiscovery;

  before(async () => {
    tls = await tlsFixture();
    mock = await HttpsMock.start(await tls.serverCert(['api.openai.com', 'api.anthropic.com', 'api.mistral.ai']), (request, res) =>
      request.path === '/v1/messages' ? json(res, 200, anthropicMessage('ok')) : json(res, 200, openaiCompletion('ok')),
    );
    const discovery = (mode: string) => ({
      mode,
      maxParseBytes: MAX_PARSE_BYTES,
      ca: { certFile: tls.orgCaFile, keyFile: tls.orgCaKeyFile },
      upstream: {
        caFile: tls.upstreamCaFile,
        resolve: Object.fromEntries(
          ['api.openai.com', 'api.anthropic.com', 'api.mistral.ai'].map((host) => [host, `127.0.0.1:${mock.port}`]),
        ),
      },
    });
    // Statuses from sluice.yaml, which names the providers they belong to. Nothing at Mistral is unsanctioned and
    // unreviewed models are allowed: no Mistral call can be refused.
    const rest = {
      providers: {
        openai: { type: 'openai', baseUrl: 'https://api.openai.com/v1', apiKey: 'sk-unused-not-real' },
        anthropic: { type: 'anthropic', baseUrl: 'https://api.anthropic.com', apiKey: 'sk-ant-unused-not-real' },
      },
      resources: { 'openai/gpt-4o': 'unsanctioned', 'anthropic/claude-3-opus-20240229': 'unsanctioned' },
    };
    enforcing = await startTestDiscovery(discovery('enforce'), rest);
    observing = await startTestDiscovery(discovery('observe'), rest);
  });

  after(async () => {
    await enforcing.stop();
    await observing.stop();
    await mock.close();
  });

  const chat = (model: string, content = 'hi') => JSON.stringify({ model, messages: [{ role: 'user', content }] });
  const post = async (discovery: RunningDiscovery, url: string, body: Buffer | string, encoding?: string) => {
    const proxied = proxiedFetch(discovery.url, tls.orgCaPem);
    const response = await proxied.fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: 'Bearer sk-enforce-bodies-not-real',
        ...(encoding === undefined ? {} : { 'content-encoding': encoding }),
      },
      body,
    });
    const text = await response.text();
    await proxied.dispatcher.close();
    return { status: response.status, body: JSON.parse(text) as { error: { code: string | null; message: string } } };
  };

  for (const [encoding, compress] of Object.entries(COMPRESS)) {
    test(`enforce: a ${encoding} body naming an unsanctioned model gets the 403; one naming a sanctioned model goes on as sent`, async () => {
      const seen = mock.received.length;
      const refused = await post(enforcing, 'https://api.openai.com/v1/chat/completions', compress(chat('gpt-4o')), encoding);
      assert.equal(refused.status, 403);
      assert.equal(refused.body.error.code, 'model_not_sanctioned');
      assert.equal(mock.received.length, seen, 'the provider saw nothing');

      const sent = compress(chat('gpt-4o-mini'));
      const passed = await post(enforcing, 'https://api.openai.com/v1/chat/completions', sent, encoding);
      assert.equal(passed.status, 200);
      const received = mock.received.at(-1)!;
      assert.equal(received.headers['content-encoding'], encoding);
      assert.equal(received.headers['content-length'], String(sent.length));
      assert.equal(received.rawBody, sent.toString('utf8'), 'the compressed bytes reach the provider unchanged');
      const observed = enforcing.aggregator.drain().find((item) => item.provider === 'openai');
      assert.equal(observed?.model, 'gpt-4o-mini', 'the model was read from the decompressed body');
    });
  }

  test("enforce: a body over maxParseBytes gets a 413 in OpenAI's shape (the openai SDK), is counted as blocked, and never reaches the provider", async () => {
    const seen = mock.received.length;
    const blocked = await counter(enforcing.metrics.calls, { provider: 'openai', outcome: 'blocked' });
    const proxied = proxiedFetch(enforcing.url, tls.orgCaPem);
    const client = new OpenAI({
      apiKey: 'sk-enforce-bodies-not-real',
      baseURL: 'https://api.openai.com/v1',
      fetch: proxied.fetch,
      maxRetries: 0,
    });
    await assert.rejects(
      client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x'.repeat(2 * MAX_PARSE_BYTES) }] }),
      (error: unknown) => {
        assert.ok(error instanceof OpenAI.APIError);
        assert.equal(error.status, 413);
        assert.equal(error.code, 'request_too_large');
        assert.match(error.message, /cannot be read/);
        return true;
      },
    );
    await proxied.dispatcher.close();
    assert.equal(mock.received.length, seen, 'the provider saw nothing');
    assert.equal(await counter(enforcing.metrics.calls, { provider: 'openai', outcome: 'blocked' }), blocked + 1);
  });

  test("enforce: a body over maxParseBytes gets a 413 in Anthropic's shape (the Anthropic SDK)", async () => {
    const seen = mock.received.length;
    const proxied = proxiedFetch(enforcing.url, tls.orgCaPem);
    const client = new Anthropic({
      apiKey: 'sk-ant-enforce-not-real',
      baseURL: 'https://api.anthropic.com',
      fetch: proxied.fetch,
      maxRetries: 0,
    });
    await assert.rejects(
      client.messages.create({
        model: 'claude-3-opus-20240229',
        max_tokens: 16,
        messages: [{ role: 'user', content: 'x'.repeat(2 * MAX_PARSE_BYTES) }],
      }),
      (error: unknown) => {
        assert.ok(error instanceof Anthropic.APIError);
        assert.equal(error.status, 413);
        assert.equal((error.error as { error: { type: string } }).error.type, 'request_too_large');
        return true;
      },
    );
    await proxied.dispatcher.close();
    assert.equal(mock.received.length, seen, 'the provider saw nothing');
  });

  test('enforce: gzip that inflates past maxParseBytes gets a 413; an encoding the proxy cannot undo a 415; a corrupt one a 400', async () => {
    const seen = mock.received.length;
    const blocked = await counter(enforcing.metrics.calls, { provider: 'openai', outcome: 'blocked' });
    const url = 'https://api.openai.com/v1/chat/completions';
    const bomb = gzipSync(chat('gpt-4o', 'x'.repeat(64 * MAX_PARSE_BYTES)), { level: 9 });
    assert.ok(bomb.length < MAX_PARSE_BYTES);
    const inflated = await post(enforcing, url, bomb, 'gzip');
    assert.equal(inflated.status, 413);
    assert.equal(inflated.body.error.code, 'request_too_large');
    for (const encoding of ['zstd', 'compress', 'gzip, zstd']) {
      const unknown = await post(enforcing, url, Buffer.from(chat('gpt-4o')), encoding);
      assert.equal(unknown.status, 415, encoding);
      assert.equal(unknown.body.error.code, 'unsupported_content_encoding', encoding);
    }
    const corrupt = await post(enforcing, url, Buffer.from(chat('gpt-4o')), 'gzip');
    assert.equal(corrupt.status, 400);
    assert.equal(corrupt.body.error.code, 'invalid_content_encoding');
    assert.equal(mock.received.length, seen, 'the provider saw nothing');
    assert.equal(await counter(enforcing.metrics.calls, { provider: 'openai', outcome: 'blocked' }), blocked + 5);
  });

  test('enforce: stacked encodings (gzip then br) are undone in turn and the model read', async () => {
    const seen = mock.received.length;
    const refused = await post(
      enforcing,
      'https://api.openai.com/v1/chat/completions',
      brotliCompressSync(gzipSync(chat('gpt-4o'))),
      'gzip, br',
    );
    assert.equal(refused.status, 403);
    assert.equal(refused.body.error.code, 'model_not_sanctioned');
    assert.equal(mock.received.length, seen);
  });

  test('enforce: a multipart upload over maxParseBytes (a batch file to /v1/files) passes: no size of it is read for a model', async () => {
    const lines = `${JSON.stringify({ custom_id: 'a', method: 'POST', url: '/v1/chat/completions', body: { model: 'gpt-4o-mini' } })}\n`;
    const form = new FormData();
    form.append('purpose', 'batch');
    form.append('file', new Blob([lines.repeat(Math.ceil((2 * MAX_PARSE_BYTES) / lines.length))]), 'batch.jsonl');
    const proxied = proxiedFetch(enforcing.url, tls.orgCaPem);
    const response = await proxied.fetch('https://api.openai.com/v1/files', {
      method: 'POST',
      headers: { authorization: 'Bearer sk-enforce-bodies-not-real' },
      body: form as unknown as RequestInit['body'],
    });
    assert.equal(response.status, 200, await response.text());
    await proxied.dispatcher.close();
    const received = mock.received.at(-1)!;
    assert.equal(received.path, '/v1/files');
    assert.ok(received.rawBody.length > 2 * MAX_PARSE_BYTES);
  });

  test('enforce: a body over maxParseBytes to a provider none of whose models the policy refuses passes', async () => {
    const body = chat('mistral-large-latest', 'x'.repeat(2 * MAX_PARSE_BYTES));
    const passed = await post(enforcing, 'https://api.mistral.ai/v1/chat/completions', body);
    assert.equal(passed.status, 200);
    assert.equal(mock.received.at(-1)!.rawBody, body);
  });

  test('enforce: a call that asks to switch protocols (Upgrade) with a body naming an unsanctioned model, or an h2c upgrade, is refused', async () => {
    const seen = mock.received.length;
    const json = chat('gpt-4o');
    const framings = [
      `Connection: Upgrade\r\nUpgrade: websocket\r\nContent-Length: ${json.length}\r\n\r\n${json}`,
      `Connection: Upgrade\r\nUpgrade: websocket\r\nTransfer-Encoding: chunked\r\n\r\n${json.length.toString(16)}\r\n${json}\r\n0\r\n\r\n`,
      'Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n\r\n',
    ];
    for (const framing of framings) {
      const { socket } = await connectTunnel(enforcing.port, 'api.openai.com:443');
      const secure = tlsConnect({ socket, ca: tls.orgCaPem, servername: 'api.openai.com', ALPNProtocols: ['http/1.1'] });
      await new Promise((resolve) => secure.once('secureConnect', resolve));
      secure.write(
        `POST /v1/chat/completions HTTP/1.1\r\nHost: api.openai.com\r\nAuthorization: Bearer sk-enforce-upgrade-not-real\r\n` +
          `Content-Type: application/json\r\n${framing}`,
      );
      const chunks: Buffer[] = [];
      for await (const chunk of secure) chunks.push(chunk as Buffer);
      const answer = Buffer.concat(chunks).toString('utf8');
      assert.match(answer, /^HTTP\/1\.1 4\d\d /, framing);
      assert.match(answer.slice(answer.indexOf('\r\n\r\n') + 4), /"code":"(model_not_sanctioned|unsupported_upgrade)"/, framing);
    }
    assert.equal(mock.received.length, seen, 'the provider saw nothing');
  });

  test('observe: the same unreadable bodies pass to the provider as sent and are inventoried as unparsed; gzip is read', async () => {
    const url = 'https://api.openai.com/v1/chat/completions';
    const unparsed = await counter(observing.metrics.calls, { provider: 'openai', outcome: 'unparsed' });
    const bodies: Array<[Buffer | string, string | undefined]> = [
      [chat('gpt-4o', 'x'.repeat(2 * MAX_PARSE_BYTES)), undefined],
      [gzipSync(chat('gpt-4o', 'x'.repeat(64 * MAX_PARSE_BYTES)), { level: 9 }), 'gzip'],
      [Buffer.from(chat('gpt-4o')), 'zstd'],
    ];
    for (const [body, encoding] of bodies) {
      const passed = await post(observing, url, body, encoding);
      assert.equal(passed.status, 200, encoding);
      assert.equal(mock.received.at(-1)!.rawBody, body.toString('utf8'), encoding);
    }
    assert.equal(await counter(observing.metrics.calls, { provider: 'openai', outcome: 'unparsed' }), unparsed + 3);
    observing.aggregator.drain();
    assert.equal((await post(observing, url, gzipSync(chat('gpt-4o')), 'gzip')).status, 200);
    assert.equal(observing.aggregator.drain().find((item) => item.provider === 'openai')?.model, 'gpt-4o');
  });
});
