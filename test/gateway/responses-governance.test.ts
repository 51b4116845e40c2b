// The Responses API under the rest of the pipeline, as chat is: guardrails on its input and output, the response cache
// (a streamed translated answer replayed as a stream), and fallback past a translated target that cannot keep state.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { anthropicMessage, anthropicStreamFrames, json, MockProvider, sse } from '../support/mock-provider.js';
import { messageItem, responseObject } from '../support/mock-responses.js';
import { KEYS, ledgerRows, startTestSluice, type TestSluice } from '../support/sluice.js';

describe('Responses API with guardrails, the cache and fallback', () => {
  let anthropicMock: MockProvider;
  let openaiMock: MockProvider;
  let sluice: TestSluice;
  let client: OpenAI;

  before(async () => {
    anthropicMock = await MockProvider.start((request, res) => {
      if (request.body.stream === true && request.rawBody.includes('Break off')) {
        // The upstream dies mid-stream, after its first events.
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(anthropicStreamFrames(['Half ', 'way']).slice(0, 4).join(''));
        setTimeout(() => res.destroy(), 20);
        return;
      }
      if (request.body.stream === true) return sse(res, anthropicStreamFrames(['Cached ', 'stream']));
      json(res, 200, anthropicMessage(`Claude heard: ${JSON.stringify(request.body.messages)}`));
    });
    openaiMock = await MockProvider.start((_request, res) =>
      json(res, 200, responseObject([messageItem('Your code is vault-1234.')], { input_tokens: 8, output_tokens: 5 })),
    );
    sluice = await startTestSluice({
      providers: {
        anthropic: { type: 'anthropic', baseUrl: anthropicMock.url, apiKey: 'upstream-anthropic-key-not-real' },
        openai: { type: 'openai', baseUrl: `${openaiMock.url}/v1`, apiKey: 'upstream-openai-key-not-real' },
      },
      models: [
        { name: 'claude-haiku', targets: [{ provider: 'anthropic', model: 'claude-3-5-haiku-20241022' }] },
        { name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] },
        {
          name: 'claude-then-gpt',
          targets: [
            { provider: 'anthropic', model: 'claude-3-5-haiku-20241022' },
            { provider: 'openai', model: 'gpt-4o-mini' },
          ],
        },
      ],
      guardrails: [
        { name: 'mask-contact', mode: 'mask', pii: ['emailAddress'] },
        { name: 'no-falcon', mode: 'block', patterns: ['project\\s+falcon'] },
        { name: 'hide-vault-codes', mode: 'mask', on: 'output', patterns: ['vault-\\d{4}'] },
      ],
      cache: { models: { 'claude-haiku': { ttlSeconds: 60 } } },
    });
    client = new OpenAI({ apiKey: KEYS.checkout, baseURL: `${sluice.baseURL}/v1`, maxRetries: 0 });
  });

  after(async () => {
    await sluice.stop();
    await anthropicMock.close();
    await openaiMock.close();
  });

  test('guardrails: input masked before a translated provider sees it, a block names input, output masked', async () => {
    const masked = await client.responses.create({
      model: 'claude-haiku',
      instructions: 'Reply to jane.doe@example.com',
      input: [{ role: 'user', content: [{ type: 'input_text', text: 'Mail bob@example.com' }] }],
    });
    assert.doesNotMatch(anthropicMock.received.at(-1)!.rawBody, /@example\.com/);
    assert.match(masked.output_text, /Mail EMAIL_ADDRESS/);
    const sent = anthropicMock.received.length;
    await assert.rejects(client.responses.create({ model: 'claude-haiku', input: 'What about Project Falcon?' }), (error: unknown) => {
      assert.ok(error instanceof OpenAI.BadRequestError);
      assert.equal(error.param, 'input');
      assert.match(error.message, /no-falcon/);
      return true;
    });
    assert.equal(anthropicMock.received.length, sent);
    const passed = await client.responses.create({ model: 'gpt-4o-mini', input: 'My code?' });
    assert.match(passed.output_text, /^Your code is \S+\.$/);
    assert.doesNotMatch(passed.output_text, /vault-1234/, 'the answer passed through is masked too');
  });

  test('the cache: a streamed translated answer is stored and replayed as the same stream', async () => {
    const before = anthropicMock.received.length;
    const first = await client.responses.stream({ model: 'claude-haiku', input: 'Cache me' }).finalResponse();
    const raw = await client.responses.create({ model: 'claude-haiku', input: 'Cache me', stream: true }).withResponse();
    assert.equal(raw.response.headers.get('x-sluice-cache'), 'hit');
    let text = '';
    for await (const event of raw.data) if (event.type === 'response.output_text.delta') text += event.delta;
    assert.equal(first.output_text, 'Cached stream');
    assert.equal(text, 'Cached stream');
    assert.equal(anthropicMock.received.length - before, 1);
  });

  test('a translated stream that breaks off ends with an error event, then response.failed; the ledger says so', async () => {
    const stream = await client.responses.create({ model: 'claude-haiku', input: 'Break off', stream: true });
    const seen: Array<{ type: string; message?: string; sequence_number?: number }> = [];
    try {
      for await (const event of stream) seen.push(event);
    } catch (error) {
      seen.push({ type: 'thrown', message: String(error) });
    }
    assert.deepEqual(
      seen.slice(0, 4).map((event) => event.type),
      ['response.created', 'response.in_progress', 'response.output_item.added', 'response.content_part.added'],
    );
    const error = seen.at(-2)!;
    assert.equal(error.type, 'error', JSON.stringify(seen));
    assert.match(error.message ?? '', /broke off/);
    assert.equal(seen.at(-1)!.type, 'response.failed');
    // Numbered after the events before it, as every event of the stream is.
    assert.deepEqual(
      seen.map((event) => event.sequence_number),
      seen.map((_event, index) => index),
    );
    assert.ok(!seen.some((event) => event.type === 'response.completed'));
    const row = (await ledgerRows(sluice)).at(-1)!;
    assert.equal(row.api, 'openai-responses');
    assert.equal(row.error_class, 'stream_interrupted');
  });

  test('fallback: previous_response_id skips the translated target and is served by OpenAI', async () => {
    const response = await client.responses.create({ model: 'claude-then-gpt', input: 'And then?', previous_response_id: 'resp_1' });
    assert.match(response.output_text, /^Your code is /);
    assert.equal(openaiMock.received.at(-1)!.body.previous_response_id, 'resp_1');
    const row = (await ledgerRows(sluice)).at(-1)!;
    assert.equal(row.provider, 'openai');
    assert.equal(row.api, 'openai-responses');
  });
});
