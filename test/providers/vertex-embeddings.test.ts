// /v1/embeddings on the vertex provider, from the openai SDK's embeddings.create: Vertex AI's predict API for text
// embeddings (instances of {content}, parameters {outputDimensionality, autoTruncate}), authorized with the service
// account's token; inputs past a model's per-call limit (gemini-embedding-001: one; text-embedding-005: 250) split over
// several calls, answers in input order, usage summed from statistics.token_count; Vertex errors in OpenAI's shape.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { json, MockProvider } from '../support/mock-provider.js';
import { testServiceAccountJson } from '../support/google.js';
import { KEYS, ledgerRows, startTestSluice, type TestSluice } from '../support/sluice.js';

const TOKEN = 'ya29.vertex-embeddings-token';
const PREDICT = '/v1/projects/proj-1/locations/us-central1/publishers/google/models';

interface Instance {
  content: string;
}

/** The vector the mock gives a text: its length, then 0.5s up to the dimensions asked for (Vertex's default: 3). */
function vectorOf(text: string, dimensions = 3): number[] {
  return [text.length, ...Array.from({ length: dimensions - 1 }, () => 0.5)];
}

/** Tokens the mock reports for a text: its words. */
function tokensOf(text: string): number {
  return text.split(' ').length;
}

describe('Vertex AI embeddings', () => {
  let tokenEndpoint: MockProvider;
  let vertex: MockProvider;
  let sluice: TestSluice;
  let openai: OpenAI;
  let inFlight = 0;
  let mostInFlight = 0;

  before(async () => {
    tokenEndpoint = await MockProvider.start((request, res) => {
      if (new URLSearchParams(request.rawBody).get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer')
        return json(res, 400, { error: 'invalid_grant' });
      json(res, 200, { access_token: TOKEN, expires_in: 3600, token_type: 'Bearer' });
    });
    vertex = await MockProvider.start(async (request, res) => {
      if (request.headers.authorization !== `Bearer ${TOKEN}`)
        return json(res, 401, {
          error: { code: 401, message: 'Request had invalid authentication credentials.', status: 'UNAUTHENTICATED' },
        });
      const match = /\/publishers\/google\/models\/([^/:]+):predict$/.exec(request.path);
      if (match === null) return json(res, 404, { error: { code: 404, message: `no route ${request.path}`, status: 'NOT_FOUND' } });
      const model = match[1]!;
      const instances = request.body.instances as Instance[];
      const parameters = (request.body.parameters ?? {}) as { outputDimensionality?: number };
      // Vertex's own limits per predict call, so a request Sluice should have split is refused as Vertex refuses it.
      const limit = model.startsWith('gemini-embedding') ? 1 : 250;
      if (instances.length > limit)
        return json(res, 400, {
          error: { code: 400, message: `${model} supports at most ${limit} instances per request.`, status: 'INVALID_ARGUMENT' },
        });
      // And its 20,000 tokens a call in all (the mock's tokens: about 4 characters each).
      const tokens = instances.reduce((sum, instance) => sum + Math.ceil(instance.content.length / 4), 0);
      if (!model.startsWith('gemini-embedding') && tokens > 20_000)
        return json(res, 400, {
          error: {
            code: 400,
            message: `Unable to submit request because the input token count is ${tokens} but the model supports up to 20000.`,
            status: 'INVALID_ARGUMENT',
          },
        });
      const first = instances[0]!.content;
      if (first === 'over quota')
        return json(res, 429, {
          error: { code: 429, message: 'Quota exceeded for aiplatform.googleapis.com.', status: 'RESOURCE_EXHAUSTED' },
        });
      if (first.startsWith('too long'))
        return json(res, 400, {
          error: {
            code: 400,
            message: 'Unable to submit request because the input token count is 2100 but the model supports up to 2048.',
            status: 'INVALID_ARGUMENT',
          },
        });
      inFlight++;
      mostInFlight = Math.max(mostInFlight, inFlight);
      // Earlier inputs answer later, so answers arrive out of order when calls run side by side.
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, 40 - first.length * 4)));
      inFlight--;
      json(res, 200, {
        // A server answering fewer vectors than it was sent texts (the last one missing).
        predictions: instances.slice(0, first === 'short answer' ? -1 : undefined).map((instance) => ({
          embeddings: {
            statistics: { truncated: false, token_count: tokensOf(instance.content) },
            values: vectorOf(instance.content, parameters.outputDimensionality),
          },
        })),
        metadata: { billableCharacterCount: instances.reduce((sum, instance) => sum + instance.content.length, 0) },
      });
    });
    const serviceAccount = testServiceAccountJson(`${tokenEndpoint.url}/token`);
    sluice = await startTestSluice({
      consumers: [
        { name: 'checkout-service', team: 'payments', keys: [KEYS.checkout] },
        { name: 'search-indexer', team: 'discovery', keys: [KEYS.search] },
      ],
      // $0.0001 a month: 4,000 characters of text-embedding-005 at $0.025 per 1M.
      budgets: [
        {
          name: 'indexer-usd',
          consumers: { consumer: 'search-indexer' },
          measure: 'cost_usd',
          limit: 0.0001,
          window: 'month',
          mode: 'enforce',
        },
      ],
      providers: { vertex: { type: 'vertex', baseUrl: vertex.url, location: 'us-central1', serviceAccountJson: serviceAccount } },
      models: [
        { name: 'gemini-embed', targets: [{ provider: 'vertex', model: 'gemini-embedding-001' }] },
        { name: 'text-embed', targets: [{ provider: 'vertex', model: 'text-embedding-005' }] },
      ],
    });
    openai = new OpenAI({ apiKey: KEYS.checkout, baseURL: `${sluice.baseURL}/v1`, maxRetries: 0 });
  });

  after(async () => {
    await sluice?.stop();
    await vertex?.close();
    await tokenEndpoint?.close();
  });

  test("a single string: one predict call with the service account's token; vectors, usage and the ledger's priced row", async () => {
    const text = 'twenty words in all '.repeat(5).trim();
    const before = vertex.received.length;
    const answer = await openai.embeddings.create({ model: 'gemini-embed', input: text, encoding_format: 'float' });
    assert.equal(answer.object, 'list');
    assert.equal(answer.model, 'gemini-embed');
    assert.deepEqual(answer.data, [{ object: 'embedding', index: 0, embedding: vectorOf(text) }]);
    assert.deepEqual(answer.usage, { prompt_tokens: 20, total_tokens: 20 });
    const sent = vertex.received.slice(before);
    assert.equal(sent.length, 1);
    assert.equal(sent[0]!.method, 'POST');
    assert.equal(sent[0]!.path, `${PREDICT}/gemini-embedding-001:predict`);
    assert.equal(sent[0]!.headers.authorization, `Bearer ${TOKEN}`);
    // autoTruncate false: an input over the model's limit is an error, as on OpenAI, not a vector of a cut text.
    assert.deepEqual(sent[0]!.body, { instances: [{ content: text }], parameters: { autoTruncate: false } });
    const row = (await ledgerRows(sluice)).filter((r) => r.requested_model === 'gemini-embed').at(-1)!;
    assert.equal(row.status, 200);
    assert.equal(row.operation, 'embeddings');
    assert.equal(row.provider, 'vertex');
    assert.equal(row.provider_model, 'gemini-embedding-001');
    assert.equal(row.input_tokens, 20);
    assert.equal(row.tokens_estimated, 0);
    // gemini-embedding-001 on Vertex: $0.15 per 1M input tokens, which is 0.15 micro-USD a token.
    assert.equal(row.cost_micro_usd, 20 * 0.15);
  });

  test("an array past gemini-embedding-001's one instance per call: one predict each, in input order, usage summed", async () => {
    const inputs = Array.from({ length: 7 }, (_, i) => `${'w '.repeat(i)}x`.trim());
    const before = vertex.received.length;
    mostInFlight = 0;
    const answer = await openai.embeddings.create({ model: 'gemini-embed', input: inputs, encoding_format: 'float' });
    assert.deepEqual(
      answer.data.map((item) => item.index),
      [...inputs.keys()],
    );
    assert.deepEqual(
      answer.data.map((item) => item.embedding),
      inputs.map((text) => vectorOf(text)),
    );
    const tokens = inputs.reduce((sum, text) => sum + tokensOf(text), 0);
    assert.deepEqual(answer.usage, { prompt_tokens: tokens, total_tokens: tokens });
    const sent = vertex.received.slice(before);
    assert.equal(sent.length, 7);
    for (const request of sent) {
      assert.equal(request.path, `${PREDICT}/gemini-embedding-001:predict`);
      assert.equal(request.headers.authorization, `Bearer ${TOKEN}`);
      assert.equal((request.body.instances as Instance[]).length, 1);
    }
    assert.deepEqual(sent.map((request) => (request.body.instances as Instance[])[0]!.content).sort(), [...inputs].sort());
    assert.ok(mostInFlight > 1 && mostInFlight <= 4, `a few calls at once, at most 4; saw ${mostInFlight}`);
    const row = (await ledgerRows(sluice)).filter((r) => r.requested_model === 'gemini-embed').at(-1)!;
    assert.equal(row.status, 200);
    assert.equal(row.input_tokens, tokens);
    assert.equal(row.tokens_estimated, 0);
    assert.equal(row.attempts, 7);
  });

  test('text-embedding-005 takes 250 texts a call: 300 inputs are two calls, 250 and 50, in order', async () => {
    const inputs = Array.from({ length: 300 }, (_, i) => `text ${i}`);
    const before = vertex.received.length;
    const answer = await openai.embeddings.create({ model: 'text-embed', input: inputs, encoding_format: 'float' });
    assert.equal(answer.data.length, 300);
    assert.deepEqual(
      answer.data.map((item) => item.embedding[0]),
      inputs.map((text) => text.length),
    );
    assert.equal(answer.usage.prompt_tokens, 600);
    const sent = vertex.received.slice(before);
    assert.deepEqual(
      sent.map((request) => request.path),
      [`${PREDICT}/text-embedding-005:predict`, `${PREDICT}/text-embedding-005:predict`],
    );
    assert.deepEqual(
      sent.map((request) => (request.body.instances as Instance[]).length).sort((a, b) => b - a),
      [250, 50],
    );
    const contents = sent.flatMap((request) => (request.body.instances as Instance[]).map((instance) => instance.content));
    assert.deepEqual(contents.sort(), [...inputs].sort());
    // Google bills text-embedding-005 by the character ($0.025 per 1M), as each answer's billableCharacterCount says:
    // the two calls' counts summed (the mock's: every character of the texts).
    const row = (await ledgerRows(sluice)).filter((r) => r.requested_model === 'text-embed').at(-1)!;
    assert.equal(row.status, 200);
    assert.equal(row.input_tokens, 600);
    const characters = inputs.reduce((sum, text) => sum + text.length, 0);
    assert.equal(row.cost_micro_usd, Math.round(characters * 0.025));
  });

  test("a cost budget reserves a per-character model's price on the texts' characters, so the call past it is refused", async () => {
    const indexer = new OpenAI({ apiKey: KEYS.search, baseURL: `${sluice.baseURL}/v1`, maxRetries: 0 });
    // 3,000 characters: 75 micro-USD of the budget's 100. The second call's 75 would pass the budget: refused before Vertex.
    const texts = Array.from({ length: 3 }, (_, i) => `${i}${'y'.repeat(999)}`);
    await indexer.embeddings.create({ model: 'text-embed', input: texts, encoding_format: 'float' });
    const before = vertex.received.length;
    const refused = await indexer.embeddings
      .create({ model: 'text-embed', input: texts, encoding_format: 'float' })
      .catch((e: unknown) => e);
    assert.ok(refused instanceof OpenAI.APIError, String(refused));
    assert.equal(refused.status, 429);
    assert.equal(vertex.received.length, before);
    const rows = (await ledgerRows(sluice)).filter((r) => r.consumer === 'search-indexer');
    assert.deepEqual(
      rows.map((r) => [r.status, r.cost_micro_usd]),
      [
        [200, 75],
        [429, null],
      ],
    );
  });

  test("a batch past Vertex's 20,000 tokens a call is split by size too, each call under it by a bound of its texts' bytes", async () => {
    // 60 texts of 1,500 characters: 22,500 tokens in all at Vertex, too many for one call; 1,502 bytes each at most
    // (the text's bytes and a marker at each end), so 13 a call.
    const inputs = Array.from({ length: 60 }, (_, i) => `${String(i).padStart(2, '0')} ${'x'.repeat(1497)}`);
    const before = vertex.received.length;
    const answer = await openai.embeddings.create({ model: 'text-embed', input: inputs, encoding_format: 'float' });
    assert.equal(answer.data.length, 60);
    assert.deepEqual(
      answer.data.map((item) => item.index),
      [...inputs.keys()],
    );
    assert.equal(answer.usage.prompt_tokens, 120);
    const sent = vertex.received.slice(before).map((request) => (request.body.instances as Instance[]).map((instance) => instance.content));
    assert.deepEqual(
      sent.map((contents) => contents.length).sort((a, b) => b - a),
      [13, 13, 13, 13, 8],
    );
    // Each call holds consecutive inputs, so putting the answers back in order is putting the calls in order.
    assert.deepEqual(sent.sort((a, b) => a[0]!.localeCompare(b[0]!)).flat(), inputs);
  });

  test('dimensions becomes parameters.outputDimensionality', async () => {
    const answer = await openai.embeddings.create({ model: 'text-embed', input: ['one', 'two'], dimensions: 5, encoding_format: 'float' });
    assert.deepEqual(
      answer.data.map((item) => item.embedding),
      [vectorOf('one', 5), vectorOf('two', 5)],
    );
    assert.deepEqual(vertex.received.at(-1)!.body, {
      instances: [{ content: 'one' }, { content: 'two' }],
      parameters: { outputDimensionality: 5, autoTruncate: false },
    });
  });

  test("encoding_format base64: little-endian float32s, as OpenAI encodes them; the SDK's default decodes back", async () => {
    const response = await fetch(`${sluice.baseURL}/v1/embeddings`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEYS.checkout}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gemini-embed', input: ['abc', 'abcdef'], encoding_format: 'base64' }),
    });
    assert.equal(response.status, 200);
    const body = (await response.json()) as { data: Array<{ index: number; embedding: string }> };
    const decoded = body.data.map((item) => {
      const bytes = Buffer.from(item.embedding, 'base64');
      return Array.from({ length: bytes.length / 4 }, (_, i) => bytes.readFloatLE(i * 4));
    });
    assert.deepEqual(decoded, [vectorOf('abc'), vectorOf('abcdef')]);
    // No encoding_format: the openai SDK asks for base64 and decodes it itself.
    const answer = await openai.embeddings.create({ model: 'text-embed', input: 'abcd' });
    assert.deepEqual(answer.data[0]!.embedding, vectorOf('abcd'));
  });

  test("Vertex's errors come back in OpenAI's shape: its 400 as a 400 with its message, its quota 429 as a 429", async () => {
    await assert.rejects(openai.embeddings.create({ model: 'text-embed', input: ['too long text', 'fine'] }), (error: unknown) => {
      assert.ok(error instanceof OpenAI.BadRequestError);
      assert.equal(error.status, 400);
      assert.equal(error.type, 'invalid_request_error');
      assert.equal(error.code, 'upstream_rejected');
      assert.match(error.message, /INVALID_ARGUMENT: Unable to submit request because the input token count is 2100/);
      return true;
    });
    // A refusal of one piece of a split request fails the whole request.
    await assert.rejects(
      openai.embeddings.create({ model: 'gemini-embed', input: ['fine', 'too long text', 'fine too'] }),
      (error: unknown) => {
        assert.ok(error instanceof OpenAI.BadRequestError);
        assert.match(error.message, /input token count is 2100/);
        return true;
      },
    );
    await assert.rejects(openai.embeddings.create({ model: 'text-embed', input: 'over quota' }), (error: unknown) => {
      assert.ok(error instanceof OpenAI.RateLimitError);
      assert.equal(error.status, 429);
      assert.match(error.message, /RESOURCE_EXHAUSTED: Quota exceeded/);
      return true;
    });
  });

  test('token arrays are a 400 naming input, and nothing reaches Vertex', async () => {
    const before = vertex.received.length;
    for (const input of [
      [1, 2, 3],
      [[1, 2], [3]],
    ]) {
      await assert.rejects(openai.embeddings.create({ model: 'gemini-embed', input }), (error: unknown) => {
        assert.ok(error instanceof OpenAI.BadRequestError);
        assert.equal(error.param, 'input');
        assert.equal(error.code, 'unsupported_parameter');
        assert.match(error.message, /token arrays/);
        return true;
      });
    }
    assert.equal(vertex.received.length, before);
  });

  test('a piece answered with fewer vectors than it had texts fails the request rather than shifting every later vector', async () => {
    await assert.rejects(
      openai.embeddings.create({ model: 'gemini-embed', input: ['first', 'short answer', 'third'] }),
      (error: unknown) => {
        assert.ok(error instanceof OpenAI.APIError);
        assert.equal(error.status, 502);
        assert.match(error.message, /0 embeddings for 1 input/);
        return true;
      },
    );
  });
});
