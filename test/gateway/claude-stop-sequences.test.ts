// OpenAI takes any stop sequence, "\n" among the most common; Anthropic refuses one that is empty or only whitespace
// ("stop_sequences: each stop sequence must contain non-whitespace"), which failed such a call to Claude with a 400.
// Sluice leaves those out of what Claude is sent, as it leaves out settings Claude has no form of, and sends the rest.
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { anthropicMessage, json, MockProvider } from '../support/mock-provider.js';
import { KEYS, startTestSluice, type TestSluice } from '../support/sluice.js';

describe('stop sequences Claude refuses', () => {
  let anthropicMock: MockProvider;
  let sluice: TestSluice;
  let client: OpenAI;

  before(async () => {
    // As the Messages API answers such a body.
    anthropicMock = await MockProvider.start((request, res) => {
      const stops = request.body.stop_sequences as string[] | undefined;
      if (stops?.some((stop) => stop.trim() === ''))
        return json(res, 400, {
          type: 'error',
          error: { type: 'invalid_request_error', message: 'stop_sequences: each stop sequence must contain non-whitespace' },
        });
      return json(res, 200, anthropicMessage('First line'));
    });
    sluice = await startTestSluice({
      providers: {
        anthropic: { type: 'anthropic', baseUrl: anthropicMock.url, apiKey: 'upstream-anthropic-key-not-real' },
        // Never called: the test config's second consumer may use gpt-4o-mini.
        openai: { type: 'openai', baseUrl: `${anthropicMock.url}/v1`, apiKey: 'upstream-openai-key-not-real' },
      },
      models: [
        { name: 'claude', targets: [{ provider: 'anthropic', model: 'claude-haiku-4-5' }] },
        { name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] },
      ],
    });
    client = new OpenAI({ apiKey: KEYS.checkout, baseURL: `${sluice.baseURL}/v1`, maxRetries: 0 });
  });

  beforeEach(() => {
    anthropicMock.received.length = 0;
  });

  after(async () => {
    await sluice.stop();
    await anthropicMock.close();
  });

  const messages = [{ role: 'user' as const, content: 'One line, please.' }];

  test('stop: ["\\n", "END"] answers, with "END" alone sent', async () => {
    const completion = await client.chat.completions.create({ model: 'claude', messages, stop: ['\n', ' ', 'END'] });
    assert.equal(completion.choices[0]!.message.content, 'First line');
    assert.deepEqual(anthropicMock.received[0]!.body.stop_sequences, ['END']);
  });

  test('stop: "\\n" answers, with no stop_sequences sent', async () => {
    const completion = await client.chat.completions.create({ model: 'claude', messages, stop: '\n' });
    assert.equal(completion.choices[0]!.message.content, 'First line');
    assert.equal(anthropicMock.received[0]!.body.stop_sequences, undefined);
  });
});
