// What Sluice has no translation for (OpenAI files by id, audio parts, custom tools, n > 1, logprobs, audio answers, web
// search; Anthropic documents by URL, server tools and their blocks): passed through to a provider speaking the client's
// API as sent, refused with a 400 naming the field for a provider reached by translation, and served by a pass-through
// target where the model has one.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { anthropicMessage, json, MockProvider, openaiCompletion } from '../support/mock-provider.js';
import { KEYS, startTestSluice, type TestSluice } from '../support/sluice.js';

describe('fields without a translation', () => {
  let openaiMock: MockProvider;
  let anthropicMock: MockProvider;
  let sluice: TestSluice;
  let openai: OpenAI;
  let anthropic: Anthropic;

  before(async () => {
    openaiMock = await MockProvider.start((_request, res) => json(res, 200, openaiCompletion('from GPT')));
    anthropicMock = await MockProvider.start((_request, res) => json(res, 200, anthropicMessage('from Claude')));
    sluice = await startTestSluice({
      providers: {
        openai: { type: 'openai', baseUrl: `${openaiMock.url}/v1`, apiKey: 'upstream-openai-key-not-real' },
        anthropic: { type: 'anthropic', baseUrl: anthropicMock.url, apiKey: 'upstream-anthropic-key-not-real' },
      },
      models: [
        { name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] },
        { name: 'claude', targets: [{ provider: 'anthropic', model: 'claude-3-5-haiku-20241022' }] },
        {
          name: 'claude-or-gpt',
          targets: [
            { provider: 'anthropic', model: 'claude-3-5-haiku-20241022' },
            { provider: 'openai', model: 'gpt-4o-mini' },
          ],
        },
        {
          name: 'gpt-or-claude',
          targets: [
            { provider: 'openai', model: 'gpt-4o-mini' },
            { provider: 'anthropic', model: 'claude-3-5-haiku-20241022' },
          ],
        },
      ],
    });
    openai = new OpenAI({ apiKey: KEYS.checkout, baseURL: `${sluice.baseURL}/v1`, maxRetries: 0 });
    anthropic = new Anthropic({ apiKey: KEYS.checkout, baseURL: sluice.baseURL, maxRetries: 0 });
  });

  after(async () => {
    await sluice.stop();
    await openaiMock.close();
    await anthropicMock.close();
  });

  const openaiCases: Array<{ name: string; param: string; body: Record<string, unknown> }> = [
    {
      name: 'a file content part by file_id',
      param: 'messages[0].content[1].file.file_id',
      body: {
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'Summarize' },
              { type: 'file', file: { file_id: 'file-abc123' } },
            ],
          },
        ],
      },
    },
    {
      name: 'a file content part that is not a PDF',
      param: 'messages[0].content[0].file.file_data',
      body: {
        messages: [{ role: 'user', content: [{ type: 'file', file: { filename: 'a.txt', file_data: 'data:text/plain;base64,aGk=' } }] }],
      },
    },
    {
      name: 'an input_audio content part',
      param: 'messages[0].content[0].type',
      body: { messages: [{ role: 'user', content: [{ type: 'input_audio', input_audio: { data: 'UklGRg==', format: 'wav' } }] }] },
    },
    {
      name: 'a custom tool',
      param: 'tools[0].type',
      body: { messages: [{ role: 'user', content: 'Hi' }], tools: [{ type: 'custom', custom: { name: 'grammar' } }] },
    },
    {
      name: 'n above 1',
      param: 'n',
      body: { messages: [{ role: 'user', content: 'Hi' }], n: 2 },
    },
    {
      name: 'logprobs asked for',
      param: 'logprobs',
      body: { messages: [{ role: 'user', content: 'Yes or no?' }], logprobs: true, top_logprobs: 2 },
    },
    {
      name: 'an audio answer asked for',
      param: 'modalities',
      body: { messages: [{ role: 'user', content: 'Say hi' }], modalities: ['text', 'audio'], audio: { voice: 'alloy', format: 'wav' } },
    },
    {
      name: 'a web search asked for',
      param: 'web_search_options',
      body: { messages: [{ role: 'user', content: 'What happened today?' }], web_search_options: { search_context_size: 'low' } },
    },
  ];

  for (const c of openaiCases) {
    test(`OpenAI client, ${c.name}: sent as is to an OpenAI provider`, async () => {
      const completion = (await openai.chat.completions.create({ model: 'gpt-4o-mini', ...c.body } as never)) as OpenAI.ChatCompletion;
      assert.equal(completion.choices[0]?.message.content, 'from GPT');
      assert.deepEqual(openaiMock.received.at(-1)!.body, { ...c.body, model: 'gpt-4o-mini' });
    });

    test(`OpenAI client, ${c.name}: a 400 naming ${c.param} for a translated target, nothing sent upstream`, async () => {
      const before = anthropicMock.received.length;
      await assert.rejects(
        openai.chat.completions.create({ model: 'claude', ...c.body } as never),
        (error: unknown) =>
          error instanceof OpenAI.BadRequestError &&
          error.param === c.param &&
          error.code === 'unsupported_parameter' &&
          error.message.includes('anthropic'),
      );
      assert.equal(anthropicMock.received.length, before);
    });

    test(`OpenAI client, ${c.name}: a translated first target is skipped for an OpenAI one`, async () => {
      const completion = (await openai.chat.completions.create({ model: 'claude-or-gpt', ...c.body } as never)) as OpenAI.ChatCompletion;
      assert.equal(completion.choices[0]?.message.content, 'from GPT');
    });
  }

  test('OpenAI client: an assistant refusal part in history reaches OpenAI as sent and Anthropic as text', async () => {
    const messages = [
      { role: 'user', content: 'Do the thing' },
      { role: 'assistant', content: [{ type: 'refusal', refusal: 'I cannot.' }] },
      { role: 'user', content: 'Then say hello' },
    ];
    await openai.chat.completions.create({ model: 'gpt-4o-mini', messages } as never);
    assert.deepEqual(openaiMock.received.at(-1)!.body.messages, messages);
    await openai.chat.completions.create({ model: 'claude', messages } as never);
    assert.deepEqual((anthropicMock.received.at(-1)!.body.messages as unknown[])[1], {
      role: 'assistant',
      content: [{ type: 'text', text: 'I cannot.' }],
    });
  });

  const anthropicCases: Array<{ name: string; param: string; body: Record<string, unknown> }> = [
    {
      name: 'a document by URL',
      param: 'messages[0].content[0].source.type',
      body: {
        messages: [
          {
            role: 'user',
            content: [
              { type: 'document', source: { type: 'url', url: 'https://example.com/q3.pdf' } },
              { type: 'text', text: 'Summarize' },
            ],
          },
        ],
      },
    },
    {
      name: 'a server tool',
      param: 'tools[1].type',
      body: {
        messages: [{ role: 'user', content: 'News today?' }],
        tools: [
          { name: 'get_weather', input_schema: { type: 'object' } },
          { type: 'web_search_20250305', name: 'web_search', max_uses: 3 },
        ],
      },
    },
    {
      name: "a server tool's blocks in history",
      param: 'messages[1].content[0].type',
      body: {
        messages: [
          { role: 'user', content: 'News today?' },
          {
            role: 'assistant',
            content: [
              { type: 'server_tool_use', id: 'srvtoolu_01', name: 'web_search', input: { query: 'news' } },
              { type: 'web_search_tool_result', tool_use_id: 'srvtoolu_01', content: [] },
              { type: 'text', text: 'Nothing new.' },
            ],
          },
          { role: 'user', content: 'Thanks' },
        ],
      },
    },
    {
      name: 'an image from the Files API',
      param: 'messages[0].content[0].source.type',
      body: { messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'file', file_id: 'file_01' } }] }] },
    },
  ];

  for (const c of anthropicCases) {
    test(`Anthropic client, ${c.name}: sent as is to an Anthropic provider`, async () => {
      const message = (await anthropic.messages.create({ model: 'claude', max_tokens: 100, ...c.body } as never)) as Anthropic.Message;
      assert.deepEqual(message.content, [{ type: 'text', text: 'from Claude' }]);
      assert.deepEqual(anthropicMock.received.at(-1)!.body, { max_tokens: 100, ...c.body, model: 'claude-3-5-haiku-20241022' });
    });

    test(`Anthropic client, ${c.name}: a 400 naming ${c.param} for a translated target, nothing sent upstream`, async () => {
      const before = openaiMock.received.length;
      await assert.rejects(
        anthropic.messages.create({ model: 'gpt-4o-mini', max_tokens: 100, ...c.body } as never),
        (error: unknown) =>
          error instanceof Anthropic.BadRequestError &&
          error.message.includes(c.param) &&
          error.message.includes('openai') &&
          (error.error as { error?: { type?: string } }).error?.type === 'invalid_request_error',
      );
      assert.equal(openaiMock.received.length, before);
    });

    test(`Anthropic client, ${c.name}: a translated first target is skipped for an Anthropic one`, async () => {
      const message = (await anthropic.messages.create({
        model: 'gpt-or-claude',
        max_tokens: 100,
        ...c.body,
      } as never)) as Anthropic.Message;
      assert.deepEqual(message.content, [{ type: 'text', text: 'from Claude' }]);
    });
  }
});
