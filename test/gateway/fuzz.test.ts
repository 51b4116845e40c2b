// Generated requests against a real Sluice and mock provider: whatever the path, headers and body, the gateway answers
// every one without a 5xx, errors come in the route's own shape, and it is still serving at the end.
// A failure prints fast-check's seed and path; SLUICE_FUZZ_SEED=<seed> replays the same run.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';
import fc from 'fast-check';
import {
  anthropicMessage,
  anthropicStreamFrames,
  json,
  MockProvider,
  openaiCompletion,
  openaiStreamFrames,
  sse,
} from '../support/mock-provider.js';
import { KEYS, startTestSluice, type TestSluice } from '../support/sluice.js';

const RUNS = 2_000;
const MAX_BODY_BYTES = 512 * 1024;

interface FuzzRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string | Buffer;
  /** How the body's length is declared: exactly, chunked (no length), or a length that does not match the bytes. */
  length: 'exact' | 'chunked' | 'zero' | 'short' | 'over-limit';
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

// --- what gets generated ------------------------------------------------------------------------------------------

const MODELS = ['gpt-4o-mini', 'claude', 'embed', 'unknown-model', ''];

/** Paths as clients type them, and as attackers do: every front door, odd ids, broken percent-encoding, junk. */
const pathArbitrary: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('/v1/chat/completions', '/v1/messages', '/v1/embeddings') },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '/v1/models',
      '/v1/models/gpt-4o-mini',
      '/v1/models/claude',
      '/v1/chat/completions?stream=true',
      '/v1/messages/count_tokens',
    ),
  },
  {
    weight: 2,
    arbitrary: fc
      .tuple(
        fc.constantFrom('/v1/models/', '/v1/', '/', '/v1/messages/', '/v1/chat/completions/'),
        fc.array(
          fc.oneof(
            fc.constantFrom('%', '%E0%A4%A', '%zz', '%00', '%2F', '%C3%28', '..', '//', '?', '?q=%', '#', 'gpt-4o-mini', '%F0%9F%98%80'),
            fc.stringMatching(/^[A-Za-z0-9._~!$&'()*+,;=:@-]{0,12}$/),
          ),
          { maxLength: 5 },
        ),
      )
      .map(([prefix, parts]) => prefix + parts.join('')),
  },
);

/** Header values a real client can send: printable ASCII, including some that look almost right. */
const headerText = fc.stringMatching(/^[\x20-\x7e]{0,40}$/).map((text) => text.trim());

const headersArbitrary: fc.Arbitrary<Record<string, string>> = fc
  .record(
    {
      // Mostly a valid key, so most requests get past authentication to the parsers and the upstream.
      authorization: fc.option(
        fc.oneof(
          { weight: 12, arbitrary: fc.constant(`Bearer ${KEYS.checkout}`) },
          { weight: 1, arbitrary: fc.constantFrom(`Bearer ${KEYS.search}`, 'Bearer sk-not-a-sluice-key-0000', 'Bearer', KEYS.checkout) },
          { weight: 1, arbitrary: headerText },
        ),
        { nil: undefined, freq: 6 },
      ),
      'x-api-key': fc.option(
        fc.oneof(
          { weight: 4, arbitrary: fc.constant(KEYS.checkout) },
          { weight: 1, arbitrary: fc.constant('sk-not-a-sluice-key-0000') },
          { weight: 1, arbitrary: headerText },
        ),
        { nil: undefined, freq: 4 },
      ),
      'content-type': fc.option(
        fc.oneof(fc.constantFrom('application/json', 'application/json; charset=utf-8', 'text/plain', 'multipart/form-data'), headerText),
        { nil: undefined },
      ),
      'anthropic-version': fc.option(fc.oneof(fc.constant('2023-06-01'), headerText), { nil: undefined }),
      'x-request-id': fc.option(fc.oneof(fc.stringMatching(/^[A-Za-z0-9._:-]{1,40}$/), fc.constant('x'.repeat(300)), headerText), {
        nil: undefined,
      }),
    },
    { requiredKeys: [] },
  )
  .map((headers) => {
    const present: Record<string, string> = {};
    for (const [name, value] of Object.entries(headers)) if (value !== undefined) present[name] = value;
    return present;
  });

const text = fc.oneof(
  fc.string({ maxLength: 30 }),
  fc.string({ unit: 'binary', maxLength: 30 }),
  // Text that spells the tokenizer's special tokens: admission counts every prompt under the token budget below.
  fc
    .tuple(fc.string({ maxLength: 8 }), fc.constantFrom('<|endoftext|>', '<|endofprompt|>', '<|im_start|>', '<|fim_middle|>', '<|im_sep|>'))
    .map(([before, special]) => before + special),
);
const anyJson = fc.jsonValue({ maxDepth: 4 });

/** A message in either API's shape, or almost: right and wrong roles, content types and parts. */
const messageArbitrary = fc.record(
  {
    role: fc.oneof(fc.constantFrom('user', 'assistant', 'system', 'developer', 'tool', 'wizard'), anyJson),
    content: fc.oneof(
      text,
      fc.array(
        fc.record(
          { type: fc.constantFrom('text', 'image_url', 'image', 'tool_use', 'tool_result', 'nope'), text },
          { requiredKeys: ['type'] },
        ),
        { maxLength: 3 },
      ),
      anyJson,
    ),
  },
  { requiredKeys: [] },
);

/** Bodies close enough to a real request to reach deep into the pipeline, with fields of every wrong type. */
const requestLikeBody = fc
  .record(
    {
      model: fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...MODELS) }, { weight: 1, arbitrary: anyJson }),
      messages: fc.oneof(
        { weight: 4, arbitrary: fc.array(messageArbitrary, { minLength: 1, maxLength: 4 }) },
        { weight: 1, arbitrary: anyJson },
      ),
      input: fc.oneof(text, fc.array(text, { maxLength: 3 }), fc.array(fc.integer(), { maxLength: 5 }), anyJson),
      max_tokens: fc.oneof(fc.integer({ min: -5, max: 5_000 }), anyJson),
      stream: fc.oneof({ weight: 3, arbitrary: fc.boolean() }, { weight: 1, arbitrary: anyJson }),
      temperature: fc.oneof(fc.double(), anyJson),
      tools: fc.oneof(
        fc.array(
          fc.record(
            { type: fc.constant('function'), function: fc.record({ name: text, parameters: anyJson }, { requiredKeys: [] }) },
            { requiredKeys: [] },
          ),
          { maxLength: 2 },
        ),
        fc.array(fc.record({ name: text, input_schema: anyJson }, { requiredKeys: [] }), { maxLength: 2 }),
        anyJson,
      ),
      tool_choice: anyJson,
      stop: anyJson,
      system: anyJson,
      response_format: anyJson,
      stream_options: anyJson,
    },
    { requiredKeys: [] },
  )
  .map((body) => JSON.stringify(body));

/** Requests each API accepts, so the run also covers the way to the provider and back, streamed and not. */
const validBody = fc
  .tuple(
    fc.constantFrom('chat', 'messages', 'embeddings'),
    fc.constantFrom('gpt-4o-mini', 'claude'),
    fc.string({ unit: 'binary', maxLength: 200 }),
    fc.boolean(),
    fc.boolean(),
  )
  .map(([api, model, content, stream, tools]) => {
    if (api === 'embeddings') return JSON.stringify({ model: 'embed', input: [content, 'second'] });
    const body: Record<string, unknown> = { model, messages: [{ role: 'user', content }], stream, max_tokens: 16 };
    if (tools) {
      body.tools =
        api === 'chat'
          ? [{ type: 'function', function: { name: 'lookup', parameters: { type: 'object', properties: { q: { type: 'string' } } } } }]
          : [{ name: 'lookup', input_schema: { type: 'object', properties: { q: { type: 'string' } } } }];
    }
    return JSON.stringify(body);
  });

const nested = fc
  .tuple(fc.integer({ min: 100, max: 20_000 }), fc.constantFrom('[', '{"a":'))
  .map(
    ([depth, open]) =>
      `{"model":"gpt-4o-mini","max_tokens":5,"messages":[{"role":"user","content":"hi"}],"x":${open.repeat(depth)}${open === '[' ? '' : '1'}${(open === '[' ? ']' : '}').repeat(depth)}}`,
  );

/** A long prompt that stays under the gateway's body limit. */
const hugeString = fc
  .tuple(fc.integer({ min: 50_000, max: 400_000 }), fc.constantFrom('gpt-4o-mini', 'claude'))
  .map(([size, model]) => JSON.stringify({ model, max_tokens: 5, messages: [{ role: 'user', content: 'word '.repeat(size / 5) }] }));

const bodyArbitrary: fc.Arbitrary<string | Buffer> = fc.oneof(
  { weight: 4, arbitrary: validBody },
  { weight: 8, arbitrary: requestLikeBody },
  { weight: 2, arbitrary: fc.json({ maxDepth: 5 }) },
  { weight: 1, arbitrary: nested },
  { weight: 1, arbitrary: hugeString },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes)) },
  { weight: 1, arbitrary: fc.constantFrom('', '{', 'null', '[]', '"text"', '{"model":', '\uFEFF{}', '{"__proto__":{"x":1}}') },
);

const requestArbitrary: fc.Arbitrary<FuzzRequest> = fc
  .record({
    method: fc.oneof(
      { weight: 8, arbitrary: fc.constant('') },
      { weight: 1, arbitrary: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS') },
    ),
    path: pathArbitrary,
    headers: headersArbitrary,
    body: bodyArbitrary,
    length: fc.oneof(
      { weight: 8, arbitrary: fc.constant('exact' as const) },
      { weight: 1, arbitrary: fc.constantFrom('chunked' as const, 'zero' as const, 'short' as const, 'over-limit' as const) },
    ),
  })
  .map((generated) => ({
    ...generated,
    // Mostly the method each route expects, so requests get past the method check.
    method: generated.method !== '' ? generated.method : generated.path.startsWith('/v1/models') ? 'GET' : 'POST',
  }));

// --- what every answer must look like -----------------------------------------------------------------------------

/** The API shape errors on this path come in: the route's, or, off the routes, the one the headers ask for. */
function shapeOf(fuzz: FuzzRequest): 'openai' | 'anthropic' {
  if (fuzz.path.startsWith('/v1/messages')) return 'anthropic';
  if (fuzz.path.startsWith('/v1/chat/') || fuzz.path.startsWith('/v1/embeddings')) return 'openai';
  return fuzz.headers['anthropic-version'] !== undefined ? 'anthropic' : 'openai';
}

function checkAnswer(fuzz: FuzzRequest, answer: Answer): void {
  assert.ok(answer.status < 500, `no 5xx: got ${answer.status} ${answer.body.slice(0, 300)}`);
  if ((fuzz.length === 'zero' || fuzz.length === 'short') && answer.headers['x-request-id'] === undefined) {
    // The bytes past the declared length are parsed as the next request on the connection, which they are not: node
    // answers that one 400 and closes, before the gateway's answer to the first. No route, so no route's shape.
    assert.deepEqual([answer.status, answer.headers.connection, answer.body], [400, 'close', '']);
    return;
  }
  assert.ok(
    typeof answer.headers['x-request-id'] === 'string',
    `every answer carries x-request-id: got ${answer.status} ${JSON.stringify(answer.headers)} ${answer.body.slice(0, 200)}`,
  );
  const contentType = String(answer.headers['content-type'] ?? '');
  if (answer.status < 400) {
    if (contentType.startsWith('application/json')) JSON.parse(answer.body);
    else assert.match(contentType, /^text\/event-stream/);
    return;
  }
  assert.match(contentType, /^application\/json/);
  const body = JSON.parse(answer.body) as Record<string, unknown>;
  if (shapeOf(fuzz) === 'anthropic') {
    assert.deepEqual(Object.keys(body).sort(), ['error', 'type']);
    assert.equal(body.type, 'error');
    const error = body.error as Record<string, unknown>;
    assert.deepEqual(Object.keys(error).sort(), ['message', 'type']);
    assert.equal(typeof error.type, 'string');
    assert.equal(typeof error.message, 'string');
  } else {
    assert.deepEqual(Object.keys(body), ['error']);
    const error = body.error as Record<string, unknown>;
    assert.deepEqual(Object.keys(error).sort(), ['code', 'message', 'param', 'type']);
    assert.equal(typeof error.message, 'string');
    assert.equal(typeof error.type, 'string');
    assert.ok(error.param === null || typeof error.param === 'string');
    assert.ok(error.code === null || typeof error.code === 'string');
  }
}

// --- the run ------------------------------------------------------------------------------------------------------

function send(port: number, agent: Agent, fuzz: FuzzRequest): Promise<Answer> {
  const given = typeof fuzz.body === 'string' ? Buffer.from(fuzz.body, 'utf8') : fuzz.body;
  // A GET with a body is legal HTTP; most clients send none, and so does this one half the time.
  const body = fuzz.method === 'GET' && given.length % 2 === 0 ? Buffer.alloc(0) : given;
  const headers: Record<string, string> = { ...fuzz.headers };
  const inStep = fuzz.length === 'exact' || fuzz.length === 'chunked';
  // A declared length that does not match the bytes leaves the connection out of step: it is not reused.
  if (!inStep) headers.connection = 'close';
  if (fuzz.length === 'exact') headers['content-length'] = String(body.length);
  // Said outright: node's client frames a GET's or DELETE's body in chunks only when asked to.
  if (fuzz.length === 'chunked') headers['transfer-encoding'] = 'chunked';
  if (fuzz.length === 'zero') headers['content-length'] = '0';
  if (fuzz.length === 'short') headers['content-length'] = String(Math.floor(body.length / 2));
  if (fuzz.length === 'over-limit') headers['content-length'] = String(MAX_BODY_BYTES + 1);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, method: fuzz.method, path: fuzz.path, headers, agent: inStep ? agent : false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.once('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    // After its answer, a connection left out of step by a wrong length may still error: settled by then, ignored.
    req.on('error', reject);
    // A request left without an answer is a failure of its own, not a run that never ends.
    req.setTimeout(10_000, () => req.destroy(new Error('no answer within 10 s')));
    if (body.length > 0) req.end(body);
    else req.end();
  });
}

describe('fuzzing both front doors', () => {
  let mock: MockProvider;
  let sluice: TestSluice;

  before(async () => {
    mock = await MockProvider.start((received, res) => {
      const stream = received.body.stream === true;
      if (received.path.endsWith('/embeddings')) {
        return json(res, 200, {
          object: 'list',
          data: [{ object: 'embedding', index: 0, embedding: [0.1, -0.2] }],
          model: 'embed',
          usage: { prompt_tokens: 3, total_tokens: 3 },
        });
      }
      if (received.path.endsWith('/messages'))
        return stream ? sse(res, anthropicStreamFrames(['fuzzed'])) : json(res, 200, anthropicMessage('fuzzed'));
      return stream
        ? sse(res, openaiStreamFrames(['fuzzed'], { prompt_tokens: 3, completion_tokens: 1 }))
        : json(res, 200, openaiCompletion('fuzzed'));
    });
    sluice = await startTestSluice({
      gateway: { host: '127.0.0.1', port: 0, maxBodyBytes: MAX_BODY_BYTES },
      providers: {
        openai: { type: 'openai', baseUrl: `${mock.url}/v1`, apiKey: 'upstream-key-not-real' },
        anthropic: { type: 'anthropic', baseUrl: mock.url, apiKey: 'upstream-key-not-real' },
      },
      models: [
        { name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] },
        { name: 'claude', targets: [{ provider: 'anthropic', model: 'claude-3-5-haiku-latest' }] },
        { name: 'embed', targets: [{ provider: 'openai', model: 'text-embedding-3-small' }] },
      ],
      // Governed, so that admission counts every generated prompt with the tokenizer and settlement follows each call.
      budgets: [{ name: 'fuzz-tokens', consumers: 'everyone', measure: 'total_tokens', limit: 1_000_000_000_000, window: 'day' }],
    });
  });

  after(async () => {
    await sluice.stop();
    await mock.close();
  });

  test(`${RUNS} generated requests: no 5xx, every error in its route's shape, the gateway still serving`, async () => {
    const port = sluice.sluice.gateway.port;
    const agent = new Agent({ keepAlive: true, maxSockets: 8 });
    const seed =
      process.env.SLUICE_FUZZ_SEED === undefined ? Date.now() ^ (Math.random() * 0x100000000) : Number(process.env.SLUICE_FUZZ_SEED);
    try {
      await fc.assert(
        fc.asyncProperty(requestArbitrary, async (fuzz) => checkAnswer(fuzz, await send(port, agent, fuzz))),
        {
          numRuns: RUNS,
          seed,
          // Shrinking replays requests against the same gateway, whose state (breakers, budgets) a replay may not share:
          // report the first failure as it happened; the seed replays the whole run.
          endOnFailure: true,
          includeErrorInReport: true,
        },
      );
    } finally {
      agent.destroy();
    }
    const answer = await send(port, new Agent(), {
      method: 'POST',
      path: '/v1/chat/completions',
      length: 'exact',
      headers: { authorization: `Bearer ${KEYS.checkout}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'still there?' }] }),
    });
    assert.equal(answer.status, 200);
    assert.equal((JSON.parse(answer.body) as { choices: Array<{ message: { content: string } }> }).choices[0]?.message.content, 'fuzzed');
  });
});
