// Guardrails with the official SDKs: PII and patterns on the prompt in mask, block and monitor mode, and on the answer.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { json, MockProvider, openaiCompletion } from '../../support/mock-provider.js';
import { KEYS, ledgerRows, startTestSluice, type TestSluice } from '../../support/sluice.js';

describe('guardrails', () => {
  let mock: MockProvider;
  let sluice: TestSluice;
  let openai: OpenAI;

  before(async () => {
    // Answers with what it was sent, so a test sees what reached the provider.
    mock = await MockProvider.start((request, res) => {
      const messages = request.body.messages as Array<{ content: string }>;
      return json(res, 200, openaiCompletion(`You said: ${messages.at(-1)!.content}`));
    });
    sluice = await startTestSluice({
      consumers: [
        { name: 'checkout-service', team: 'payments', keys: [KEYS.checkout] },
        { name: 'search-service', team: 'discovery', keys: [KEYS.search] },
      ],
      providers: { openai: { type: 'openai', baseUrl: `${mock.url}/v1`, apiKey: 'upstream-openai-key-not-real' } },
      models: [{ name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] }],
      guardrails: [
        { name: 'mask-contact', mode: 'mask', pii: ['emailAddress', 'phoneNumber'], consumers: ['checkout-service'] },
        { name: 'no-falcon', mode: 'block', patterns: ['project\\s+falcon'] },
        { name: 'watch-ssn', mode: 'monitor', pii: ['usSocialSecurityNumber'] },
        { name: 'hide-vault-codes', mode: 'mask', on: 'output', patterns: ['vault-\\d{4}'] },
      ],
    });
    openai = new OpenAI({ apiKey: KEYS.checkout, baseURL: `${sluice.baseURL}/v1`, maxRetries: 0 });
  });

  after(async () => {
    await sluice?.stop();
    await mock?.close();
  });

  const ask = async (client: OpenAI, content: string) =>
    (await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content }] })).choices[0]!.message.content;

  test('mask: PII is replaced before the provider sees it, for the consumers the guardrail names', async () => {
    const answer = await ask(openai, 'Write to jane.doe@example.com or call 415-555-0132.');
    assert.equal(answer, 'You said: Write to EMAIL_ADDRESS or call PHONE_NUMBER.');
    assert.doesNotMatch(mock.received.at(-1)!.rawBody, /jane\.doe|415-555/);
    const other = new OpenAI({ apiKey: KEYS.search, baseURL: `${sluice.baseURL}/v1`, maxRetries: 0 });
    assert.equal(await ask(other, 'Write to jane.doe@example.com.'), 'You said: Write to jane.doe@example.com.');
    const rows = await ledgerRows(sluice);
    assert.match(rows.find((row) => row.consumer === 'checkout-service')!.violations ?? '', /guardrail:mask-contact/);
  });

  test("block: a clear 400 in the caller's shape, and nothing sent upstream", async () => {
    const sent = mock.received.length;
    await assert.rejects(ask(openai, 'Tell me about Project  Falcon.'), (error: unknown) => {
      assert.ok(error instanceof OpenAI.BadRequestError);
      assert.match(error.message, /blocked by guardrail 'no-falcon'/);
      return true;
    });
    const anthropic = new Anthropic({ apiKey: KEYS.checkout, baseURL: sluice.baseURL, maxRetries: 0 });
    await assert.rejects(
      anthropic.messages.create({ model: 'gpt-4o-mini', max_tokens: 20, messages: [{ role: 'user', content: 'project falcon status?' }] }),
      (error: unknown) => {
        assert.ok(error instanceof Anthropic.BadRequestError);
        assert.equal((error.error as { error: { type: string } }).error.type, 'invalid_request_error');
        assert.match(error.message, /no-falcon/);
        return true;
      },
    );
    assert.equal(mock.received.length, sent);
    const refused = (await ledgerRows(sluice)).filter((row) => row.status === 400);
    assert.equal(refused.length, 2);
    // Each refusal is recorded against the model it asked for, as a budget's or a policy's is.
    assert.deepEqual(
      refused.map((row) => [row.api, row.requested_model]),
      [
        ['openai', 'gpt-4o-mini'],
        ['anthropic', 'gpt-4o-mini'],
      ],
    );
  });

  test("a plain-text document's text is checked as the prompt's: block refuses it (the Anthropic SDK's document block)", async () => {
    const sent = mock.received.length;
    const anthropic = new Anthropic({ apiKey: KEYS.checkout, baseURL: sluice.baseURL, maxRetries: 0 });
    await assert.rejects(
      anthropic.messages.create({
        model: 'gpt-4o-mini',
        max_tokens: 20,
        messages: [
          {
            role: 'user',
            content: [
              { type: 'document', source: { type: 'text', media_type: 'text/plain', data: 'Minutes: Project Falcon ships in May.' } },
              { type: 'text', text: 'Summarize the attached minutes.' },
            ],
          },
        ],
      }),
      (error: unknown) => {
        assert.ok(error instanceof Anthropic.BadRequestError);
        assert.match(error.message, /blocked by guardrail 'no-falcon'/);
        return true;
      },
    );
    assert.equal(mock.received.length, sent);
  });

  test('monitor: the call goes through unchanged, the violation recorded in the ledger', async () => {
    const answer = await ask(openai, 'My SSN is 123-45-6789.');
    assert.equal(answer, 'You said: My SSN is 123-45-6789.');
    const row = (await ledgerRows(sluice)).at(-1)!;
    assert.equal(row.status, 200);
    assert.match(row.violations ?? '', /guardrail:watch-ssn/);
  });

  test("tool call arguments are not checked: Anthropic's tool_use input reaches the provider as sent", async () => {
    const anthropic = new Anthropic({ apiKey: KEYS.checkout, baseURL: sluice.baseURL, maxRetries: 0 });
    const args = { to: 'jane.doe@example.com', content: 'Hello jane.doe@example.com' };
    await anthropic.messages.create({
      model: 'gpt-4o-mini',
      max_tokens: 20,
      messages: [
        { role: 'user', content: 'Send the note.' },
        { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'send_email', input: args }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'Sent.' }] },
      ],
    });
    const sent = mock.received.at(-1)!.body.messages as Array<{ tool_calls?: Array<{ function: { arguments: string } }> }>;
    assert.deepEqual(JSON.parse(sent[1]!.tool_calls![0]!.function.arguments), args);
  });

  test('output: a non-streamed answer is masked before the client sees it', async () => {
    const answer = await ask(openai, 'Repeat vault-1234 please');
    assert.equal(answer, 'You said: Repeat [REDACTED] please');
    assert.match((await ledgerRows(sluice)).at(-1)!.violations ?? '', /guardrail:hide-vault-codes/);
  });
});

describe('guardrails on answers from the response cache', () => {
  let mock: MockProvider;
  let sluice: TestSluice;

  before(async () => {
    mock = await MockProvider.start((request, res) => {
      const messages = request.body.messages as Array<{ content: string }>;
      return json(res, 200, openaiCompletion(`You said: ${messages.at(-1)!.content}`));
    });
    sluice = await startTestSluice({
      consumers: [
        { name: 'checkout-service', team: 'payments', keys: [KEYS.checkout] },
        { name: 'search-service', team: 'payments', keys: [KEYS.search] },
      ],
      providers: { openai: { type: 'openai', baseUrl: `${mock.url}/v1`, apiKey: 'upstream-openai-key-not-real' } },
      models: [{ name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] }],
      // One cache for the team: an answer made for one consumer is a hit for the other.
      cache: { scope: 'team', models: { 'gpt-4o-mini': {} } },
      guardrails: [
        { name: 'watch-ssn', mode: 'monitor', pii: ['usSocialSecurityNumber'] },
        { name: 'hide-vault-codes', mode: 'mask', on: 'output', patterns: ['vault-\\d{4}'], consumers: ['checkout-service'] },
        { name: 'no-secrets-out', mode: 'block', on: 'output', patterns: ['secret-\\d+'], consumers: ['checkout-service'] },
      ],
    });
  });

  after(async () => {
    await sluice?.stop();
    await mock?.close();
  });

  const ask = async (key: string, content: string) => {
    const client = new OpenAI({ apiKey: key, baseURL: `${sluice.baseURL}/v1`, maxRetries: 0 });
    const { data, response } = await client.chat.completions
      .create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content }] })
      .withResponse();
    return { text: data.choices[0]!.message.content, cache: response.headers.get('x-sluice-cache') };
  };

  test("a hit is checked by the caller's output guardrails: masked for a consumer whose answers are masked", async () => {
    assert.deepEqual(await ask(KEYS.search, 'Repeat vault-1234 please'), { text: 'You said: Repeat vault-1234 please', cache: 'miss' });
    assert.deepEqual(await ask(KEYS.checkout, 'Repeat vault-1234 please'), { text: 'You said: Repeat [REDACTED] please', cache: 'hit' });
    const hit = (await ledgerRows(sluice)).at(-1)!;
    assert.equal(hit.attempts, 0);
    assert.match(hit.violations ?? '', /guardrail:hide-vault-codes/);
  });

  test("an answer masked for one consumer is kept unmasked: a consumer without that guardrail gets the provider's text", async () => {
    const sent = mock.received.length;
    assert.deepEqual(await ask(KEYS.checkout, 'Echo vault-5678 back'), { text: 'You said: Echo [REDACTED] back', cache: 'miss' });
    assert.deepEqual(await ask(KEYS.search, 'Echo vault-5678 back'), { text: 'You said: Echo vault-5678 back', cache: 'hit' });
    // And masked again for the consumer whose answers are masked.
    assert.deepEqual(await ask(KEYS.checkout, 'Echo vault-5678 back'), { text: 'You said: Echo [REDACTED] back', cache: 'hit' });
    assert.equal(mock.received.length, sent + 1);
    const [, unmasked, masked] = (await ledgerRows(sluice)).slice(-3);
    assert.equal(unmasked!.violations ?? null, null);
    assert.match(masked!.violations ?? '', /guardrail:hide-vault-codes/);
  });

  test('a hit an output block guardrail refuses is a 400, recorded as such', async () => {
    const sent = mock.received.length;
    assert.equal((await ask(KEYS.search, 'Say secret-42')).cache, 'miss');
    await assert.rejects(ask(KEYS.checkout, 'Say secret-42'), (error: unknown) => {
      assert.ok(error instanceof OpenAI.BadRequestError);
      assert.match(error.message, /withheld by guardrail 'no-secrets-out'/);
      return true;
    });
    assert.equal(mock.received.length, sent + 1);
    const refused = (await ledgerRows(sluice)).at(-1)!;
    assert.equal(refused.consumer, 'checkout-service');
    assert.equal(refused.status, 400);
    assert.equal(refused.cost_micro_usd ?? 0, 0);
  });

  test("a hit keeps the prompt's monitored violations in its ledger row", async () => {
    assert.equal((await ask(KEYS.checkout, 'My SSN is 123-45-6789.')).cache, 'miss');
    assert.equal((await ask(KEYS.checkout, 'My SSN is 123-45-6789.')).cache, 'hit');
    const [miss, hit] = (await ledgerRows(sluice)).slice(-2);
    assert.match(miss!.violations ?? '', /guardrail:watch-ssn/);
    assert.equal(hit!.attempts, 0);
    assert.match(hit!.violations ?? '', /guardrail:watch-ssn/);
  });
});
