// A provider's refusal of the request itself (a 400, 422...): on a call passed through in the client's own API, the
// client gets the provider's own error (message, param, code; Anthropic's type), its credentials taken out; on a
// translated call, only the message, since the provider's fields name its body, not the client's.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { json, MockProvider } from '../support/mock-provider.js';
import { KEYS, ledgerRows, startTestSluice, type TestSluice } from '../support/sluice.js';

const OPENAI_KEY = 'sk-proj-upstream-rejection-0123456789abcdef';

describe('a provider refusing the request', () => {
  let openaiUpstream: MockProvider;
  let anthropicUpstream: MockProvider;
  let sluice: TestSluice;
  let openai: OpenAI;
  let anthropic: Anthropic;

  before(async () => {
    openaiUpstream = await MockProvider.start((_r, res) =>
      json(res, 400, {
        error: {
          message: `Invalid type for 'messages[0].content': expected a string, got an object (key ${OPENAI_KEY}).`,
          type: 'invalid_request_error',
          param: 'messages[0].content',
          code: null,
        },
      }),
    );
    anthropicUpstream = await MockProvider.start((_r, res) =>
      json(res, 413, { type: 'error', error: { type: 'request_too_large', message: 'Request exceeds the maximum allowed size.' } }),
    );
    sluice = await startTestSluice({
      providers: {
        openai: { type: 'openai', baseUrl: `${openaiUpstream.url}/v1`, apiKey: OPENAI_KEY },
        claude: { type: 'anthropic', baseUrl: anthropicUpstream.url, apiKey: 'anthropic-key-not-real' },
      },
      models: [
        { name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] },
        { name: 'claude', targets: [{ provider: 'claude', model: 'claude-sonnet' }] },
      ],
    });
    openai = new OpenAI({ apiKey: KEYS.checkout, baseURL: `${sluice.baseURL}/v1`, maxRetries: 0 });
    anthropic = new Anthropic({ apiKey: KEYS.checkout, baseURL: sluice.baseURL, maxRetries: 0 });
  });

  after(async () => {
    await sluice.stop();
    await openaiUpstream.close();
    await anthropicUpstream.close();
  });

  test("an OpenAI client passed through to OpenAI gets OpenAI's message, param and code, its key redacted", async () => {
    await assert.rejects(openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }), (error) => {
      assert.ok(error instanceof OpenAI.BadRequestError, String(error));
      assert.equal(error.param, 'messages[0].content');
      assert.equal(error.code, null);
      assert.equal(error.type, 'invalid_request_error');
      assert.match(error.message, /^400 Invalid type for 'messages\[0\]\.content': expected a string, got an object/);
      assert.ok(!error.message.includes(OPENAI_KEY), error.message);
      return true;
    });
    const row = (await ledgerRows(sluice)).find((r) => r.requested_model === 'gpt-4o-mini');
    assert.deepEqual([row?.status, row?.error_class], [400, 'upstream_rejected']);
  });

  test("an Anthropic client passed through to Anthropic gets Anthropic's error type and message", async () => {
    await assert.rejects(
      anthropic.messages.create({ model: 'claude', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }),
      (error) => {
        assert.ok(error instanceof Anthropic.APIError, String(error));
        assert.equal(error.status, 413);
        const body = error.error as { type: string; error: { type: string; message: string } };
        assert.deepEqual(body.error, { type: 'request_too_large', message: 'Request exceeds the maximum allowed size.' });
        return true;
      },
    );
  });

  test('a translated call gets the message only: the param names a field of the translated body', async () => {
    await assert.rejects(
      anthropic.messages.create({ model: 'gpt-4o-mini', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }),
      (error) => {
        assert.ok(error instanceof Anthropic.BadRequestError, String(error));
        const body = error.error as { error: { type: string; message: string } };
        assert.equal(body.error.type, 'invalid_request_error');
        assert.match(body.error.message, /^Provider openai rejected the request: Invalid type for 'messages\[0\]\.content'/);
        assert.ok(!body.error.message.includes(OPENAI_KEY));
        return true;
      },
    );
    await assert.rejects(openai.chat.completions.create({ model: 'claude', messages: [{ role: 'user', content: 'hi' }] }), (error) => {
      assert.ok(error instanceof OpenAI.APIError, String(error));
      assert.equal(error.status, 413);
      assert.deepEqual([error.code, error.param], ['upstream_rejected', null]);
      assert.match(error.message, /Provider claude rejected the request: Request exceeds the maximum allowed size\./);
      return true;
    });
  });
});
