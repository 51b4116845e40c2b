// Every Gemini finishReason (googleapis/js-genai and python-genai's FinishReason, with kotlin-genai's MALFORMED_RESPONSE
// and MISSING_THOUGHT_SIGNATURE) as an OpenAI and an Anthropic client see it, whole and streamed: a natural end is a
// stop, MAX_TOKENS the length, the filters content_filter; a candidate that holds no answer because the model's tool
// calling or answer failed is a failed attempt (the next target answers), never an empty stop.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { json, MockProvider, sse } from '../support/mock-provider.js';
import { KEYS, ledgerRows, startTestSluice, type TestSluice } from '../support/sluice.js';

const GOOGLE_KEY = 'google-test-key-not-real';

/** Each finish reason with what an OpenAI client's finish_reason and an Anthropic client's stop_reason are. */
const ENDINGS: ReadonlyArray<{ reason: string; openai: string; anthropic: string }> = [
  { reason: 'STOP', openai: 'stop', anthropic: 'end_turn' },
  { reason: 'FINISH_REASON_UNSPECIFIED', openai: 'stop', anthropic: 'end_turn' },
  { reason: 'OTHER', openai: 'stop', anthropic: 'end_turn' },
  { reason: 'LANGUAGE', openai: 'stop', anthropic: 'end_turn' },
  { reason: 'NO_IMAGE', openai: 'stop', anthropic: 'end_turn' },
  { reason: 'IMAGE_OTHER', openai: 'stop', anthropic: 'end_turn' },
  { reason: 'MAX_TOKENS', openai: 'length', anthropic: 'max_tokens' },
  { reason: 'SAFETY', openai: 'content_filter', anthropic: 'refusal' },
  { reason: 'RECITATION', openai: 'content_filter', anthropic: 'refusal' },
  { reason: 'BLOCKLIST', openai: 'content_filter', anthropic: 'refusal' },
  { reason: 'PROHIBITED_CONTENT', openai: 'content_filter', anthropic: 'refusal' },
  { reason: 'SPII', openai: 'content_filter', anthropic: 'refusal' },
  { reason: 'IMAGE_SAFETY', openai: 'content_filter', anthropic: 'refusal' },
  { reason: 'IMAGE_PROHIBITED_CONTENT', openai: 'content_filter', anthropic: 'refusal' },
  { reason: 'IMAGE_RECITATION', openai: 'content_filter', anthropic: 'refusal' },
];

/** The reasons of a candidate that holds no answer: the model's tool calling (or answer) failed. */
const FAILURES = [
  'MALFORMED_FUNCTION_CALL',
  'UNEXPECTED_TOOL_CALL',
  'TOO_MANY_TOOL_CALLS',
  'MALFORMED_RESPONSE',
  'MISSING_THOUGHT_SIGNATURE',
];

function frame(parts: unknown[] | null, finishReason?: string) {
  const candidate: Record<string, unknown> = { index: 0 };
  if (parts !== null) candidate.content = { role: 'model', parts };
  if (finishReason !== undefined) candidate.finishReason = finishReason;
  return {
    candidates: [candidate],
    usageMetadata: { promptTokenCount: 12, candidatesTokenCount: 3, totalTokenCount: 15 },
    modelVersion: 'gemini-2.5-flash',
    responseId: 'resp-f',
  };
}

describe('Gemini finish reasons', () => {
  let gemini: MockProvider;
  let sluice: TestSluice;
  let openai: OpenAI;
  let anthropic: Anthropic;

  before(async () => {
    // The model's name is the finish reason it ends with ('sound' answers plainly); 'at-once-' streams open with it.
    gemini = await MockProvider.start((request, res) => {
      if (request.headers['x-goog-api-key'] !== GOOGLE_KEY) return json(res, 403, { error: { code: 403, status: 'PERMISSION_DENIED' } });
      const model = decodeURIComponent(/models\/([^:]+):/.exec(request.path)![1]!);
      const streamed = request.path.endsWith(':streamGenerateContent?alt=sse');
      const atOnce = model.startsWith('at-once-');
      const reason = model === 'sound' ? 'STOP' : model.replace('at-once-', '');
      if (!streamed) return json(res, 200, frame(FAILURES.includes(reason) ? null : [{ text: 'Partial.' }], reason));
      const frames = atOnce ? [frame(null, reason)] : [frame([{ text: 'Partial' }]), frame([{ text: '.' }], reason)];
      return sse(
        res,
        frames.map((each) => `data: ${JSON.stringify(each)}\r\n\r\n`),
      );
    });
    const models = [...ENDINGS.map((ending) => ending.reason), ...FAILURES, ...FAILURES.map((reason) => `at-once-${reason}`)];
    sluice = await startTestSluice({
      providers: { gemini: { type: 'gemini', baseUrl: gemini.url, apiKey: GOOGLE_KEY } },
      models: [
        ...models.map((model) => ({ name: model, targets: [{ provider: 'gemini', model }] })),
        ...[...FAILURES, ...FAILURES.map((reason) => `at-once-${reason}`)].map((model) => ({
          name: `${model}-then-sound`,
          targets: [
            { provider: 'gemini', model },
            { provider: 'gemini', model: 'sound' },
          ],
        })),
        // Never called: the test config's second consumer may use gpt-4o-mini.
        { name: 'gpt-4o-mini', targets: [{ provider: 'gemini', model: 'sound' }] },
      ],
    });
    openai = new OpenAI({ apiKey: KEYS.checkout, baseURL: `${sluice.baseURL}/v1`, maxRetries: 0 });
    anthropic = new Anthropic({ apiKey: KEYS.checkout, baseURL: sluice.baseURL, maxRetries: 0 });
  });

  after(async () => {
    await sluice.stop();
    await gemini.close();
  });

  for (const { reason, openai: finish, anthropic: stop } of ENDINGS) {
    test(`${reason} ends an answer as ${finish} (OpenAI) and ${stop} (Anthropic), whole and streamed`, async () => {
      const whole = await openai.chat.completions.create({ model: reason, messages: [{ role: 'user', content: 'x' }] });
      assert.equal(whole.choices[0]?.finish_reason, finish);
      const message = await anthropic.messages.create({ model: reason, max_tokens: 50, messages: [{ role: 'user', content: 'x' }] });
      assert.equal(message.stop_reason, stop);
      const stream = await openai.chat.completions.create({ model: reason, messages: [{ role: 'user', content: 'x' }], stream: true });
      let streamedFinish: string | null = null;
      for await (const chunk of stream) streamedFinish = chunk.choices[0]?.finish_reason ?? streamedFinish;
      assert.equal(streamedFinish, finish);
      const final = await anthropic.messages
        .stream({ model: reason, max_tokens: 50, messages: [{ role: 'user', content: 'x' }] })
        .finalMessage();
      assert.equal(final.stop_reason, stop);
    });
  }

  for (const reason of FAILURES) {
    test(`${reason} is a failed attempt: the next target answers, whole and in a stream it opens; with none left a 502 naming it`, async () => {
      const answered = await openai.chat.completions.create({ model: `${reason}-then-sound`, messages: [{ role: 'user', content: 'x' }] });
      assert.equal(answered.choices[0]?.message.content, 'Partial.');
      assert.equal(answered.choices[0]?.finish_reason, 'stop');
      let streamed = '';
      const stream = await openai.chat.completions.create({
        model: `at-once-${reason}-then-sound`,
        messages: [{ role: 'user', content: 'x' }],
        stream: true,
      });
      for await (const chunk of stream) streamed += chunk.choices[0]?.delta.content ?? '';
      assert.equal(streamed, 'Partial.');
      await assert.rejects(
        anthropic.messages.create({ model: reason, max_tokens: 50, messages: [{ role: 'user', content: 'x' }] }),
        (error: unknown) => error instanceof Anthropic.APIError && error.status === 502 && error.message.includes(reason),
      );
      assert.equal((await ledgerRows(sluice)).at(-1)!.error_class, 'upstream_unavailable');
    });

    test(`${reason} after text has reached the client ends the stream with an error event, not a quiet stop`, async () => {
      const response = await fetch(`${sluice.baseURL}/v1/messages`, {
        method: 'POST',
        headers: { 'x-api-key': KEYS.checkout, 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
        body: JSON.stringify({ model: reason, max_tokens: 50, stream: true, messages: [{ role: 'user', content: 'x' }] }),
      });
      const text = await response.text();
      assert.deepEqual([...text.matchAll(/^event: (.+)$/gm)].map((match) => match[1]).slice(-2), ['content_block_delta', 'error']);
      assert.ok(text.includes(reason));
      assert.equal(text.includes('end_turn'), false);
      assert.equal((await ledgerRows(sluice)).at(-1)!.error_class, 'stream_error');
    });
  }

  test('MISSING_THOUGHT_SIGNATURE goes straight to the next target (the same request cannot succeed); the others are retried first', async () => {
    const calls = (model: string) => gemini.received.filter((request) => request.path.includes(`/models/${model}:`)).length;
    for (const [reason, tries] of [
      ['MISSING_THOUGHT_SIGNATURE', 1],
      ['MALFORMED_FUNCTION_CALL', 2],
    ] as const) {
      for (const model of [reason, `at-once-${reason}`]) {
        const before = calls(model);
        const messages = [{ role: 'user' as const, content: 'x' }];
        if (model.startsWith('at-once-')) {
          for await (const _chunk of await openai.chat.completions.create({ model: `${model}-then-sound`, messages, stream: true }));
        } else {
          const answer = await openai.chat.completions.create({ model: `${model}-then-sound`, messages });
          assert.equal(answer.choices[0]?.message.content, 'Partial.');
        }
        assert.equal(calls(model) - before, tries, `${model}: tries before the next target`);
      }
    }
    const before = calls('MISSING_THOUGHT_SIGNATURE');
    await assert.rejects(
      openai.chat.completions.create({ model: 'MISSING_THOUGHT_SIGNATURE', messages: [{ role: 'user', content: 'x' }] }),
      (error: unknown) => error instanceof OpenAI.APIError && error.status === 502 && /MISSING_THOUGHT_SIGNATURE/.test(error.message),
    );
    assert.equal(calls('MISSING_THOUGHT_SIGNATURE') - before, 1);
  });
});
