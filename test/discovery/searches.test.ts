// The searches a provider bills per use are priced in the calls the discovery proxy reads too, as in the gateway's:
// Anthropic's web search tool (usage.server_tool_use.web_search_requests, whole and streamed) and the Responses API's
// web_search and file_search calls (its output items). The official SDKs through the proxy to mock providers.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { json, sse, typedSseEvent } from '../support/mock-provider.js';
import { messageItem, responseObject, responseStreamFrames } from '../support/mock-responses.js';
import { HttpsMock, interceptingTo, proxiedFetch, startTestDiscovery, tlsFixture, type TlsFixture } from '../support/discovery.js';
import type { RunningDiscovery } from '../../src/discovery/discovery.js';
import type { Observation } from '../../src/discovery/report.js';

const ANTHROPIC = 'api.anthropic.com';
const OPENAI = 'api.openai.com';

const MESSAGE = {
  id: 'msg_search1',
  type: 'message',
  role: 'assistant',
  model: 'claude-sonnet-4-5-20250929',
  content: [{ type: 'text', text: 'A sluice is a water channel.' }],
  stop_reason: 'end_turn',
  stop_sequence: null,
  usage: { input_tokens: 100, output_tokens: 50, server_tool_use: { web_search_requests: 2 } },
};

const STREAM = [
  typedSseEvent('message_start', {
    message: { ...MESSAGE, content: [], stop_reason: null, usage: { input_tokens: 100, output_tokens: 1 } },
  }),
  typedSseEvent('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }),
  typedSseEvent('content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'A sluice.' } }),
  typedSseEvent('content_block_stop', { index: 0 }),
  typedSseEvent('message_delta', {
    delta: { stop_reason: 'end_turn', stop_sequence: null },
    usage: { output_tokens: 50, server_tool_use: { web_search_requests: 2 } },
  }),
  typedSseEvent('message_stop', {}),
];

describe('discovery: searches billed per use are priced', () => {
  let tls: TlsFixture;
  let mock: HttpsMock;
  let discovery: RunningDiscovery;

  before(async () => {
    tls = await tlsFixture();
    mock = await HttpsMock.start(await tls.serverCert([ANTHROPIC, OPENAI]), (request, res) => {
      if (request.path === '/v1/messages') {
        if (request.body.stream === true) return sse(res, STREAM);
        return json(res, 200, MESSAGE);
      }
      const output = [
        { id: 'ws_1', type: 'web_search_call', status: 'completed', action: { type: 'search', query: 'sluice' } },
        { id: 'fs_1', type: 'file_search_call', status: 'completed', queries: ['sluice'], results: null },
        messageItem('Found it'),
      ];
      if (request.body.stream === true) {
        // The searches as the stream's last event states them: in response.completed's output.
        const frames = responseStreamFrames(['Found', ' it'], { input_tokens: 40, output_tokens: 12 }, 'gpt-4.1');
        const last = frames.length - 1;
        const completed = JSON.parse(frames[last]!.split('data: ')[1]!) as { response: { output: unknown[] } };
        completed.response.output = [...output.slice(0, 2), ...completed.response.output];
        frames[last] = `event: response.completed\ndata: ${JSON.stringify(completed)}\n\n`;
        return sse(res, frames);
      }
      json(res, 200, responseObject(output, { input_tokens: 40, output_tokens: 12 }, 'gpt-4.1'));
    });
    discovery = await startTestDiscovery(interceptingTo(tls, [ANTHROPIC, OPENAI], mock.port));
  });

  after(async () => {
    await discovery.stop();
    await mock.close();
  });

  async function observed(): Promise<Observation> {
    await new Promise((resolve) => setTimeout(resolve, 50));
    const observations = discovery.aggregator.drain();
    assert.equal(observations.length, 1, JSON.stringify(observations));
    return observations[0]!;
  }

  test("Anthropic's web searches at $10 per 1,000 beside the tokens, whole and streamed", async () => {
    const proxied = proxiedFetch(discovery.url, tls.orgCaPem);
    const client = new Anthropic({ apiKey: 'sk-ant-not-real', baseURL: `https://${ANTHROPIC}`, fetch: proxied.fetch, maxRetries: 0 });
    const params = {
      model: 'claude-sonnet-4-5',
      max_tokens: 1024,
      messages: [{ role: 'user' as const, content: 'What is a sluice?' }],
      tools: [{ type: 'web_search_20250305' as const, name: 'web_search' as const, max_uses: 5 }],
    };
    await client.messages.create(params);
    // claude-sonnet-4-5: 100 input tokens at $3 and 50 output at $15 per 1M, and two searches at 10,000 micro-USD.
    assert.equal((await observed()).costMicroUsd, 100 * 3 + 50 * 15 + 2 * 10_000);
    await client.messages.stream(params).finalMessage();
    assert.equal((await observed()).costMicroUsd, 100 * 3 + 50 * 15 + 2 * 10_000);
    await proxied.dispatcher.close();
  });

  test("the Responses API's web search and file search calls, each at its own price", async () => {
    const proxied = proxiedFetch(discovery.url, tls.orgCaPem);
    const client = new OpenAI({ apiKey: 'sk-not-real', baseURL: `https://${OPENAI}/v1`, fetch: proxied.fetch, maxRetries: 0 });
    const answer = await client.responses.create({
      model: 'gpt-4.1',
      input: 'What is a sluice?',
      tools: [{ type: 'web_search' }, { type: 'file_search', vector_store_ids: ['vs_1'] }],
    });
    assert.equal(answer.output_text, 'Found it');
    // gpt-4.1: 40 input tokens at $2 and 12 output at $8 per 1M; a web search at 10,000 micro-USD, a file search at 2,500.
    assert.equal((await observed()).costMicroUsd, 40 * 2 + 12 * 8 + 10_000 + 2_500);
    // Streamed: the Responses API's own events, read to their response.completed, tokens and searches alike.
    const stream = client.responses.stream({
      model: 'gpt-4.1',
      input: 'What is a sluice?',
      tools: [{ type: 'web_search' }, { type: 'file_search', vector_store_ids: ['vs_1'] }],
    });
    assert.equal((await stream.finalResponse()).output_text, 'Found it');
    const streamed = await observed();
    assert.deepEqual(
      [streamed.inputTokens, streamed.outputTokens, streamed.costMicroUsd],
      [40, 12, 40 * 2 + 12 * 8 + 10_000 + 2_500],
      JSON.stringify(streamed),
    );
    await proxied.dispatcher.close();
  });
});
