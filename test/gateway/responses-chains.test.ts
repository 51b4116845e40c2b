// Responses API conversations chained with previous_response_id through a model served by more than one OpenAI account,
// driven by the openai SDK. Each account keeps only its own responses and answers a previous_response_id it does not
// hold as OpenAI does (400 previous_response_not_found), so a continuation must reach the account that keeps the
// response it continues: Sluice sends it to that model's target on the provider its record names, whatever the weights
// or the order of the targets say, and falls back to the others only if that one fails.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import OpenAI from 'openai';
import { json, MockProvider, type Received } from '../support/mock-provider.js';
import { storingResponsesApi } from '../support/mock-stored-responses.js';
import { KEYS, startTestSluice, type TestSluice } from '../support/sluice.js';

const EAST_KEY = 'upstream-openai-east-key-not-real';
const WEST_KEY = 'upstream-openai-west-key-not-real';

/** One OpenAI account: it keeps what it answers, and refuses a continuation of a response it does not keep. */
function account(key: string, idPrefix: string) {
  const api = storingResponsesApi('/v1', (request) => request.headers.authorization === `Bearer ${key}`, idPrefix);
  return (request: Received, res: ServerResponse) => {
    const previous = request.body.previous_response_id;
    if (request.method === 'POST' && typeof previous === 'string' && !api.stored.has(previous))
      return json(res, 400, {
        error: {
          message: `Previous response with id '${previous}' not found.`,
          type: 'invalid_request_error',
          param: 'previous_response_id',
          code: 'previous_response_not_found',
        },
      });
    return api.responder(request, res);
  };
}

describe('previous_response_id across the accounts a model is served by', () => {
  let east: MockProvider;
  let west: MockProvider;
  let sluice: TestSluice;
  let client: OpenAI;

  before(async () => {
    east = await MockProvider.start(account(EAST_KEY, 'resp_east'));
    west = await MockProvider.start(account(WEST_KEY, 'resp_west'));
    sluice = await startTestSluice({
      providers: {
        'openai-east': { type: 'openai', baseUrl: `${east.url}/v1`, apiKey: EAST_KEY },
        'openai-west': { type: 'openai', baseUrl: `${west.url}/v1`, apiKey: WEST_KEY },
      },
      models: [
        {
          name: 'gpt-4o-balanced',
          targets: [
            { provider: 'openai-east', model: 'gpt-4o', weight: 1 },
            { provider: 'openai-west', model: 'gpt-4o', weight: 1 },
          ],
        },
        {
          name: 'gpt-4o-east-first',
          targets: [
            { provider: 'openai-east', model: 'gpt-4o' },
            { provider: 'openai-west', model: 'gpt-4o' },
          ],
        },
        { name: 'gpt-4o-west', targets: [{ provider: 'openai-west', model: 'gpt-4o' }] },
        { name: 'gpt-4o-mini', targets: [{ provider: 'openai-east', model: 'gpt-4o-mini' }] },
      ],
    });
    client = new OpenAI({ apiKey: KEYS.checkout, baseURL: `${sluice.baseURL}/v1`, maxRetries: 0 });
  });

  after(async () => {
    await sluice?.stop();
    await Promise.all([east?.close(), west?.close()]);
  });

  /** The record of a response is written after its answer is sent: a continuation at once may come before it. */
  const recorded = async () => {
    await sluice.sluice.settled();
    await new Promise((resolve) => setTimeout(resolve, 20));
  };

  test('a conversation on a model balanced over two accounts continues, turn after turn, on the account that keeps it', async () => {
    let last = await client.responses.create({ model: 'gpt-4o-balanced', input: 'Remember 42' });
    const account = last.id.slice(0, 9);
    for (let turn = 1; turn <= 8; turn++) {
      await recorded();
      last = await client.responses.create({ model: 'gpt-4o-balanced', input: `Turn ${turn}`, previous_response_id: last.id });
      assert.equal(last.id.slice(0, 9), account, `turn ${turn} is answered by the account that keeps the conversation`);
    }
  });

  test('a conversation begun on another model continues on the target whose provider keeps it, not the first in order', async () => {
    const begun = await client.responses.create({ model: 'gpt-4o-west', input: 'Remember 7' });
    await recorded();
    const sentEast = east.received.length;
    const continued = await client.responses.create({ model: 'gpt-4o-east-first', input: 'Which number?', previous_response_id: begun.id });
    assert.match(continued.id, /^resp_west/);
    assert.equal(east.received.length, sentEast, 'nothing was sent to the account that does not keep it');
  });

  test('a previous_response_id Sluice never recorded goes the model’s usual way, for the provider to judge', async () => {
    const sentEast = east.received.length;
    await assert.rejects(
      client.responses.create({ model: 'gpt-4o-east-first', input: 'Go on', previous_response_id: 'resp_made_elsewhere' }),
      (error: unknown) => error instanceof OpenAI.BadRequestError && error.code === 'previous_response_not_found',
    );
    assert.equal(east.received.length, sentEast + 1);
  });
});
