// gRPC through the discovery proxy: Google's Cloud clients (the Vertex AI SDK, the Gemini API's generativelanguage
// client) call *-aiplatform.googleapis.com and generativelanguage.googleapis.com over gRPC by default: HTTP/2,
// length-prefixed protobuf messages, the status in trailers. A call through the proxy reaches a gRPC provider (a real
// TLS h2 server on loopback) and comes back whole: its messages as they come, its trailers, its Trailers-Only answers.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import protobuf from 'protobufjs';
import { counter, startTestDiscovery, tlsFixture, type TlsFixture, interceptingTo } from '../support/discovery.js';
import { testServiceAccountJson } from '../support/google.js';
import { generateContentRequest, generateContentResponse, grpcCall, grpcFrame, GrpcMock } from '../support/grpc.js';
import type { RunningDiscovery } from '../../src/discovery/discovery.js';
import type { Observation } from '../../src/discovery/report.js';

const VERTEX = 'us-central1-aiplatform.googleapis.com';
const GEMINI = 'generativelanguage.googleapis.com';
const GENERATE = '/google.cloud.aiplatform.v1.PredictionService/GenerateContent';
const STREAM_GENERATE = '/google.cloud.aiplatform.v1.PredictionService/StreamGenerateContent';
const UNTRUSTED = 'europe-west4-aiplatform.googleapis.com';
const MODEL = 'projects/proj-1/locations/us-central1/publishers/google/models/gemini-2.0-flash';

/** What the proxy has recorded so far (a call is recorded just after its answer ends), and a fresh start. */
async function observed(discovery: RunningDiscovery, calls = 1): Promise<Observation[]> {
  const deadline = Date.now() + 5_000;
  const seen: Observation[] = [];
  while (seen.reduce((sum, item) => sum + item.calls, 0) < calls && Date.now() < deadline) {
    seen.push(...discovery.aggregator.drain());
    if (seen.reduce((sum, item) => sum + item.calls, 0) < calls) await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return seen;
}

/**
 * The Gemini API's Predict (Imagen): PredictRequest { string model = 1; repeated Value instances = 2; Value parameters = 3 }
 * (googleapis, google/ai/generativelanguage/v1beta/prediction_service.proto).
 */
const GEMINI_PREDICT = '/google.ai.generativelanguage.v1beta.PredictionService/Predict';

/** A request naming its model in field 1 (the Gemini API's PredictRequest). */
function modelRequest(model: string): Uint8Array {
  return protobuf.Writer.create()
    .uint32((1 << 3) | 2)
    .string(model)
    .finish();
}

/** A CountTokensRequest naming its `endpoint` (field 1), as Vertex AI's LlmUtilityService takes it. */
function countTokensRequest(endpoint: string): Uint8Array {
  return protobuf.Writer.create()
    .uint32((1 << 3) | 2)
    .string(endpoint)
    .finish();
}

describe('discovery: gRPC calls', () => {
  let tls: TlsFixture;
  let mock: GrpcMock;
  let untrusted: GrpcMock;
  let discovery: RunningDiscovery;

  before(async () => {
    tls = await tlsFixture();
    mock = await GrpcMock.start(await tls.serverCert([VERTEX, GEMINI]), () => ({
      messages: [generateContentResponse('hello', { prompt: 3, candidates: 1, total: 4 })],
    }));
    untrusted = await GrpcMock.start(await tls.serverCert([UNTRUSTED], false), () => ({ messages: [] }));
    discovery = await startTestDiscovery({
      ca: { certFile: tls.orgCaFile, keyFile: tls.orgCaKeyFile },
      upstream: {
        caFile: tls.upstreamCaFile,
        resolve: { [VERTEX]: `127.0.0.1:${mock.port}`, [GEMINI]: `127.0.0.1:${mock.port}`, [UNTRUSTED]: `127.0.0.1:${untrusted.port}` },
      },
    });
  });

  after(async () => {
    await discovery.stop();
    await mock.close();
    await untrusted.close();
  });

  const call = (path: string, body: Buffer, host = VERTEX) => grpcCall(discovery.port, tls.orgCaPem, host, path, body);

  test('a unary call gets the provider message and its trailers (grpc-status 0); the provider gets the request whole', async () => {
    const request = generateContentRequest(MODEL, 5);
    const result = await call(GENERATE, grpcFrame(request));
    assert.equal(result.headers[':status'], 200);
    assert.match(String(result.headers['content-type']), /^application\/grpc/);
    assert.equal(result.trailers['grpc-status'], '0');
    assert.equal(result.messages.length, 1);
    assert.deepEqual(result.messages[0], Buffer.from(generateContentResponse('hello', { prompt: 3, candidates: 1, total: 4 })));
    const received = mock.received.at(-1)!;
    assert.equal(received.path, GENERATE);
    assert.equal(received.headers['content-type'], 'application/grpc');
    assert.equal(received.headers.te, 'trailers');
    assert.match(String(received.headers[':authority']), /^us-central1-aiplatform\.googleapis\.com(:443)?$/);
    assert.deepEqual(received.messages, [Buffer.from(request)]);
  });

  test('a failing call gets its non-zero grpc-status and grpc-message in trailers, after its headers', async () => {
    mock.respondWith(() => ({ messages: [], status: 3, message: 'contents is empty' }));
    const result = await call(GENERATE, grpcFrame(generateContentRequest(MODEL, 5)));
    assert.equal(result.trailersOnly, false);
    assert.equal(result.trailers['grpc-status'], '3');
    assert.equal(decodeURIComponent(String(result.trailers['grpc-message'])), 'contents is empty');
  });

  test("a provider's Trailers-Only answer stays Trailers-Only (its status in the headers that end the stream)", async () => {
    mock.respondWith(() => ({ status: 16, message: 'request had invalid authentication credentials', trailersOnly: true }));
    const result = await call(GENERATE, grpcFrame(generateContentRequest(MODEL, 5)));
    assert.equal(result.trailersOnly, true);
    assert.equal(result.headers['grpc-status'], '16');
    assert.equal(decodeURIComponent(String(result.headers['grpc-message'])), 'request had invalid authentication credentials');
    assert.equal(result.messages.length, 0);
  });

  test('a server-streaming call gets each message as it comes, then its trailers', async () => {
    const parts = ['one', 'two', 'three'].map((text, i) =>
      generateContentResponse(text, i === 2 ? { prompt: 3, candidates: 3, total: 6 } : undefined),
    );
    mock.respondWith(() => ({ messages: parts, gapMs: 150 }));
    const result = await call(STREAM_GENERATE, grpcFrame(generateContentRequest(MODEL, 5)));
    assert.deepEqual(
      result.messages,
      parts.map((part) => Buffer.from(part)),
    );
    assert.equal(result.trailers['grpc-status'], '0');
    // Relayed as they came, not held until the end: the first arrived well before the last.
    assert.ok(result.arrivals[2]! - result.arrivals[0]! >= 200, `arrivals ${result.arrivals.join(', ')}`);
  });

  test('a client cancelling a stream cancels it at the provider too, and the call is still counted', async () => {
    mock.respondWith(() => ({ messages: ['one', 'two', 'three', 'four'].map((text) => generateContentResponse(text)), gapMs: 200 }));
    discovery.aggregator.drain();
    const cancelled = mock.cancelled;
    const result = await grpcCall(
      discovery.port,
      tls.orgCaPem,
      VERTEX,
      STREAM_GENERATE,
      grpcFrame(generateContentRequest(MODEL, 5)),
      {},
      1,
    );
    assert.equal(result.messages.length, 1);
    const deadline = Date.now() + 2_000;
    while (mock.cancelled === cancelled && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(mock.cancelled, cancelled + 1);
    assert.equal((await observed(discovery)).find((item) => item.provider === 'vertex')?.model, 'gemini-2.0-flash');
  });

  test('calls to one origin share one upstream HTTP/2 connection; the Gemini API is passed the same way', async () => {
    mock.respondWith(() => ({ messages: [generateContentResponse('hello', undefined, 'gemini')] }));
    const before = mock.sessions;
    const results = await Promise.all(
      [1, 2, 3].map(() =>
        call(
          '/google.ai.generativelanguage.v1beta.GenerativeService/GenerateContent',
          grpcFrame(generateContentRequest('models/gemini-2.0-flash', 1)),
          GEMINI,
        ),
      ),
    );
    for (const result of results) assert.equal(result.trailers['grpc-status'], '0');
    assert.ok(mock.sessions - before <= 1, `${mock.sessions - before} new upstream sessions`);
  });

  test('an origin whose certificate is not trusted: UNAVAILABLE naming the reason, and the call is not sent', async () => {
    const result = await call(GENERATE, grpcFrame(generateContentRequest(MODEL, 5)), UNTRUSTED);
    assert.equal(result.trailersOnly, true);
    assert.equal(result.headers['grpc-status'], '14');
    assert.match(
      decodeURIComponent(String(result.headers['grpc-message'])),
      /certificate of europe-west4-aiplatform\.googleapis\.com is not trusted/,
    );
    assert.equal(untrusted.received.length, 0);
  });

  test('a Vertex AI GenerateContent call over gRPC is inventoried with its model and tokens', async () => {
    mock.respondWith(() => ({ messages: [generateContentResponse('hello', { prompt: 3, candidates: 1, total: 4 })] }));
    discovery.aggregator.drain();
    const result = await call(GENERATE, grpcFrame(generateContentRequest(MODEL.replace('gemini-2.0-flash', 'gemini-2.0-flash-lite'), 5)));
    assert.equal(result.trailers['grpc-status'], '0');
    const seen = (await observed(discovery)).find((item) => item.model === 'gemini-2.0-flash-lite');
    assert.equal(seen?.provider, 'vertex');
    assert.equal(seen?.calls, 1);
    assert.equal(seen?.inputTokens, 3);
    assert.equal(seen?.outputTokens, 1);
    assert.equal(seen?.source.userAgent, 'grpc-python/1.66.0 grpc-c/42.0.0');
  });

  test('a streamed call compressed both ways (grpc-encoding: gzip): the model from the request, usage from the last message', async () => {
    const parts = ['one', 'two'].map((text, i) => generateContentResponse(text, { prompt: 5, candidates: i + 1, total: 6 + i }));
    mock.respondWith(() => ({ messages: parts, gzip: true }));
    discovery.aggregator.drain();
    const result = await grpcCall(
      discovery.port,
      tls.orgCaPem,
      VERTEX,
      STREAM_GENERATE,
      grpcFrame(gzipSync(generateContentRequest(MODEL.replace('gemini-2.0-flash', 'gemini-2.5-pro'), 5)), true),
      { 'grpc-encoding': 'gzip' },
    );
    assert.equal(result.trailers['grpc-status'], '0');
    assert.equal(result.messages.length, 2);
    const seen = (await observed(discovery)).find((item) => item.model === 'gemini-2.5-pro');
    assert.equal(seen?.calls, 1);
    assert.equal(seen?.inputTokens, 5);
    assert.equal(seen?.outputTokens, 2);
  });

  test("the Gemini API over gRPC: the request's model (field 1) and its own answer layout", async () => {
    mock.respondWith(() => ({ messages: [generateContentResponse('hello', { prompt: 7, candidates: 2, total: 9 }, 'gemini')] }));
    discovery.aggregator.drain();
    await call(
      '/google.ai.generativelanguage.v1beta.GenerativeService/GenerateContent',
      grpcFrame(generateContentRequest('models/gemini-2.0-flash', 1)),
      GEMINI,
    );
    const seen = (await observed(discovery)).find((item) => item.provider === 'gemini');
    assert.equal(seen?.model, 'gemini-2.0-flash');
    assert.equal(seen?.calls, 1);
    assert.equal(seen?.inputTokens, 7);
    assert.equal(seen?.outputTokens, 2);
  });

  test('CountTokens is inventoried under the model its endpoint names, without tokens', async () => {
    mock.respondWith(() => ({
      messages: [
        protobuf.Writer.create()
          .uint32(1 << 3)
          .int32(12)
          .finish(),
      ],
    }));
    discovery.aggregator.drain();
    await call('/google.cloud.aiplatform.v1.LlmUtilityService/CountTokens', grpcFrame(countTokensRequest(MODEL)));
    const seen = (await observed(discovery)).find((item) => item.provider === 'vertex');
    assert.equal(seen?.model, 'gemini-2.0-flash');
    assert.equal(seen?.calls, 1);
    assert.equal(seen?.inputTokens, undefined);
  });

  test('a message the proxy cannot read (an encoding it cannot undo) still goes on, counted unparsed with model unknown', async () => {
    mock.respondWith(() => ({ messages: [generateContentResponse('hello')] }));
    discovery.aggregator.drain();
    const unparsed = await counter(discovery.metrics.calls, { provider: 'vertex', outcome: 'unparsed' });
    const seen = mock.received.length;
    const result = await grpcCall(discovery.port, tls.orgCaPem, VERTEX, GENERATE, grpcFrame(Buffer.from('not snappy'), true), {
      'grpc-encoding': 'snappy',
    });
    assert.equal(result.trailers['grpc-status'], '0');
    assert.equal(mock.received.length, seen + 1);
    const observation = (await observed(discovery)).find((item) => item.provider === 'vertex');
    assert.equal(observation?.model, 'unknown');
    assert.equal(await counter(discovery.metrics.calls, { provider: 'vertex', outcome: 'unparsed' }), unparsed + 1);
  });

  test('a method whose model the proxy does not read still goes on and is inventoried, under model unknown', async () => {
    mock.respondWith(() => ({ messages: [Buffer.alloc(0)] }));
    discovery.aggregator.drain();
    const result = await call('/google.cloud.aiplatform.v1.ModelGardenService/GetPublisherModel', grpcFrame(countTokensRequest(MODEL)));
    assert.equal(result.trailers['grpc-status'], '0');
    const observation = (await observed(discovery)).find((item) => item.provider === 'vertex');
    assert.equal(observation?.model, 'unknown');
    assert.equal(observation?.calls, 1);
  });

  test("the Gemini API's PredictionService.Predict (Imagen) is inventoried under the model it names", async () => {
    mock.respondWith(() => ({ messages: [Buffer.alloc(0)] }));
    discovery.aggregator.drain();
    const result = await call(GEMINI_PREDICT, grpcFrame(modelRequest('models/imagen-3.0-generate-002')), GEMINI);
    assert.equal(result.trailers['grpc-status'], '0');
    const observation = (await observed(discovery)).find((item) => item.provider === 'gemini');
    assert.equal(observation?.model, 'imagen-3.0-generate-002');
  });
});

describe('discovery: enforce mode over gRPC', () => {
  let tls: TlsFixture;
  let mock: GrpcMock;
  let enforcing: RunningDiscovery;

  before(async () => {
    tls = await tlsFixture();
    mock = await GrpcMock.start(await tls.serverCert([VERTEX, GEMINI]), () => ({
      messages: [generateContentResponse('hello', { prompt: 3, candidates: 1, total: 4 })],
    }));
    enforcing = await startTestDiscovery(
      {
        mode: 'enforce',
        maxParseBytes: 4096,
        ...interceptingTo(tls, [VERTEX, GEMINI], mock.port),
      },
      {
        providers: {
          gemini: { type: 'gemini', apiKey: 'gemini-key-not-real' },
          vertex: {
            type: 'vertex',
            location: 'us-central1',
            serviceAccountJson: testServiceAccountJson(),
          },
        },
        resources: {
          'vertex/gemini-2.0-flash': 'sanctioned',
          'vertex/gemini-2.5-pro': 'unsanctioned',
          'gemini/gemini-2.0-flash': 'sanctioned',
          'gemini/gemini-1.5-pro': 'unsanctioned',
          'gemini/imagen-3.0-generate-002': 'sanctioned',
          'gemini/imagen-4.0-generate-001': 'unsanctioned',
          'vertex/google/gemini-2.5-pro': 'unsanctioned',
        },
      },
    );
  });

  after(async () => {
    await enforcing.stop();
    await mock.close();
  });

  const call = (path: string, body: Buffer, headers: Record<string, string> = {}, host = VERTEX) =>
    grpcCall(enforcing.port, tls.orgCaPem, host, path, body, headers);
  const REFUSED = MODEL.replace('gemini-2.0-flash', 'gemini-2.5-pro');

  test("a call to a refused model gets gRPC's Trailers-Only PERMISSION_DENIED naming it, and never reaches Vertex AI", async () => {
    const seen = mock.received.length;
    const blocked = await counter(enforcing.metrics.calls, { provider: 'vertex', outcome: 'blocked' });
    const result = await call(GENERATE, grpcFrame(generateContentRequest(REFUSED, 5)));
    assert.equal(result.trailersOnly, true);
    assert.equal(result.headers[':status'], 200);
    assert.equal(result.headers['content-type'], 'application/grpc');
    assert.equal(result.headers['grpc-status'], '7');
    assert.match(decodeURIComponent(String(result.headers['grpc-message'])), /vertex\/gemini-2\.5-pro is not sanctioned/);
    assert.equal(mock.received.length, seen);
    assert.equal(await counter(enforcing.metrics.calls, { provider: 'vertex', outcome: 'blocked' }), blocked + 1);
  });

  test("the Gemini API's Predict of a refused model is refused; a sanctioned one goes on", async () => {
    const seen = mock.received.length;
    const refused = await call(GEMINI_PREDICT, grpcFrame(modelRequest('models/imagen-4.0-generate-001')), {}, GEMINI);
    assert.equal(refused.headers['grpc-status'], '7');
    assert.match(decodeURIComponent(String(refused.headers['grpc-message'])), /gemini\/imagen-4\.0-generate-001 is not sanctioned/);
    assert.equal(mock.received.length, seen);
    const passed = await call(GEMINI_PREDICT, grpcFrame(modelRequest('models/imagen-3.0-generate-002')), {}, GEMINI);
    assert.equal(passed.trailers['grpc-status'], '0');
    assert.equal(mock.received.length, seen + 1);
  });

  test('a sanctioned model goes on and gets its answer; a streamed one too', async () => {
    const result = await call(GENERATE, grpcFrame(generateContentRequest(MODEL, 5)));
    assert.equal(result.trailers['grpc-status'], '0');
    assert.equal(result.messages.length, 1);
    const streamed = await call(STREAM_GENERATE, grpcFrame(generateContentRequest(MODEL, 5)));
    assert.equal(streamed.trailers['grpc-status'], '0');
    assert.deepEqual(mock.received.at(-1)?.messages, [Buffer.from(generateContentRequest(MODEL, 5))]);
  });

  test('the Gemini API, and a request compressed with gzip, are checked the same way', async () => {
    const seen = mock.received.length;
    const gemini = await call(
      '/google.ai.generativelanguage.v1beta.GenerativeService/StreamGenerateContent',
      grpcFrame(generateContentRequest('models/gemini-1.5-pro', 1)),
      {},
      GEMINI,
    );
    assert.equal(gemini.headers['grpc-status'], '7');
    const gzipped = await call(GENERATE, grpcFrame(gzipSync(generateContentRequest(REFUSED, 5)), true), { 'grpc-encoding': 'gzip' });
    assert.equal(gzipped.headers['grpc-status'], '7');
    assert.equal(mock.received.length, seen);
  });

  test('a request whose model cannot be read fails closed: RESOURCE_EXHAUSTED, UNIMPLEMENTED, INVALID_ARGUMENT', async () => {
    const seen = mock.received.length;
    const large = await call(GENERATE, grpcFrame(generateContentRequest(MODEL, 5, 'x'.repeat(8192))));
    assert.equal(large.trailersOnly, true);
    assert.equal(large.headers['grpc-status'], '8');
    assert.match(decodeURIComponent(String(large.headers['grpc-message'])), /larger than 4096 bytes/);
    const snappy = await call(GENERATE, grpcFrame(Buffer.from('not snappy'), true), { 'grpc-encoding': 'snappy' });
    assert.equal(snappy.headers['grpc-status'], '12');
    assert.match(String(snappy.headers['grpc-accept-encoding']), /gzip/);
    const corrupt = await call(GENERATE, grpcFrame(Buffer.from('not gzip at all'), true), { 'grpc-encoding': 'gzip' });
    assert.equal(corrupt.headers['grpc-status'], '3');
    const malformed = await call(GENERATE, grpcFrame(Buffer.from([0x2a, 0xff, 0xff, 0xff, 0x0f])));
    assert.equal(malformed.headers['grpc-status'], '3');
    assert.equal(mock.received.length, seen);
  });

  test("Vertex AI's OpenAI-compatible ChatCompletions over gRPC is checked by the model its JSON body names", async () => {
    const seen = mock.received.length;
    // ChatCompletionsRequest { endpoint = 1, http_body = 2: google.api.HttpBody { content_type = 1, data = 2 } }
    const chat = (model: string) => {
      const writer = protobuf.Writer.create();
      writer.uint32((1 << 3) | 2).string('projects/proj-1/locations/us-central1/endpoints/openapi');
      writer.uint32((2 << 3) | 2).fork();
      writer.uint32((1 << 3) | 2).string('application/json');
      writer.uint32((2 << 3) | 2).bytes(Buffer.from(JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] })));
      writer.ldelim();
      return grpcFrame(writer.finish());
    };
    const path = '/google.cloud.aiplatform.v1beta1.PredictionService/ChatCompletions';
    const refused = await call(path, chat('google/gemini-2.5-pro'));
    assert.equal(refused.headers['grpc-status'], '7');
    // Named as over REST: Google's own publisher prefix dropped, so the resource listed for the model is the one judged.
    assert.match(decodeURIComponent(String(refused.headers['grpc-message'])), /vertex\/gemini-2\.5-pro /);
    assert.equal(mock.received.length, seen);
    mock.respondWith(() => ({ messages: [] }));
    const passed = await call(path, chat('google/gemini-2.0-flash'));
    assert.equal(passed.trailers['grpc-status'], '0');
    assert.equal(mock.received.length, seen + 1);
  });
});
