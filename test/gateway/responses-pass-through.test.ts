// The Responses API passed through: the official openai SDK's client.responses against Sluice in front of a mock OpenAI
// (the client's body reaches /v1/responses as sent, the model replaced; the answer and the stream come back byte for
// byte; usage read from the answer and from response.completed) and Azure OpenAI's v1 Responses path; Vertex (Gemini and
// Claude) translated, more lightly; budgets, bad input and errors in the OpenAI shape.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import OpenAI from 'openai';
import { anthropicStreamFrames, json, MockProvider, sse } from '../support/mock-provider.js';
import { functionCallItem, messageItem, responseObject, responseStreamFrames } from '../support/mock-responses.js';
import { KEYS, ledgerRows, startTestSluice, type TestSluice } from '../support/sluice.js';

const OPENAI_KEY = 'upstream-openai-key-not-real';
const AZURE_KEY = 'upstream-azure-key-not-real';
const STREAM_FRAMES = responseStreamFrames(['Hel', 'lo', ' there'], { input_tokens: 17, output_tokens: 3, cached_tokens: 5 });

describe('Responses API passed through to OpenAI and Azure OpenAI; Vertex translated', () => {
  let openaiMock: MockProvider;
  let azureMock: MockProvider;
  let tokenEndpoint: MockProvider;
  let vertexMock: MockProvider;
  let sluice: TestSluice;
  let client: OpenAI;

  before(async () => {
    openaiMock = await MockProvider.start((request, res) => {
      if (request.path !== '/v1/responses')
        return json(res, 404, { error: { message: `no route ${request.path}`, type: 'invalid_request_error' } });
      if (request.headers.authorization !== `Bearer ${OPENAI_KEY}`)
        return json(res, 401, { error: { message: 'bad key', type: 'invalid_request_error' } });
      const body = request.body;
      if (body.stream === true && request.rawBody.includes('Break off')) {
        // OpenAI's stream dies after its first events.
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(STREAM_FRAMES.slice(0, 5).join(''));
        setTimeout(() => res.destroy(), 20);
        return;
      }
      if (body.stream === true) return sse(res, STREAM_FRAMES);
      const input = JSON.stringify(body.input);
      if (JSON.stringify(body.tools ?? []).includes('"function"') && !input.includes('function_call_output'))
        return json(
          res,
          200,
          responseObject([functionCallItem('get_weather', '{"city":"Oslo"}')], { input_tokens: 40, output_tokens: 12 }),
        );
      const text = input.includes('function_call_output') ? 'Cold in Oslo' : 'Hi from the Responses API';
      json(res, 200, responseObject([messageItem(text)], { input_tokens: 12, output_tokens: 6, cached_tokens: 4, reasoning_tokens: 2 }));
    });
    azureMock = await MockProvider.start((request, res) => {
      if (request.headers['api-key'] !== AZURE_KEY) return json(res, 401, { error: { code: '401', message: 'Access denied' } });
      if (request.path !== '/openai/v1/responses') return json(res, 404, { error: { code: '404', message: `no route ${request.path}` } });
      if (request.body.stream === true) return sse(res, STREAM_FRAMES);
      json(res, 200, responseObject([messageItem('Hi from Azure')], { input_tokens: 9, output_tokens: 4 }, String(request.body.model)));
    });
    tokenEndpoint = await MockProvider.start((request, res) => {
      if (new URLSearchParams(request.rawBody).get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer')
        return json(res, 400, { error: 'invalid_grant' });
      json(res, 200, { access_token: 'ya29.vertex-token', expires_in: 3600, token_type: 'Bearer' });
    });
    vertexMock = await MockProvider.start((request, res) => {
      if (request.headers.authorization !== 'Bearer ya29.vertex-token')
        return json(res, 401, { error: { code: 401, message: 'unauthenticated' } });
      if (request.path.endsWith(':streamRawPredict')) return sse(res, anthropicStreamFrames(['Cou', 'cou']));
      json(res, 200, {
        candidates: [{ content: { role: 'model', parts: [{ text: 'Gemini on Vertex' }] }, finishReason: 'STOP' }],
        usageMetadata: { promptTokenCount: 9, candidatesTokenCount: 4, totalTokenCount: 13 },
      });
    });
    const privateKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const serviceAccount = JSON.stringify({
      type: 'service_account',
      project_id: 'proj-1',
      client_email: 'sluice-test@proj-1.iam.gserviceaccount.com',
      private_key: privateKey,
      token_uri: `${tokenEndpoint.url}/token`,
    });
    sluice = await startTestSluice({
      providers: {
        openai: { type: 'openai', baseUrl: `${openaiMock.url}/v1`, apiKey: OPENAI_KEY },
        azure: { type: 'azure-openai', baseUrl: azureMock.url, apiKey: AZURE_KEY, apiVersion: '2024-10-21' },
        vertex: { type: 'vertex', baseUrl: vertexMock.url, location: 'us-central1', serviceAccountJson: serviceAccount },
      },
      models: [
        { name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] },
        { name: 'azure-4o', targets: [{ provider: 'azure', model: 'my-gpt-4o-deployment' }] },
        { name: 'vertex-gemini', targets: [{ provider: 'vertex', model: 'gemini-2.5-flash' }] },
        { name: 'vertex-claude', targets: [{ provider: 'vertex', model: 'claude-3-5-haiku@20241022' }] },
      ],
      budgets: [{ name: 'search-daily', consumers: { consumer: 'search-service' }, measure: 'requests', limit: 1, window: 'day' }],
    });
    client = new OpenAI({ apiKey: KEYS.checkout, baseURL: `${sluice.baseURL}/v1`, maxRetries: 0 });
  });

  after(async () => {
    await sluice.stop();
    await Promise.all([openaiMock.close(), azureMock.close(), tokenEndpoint.close(), vertexMock.close()]);
  });

  test('OpenAI: the client body reaches /v1/responses as sent, model replaced; previous_response_id and store pass', async () => {
    const params = {
      model: 'gpt-4o-mini',
      input: [{ role: 'user' as const, content: 'Hello' }],
      instructions: 'Be brief.',
      previous_response_id: 'resp_earlier',
      store: true,
      include: ['reasoning.encrypted_content' as const],
      tools: [{ type: 'web_search' as const }],
      metadata: { ticket: 'T-1' },
    };
    const response = await client.responses.create(params);
    assert.equal(response.output_text, 'Hi from the Responses API');
    assert.equal(response.id, 'resp_mock1', 'the answer is the provider’s, untouched');
    assert.equal(response.usage?.input_tokens, 12);
    const received = openaiMock.received.at(-1)!;
    assert.equal(received.path, '/v1/responses');
    assert.deepEqual(received.body, { ...params, model: 'gpt-4o-mini' });
  });

  test('OpenAI: an item reference without its optional type passes through as sent', async () => {
    // ItemReference's type is optional (`{ id }` alone refers to an item OpenAI keeps).
    const input = [{ id: 'msg_kept_earlier' }, { type: null, id: 'fc_kept_earlier' }, { role: 'user' as const, content: 'And now?' }];
    const response = await client.responses.create({ model: 'gpt-4o-mini', input } as never);
    assert.equal(response.output_text, 'Hi from the Responses API');
    assert.deepEqual(openaiMock.received.at(-1)!.body.input, input);
  });

  test('OpenAI: a stream relayed byte for byte, usage read from response.completed', async () => {
    const raw = await fetch(`${sluice.baseURL}/v1/responses`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEYS.checkout}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o-mini', input: 'Hello', stream: true }),
    });
    assert.equal(raw.status, 200);
    assert.match(raw.headers.get('content-type') ?? '', /^text\/event-stream/);
    assert.equal(await raw.text(), STREAM_FRAMES.join(''));

    const final = await client.responses.stream({ model: 'gpt-4o-mini', input: 'Hello' }).finalResponse();
    assert.equal(final.output_text, 'Hello there');
    assert.equal(final.usage?.input_tokens_details.cached_tokens, 5);
    const rows = (await ledgerRows(sluice)).filter((row) => row.stream === 1 && row.provider === 'openai');
    assert.equal(rows.length, 2);
    for (const row of rows) {
      assert.equal(row.api, 'openai-responses');
      assert.equal(row.input_tokens, 17);
      assert.equal(row.output_tokens, 3);
      assert.equal(row.cached_input_tokens, 5);
      assert.equal(row.tokens_estimated, 0);
      assert.ok(row.time_to_first_token_ms !== null);
    }
  });

  test("OpenAI: a relayed stream that breaks off ends with error and response.failed numbered after OpenAI's last", async () => {
    const stream = await client.responses.create({ model: 'gpt-4o-mini', input: 'Break off', stream: true });
    const seen: Array<{ type: string; message?: string; sequence_number?: number }> = [];
    for await (const event of stream) seen.push(event);
    assert.deepEqual(
      seen.map((event) => event.type),
      [
        'response.created',
        'response.in_progress',
        'response.output_item.added',
        'response.content_part.added',
        'response.output_text.delta',
        'error',
        'response.failed',
      ],
    );
    assert.match(seen.at(-2)!.message ?? '', /broke off/);
    assert.deepEqual(
      seen.map((event) => event.sequence_number),
      [0, 1, 2, 3, 4, 5, 6],
    );
  });

  test('OpenAI: a function tool round trip passes function_call_output through as sent', async () => {
    const tools: OpenAI.Responses.FunctionTool[] = [
      { type: 'function', name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } }, strict: true },
    ];
    const first = await client.responses.create({ model: 'gpt-4o-mini', input: 'Weather in Oslo?', tools });
    const call = first.output[0];
    assert.ok(call?.type === 'function_call');
    assert.equal(call.call_id, 'call_mock1');
    const output = { type: 'function_call_output' as const, call_id: call.call_id, output: '-3C' };
    const second = await client.responses.create({
      model: 'gpt-4o-mini',
      tools,
      input: [{ role: 'user', content: 'Weather in Oslo?' }, call, output],
    });
    assert.equal(second.output_text, 'Cold in Oslo');
    const input = openaiMock.received.at(-1)!.body.input as unknown[];
    assert.deepEqual(input[2], output);
    assert.deepEqual(input[1], call);
  });

  test('OpenAI: usage and cost recorded from the answer (cached tokens included)', async () => {
    await client.responses.create({ model: 'gpt-4o-mini', input: 'Hello' });
    const row = (await ledgerRows(sluice)).filter((r) => r.stream === 0 && r.provider === 'openai').at(-1)!;
    assert.equal(row.api, 'openai-responses');
    assert.equal(row.operation, 'chat');
    assert.equal(row.requested_model, 'gpt-4o-mini');
    assert.equal(row.provider_model, 'gpt-4o-mini');
    assert.equal(row.input_tokens, 12);
    assert.equal(row.output_tokens, 6);
    assert.equal(row.cached_input_tokens, 4);
    assert.ok(row.cost_micro_usd !== null && row.cost_micro_usd > 0);
  });

  test('Azure OpenAI: the v1 Responses path, the deployment as the model, api-key; streamed too', async () => {
    const response = await client.responses.create({ model: 'azure-4o', input: 'Hello', store: false });
    assert.equal(response.output_text, 'Hi from Azure');
    const received = azureMock.received.at(-1)!;
    assert.equal(received.path, '/openai/v1/responses');
    assert.equal(received.body.model, 'my-gpt-4o-deployment');
    assert.equal(received.body.store, false);
    const final = await client.responses.stream({ model: 'azure-4o', input: 'Hello' }).finalResponse();
    assert.equal(final.output_text, 'Hello there');
    const rows = (await ledgerRows(sluice)).filter((row) => row.provider === 'azure');
    assert.deepEqual(
      rows.map((row) => [row.api, row.input_tokens, row.output_tokens]),
      [
        ['openai-responses', 9, 4],
        ['openai-responses', 17, 3],
      ],
    );
  });

  test('Vertex: Gemini translated plainly, Claude (rawPredict) streamed; previous_response_id refused', async () => {
    const gemini = await client.responses.create({ model: 'vertex-gemini', input: 'Hello' });
    assert.equal(gemini.output_text, 'Gemini on Vertex');
    assert.equal(gemini.usage?.input_tokens, 9);
    assert.match(vertexMock.received.at(-1)!.path, /publishers\/google\/models\/gemini-2\.5-flash:generateContent$/);
    assert.deepEqual(vertexMock.received.at(-1)!.body.contents, [{ role: 'user', parts: [{ text: 'Hello' }] }]);
    const claude = await client.responses.stream({ model: 'vertex-claude', input: 'Hello' }).finalResponse();
    assert.equal(claude.output_text, 'Coucou');
    assert.equal(claude.usage?.input_tokens, 25);
    const before = vertexMock.received.length;
    await assert.rejects(
      client.responses.create({ model: 'vertex-gemini', input: 'Hi', previous_response_id: 'resp_1' }),
      (error: unknown) => {
        assert.ok(error instanceof OpenAI.BadRequestError);
        assert.equal(error.param, 'previous_response_id');
        return true;
      },
    );
    assert.equal(vertexMock.received.length, before);
  });

  test('a budget refuses a Responses call like a chat call', async () => {
    const search = new OpenAI({ apiKey: KEYS.search, baseURL: `${sluice.baseURL}/v1`, maxRetries: 0 });
    await search.responses.create({ model: 'gpt-4o-mini', input: 'Hello' });
    const sent = openaiMock.received.length;
    await assert.rejects(search.responses.create({ model: 'gpt-4o-mini', input: 'Hello' }), (error: unknown) => {
      assert.ok(error instanceof OpenAI.RateLimitError, String(error));
      assert.equal(error.code, 'budget_exhausted');
      assert.equal(error.headers.get('x-sluice-budget'), 'search-daily');
      return true;
    });
    // A chat call is refused by the same budget.
    await assert.rejects(
      search.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] }),
      OpenAI.RateLimitError,
    );
    assert.equal(openaiMock.received.length, sent, 'refused calls never reach the provider');
    const refused = (await ledgerRows(sluice)).filter((row) => row.consumer === 'search-service' && row.status === 429);
    assert.deepEqual(
      refused.map((row) => [row.api, row.error_class]),
      [
        ['openai-responses', 'budget_exhausted'],
        ['openai', 'budget_exhausted'],
      ],
    );
  });

  test('background: true is refused before it reaches OpenAI: its spend would come after the call, unmetered', async () => {
    // OpenAI answers a background request at once, queued, with no usage; the model then runs and is billed at OpenAI
    // while the ledger holds a call of 0 output tokens and no budget saw it. Nor could the client poll it through Sluice.
    const sent = openaiMock.received.length;
    const rowsBefore = (await ledgerRows(sluice)).length;
    await assert.rejects(
      client.responses.create({ model: 'gpt-4o-mini', input: 'Research for an hour', background: true }),
      (error: unknown) => {
        assert.ok(error instanceof OpenAI.BadRequestError, String(error));
        assert.equal(error.param, 'background');
        assert.match(error.message, /stream: true/);
        return true;
      },
    );
    assert.equal(openaiMock.received.length, sent, 'nothing reached OpenAI');
    // background: false is OpenAI's default and passes.
    const plain = await client.responses.create({ model: 'gpt-4o-mini', input: 'Hello', background: false });
    assert.equal(plain.output_text, 'Hi from the Responses API');
    const rows = (await ledgerRows(sluice)).slice(rowsBefore);
    assert.deepEqual(
      rows.map((row) => [row.status, row.error_class]),
      [
        [400, 'invalid_request'],
        [200, null],
      ],
    );
  });

  test('bad input is a 400 in the OpenAI error shape naming the field', async () => {
    const post = async (body: unknown) => {
      const res = await fetch(`${sluice.baseURL}/v1/responses`, {
        method: 'POST',
        headers: { authorization: `Bearer ${KEYS.checkout}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json()) as { error: { type: string; param: string | null; message: string } } };
    };
    const cases: Array<[unknown, string]> = [
      [{ model: 'gpt-4o-mini' }, 'input'],
      [{ input: 'Hi' }, 'model'],
      [{ model: 'gpt-4o-mini', input: 42 }, 'input'],
      [{ model: 'gpt-4o-mini', input: [{ role: 'robot', content: 'Hi' }] }, 'input[0].role'],
      [{ model: 'gpt-4o-mini', input: [{ type: 'function_call_output', output: 'x' }] }, 'input[0].call_id'],
      [{ model: 'gpt-4o-mini', input: 'Hi', max_output_tokens: -1 }, 'max_output_tokens'],
      [{ model: 'gpt-4o-mini', input: 'Hi', temperature: 3 }, 'temperature'],
      [{ model: 'gpt-4o-mini', input: 'Hi', text: { format: { type: 'xml' } } }, 'text.format.type'],
      [{ model: 'gpt-4o-mini', input: 'Hi', tools: [{ type: 'function' }] }, 'tools[0].name'],
    ];
    const sent = openaiMock.received.length;
    for (const [body, param] of cases) {
      const answer = await post(body);
      assert.equal(answer.status, 400, JSON.stringify(body));
      assert.equal(answer.body.error.type, 'invalid_request_error');
      assert.equal(answer.body.error.param, param, JSON.stringify(answer.body));
    }
    assert.equal(openaiMock.received.length, sent);
    const unknown = await client.responses.create({ model: 'no-such-model', input: 'Hi' }).catch((error: unknown) => error);
    assert.ok(unknown instanceof OpenAI.NotFoundError);
    const get = await fetch(`${sluice.baseURL}/v1/responses`, { headers: { authorization: `Bearer ${KEYS.checkout}` } });
    assert.equal(get.status, 405);
    assert.equal(((await get.json()) as { error: { type: string } }).error.type, 'invalid_request_error');
  });
});
