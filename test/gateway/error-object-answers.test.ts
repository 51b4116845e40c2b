// An upstream that answers 200 with an error object in place of an answer (OpenAI-compatible servers and proxies do):
// not relayed as a success, but the attempt's failure, as the same error sent with a 5xx would be.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { anthropicMessage, json, MockProvider, openaiCompletion } from '../support/mock-provider.js';
import { KEYS, ledgerRows, startTestSluice, type TestSluice } from '../support/sluice.js';

const OPENAI_ERROR = { error: { message: 'The server had an error while processing your request.', type: 'server_error', code: null } };
const ANTHROPIC_ERROR = { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } };

describe('a 200 that holds an error object', () => {
  let primary: MockProvider;
  let secondary: MockProvider;
  let sluice: TestSluice;
  let openai: OpenAI;
  let anthropic: Anthropic;

  before(async () => {
    primary = await MockProvider.start((received, res) => {
      if (String(received.body.model).includes('fine')) return json(res, 200, openaiCompletion('an error, described'));
      json(res, 200, received.path.endsWith('/messages') ? ANTHROPIC_ERROR : OPENAI_ERROR);
    });
    secondary = await MockProvider.start((received, res) =>
      received.path.endsWith('/messages')
        ? json(res, 200, anthropicMessage('from secondary'))
        : received.path.endsWith('/embeddings')
          ? json(res, 200, {
              object: 'list',
              data: [{ object: 'embedding', index: 0, embedding: [0.1, 0.2] }],
              model: 'e',
              usage: { prompt_tokens: 1, total_tokens: 1 },
            })
          : json(res, 200, openaiCompletion('from secondary')),
    );
    sluice = await startTestSluice({
      providers: {
        primary: { type: 'openai', baseUrl: `${primary.url}/v1`, apiKey: 'primary-key-not-real' },
        secondary: { type: 'openai', baseUrl: `${secondary.url}/v1`, apiKey: 'secondary-key-not-real' },
        'anthropic-primary': { type: 'anthropic', baseUrl: primary.url, apiKey: 'anthropic-key-not-real' },
        'anthropic-secondary': { type: 'anthropic', baseUrl: secondary.url, apiKey: 'anthropic-key-not-real' },
      },
      routing: { retry: { attempts: 1, backoffMs: 5, timeoutMs: 5_000 }, circuitBreaker: { failures: 100, cooldownMs: 60_000 } },
      models: [
        { name: 'gpt-4o-mini', targets: [{ provider: 'secondary', model: 'gpt-4o-mini' }] },
        {
          name: 'gpt',
          targets: [
            { provider: 'primary', model: 'p-gpt' },
            { provider: 'secondary', model: 's-gpt' },
          ],
        },
        { name: 'only-gpt', targets: [{ provider: 'primary', model: 'p-only' }] },
        { name: 'fine-gpt', targets: [{ provider: 'primary', model: 'p-fine' }] },
        {
          name: 'claude',
          targets: [
            { provider: 'anthropic-primary', model: 'claude-p' },
            { provider: 'anthropic-secondary', model: 'claude-s' },
          ],
        },
        { name: 'only-claude', targets: [{ provider: 'anthropic-primary', model: 'claude-only' }] },
        {
          name: 'embed',
          targets: [
            { provider: 'primary', model: 'e-p' },
            { provider: 'secondary', model: 'e-s' },
          ],
        },
      ],
    });
    openai = new OpenAI({ apiKey: KEYS.checkout, baseURL: `${sluice.baseURL}/v1`, maxRetries: 0 });
    anthropic = new Anthropic({ apiKey: KEYS.checkout, baseURL: sluice.baseURL, maxRetries: 0 });
  });

  after(async () => {
    await sluice.stop();
    await primary.close();
    await secondary.close();
  });

  const ask = (model: string) => openai.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }] });

  test('OpenAI: the next target answers; without one the client gets a 502 naming the upstream error, and the ledger says so', async () => {
    const answer = await ask('gpt');
    assert.equal(answer.choices[0]?.message.content, 'from secondary');
    await assert.rejects(ask('only-gpt'), (error: unknown) => {
      assert.ok(error instanceof OpenAI.APIError, String(error));
      assert.equal(error.status, 502);
      assert.match(error.message, /HTTP 200 with an error object: .*The server had an error while processing your request/);
      return true;
    });
    const row = (await ledgerRows(sluice)).find((candidate) => candidate.requested_model === 'only-gpt');
    assert.equal(row?.status, 502);
    assert.equal(row?.error_class, 'upstream_unavailable');
  });

  test('Anthropic: the next target answers; without one the client gets a 502 error object in its own API', async () => {
    const message = await anthropic.messages.create({ model: 'claude', max_tokens: 20, messages: [{ role: 'user', content: 'hi' }] });
    assert.deepEqual(message.content, [{ type: 'text', text: 'from secondary' }]);
    await assert.rejects(
      anthropic.messages.create({ model: 'only-claude', max_tokens: 20, messages: [{ role: 'user', content: 'hi' }] }),
      (error: unknown) => {
        assert.ok(error instanceof Anthropic.APIError, String(error));
        assert.equal(error.status, 502);
        assert.match(error.message, /HTTP 200 with an error object: .*Overloaded/);
        return true;
      },
    );
  });

  test('embeddings: the next target answers', async () => {
    const answer = await openai.embeddings.create({ model: 'embed', input: 'hi', encoding_format: 'float' });
    assert.deepEqual(answer.data[0]?.embedding, [0.1, 0.2]);
  });

  test('an answer whose text speaks of an error is an answer', async () => {
    const answer = await ask('fine-gpt');
    assert.equal(answer.choices[0]?.message.content, 'an error, described');
  });
});
