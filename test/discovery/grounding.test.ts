// Grounding with Google Search is billed beside the tokens: Gemini 2.x per grounded prompt ($35 per 1,000), Gemini 3 per
// search query ($14 per 1,000, empty queries not counted), past a free allowance Sluice cannot see. A client asks for it
// in the Gemini API's own body (`tools: [{google_search: {}}]`), which reaches Google through the discovery proxy; the
// proxy prices what the answer's groundingMetadata.webSearchQueries says was searched, whole answers and streams alike.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { json, sse } from '../support/mock-provider.js';
import { HttpsMock, interceptingTo, proxiedFetch, startTestDiscovery, tlsFixture, type TlsFixture } from '../support/discovery.js';
import type { RunningDiscovery } from '../../src/discovery/discovery.js';
import type { Observation } from '../../src/discovery/report.js';

const GEMINI = 'generativelanguage.googleapis.com';
const USAGE = { promptTokenCount: 100, candidatesTokenCount: 50, totalTokenCount: 150 };
/** Three queries, one of them twice and one empty: two distinct searches. */
const GROUNDING = {
  webSearchQueries: ['sluice gates', '', 'history of sluices', 'sluice gates'],
  searchEntryPoint: { renderedContent: '<div>Google Search</div>' },
  groundingChunks: [{ web: { uri: 'https://example.com/sluice', title: 'example.com' } }],
  groundingSupports: [],
};

function answer(model: string, grounded: boolean) {
  return {
    candidates: [
      {
        content: { role: 'model', parts: [{ text: 'A sluice is a water channel.' }] },
        finishReason: 'STOP',
        ...(grounded && { groundingMetadata: GROUNDING }),
      },
    ],
    usageMetadata: USAGE,
    modelVersion: model,
    responseId: 'resp-grounded',
  };
}

function streamFrames(model: string): string[] {
  const first = { candidates: [{ content: { role: 'model', parts: [{ text: 'A sluice' }] } }], usageMetadata: USAGE, modelVersion: model };
  const last = {
    candidates: [{ content: { role: 'model', parts: [{ text: ' is a channel.' }] }, finishReason: 'STOP', groundingMetadata: GROUNDING }],
    usageMetadata: USAGE,
    modelVersion: model,
  };
  return [first, last].map((chunk) => `data: ${JSON.stringify(chunk)}\r\n\r\n`);
}

describe('discovery: grounding with Google Search is priced', () => {
  let tls: TlsFixture;
  let mock: HttpsMock;
  let discovery: RunningDiscovery;

  before(async () => {
    tls = await tlsFixture();
    mock = await HttpsMock.start(await tls.serverCert([GEMINI]), (request, res) => {
      const model = /models\/([^:]+):/.exec(request.path)![1]!;
      const grounded = JSON.stringify(request.body.tools ?? []).includes('google_search');
      if (request.path.includes(':streamGenerateContent')) return sse(res, streamFrames(model));
      json(res, 200, answer(model, grounded));
    });
    discovery = await startTestDiscovery(interceptingTo(tls, [GEMINI], mock.port));
  });

  after(async () => {
    await discovery.stop();
    await mock.close();
  });

  async function generate(model: string, grounded: boolean, stream = false): Promise<Observation> {
    const proxied = proxiedFetch(discovery.url, tls.orgCaPem);
    const method = stream ? 'streamGenerateContent?alt=sse' : 'generateContent';
    const response = await proxied.fetch(`https://${GEMINI}/v1beta/models/${model}:${method}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-goog-api-key': 'gemini-key-not-real' },
      body: JSON.stringify({
        contents: [{ role: 'user', parts: [{ text: 'What is a sluice?' }] }],
        ...(grounded && { tools: [{ google_search: {} }] }),
      }),
    });
    assert.equal(response.status, 200);
    assert.match(await response.text(), /sluice/);
    await proxied.dispatcher.close();
    await new Promise((resolve) => setTimeout(resolve, 50));
    const observations = discovery.aggregator.drain();
    assert.equal(observations.length, 1, JSON.stringify(observations));
    return observations[0]!;
  }

  test('Gemini 2.x: a grounded prompt at $35 per 1,000, once whatever its queries; an answer that did not search, its tokens', async () => {
    // gemini-2.5-flash: 100 input tokens at $0.30 and 50 output at $2.50 per 1M (micro-USD per token: 30 + 125).
    const grounded = await generate('gemini-2.5-flash', true);
    assert.equal(grounded.costMicroUsd, 30 + 125 + 35_000);
    const plain = await generate('gemini-2.5-flash', false);
    assert.equal(plain.costMicroUsd, 30 + 125);
  });

  test('Gemini 3: each distinct search query at $14 per 1,000, whole and streamed', async () => {
    // gemini-3-flash-preview: $0.50 / $3 per 1M tokens; two distinct non-empty queries.
    const whole = await generate('gemini-3-flash-preview', true);
    assert.equal(whole.costMicroUsd, 50 + 150 + 2 * 14_000);
    const streamed = await generate('gemini-3-flash-preview', true, true);
    assert.equal(streamed.costMicroUsd, 50 + 150 + 2 * 14_000);
  });
});
