// /v1/embeddings with several inputs to Bedrock models that take fewer per call (Titan: one): the openai SDK sees one
// answer, in input order, with the usage of every call summed; Bedrock sees one signed InvokeModel per piece.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { json } from '../support/mock-provider.js';
import { AWS_TEST_CREDENTIALS, AWS_TEST_REGION, startMockBedrock } from '../support/mock-bedrock.js';
import { KEYS, ledgerRows, startTestSluice, type TestSluice } from '../support/sluice.js';

describe('Bedrock embeddings fanned out', () => {
  let bedrock: Awaited<ReturnType<typeof startMockBedrock>>;
  let sluice: TestSluice;
  let openai: OpenAI;
  let inFlight = 0;
  let mostInFlight = 0;

  before(async () => {
    bedrock = await startMockBedrock(async (modelId, _stream, request, res) => {
      const body = request.body;
      if (modelId.startsWith('amazon.titan-embed')) {
        const text = String(body.inputText);
        if (text === 'refused')
          return json(res, 400, { message: 'Malformed input request' }, { 'x-amzn-errortype': 'ValidationException' });
        inFlight++;
        mostInFlight = Math.max(mostInFlight, inFlight);
        // Earlier inputs answer later, so answers arrive out of order when they run side by side.
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, 40 - text.length * 5)));
        inFlight--;
        return json(res, 200, { embedding: [text.length, 0.5], inputTextTokenCount: text.split(' ').length });
      }
      const texts = body.texts as string[];
      return json(res, 200, { id: 'e1', embeddings: texts.map((text) => [text.length]), texts, response_type: 'embeddings_floats' });
    });
    sluice = await startTestSluice({
      consumers: [{ name: 'checkout-service', team: 'payments', keys: [KEYS.checkout] }],
      providers: { bedrock: { type: 'bedrock', baseUrl: bedrock.url, region: AWS_TEST_REGION, ...AWS_TEST_CREDENTIALS } },
      models: [
        { name: 'titan-embed', targets: [{ provider: 'bedrock', model: 'amazon.titan-embed-text-v2:0' }] },
        { name: 'cohere-embed', targets: [{ provider: 'bedrock', model: 'cohere.embed-english-v3' }] },
      ],
    });
    openai = new OpenAI({ apiKey: KEYS.checkout, baseURL: `${sluice.baseURL}/v1`, maxRetries: 0 });
  });

  after(async () => {
    await sluice?.stop();
    await bedrock?.close();
  });

  test('several inputs to Titan: one InvokeModel each, a few at a time, answers in order, usage summed', async () => {
    const inputs = Array.from({ length: 10 }, (_, i) => `${'w '.repeat(i)}x`.trim());
    const before = bedrock.received.length;
    const answer = await openai.embeddings.create({ model: 'titan-embed', input: inputs, encoding_format: 'float' });
    assert.deepEqual(
      answer.data.map((item) => item.index),
      [...inputs.keys()],
    );
    assert.deepEqual(
      answer.data.map((item) => item.embedding[0]),
      inputs.map((text) => text.length),
    );
    const words = inputs.reduce((sum, text) => sum + text.split(' ').length, 0);
    assert.equal(answer.usage.prompt_tokens, words);
    const sent = bedrock.received.slice(before);
    assert.equal(sent.length, 10);
    assert.deepEqual(sent.map((request) => request.body.inputText).sort(), [...inputs].sort());
    assert.ok(mostInFlight <= 4, `at most 4 calls at once, saw ${mostInFlight}`);
    assert.equal(bedrock.signatureFailures, 0);
    const row = (await ledgerRows(sluice)).filter((r) => r.requested_model === 'titan-embed').at(-1)!;
    assert.equal(row.status, 200);
    assert.equal(row.input_tokens, words);
    assert.equal(row.tokens_estimated, 0);
    assert.equal(row.attempts, 10);
  });

  test('base64 encoding survives the fan-out', async () => {
    const answer = await openai.embeddings.create({ model: 'titan-embed', input: ['ab', 'abcd'] });
    // The SDK decodes base64 back into floats.
    assert.deepEqual(
      answer.data.map((item) => item.embedding),
      [
        [2, 0.5],
        [4, 0.5],
      ],
    );
  });

  test('Cohere takes 96 texts a call: 100 inputs are two calls', async () => {
    const before = bedrock.received.length;
    const inputs = Array.from({ length: 100 }, (_, i) => 'y'.repeat(i + 1));
    const answer = await openai.embeddings.create({ model: 'cohere-embed', input: inputs, encoding_format: 'float' });
    assert.deepEqual(
      answer.data.map((item) => item.embedding[0]),
      inputs.map((text) => text.length),
    );
    assert.deepEqual(
      bedrock.received.slice(before).map((request) => (request.body.texts as string[]).length),
      [96, 4],
    );
  });

  test("one input refused fails the whole request with the provider's 400 in OpenAI's shape", async () => {
    await assert.rejects(openai.embeddings.create({ model: 'titan-embed', input: ['fine', 'refused', 'also fine'] }), (error: unknown) => {
      assert.ok(error instanceof OpenAI.BadRequestError);
      assert.match(error.message, /Malformed input request/);
      return true;
    });
  });
});
