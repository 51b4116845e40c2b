// A Responses API call may name no model and give a stored prompt instead (`prompt: {id: "pmpt_...", version}`): the
// model is kept with the prompt at OpenAI, out of the proxy's sight. Such a call is inventoried under the prompt,
// `openai/prompts/{id}` (priced by the model its answer names), so it can be reviewed and listed like a model; in enforce
// mode, while the policy refuses some OpenAI model, it is refused (403, OpenAI's shape, saying why) unless its stored
// prompt is listed as sanctioned, and so is a Responses call naming neither a model nor a stored prompt. A call naming a
// model is checked by it, prompt or not. The official openai SDK through the proxy.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { json } from '../support/mock-provider.js';
import { messageItem, responseObject } from '../support/mock-responses.js';
import { counter, HttpsMock, interceptingTo, proxiedFetch, startTestDiscovery, tlsFixture, type TlsFixture } from '../support/discovery.js';
import type { RunningDiscovery } from '../../src/discovery/discovery.js';

const OPENAI = 'api.openai.com';
const SANCTIONED_PROMPT = 'pmpt_68ab0c11d2e08190a1b2c3d4e5f60718';
const REFUSED_PROMPT = 'pmpt_68ab0c11d2e08190ffffffffffffffff';
const UNREVIEWED_PROMPT = 'pmpt_68ab0c11d2e081900000000000000000';

describe('discovery: Responses API calls with a stored prompt and no model', () => {
  let tls: TlsFixture;
  let mock: HttpsMock;
  let observing: RunningDiscovery;
  let enforcing: RunningDiscovery;
  let permissive: RunningDiscovery;

  before(async () => {
    tls = await tlsFixture();
    // The stored prompt's model answers (gpt-4o: the one the policy refuses).
    mock = await HttpsMock.start(await tls.serverCert([OPENAI]), (_request, res) =>
      json(res, 200, responseObject([messageItem('Sunny')], { input_tokens: 20, output_tokens: 4 }, 'gpt-4o-2024-08-06')),
    );
    const resources = {
      'openai/gpt-4o': 'unsanctioned',
      [`openai/prompts/${SANCTIONED_PROMPT}`]: 'sanctioned',
      [`openai/prompts/${REFUSED_PROMPT}`]: 'unsanctioned',
    };
    const providers = { openai: { type: 'openai', baseUrl: 'https://api.openai.com/v1', apiKey: 'sk-unused-not-real' } };
    observing = await startTestDiscovery(interceptingTo(tls, [OPENAI], mock.port), { providers, resources });
    enforcing = await startTestDiscovery({ mode: 'enforce', ...interceptingTo(tls, [OPENAI], mock.port) }, { providers, resources });
    // Nothing at OpenAI refused: nothing a stored prompt could name would be.
    permissive = await startTestDiscovery({ mode: 'enforce', ...interceptingTo(tls, [OPENAI], mock.port) });
  });

  after(async () => {
    await observing.stop();
    await enforcing.stop();
    await permissive.stop();
    await mock.close();
  });

  const clientOf = (gateway: RunningDiscovery) => {
    const proxied = proxiedFetch(gateway.url, tls.orgCaPem);
    const client = new OpenAI({ apiKey: 'sk-not-real', baseURL: `https://${OPENAI}/v1`, fetch: proxied.fetch, maxRetries: 0 });
    return { client, close: () => proxied.dispatcher.close() };
  };
  const withPrompt = (id: string) => ({ prompt: { id, version: '2', variables: { city: 'Lisbon' } }, input: 'Weather?' });

  test('observe mode inventories the call under its stored prompt, priced by the model its answer names', async () => {
    observing.aggregator.drain();
    const { client, close } = clientOf(observing);
    assert.equal((await client.responses.create(withPrompt(UNREVIEWED_PROMPT))).output_text, 'Sunny');
    await close();
    await new Promise((resolve) => setTimeout(resolve, 50));
    const [call] = observing.aggregator.drain();
    assert.equal(call?.provider, 'openai');
    assert.equal(call?.model, `prompts/${UNREVIEWED_PROMPT}`);
    // gpt-4o: 20 input tokens at $2.50 and 4 output at $10 per 1M.
    assert.equal(call?.costMicroUsd, 20 * 2.5 + 4 * 10);
  });

  test("enforce mode refuses a stored prompt it cannot check, and one listed unsanctioned, in OpenAI's shape", async () => {
    const seen = mock.received.length;
    const blocked = await counter(enforcing.metrics.calls, { provider: 'openai', outcome: 'blocked' });
    const { client, close } = clientOf(enforcing);
    for (const id of [UNREVIEWED_PROMPT, REFUSED_PROMPT]) {
      await assert.rejects(client.responses.create(withPrompt(id)), (error: unknown) => {
        assert.ok(error instanceof OpenAI.PermissionDeniedError, String(error));
        assert.match(error.message, new RegExp(`prompts/${id}`));
        return true;
      });
    }
    // The message says why, for the one the policy has not reviewed.
    await assert.rejects(client.responses.create(withPrompt(UNREVIEWED_PROMPT)), (error: unknown) => {
      assert.ok(error instanceof OpenAI.APIError, String(error));
      assert.equal(error.code, 'model_not_readable');
      assert.equal(error.param, 'prompt');
      assert.match(error.message, /names no model/);
      assert.match(error.message, /kept with the prompt by the provider/);
      return true;
    });
    // Neither a model nor a stored prompt: nothing to check it by either.
    await assert.rejects(
      client.responses.create({ input: 'Weather?' } as unknown as OpenAI.Responses.ResponseCreateParamsNonStreaming),
      (error: unknown) => error instanceof OpenAI.PermissionDeniedError && /names no model/.test(error.message),
    );
    assert.equal(mock.received.length, seen);
    assert.equal(await counter(enforcing.metrics.calls, { provider: 'openai', outcome: 'blocked' }), blocked + 4);
    await close();
  });

  test('enforce mode lets a sanctioned stored prompt through, and checks a call naming a model by its model', async () => {
    const { client, close } = clientOf(enforcing);
    assert.equal((await client.responses.create(withPrompt(SANCTIONED_PROMPT))).output_text, 'Sunny');
    assert.equal((await client.responses.create({ ...withPrompt(UNREVIEWED_PROMPT), model: 'gpt-4.1' })).output_text, 'Sunny');
    await assert.rejects(
      client.responses.create({ ...withPrompt(SANCTIONED_PROMPT), model: 'gpt-4o' }),
      (error: unknown) => error instanceof OpenAI.PermissionDeniedError && /openai\/gpt-4o/.test(error.message),
    );
    await close();
  });

  test('with nothing at OpenAI refused, a stored prompt passes as in observe mode', async () => {
    const { client, close } = clientOf(permissive);
    assert.equal((await client.responses.create(withPrompt(UNREVIEWED_PROMPT))).output_text, 'Sunny');
    await close();
  });
});
