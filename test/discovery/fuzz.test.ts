// Generated traffic through the discovery proxy to every wire format it reads: whatever the path, the body and the
// provider's answer (JSON, server-sent events, AWS event-stream frames, or garbage under any of their content types),
// each call gets the provider's answer as the provider sent it, and the proxy is still serving at the end. The proxy sits
// in the egress path of every AI call of an organisation: one input it does not foresee must not end it.
// A failure prints fast-check's seed; SLUICE_FUZZ_SEED=<seed> replays the same run.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { EventStreamCodec } from '@smithy/eventstream-codec';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';
import type { RunningDiscovery } from '../../src/discovery/discovery.js';
import { HttpsMock, proxiedFetch, startTestDiscovery, tlsFixture, type TlsFixture } from '../support/discovery.js';

const RUNS = 300;

/** One host per wire format the proxy reads, and Azure OpenAI's deployment paths. */
const HOSTS = {
  openai: 'api.openai.com',
  azure: 'fuzz.openai.azure.com',
  anthropic: 'api.anthropic.com',
  bedrock: 'bedrock-runtime.us-east-1.amazonaws.com',
  gemini: 'generativelanguage.googleapis.com',
  cohere: 'api.cohere.com',
} as const;

/** A model name as clients write it, and as they mangle it: broken percent-encoding, slashes, colons, nothing. */
const modelName = fc.oneof(
  fc.constantFrom('gpt-4o-mini', 'anthropic.claude-3-haiku-20240307-v1:0', 'gemini-2.0-flash', '', '%E0%A4%A', '%zz', 'a%2Fb', '%'),
  fc.stringMatching(/^[A-Za-z0-9._~%:-]{0,20}$/),
);

const pathFor = (host: keyof typeof HOSTS, model: string, method: string): string => {
  switch (host) {
    case 'openai':
      return `/v1/${method}`;
    case 'azure':
      return `/openai/deployments/${model}/${method}?api-version=2024-10-21`;
    case 'anthropic':
      return '/v1/messages';
    case 'bedrock':
      return `/model/${model}/${method}`;
    case 'gemini':
      return `/v1beta/models/${model}:${method}`;
    case 'cohere':
      return `/v2/${method}`;
  }
};

const methodFor: Record<keyof typeof HOSTS, string[]> = {
  openai: ['chat/completions', 'embeddings', 'responses', 'completions', 'models'],
  azure: ['chat/completions', 'embeddings'],
  anthropic: ['messages'],
  bedrock: ['converse', 'converse-stream', 'invoke', 'invoke-with-response-stream'],
  gemini: ['generateContent', 'streamGenerateContent', 'embedContent', 'countTokens'],
  cohere: ['chat', 'embed'],
};

/** What the mock answers: its status, content type and body, chosen by the generator and sent in a header. */
type Answer = 'json-usage' | 'json-garbage' | 'sse' | 'sse-garbage' | 'event-stream' | 'event-stream-garbage' | 'empty' | 'error';

interface FuzzCall {
  host: keyof typeof HOSTS;
  path: string;
  body: string;
  answer: Answer;
  /** Bytes for the garbage answers. */
  noise: Uint8Array;
}

const jsonish = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.record(
    {
      model: fc.oneof(modelName, fc.jsonValue({ maxDepth: 1 })),
      stream: fc.oneof(fc.boolean(), fc.jsonValue({ maxDepth: 1 })),
      messages: fc.oneof(fc.array(fc.record({ role: fc.string(), content: fc.string() }), { maxLength: 2 }), fc.jsonValue({ maxDepth: 2 })),
      usage: fc.jsonValue({ maxDepth: 2 }),
    },
    { requiredKeys: [] },
  ),
);

const callArbitrary: fc.Arbitrary<FuzzCall> = fc
  .record({
    host: fc.constantFrom(...(Object.keys(HOSTS) as Array<keyof typeof HOSTS>)),
    model: modelName,
    methodIndex: fc.nat(),
    body: fc.oneof(
      { weight: 4, arbitrary: jsonish.map((value) => JSON.stringify(value)) },
      { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 60 }) },
    ),
    answer: fc.constantFrom<Answer>(
      'json-usage',
      'json-garbage',
      'sse',
      'sse-garbage',
      'event-stream',
      'event-stream-garbage',
      'empty',
      'error',
    ),
    noise: fc.uint8Array({ maxLength: 200 }),
  })
  .map(({ host, model, methodIndex, body, answer, noise }) => {
    const methods = methodFor[host];
    return { host, path: pathFor(host, model, methods[methodIndex % methods.length]!), body, answer, noise };
  });

const codec = new EventStreamCodec(toUtf8, fromUtf8);

/** An AWS event-stream frame as Bedrock sends one. */
function eventFrame(eventType: string, body: unknown): Uint8Array {
  return codec.encode({
    headers: {
      ':message-type': { type: 'string', value: 'event' },
      ':event-type': { type: 'string', value: eventType },
      ':content-type': { type: 'string', value: 'application/json' },
    },
    body: fromUtf8(JSON.stringify(body)),
  });
}

function answerBody(answer: Answer, noise: Uint8Array): { status: number; type: string; body: Buffer } {
  const usage = { prompt_tokens: 7, completion_tokens: 3, input_tokens: 7, output_tokens: 3, inputTokens: 7, outputTokens: 3 };
  switch (answer) {
    case 'json-usage':
      return {
        status: 200,
        type: 'application/json',
        body: Buffer.from(JSON.stringify({ model: 'gpt-4o-mini', usage, usageMetadata: usage })),
      };
    case 'json-garbage':
      return { status: 200, type: 'application/json', body: Buffer.from(noise) };
    case 'sse':
      return {
        status: 200,
        type: 'text/event-stream',
        body: Buffer.from(`data: ${JSON.stringify({ model: 'm', choices: [] })}\n\ndata: ${JSON.stringify({ usage })}\n\ndata: [DONE]\n\n`),
      };
    case 'sse-garbage':
      return { status: 200, type: 'text/event-stream', body: Buffer.concat([Buffer.from('data: {"usage":'), Buffer.from(noise)]) };
    case 'event-stream':
      return {
        status: 200,
        type: 'application/vnd.amazon.eventstream',
        body: Buffer.concat([
          eventFrame('messageStart', { role: 'assistant' }),
          eventFrame('metadata', { usage: { inputTokens: 7, outputTokens: 3 } }),
          eventFrame('chunk', {
            bytes: Buffer.from(JSON.stringify({ 'amazon-bedrock-invocationMetrics': { inputTokenCount: 7 } })).toString('base64'),
          }),
        ]),
      };
    case 'event-stream-garbage':
      // A frame's prelude that claims a length, then noise: the codec's checksums fail, or the frame never ends.
      return {
        status: 200,
        type: 'application/vnd.amazon.eventstream',
        body: Buffer.concat([Buffer.from(eventFrame('chunk', {}).subarray(0, 12)), Buffer.from(noise)]),
      };
    case 'empty':
      return { status: 200, type: 'application/json', body: Buffer.alloc(0) };
    case 'error':
      return { status: 500, type: 'application/json', body: Buffer.from(JSON.stringify({ error: { message: 'upstream failed' } })) };
  }
}

describe('discovery: generated traffic', () => {
  let tls: TlsFixture;
  let mock: HttpsMock;
  let discovery: RunningDiscovery;

  before(async () => {
    tls = await tlsFixture();
    mock = await HttpsMock.start(await tls.serverCert(Object.values(HOSTS)), (request, res) => {
      const answer = answerBody(
        request.headers['x-fuzz-answer'] as Answer,
        Buffer.from(String(request.headers['x-fuzz-noise'] ?? ''), 'base64'),
      );
      res.writeHead(answer.status, { 'content-type': answer.type, 'content-length': answer.body.length });
      res.end(answer.body);
    });
    discovery = await startTestDiscovery({
      ca: { certFile: tls.orgCaFile, keyFile: tls.orgCaKeyFile },
      maxParseBytes: 64 * 1024,
      upstream: {
        caFile: tls.upstreamCaFile,
        resolve: Object.fromEntries(Object.values(HOSTS).map((host) => [host, `127.0.0.1:${mock.port}`])),
      },
    });
  });

  after(async () => {
    await discovery.stop();
    await mock.close();
  });

  test(`${RUNS} generated calls: each gets the provider's answer as it was sent, and the proxy keeps serving`, async () => {
    const proxied = proxiedFetch(discovery.url, tls.orgCaPem);
    const seed =
      process.env.SLUICE_FUZZ_SEED === undefined ? Date.now() ^ (Math.random() * 0x100000000) : Number(process.env.SLUICE_FUZZ_SEED);
    try {
      await fc.assert(
        fc.asyncProperty(callArbitrary, async (call) => {
          const expected = answerBody(call.answer, call.noise);
          const response = await proxied.fetch(`https://${HOSTS[call.host]}${call.path}`, {
            method: 'POST',
            headers: {
              'content-type': 'application/json',
              authorization: 'Bearer sk-fuzz-not-real',
              'x-fuzz-answer': call.answer,
              'x-fuzz-noise': Buffer.from(call.noise).toString('base64'),
            },
            body: call.body,
          });
          assert.equal(response.status, expected.status);
          assert.deepEqual(Buffer.from(await response.arrayBuffer()), expected.body);
        }),
        { numRuns: RUNS, seed, endOnFailure: true },
      );
    } catch (error) {
      throw new Error(`${(error as Error).message}\nreplay with SLUICE_FUZZ_SEED=${seed}`);
    } finally {
      await proxied.dispatcher.close();
    }
    assert.ok(mock.received.length >= RUNS, `${mock.received.length} calls reached the provider`);
    const read = (await discovery.metrics.calls.get()).values.reduce((sum, value) => sum + value.value, 0);
    assert.ok(read >= RUNS, `the proxy counted ${read} calls`);
    const health = await fetch(`${discovery.url}/healthz`);
    assert.equal(health.status, 200);
  });
});
