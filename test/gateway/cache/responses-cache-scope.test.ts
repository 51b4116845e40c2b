// The response cache shared across a team (or everyone) and the Responses API: a response the provider stores belongs to
// the consumer whose call made it, so a cached answer carrying its id is no answer for a teammate, who could neither
// retrieve it nor continue from it (previous_response_id of another's response is refused). Such calls are cached per
// consumer; a call with store: false, which leaves nothing at the provider, is shared as the scope says. The openai SDK
// against Sluice in front of a mock OpenAI that stores what it answers.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { MockProvider } from '../../support/mock-provider.js';
import { storingResponsesApi } from '../../support/mock-stored-responses.js';
import { startTestSluice, type TestSluice } from '../../support/sluice.js';

const UPSTREAM_KEY = 'upstream-openai-key-not-real';
const ALICE = 'sk-sluice-test-alice-agent-0001';
const BOB = 'sk-sluice-test-bob-agent-0002';

describe('response cache scope team: stored Responses API answers stay their consumer own', () => {
  let mock: MockProvider;
  let sluice: TestSluice;

  before(async () => {
    mock = await MockProvider.start(
      storingResponsesApi('/v1', (request) => request.headers.authorization === `Bearer ${UPSTREAM_KEY}`).responder,
    );
    sluice = await startTestSluice({
      providers: { openai: { type: 'openai', baseUrl: `${mock.url}/v1`, apiKey: UPSTREAM_KEY } },
      models: [{ name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] }],
      consumers: [
        { name: 'alice-agent', team: 'payments', keys: [ALICE] },
        { name: 'bob-agent', team: 'payments', keys: [BOB] },
      ],
      cache: { scope: 'team', models: { 'gpt-4o-mini': {} } },
    });
  });

  after(async () => {
    await sluice.stop();
    await mock.close();
  });

  function client(key: string): OpenAI {
    return new OpenAI({ apiKey: key, baseURL: `${sluice.baseURL}/v1`, maxRetries: 0 });
  }

  /** A call and whether the cache answered it. */
  async function create(key: string, body: OpenAI.Responses.ResponseCreateParamsNonStreaming) {
    const { data, response } = await client(key).responses.create(body).withResponse();
    return { id: data.id, cache: response.headers.get('x-sluice-cache') };
  }

  test("a teammate's identical call gets a response of its own, which it can retrieve and continue from", async () => {
    const alice = await create(ALICE, { model: 'gpt-4o-mini', input: 'Plan the refund flow' });
    assert.equal(alice.cache, 'miss');
    const bob = await create(BOB, { model: 'gpt-4o-mini', input: 'Plan the refund flow' });
    assert.equal(bob.cache, 'miss', "not Alice's stored response");
    assert.notEqual(bob.id, alice.id);
    // Alice asking again is still a hit: her own answer.
    const again = await create(ALICE, { model: 'gpt-4o-mini', input: 'Plan the refund flow' });
    assert.deepEqual(again, { id: alice.id, cache: 'hit' });

    await sluice.sluice.settled();
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal((await client(BOB).responses.retrieve(bob.id)).id, bob.id);
    const followUp = await client(BOB).responses.create({ model: 'gpt-4o-mini', previous_response_id: bob.id, input: 'Now the tests' });
    assert.match(followUp.id, /^resp_/);
  });

  test('a call with store: false, which the provider keeps nothing of, is shared across the team as configured', async () => {
    const body = { model: 'gpt-4o-mini', input: 'Summarize the refund policy', store: false } as const;
    const alice = await create(ALICE, body);
    assert.equal(alice.cache, 'miss');
    assert.deepEqual(await create(BOB, body), { id: alice.id, cache: 'hit' });
  });
});
