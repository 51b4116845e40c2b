// An error the provider reports inside a translated stream ends the client's stream in its own API's words: an Anthropic
// client gets the error event last, never a stop reason or message_stop after it that would read as a finished answer;
// an OpenAI client gets the error chunk last, never a usage chunk or [DONE] after it (as Sluice's own in-band errors).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MockProvider, sse } from '../support/mock-provider.js';
import { KEYS, ledgerRows, startTestSluice, type TestSluice } from '../support/sluice.js';

describe('errors inside a translated stream', () => {
  let openaiMock: MockProvider;
  let anthropicMock: MockProvider;
  let sluice: TestSluice;

  before(async () => {
    const base = { id: 'chatcmpl-broken', object: 'chat.completion.chunk', created: 1_700_000_000, model: 'gpt-4o-mini' };
    openaiMock = await MockProvider.start((_request, res) =>
      sse(res, [
        `data: ${JSON.stringify({ ...base, choices: [{ index: 0, delta: { role: 'assistant', content: 'Par' }, finish_reason: null }] })}\n\n`,
        `data: ${JSON.stringify({ error: { message: 'The server had an error while processing your request.', type: 'server_error', param: null, code: null } })}\n\n`,
      ]),
    );
    anthropicMock = await MockProvider.start((_request, res) =>
      sse(res, [
        `event: message_start\ndata: ${JSON.stringify({ type: 'message_start', message: { id: 'msg_broken', type: 'message', role: 'assistant', model: 'claude-haiku-4-5', content: [], stop_reason: null, usage: { input_tokens: 9, output_tokens: 1 } } })}\n\n`,
        `event: content_block_start\ndata: ${JSON.stringify({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } })}\n\n`,
        `event: content_block_delta\ndata: ${JSON.stringify({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Par' } })}\n\n`,
        `event: error\ndata: ${JSON.stringify({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } })}\n\n`,
      ]),
    );
    sluice = await startTestSluice({
      providers: {
        openai: { type: 'openai', baseUrl: `${openaiMock.url}/v1`, apiKey: 'upstream-openai-key-not-real' },
        anthropic: { type: 'anthropic', baseUrl: anthropicMock.url, apiKey: 'upstream-anthropic-key-not-real' },
      },
      models: [
        { name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] },
        { name: 'claude-haiku-4-5', targets: [{ provider: 'anthropic', model: 'claude-haiku-4-5' }] },
      ],
    });
  });

  after(async () => {
    await sluice.stop();
    await openaiMock.close();
    await anthropicMock.close();
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
    assert.match(text, /"type":"error","error":\{"type":"api_error","message":"The server had an error while processing your request\."\}/);
    const row = (await ledgerRows(sluice)).at(-1)!;
    assert.equal(row.error_class, 'stream_error');
  });

  test('OpenAI client, Anthropic provider: the error chunk is the last of the stream, with no usage chunk or [DONE] after it', async () => {
    const response = await fetch(`${sluice.baseURL}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEYS.checkout}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'claude-haiku-4-5',
        stream: true,
        stream_options: { include_usage: true },
        messages: [{ role: 'user', content: 'Hi' }],
      }),
    });
    assert.equal(response.status, 200);
    const data = [...(await response.text()).matchAll(/^data: (.+)$/gm)].map((match) => match[1]!);
    assert.deepEqual(JSON.parse(data.at(-1)!), { error: { message: 'Overloaded', type: 'server_error', param: null, code: null } });
    assert.deepEqual(
      data
        .slice(0, -1)
        .map((chunk) => (JSON.parse(chunk) as { choices: Array<{ delta: { content?: string } }> }).choices[0]!.delta.content),
      ['', 'Par'],
    );
    const row = (await ledgerRows(sluice)).at(-1)!;
    assert.equal(row.error_class, 'stream_error');
  });
});
