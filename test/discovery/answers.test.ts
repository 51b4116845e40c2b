// What the discovery proxy reads of the answers real clients get: providers compress JSON answers for the SDKs' fetch
// (which asks for `br, gzip, deflate`), and the tokens are read through the compression; the client still gets the
// compressed bytes exactly as the provider sent them.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import OpenAI from 'openai';
import { openaiCompletion, openaiStreamFrames } from '../support/mock-provider.js';
import { HttpsMock, proxiedFetch, startTestDiscovery, tlsFixture, type TlsFixture } from '../support/discovery.js';
import type { RunningDiscovery } from '../../src/discovery/discovery.js';
import type { Observation } from '../../src/discovery/report.js';
import { keyFingerprint } from '../../src/policy/discovery.js';

const COMPRESS: Record<string, (bytes: Buffer) => Buffer> = { br: brotliCompressSync, gzip: gzipSync, deflate: deflateSync };

describe('discovery: reading answers as providers send them', () => {
  let tls: TlsFixture;
  let mock: HttpsMock;
  let discovery: RunningDiscovery;
  /** The content coding the mock answers with; it must be one the client asked for. */
  let coding = 'br';
  const sent: Buffer[] = [];

  before(async () => {
    tls = await tlsFixture();
    mock = await HttpsMock.start(await tls.serverCert(['api.openai.com']), async (request, res) => {
      if (request.path === '/v1/responses') {
        // A server whose figures are not token counts: a negative input, a fraction of an output token.
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ id: 'resp_1', object: 'response', output: [], usage: { input_tokens: -500, output_tokens: 2.5 } }));
        return;
      }
      if (request.body.stream === true) {
        // The first words, then nothing until the client goes away: a user pressing stop.
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(openaiStreamFrames(['Once upon'], null)[0]!);
        res.write(openaiStreamFrames(['Once upon'], null)[1]!);
        await new Promise((resolve) => res.once('close', resolve));
        return;
      }
      const accepted = String(request.headers['accept-encoding'] ?? '');
      assert.ok(accepted.includes(coding), `the client asked for ${accepted}`);
      const body = COMPRESS[coding]!(Buffer.from(JSON.stringify(openaiCompletion('Hello!', { prompt_tokens: 30, completion_tokens: 7 }))));
      sent.push(body);
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': coding, 'content-length': String(body.length) });
      res.end(body);
    });
    discovery = await startTestDiscovery({
      ca: { certFile: tls.orgCaFile, keyFile: tls.orgCaKeyFile },
      upstream: { caFile: tls.upstreamCaFile, resolve: { 'api.openai.com': `127.0.0.1:${mock.port}` } },
    });
  });

  after(async () => {
    await discovery.stop();
    await mock.close();
  });

  /** What the proxy recorded since the last look, once the call's record is in (it is made as the answer ends). */
  async function observed(): Promise<Observation[]> {
    await new Promise((resolve) => setTimeout(resolve, 50));
    return discovery.aggregator.drain();
  }

  for (const name of ['br', 'gzip', 'deflate']) {
    test(`a ${name}-compressed JSON answer to the openai SDK: the SDK reads it, the proxy records its tokens and cost`, async () => {
      coding = name;
      const proxied = proxiedFetch(discovery.url, tls.orgCaPem);
      const client = new OpenAI({
        apiKey: 'sk-compressed-answers-not-real',
        baseURL: 'https://api.openai.com/v1',
        fetch: proxied.fetch,
        maxRetries: 0,
      });
      const answer = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
      assert.equal(answer.choices[0]!.message.content, 'Hello!');
      const [observation, ...others] = await observed();
      assert.equal(others.length, 0);
      assert.equal(observation!.model, 'gpt-4o-mini');
      assert.equal(observation!.inputTokens, 30);
      assert.equal(observation!.outputTokens, 7);
      assert.ok((observation!.costMicroUsd ?? 0) > 0, JSON.stringify(observation));
      await proxied.dispatcher.close();
    });
  }

  test('the compressed bytes reach the client as the provider sent them', async () => {
    coding = 'gzip';
    const proxied = proxiedFetch(discovery.url, tls.orgCaPem);
    const { request } = await import('undici');
    const response = await request('https://api.openai.com/v1/chat/completions', {
      method: 'POST',
      dispatcher: proxied.dispatcher,
      headers: { 'content-type': 'application/json', 'accept-encoding': 'gzip', authorization: 'Bearer sk-raw-not-real' },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [] }),
    });
    assert.equal(response.headers['content-encoding'], 'gzip');
    assert.deepEqual(Buffer.from(await response.body.arrayBuffer()), sent.at(-1));
    assert.equal((await observed())[0]!.inputTokens, 30);
    await proxied.dispatcher.close();
  });

  test('usage figures that are not token counts are not recorded as tokens, nor priced into a negative cost', async () => {
    const proxied = proxiedFetch(discovery.url, tls.orgCaPem);
    const client = new OpenAI({
      apiKey: 'sk-odd-usage-not-real',
      baseURL: 'https://api.openai.com/v1',
      fetch: proxied.fetch,
      maxRetries: 0,
    });
    await client.responses.create({ model: 'gpt-4o-mini', input: 'hi' });
    await proxied.dispatcher.close();
    const [observation, ...others] = await observed();
    assert.equal(others.length, 0);
    assert.equal(observation!.model, 'gpt-4o-mini');
    assert.ok(!((observation!.inputTokens ?? 0) < 0), JSON.stringify(observation));
    assert.ok(Number.isInteger(observation!.outputTokens ?? 0), JSON.stringify(observation));
    assert.ok(!((observation!.costMicroUsd ?? 0) < 0), JSON.stringify(observation));
  });

  test('a streamed call the client abandons mid-stream is still recorded, with its model and caller', async () => {
    const proxied = proxiedFetch(discovery.url, tls.orgCaPem);
    const client = new OpenAI({
      apiKey: 'sk-abandoned-stream-not-real',
      baseURL: 'https://api.openai.com/v1',
      fetch: proxied.fetch,
      maxRetries: 0,
    });
    const stream = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'a long story' }],
      stream: true,
    });
    for await (const chunk of stream) {
      if (chunk.choices[0]?.delta.content === 'Once upon') break; // the SDK aborts the request
    }
    await proxied.dispatcher.close();
    const [observation, ...others] = await observed();
    assert.equal(others.length, 0);
    assert.ok(observation, 'the abandoned call is in the inventory');
    assert.equal(observation.provider, 'openai');
    assert.equal(observation.model, 'gpt-4o-mini');
    assert.equal(observation.calls, 1);
    assert.equal(observation.source.keyFingerprint, keyFingerprint('sk-abandoned-stream-not-real'));
    assert.equal(observation.inputTokens, undefined, 'no usage was reported: unknown, not zero');
  });
});
