// Google's APIs name the model in the path, and not only under `models/`: the Gemini API serves tuned models at
// `tunedModels/{id}:generateContent`, Vertex AI serves tuned and deployed models at `endpoints/{id}:generateContent`.
// The discovery proxy reads those paths as models too (`tunedModels/{id}`, `endpoints/{id}`), so enforce mode refuses
// one the policy refuses, and both modes inventory it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { json } from '../support/mock-provider.js';
import { testServiceAccountJson } from '../support/google.js';
import { HttpsMock, proxiedFetch, startTestDiscovery, tlsFixture, type TlsFixture, interceptingTo } from '../support/discovery.js';
import type { RunningDiscovery } from '../../src/discovery/discovery.js';

const GEMINI = 'generativelanguage.googleapis.com';
const VERTEX = 'us-central1-aiplatform.googleapis.com';
const ANSWER = {
  candidates: [{ content: { role: 'model', parts: [{ text: 'ok' }] }, finishReason: 'STOP' }],
  usageMetadata: { promptTokenCount: 3, candidatesTokenCount: 1, totalTokenCount: 4 },
};

describe('discovery: Google paths naming tuned models and endpoints', () => {
  let tls: TlsFixture;
  let mock: HttpsMock;
  let enforcing: RunningDiscovery;

  before(async () => {
    tls = await tlsFixture();
    mock = await HttpsMock.start(await tls.serverCert([GEMINI, VERTEX]), (_request, res) => json(res, 200, ANSWER));
    enforcing = await startTestDiscovery(
      {
        mode: 'enforce',
        ...interceptingTo(tls, [GEMINI, VERTEX], mock.port),
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
          'gemini/tunedModels/support-bot-v2': 'sanctioned',
          'gemini/tunedModels/unvetted-bot': 'unsanctioned',
          'vertex/endpoints/1234567890': 'unsanctioned',
          'gemini/gemini-unvetted': 'unsanctioned',
          'vertex/gemini-unvetted': 'unsanctioned',
        },
      },
    );
  });

  after(async () => {
    await enforcing.stop();
    await mock.close();
  });

  const generate = async (url: string) => {
    const proxied = proxiedFetch(enforcing.url, tls.orgCaPem);
    const response = await proxied.fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-goog-api-key': 'gemini-key-not-real' },
      body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'hi' }] }] }),
    });
    const body = (await response.json()) as { error?: { status: string; message: string } };
    await proxied.dispatcher.close();
    return { status: response.status, body };
  };

  test('the Gemini API: a tuned model the policy refuses gets PERMISSION_DENIED; a sanctioned one goes on and is inventoried', async () => {
    const seen = mock.received.length;
    const refused = await generate(`https://${GEMINI}/v1beta/tunedModels/unvetted-bot:generateContent`);
    assert.equal(refused.status, 403);
    assert.equal(refused.body.error?.status, 'PERMISSION_DENIED');
    assert.match(refused.body.error?.message ?? '', /gemini\/tunedModels\/unvetted-bot/);
    assert.equal(mock.received.length, seen);

    enforcing.aggregator.drain();
    const passed = await generate(`https://${GEMINI}/v1beta/tunedModels/support-bot-v2:generateContent`);
    assert.equal(passed.status, 200);
    assert.equal(enforcing.aggregator.drain().find((item) => item.provider === 'gemini')?.model, 'tunedModels/support-bot-v2');
  });

  test('Vertex AI: an endpoint the policy refuses gets PERMISSION_DENIED and never reaches Vertex', async () => {
    const seen = mock.received.length;
    const refused = await generate(`https://${VERTEX}/v1/projects/proj-1/locations/us-central1/endpoints/1234567890:generateContent`);
    assert.equal(refused.status, 403);
    assert.equal(refused.body.error?.status, 'PERMISSION_DENIED');
    assert.equal(mock.received.length, seen);
  });

  const post = async (url: string, body: unknown) => {
    const proxied = proxiedFetch(enforcing.url, tls.orgCaPem);
    const response = await proxied.fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-goog-api-key': 'gemini-key-not-real' },
      body: JSON.stringify(body),
    });
    await response.arrayBuffer();
    await proxied.dispatcher.close();
    return response.status;
  };

  test('a body naming its model as a Google resource name (models/..., a Vertex publisher path, google/...) is read by its id', async () => {
    const seen = mock.received.length;
    const contents = [{ role: 'user', parts: [{ text: 'a long shared context' }] }];
    // Context caching: the cache is made for one model, named in the body.
    assert.equal(await post(`https://${GEMINI}/v1beta/cachedContents`, { model: 'models/gemini-unvetted', contents }), 403);
    assert.equal(
      await post(`https://${VERTEX}/v1/projects/proj-1/locations/us-central1/cachedContents`, {
        model: 'projects/proj-1/locations/us-central1/publishers/google/models/gemini-unvetted',
        contents,
      }),
      403,
    );
    // Vertex's OpenAI-compatible endpoint names Google's models with their publisher.
    assert.equal(
      await post(`https://${VERTEX}/v1/projects/proj-1/locations/us-central1/endpoints/openapi/chat/completions`, {
        model: 'google/gemini-unvetted',
        messages: [{ role: 'user', content: 'hi' }],
      }),
      403,
    );
    assert.equal(mock.received.length, seen);
  });
});
