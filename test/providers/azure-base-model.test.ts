// An Azure OpenAI deployment has a name of the customer's choosing (`prod-reasoner`), so the model it serves cannot be
// read from it: a target's `baseModel` says it. Sluice then sends the deployment only what that model takes (a reasoning
// model refuses temperature and stop, as Azure answers with a 400) and prices calls at that model's prices. The
// Anthropic SDK against Sluice in front of a mock Azure OpenAI that refuses what the real one refuses.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import { json, MockProvider, openaiCompletion, type Received } from '../support/mock-provider.js';
import { KEYS, ledgerRows, startTestSluice, type TestSluice } from '../support/sluice.js';

const AZURE_KEY = 'upstream-azure-key-not-real';

describe('Azure OpenAI deployments of a named base model', () => {
  let azure: MockProvider;
  let sluice: TestSluice;
  const received: Received[] = [];

  before(async () => {
    azure = await MockProvider.start((request, res) => {
      received.push(request);
      // o3-mini behind both deployments: it refuses sampling settings and stop sequences, as Azure does for it.
      for (const field of ['temperature', 'top_p', 'stop']) {
        if (request.body[field] !== undefined) {
          return json(res, 400, {
            error: {
              message: `Unsupported parameter: '${field}' is not supported with this model.`,
              type: 'invalid_request_error',
              param: field,
              code: 'unsupported_parameter',
            },
          });
        }
      }
      json(res, 200, openaiCompletion('Reasoned.', { prompt_tokens: 1_000, completion_tokens: 100 }, 'o3-mini-2025-01-31'));
    });
    sluice = await startTestSluice({
      providers: { azure: { type: 'azure-openai', baseUrl: azure.url, apiKey: AZURE_KEY, apiVersion: '2024-10-21' } },
      models: [
        { name: 'reasoner', targets: [{ provider: 'azure', model: 'prod-reasoner', baseModel: 'o3-mini' }] },
        { name: 'gpt-4o-mini', targets: [{ provider: 'azure', model: 'gpt-4o-mini' }] },
      ],
    });
  });

  after(async () => {
    await sluice?.stop();
    await azure?.close();
  });

  test('a deployment named for its base model is sent only what that model takes, and priced as it', async () => {
    const client = new Anthropic({ apiKey: KEYS.checkout, baseURL: sluice.baseURL, maxRetries: 0 });
    // The SDK's types no longer name temperature (newer Claudes refuse it); clients still send it.
    const body = {
      model: 'reasoner',
      max_tokens: 500,
      temperature: 0.2,
      thinking: { type: 'enabled', budget_tokens: 2_000 },
      messages: [{ role: 'user', content: 'Plan the sluice maintenance.' }],
    } as Anthropic.MessageCreateParamsNonStreaming;
    const answer = await client.messages.create(body);
    assert.equal(answer.content[0]?.type === 'text' ? answer.content[0].text : null, 'Reasoned.');
    const sent = received.at(-1)!;
    assert.match(sent.path, /^\/openai\/deployments\/prod-reasoner\/chat\/completions\?api-version=/);
    assert.equal(sent.headers['api-key'], AZURE_KEY);
    // The deployment's name goes as the body's model (Azure reads the path); what the model takes is o3-mini's.
    assert.deepEqual([sent.body.model, sent.body.temperature], ['prod-reasoner', undefined]);
    assert.equal(typeof sent.body.reasoning_effort, 'string', 'the thinking asked for, as o3-mini takes it');
    // Stop sequences, which o3-mini refuses, are a 400 naming the field before anything is sent.
    const calls = received.length;
    await assert.rejects(
      client.messages.create({ ...body, stop_sequences: ['END'] }),
      (error: unknown) => error instanceof Anthropic.BadRequestError && /stop_sequences/.test(JSON.stringify(error.error)),
    );
    assert.equal(received.length, calls);
    const rows = await ledgerRows(sluice);
    const served = rows.filter((row) => row.status === 200);
    const row = served.at(-1)!;
    // o3-mini: $1.10 per 1M input tokens and $4.40 per 1M output.
    assert.deepEqual([row.provider_model, row.cost_micro_usd], ['prod-reasoner', 1_000 * 1.1 + 100 * 4.4]);
  });
});
