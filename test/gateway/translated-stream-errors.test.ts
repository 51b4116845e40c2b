// An error the provider reports inside a translated stream ends the client's stream in its own API's words: an Anthropic
// client gets the error event last, never a stop reason or message_stop after it that would read as a finished answer.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MockProvider, sse } from '../support/mock-provider.js';
import { KEYS, ledgerRows, startTestSluice, type TestSluice } from '../support/sluice.js';

describe('errors inside a translated stream', () => {
  let openaiMock: MockProvider;
  let sluice: TestSluice;

  before(async () => {
    const base = { id: 'chatcmpl-broken', object: 'chat.completion.chunk', created: 1_700_000_000, model: 'gpt-4o-mini' };
    openaiMock = await MockProvider.start((_request, res) =>
      sse(res, [
        `data: ${JSON.stringify({ ...base, choices: [{ index: 0, delta: { role: 'assistant', content: 'Par' }, finish_reason: null }] })}\n\n`,
        `data: ${JSON.stringify({ error: { message: 'The server had an error while processing your request.', type: 'server_error', param: null, code: null } })}\n\n`,
      ]),
    );
    sluice = await startTestSluice({
      providers: { openai: { type: 'openai', baseUrl: `${openaiMock.url}/v1`, apiKey: 'upstream-openai-key-not-real' } },
      models: [{ name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] }],
    });
  });

  after(async () => {
    await sluice.stop();
    await openaiMock.close();
  });

  test('Anthropic client, OpenAI provider: the error event is the last event of the stream', async () => {
    const response = await fetch(`${sluice.baseURL}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': KEYS.checkout, 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({ model: 'gpt-4o-mini', max_tokens: 50, stream: true, messages: [{ role: 'user', content: 'Hi' }] }),
    });
    assert.equal(response.status, 200);
    const text = await response.text();
    const events = [...text.matchAll(/^event: (.+)$/gm)].map((match) => match[1]);
    assert.deepEqual(events, ['message_start', 'content_block_start', 'content_block_delta', 'error']);
    assert.match(
      text,
      /"type":"error","error":\{"type":"server_error","message":"The server had an error while processing your request\."\}/,
    );
    const row = (await ledgerRows(sluice)).at(-1)!;
    assert.equal(row.error_class, 'stream_error');
  });
});
