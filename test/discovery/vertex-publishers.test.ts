// Vertex AI serves other publishers' models beside Google's: Anthropic's Claude at
// `projects/{p}/locations/{l}/publishers/anthropic/models/{model}:rawPredict` (`:streamRawPredict` streamed), whose bodies
// and answers are Anthropic's Messages API; Meta's, Mistral's and others' under their own `publishers/{publisher}`, or
// through the OpenAI-compatible `endpoints/openapi/chat/completions` naming them `meta/llama-...`. The discovery proxy
// inventories such a model with its publisher (`vertex/anthropic/claude-...`, `vertex/meta/llama-...`), the way Vertex's
// OpenAI-compatible API names it, so two publishers' models of one name stay two resources and a policy can refuse one;
// Google's own models keep their bare names (`vertex/gemini-2.5-pro`). Claude's answers are read as Anthropic's.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { anthropicMessage, anthropicStreamFrames, json, openaiCompletion, sse } from '../support/mock-provider.js';
import { testServiceAccountJson } from '../support/google.js';
import { HttpsMock, interceptingTo, proxiedFetch, startTestDiscovery, tlsFixture, type TlsFixture } from '../support/discovery.js';
import type { RunningDiscovery } from '../../src/discovery/discovery.js';
import type { Observation } from '../../src/discovery/report.js';
import { googleModelId } from '../../src/discovery/reading.js';
import { costMicroUsd } from '../../src/metering/cost.js';
import { PriceCatalog } from '../../src/metering/price-catalog.js';

const VERTEX = 'us-east5-aiplatform.googleapis.com';
const BASE = `https://${VERTEX}/v1/projects/proj-1/locations/us-east5`;
const GEMINI_ANSWER = {
  candidates: [{ content: { role: 'model', parts: [{ text: 'ok' }] }, finishReason: 'STOP' }],
  usageMetadata: { promptTokenCount: 3, candidatesTokenCount: 1, totalTokenCount: 4 },
};
/** What Vertex bills Claude at: Anthropic's prices (price-catalog.ts). */
const HAIKU = new PriceCatalog().lookup('anthropic', 'claude-3-5-haiku-20241022')!;

describe('discovery: Vertex AI models of publishers other than Google', () => {
  let tls: TlsFixture;
  let mock: HttpsMock;
  let observing: RunningDiscovery;
  let enforcing: RunningDiscovery;

  before(async () => {
    tls = await tlsFixture();
    mock = await HttpsMock.start(await tls.serverCert([VERTEX]), (request, res) => {
      if (request.path.endsWith(':streamRawPredict'))
        return sse(res, anthropicStreamFrames(['Hel', 'lo'], { input_tokens: 30, output_tokens: 9 }));
      if (request.path.includes('/publishers/anthropic/'))
        return json(res, 200, anthropicMessage('Hello', { input_tokens: 40, output_tokens: 11 }));
      if (request.path.endsWith('/chat/completions') || request.path.endsWith(':rawPredict')) {
        return json(res, 200, openaiCompletion('Hello', { prompt_tokens: 12, completion_tokens: 5 }, String(request.body.model ?? '')));
      }
      json(res, 200, GEMINI_ANSWER);
    });
    observing = await startTestDiscovery(interceptingTo(tls, [VERTEX], mock.port));
    enforcing = await startTestDiscovery(
      { mode: 'enforce', ...interceptingTo(tls, [VERTEX], mock.port) },
      {
        providers: { vertex: { type: 'vertex', location: 'us-east5', serviceAccountJson: testServiceAccountJson() } },
        resources: {
          // One publisher's model refused; a model of the same name from another publisher, and Google's, are not.
          'vertex/mistralai/shared-name-7b': 'unsanctioned',
          'vertex/anthropic/claude-3-opus@20240229': 'unsanctioned',
          'vertex/meta/llama-3.1-405b-instruct-maas': 'unsanctioned',
        },
      },
    );
  });

  after(async () => {
    await observing.stop();
    await enforcing.stop();
    await mock.close();
  });

  const post = async (gateway: RunningDiscovery, url: string, body: unknown) => {
    const proxied = proxiedFetch(gateway.url, tls.orgCaPem);
    const response = await proxied.fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer ya29.not-real' },
      body: JSON.stringify(body),
    });
    const text = await response.text();
    await proxied.dispatcher.close();
    return { status: response.status, text };
  };

  async function observed(gateway: RunningDiscovery): Promise<Observation[]> {
    await new Promise((resolve) => setTimeout(resolve, 50));
    return gateway.aggregator.drain();
  }

  const claudeBody = (stream: boolean) => ({
    anthropic_version: 'vertex-2023-10-16',
    max_tokens: 64,
    stream,
    messages: [{ role: 'user', content: 'hi' }],
  });

  test("Claude's rawPredict is inventoried as vertex/anthropic/{model}, its usage read as Anthropic's and priced at Anthropic's prices", async () => {
    observing.aggregator.drain();
    const whole = await post(observing, `${BASE}/publishers/anthropic/models/claude-3-5-haiku@20241022:rawPredict`, claudeBody(false));
    assert.equal(whole.status, 200);
    const [call] = await observed(observing);
    assert.equal(call?.provider, 'vertex');
    assert.equal(call?.model, 'anthropic/claude-3-5-haiku@20241022');
    assert.equal(call?.inputTokens, 40);
    assert.equal(call?.outputTokens, 11);
    assert.equal(
      call?.costMicroUsd,
      costMicroUsd({ inputTokens: 40, outputTokens: 11, cachedInputTokens: 0, cacheWriteTokens: 0, reported: true }, HAIKU),
    );
  });

  test("Claude's streamRawPredict: Anthropic's server-sent events, read for their usage", async () => {
    observing.aggregator.drain();
    const streamed = await post(
      observing,
      `${BASE}/publishers/anthropic/models/claude-3-5-haiku@20241022:streamRawPredict`,
      claudeBody(true),
    );
    assert.equal(streamed.status, 200);
    assert.match(streamed.text, /message_stop/);
    const [call] = await observed(observing);
    assert.equal(call?.model, 'anthropic/claude-3-5-haiku@20241022');
    assert.equal(call?.inputTokens, 30);
    assert.equal(call?.outputTokens, 9);
    assert.ok((call?.costMicroUsd ?? 0) > 0, JSON.stringify(call));
  });

  test("another publisher's model keeps its publisher; Google's own keep their bare names", async () => {
    observing.aggregator.drain();
    await post(observing, `${BASE}/publishers/mistralai/models/shared-name-7b:rawPredict`, { model: 'shared-name-7b', messages: [] });
    await post(observing, `${BASE}/publishers/google/models/shared-name-7b:generateContent`, { contents: [] });
    await post(observing, `${BASE}/publishers/google/models/gemini-2.5-pro:generateContent`, { contents: [] });
    const models = (await observed(observing)).map((item) => item.model).sort();
    assert.deepEqual(models, ['gemini-2.5-pro', 'mistralai/shared-name-7b', 'shared-name-7b']);
    // As a resource name in a body (a gRPC call's endpoint, a Live session's setup, a context cache's model).
    assert.equal(
      googleModelId('projects/p/locations/l/publishers/anthropic/models/claude-3-opus@20240229'),
      'anthropic/claude-3-opus@20240229',
    );
    assert.equal(googleModelId('projects/p/locations/l/publishers/google/models/gemini-2.5-pro'), 'gemini-2.5-pro');
    assert.equal(googleModelId('meta/llama-3.3-70b-instruct-maas'), 'meta/llama-3.3-70b-instruct-maas');
  });

  test('the OpenAI-compatible endpoint through the openai SDK: meta/llama-... under the same name as its publisher path', async () => {
    observing.aggregator.drain();
    const proxied = proxiedFetch(observing.url, tls.orgCaPem);
    const client = new OpenAI({ apiKey: 'ya29.not-real', baseURL: `${BASE}/endpoints/openapi`, fetch: proxied.fetch, maxRetries: 0 });
    await client.chat.completions.create({ model: 'meta/llama-3.3-70b-instruct-maas', messages: [{ role: 'user', content: 'hi' }] });
    await proxied.dispatcher.close();
    await post(observing, `${BASE}/publishers/meta/models/llama-3.3-70b-instruct-maas:rawPredict`, { messages: [] });
    // Two sources (the SDK's user agent and undici's), one resource.
    const models = new Set((await observed(observing)).map((item) => item.model));
    assert.deepEqual([...models], ['meta/llama-3.3-70b-instruct-maas']);
  });

  test("Claude's token counting (publishers/anthropic/models/count-tokens:rawPredict) is read by the model its body names", async () => {
    // As Anthropic's Vertex SDK counts tokens: the path names no model, the body keeps Anthropic's `model`.
    const counting = (model: string) => ({ anthropic_version: 'vertex-2023-10-16', model, messages: [{ role: 'user', content: 'hi' }] });
    const url = `${BASE}/publishers/anthropic/models/count-tokens:rawPredict`;
    observing.aggregator.drain();
    assert.equal((await post(observing, url, counting('claude-3-5-haiku@20241022'))).status, 200);
    assert.deepEqual(
      (await observed(observing)).map((item) => item.model),
      ['anthropic/claude-3-5-haiku@20241022'],
    );
    const seen = mock.received.length;
    const refused = await post(enforcing, url, counting('claude-3-opus@20240229'));
    assert.equal(refused.status, 403);
    assert.match(refused.text, /vertex\/anthropic\/claude-3-opus@20240229/);
    assert.equal(mock.received.length, seen);
  });

  test("enforce mode refuses one publisher's model, not another's of the same name", async () => {
    const seen = mock.received.length;
    const refused = await post(enforcing, `${BASE}/publishers/mistralai/models/shared-name-7b:rawPredict`, { messages: [] });
    assert.equal(refused.status, 403);
    assert.match(refused.text, /vertex\/mistralai\/shared-name-7b/);
    assert.equal(
      (await post(enforcing, `${BASE}/publishers/anthropic/models/claude-3-opus@20240229:streamRawPredict`, claudeBody(true))).status,
      403,
    );
    const proxied = proxiedFetch(enforcing.url, tls.orgCaPem);
    const client = new OpenAI({ apiKey: 'ya29.not-real', baseURL: `${BASE}/endpoints/openapi`, fetch: proxied.fetch, maxRetries: 0 });
    await assert.rejects(
      client.chat.completions.create({ model: 'meta/llama-3.1-405b-instruct-maas', messages: [{ role: 'user', content: 'hi' }] }),
      (error: unknown) => error instanceof OpenAI.PermissionDeniedError,
    );
    await proxied.dispatcher.close();
    assert.equal(mock.received.length, seen);
    assert.equal((await post(enforcing, `${BASE}/publishers/google/models/shared-name-7b:generateContent`, { contents: [] })).status, 200);
  });
});
