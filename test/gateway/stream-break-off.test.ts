// A translated stream whose provider's connection breaks off once text has reached the client ends in the client's own
// API shape, so the official SDKs report a failure and never a finished answer: a Chat Completions client gets the error
// chunk (the openai SDK throws it as an APIError), a Messages client the `error` event (the Anthropic SDK throws it), a
// Responses API client the `error` event and then `response.failed`, the terminal event of a response that failed,
// carrying the response as it stood (https://platform.openai.com/docs/api-reference/responses-streaming/response/failed).
// The ledger records each call as cut short (stream_interrupted) with the tokens seen.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import type { ResponseStreamEvent } from 'openai/resources/responses/responses';
import { encodeAwsEvent } from '../../src/wire/aws-event-stream.js';
import { AWS_TEST_CREDENTIALS, AWS_TEST_REGION, startMockBedrock } from '../support/mock-bedrock.js';
import { anthropicStreamFrames, MockProvider, openaiStreamFrames } from '../support/mock-provider.js';
import { responseStreamFrames } from '../support/mock-responses.js';
import { KEYS, ledgerRows, startTestSluice, type TestSluice } from '../support/sluice.js';

const PIECES = ['Once', ' upon', ' a', ' time', ' there', ' was', ' a', ' gateway'];
const SENT = PIECES.join('');

/** Writes the frames, then resets the connection as a proxy or a crashed upstream would: no clean end of the body. */
async function breakOff(res: import('node:http').ServerResponse, contentType: string, frames: ReadonlyArray<string | Uint8Array>) {
  res.writeHead(200, { 'content-type': contentType });
  for (const frame of frames) res.write(frame);
  await new Promise((resolve) => setTimeout(resolve, 30));
  res.destroy();
}

function geminiChunk(text: string): string {
  const chunk = {
    candidates: [{ content: { role: 'model', parts: [{ text }] }, index: 0 }],
    usageMetadata: { promptTokenCount: 40, candidatesTokenCount: 1, totalTokenCount: 41 },
    modelVersion: 'gemini-2.5-flash',
    responseId: 'gem-broken',
  };
  return `data: ${JSON.stringify(chunk)}\r\n\r\n`;
}

/**
 * A Responses API stream read to its end with the openai SDK: it must end with error then response.failed (never
 * response.completed), every event numbered in order. The error event's message and the failed response.
 */
async function readFailedStream(openai: OpenAI, model: string) {
  const events: ResponseStreamEvent[] = [];
  for await (const event of await openai.responses.create({ model, input: 'hi', stream: true })) events.push(event);
  const types = events.map((event) => event.type);
  assert.deepEqual(types.slice(-2), ['error', 'response.failed'], types.join(', '));
  assert.ok(!types.includes('response.completed'));
  assert.deepEqual(
    events.map((event) => event.sequence_number),
    events.map((_event, i) => i),
    'numbered in order',
  );
  const error = events.at(-2) as OpenAI.Responses.ResponseErrorEvent;
  assert.match(error.message, /broke off/);
  const failed = (events.at(-1) as OpenAI.Responses.ResponseFailedEvent).response;
  assert.equal(failed.status, 'failed');
  assert.match(failed.error?.message ?? '', /broke off/);
  return failed;
}

/** The texts of a response's output, by message item. */
function outputTexts(response: OpenAI.Responses.Response): string[][] {
  return response.output.map((item) =>
    item.type === 'message' ? item.content.map((part) => (part.type === 'output_text' ? part.text : '')) : [],
  );
}

/** The last ledger row: cut short, with the prompt's and the sent text's tokens. */
async function assertCutShortRow(sluice: TestSluice, api: string, model: string): Promise<void> {
  const row = (await ledgerRows(sluice)).at(-1)!;
  assert.deepEqual([row.api, row.requested_model, row.status, row.error_class], [api, model, 200, 'stream_interrupted']);
  assert.ok(row.input_tokens > 0, `${api} over ${model}: ${row.input_tokens} input tokens recorded`);
  assert.ok(row.output_tokens >= PIECES.length, `${api} over ${model}: ${row.output_tokens} output tokens recorded`);
}

describe('a translated stream that breaks off upstream', () => {
  const mocks: MockProvider[] = [];
  let sluice: TestSluice;
  let openai: OpenAI;
  let anthropic: Anthropic;

  before(async () => {
    const openaiMock = await MockProvider.start((_request, res) =>
      breakOff(res, 'text/event-stream', openaiStreamFrames(PIECES, null).slice(0, PIECES.length + 1)),
    );
    const anthropicFrames = anthropicStreamFrames(PIECES);
    const anthropicMock = await MockProvider.start((_request, res) =>
      breakOff(
        res,
        'text/event-stream',
        anthropicFrames.slice(
          0,
          anthropicFrames.findIndex((frame) => frame.startsWith('event: content_block_stop')),
        ),
      ),
    );
    const geminiMock = await MockProvider.start((_request, res) => breakOff(res, 'text/event-stream', PIECES.map(geminiChunk)));
    const bedrockMock = await startMockBedrock((_model, _stream, _request, res) => {
      const frames = [
        encodeAwsEvent('messageStart', { role: 'assistant' }),
        ...PIECES.map((text) => encodeAwsEvent('contentBlockDelta', { contentBlockIndex: 0, delta: { text } })),
      ];
      // The last frame arrives only in part: the connection drops inside it.
      const last = encodeAwsEvent('contentBlockDelta', { contentBlockIndex: 0, delta: { text: ' never seen' } });
      return breakOff(res, 'application/vnd.amazon.eventstream', [...frames, last.subarray(0, 20)]);
    });
    mocks.push(openaiMock, anthropicMock, geminiMock, bedrockMock);
    sluice = await startTestSluice({
      providers: {
        openai: { type: 'openai', baseUrl: `${openaiMock.url}/v1`, apiKey: 'upstream-openai-key-not-real' },
        anthropic: { type: 'anthropic', baseUrl: anthropicMock.url, apiKey: 'upstream-anthropic-key-not-real' },
        gemini: { type: 'gemini', baseUrl: geminiMock.url, apiKey: 'google-test-key-not-real' },
        bedrock: { type: 'bedrock', baseUrl: bedrockMock.url, region: AWS_TEST_REGION, ...AWS_TEST_CREDENTIALS },
      },
      models: [
        { name: 'gpt', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] },
        { name: 'claude', targets: [{ provider: 'anthropic', model: 'claude-haiku-4-5' }] },
        { name: 'gemini', targets: [{ provider: 'gemini', model: 'gemini-2.5-flash' }] },
        { name: 'bedrock', targets: [{ provider: 'bedrock', model: 'us.anthropic.claude-sonnet-4-5-20250929-v1:0' }] },
        { name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] },
      ],
    });
    openai = new OpenAI({ apiKey: KEYS.checkout, baseURL: `${sluice.baseURL}/v1`, maxRetries: 0 });
    anthropic = new Anthropic({ apiKey: KEYS.checkout, baseURL: sluice.baseURL, maxRetries: 0 });
  });

  after(async () => {
    await sluice.stop();
    await Promise.all(mocks.map((mock) => mock.close()));
  });

  for (const model of ['claude', 'gemini', 'bedrock']) {
    test(
      `Chat Completions client over ${model}: the openai SDK throws the error chunk after the text sent`,
      { timeout: 20_000 },
      async () => {
        let text = '';
        await assert.rejects(
          async () => {
            const stream = await openai.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }], stream: true });
            for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
          },
          (error: unknown) => error instanceof OpenAI.APIError && /broke off/.test(error.message),
        );
        assert.equal(text, SENT);
        await assertCutShortRow(sluice, 'openai', model);
        // The stream helper too: its final completion is never a finished answer.
        await assert.rejects(
          openai.chat.completions.stream({ model, messages: [{ role: 'user', content: 'hi' }] }).finalChatCompletion(),
          (error: unknown) => error instanceof OpenAI.APIError && /broke off/.test(error.message),
        );
      },
    );
  }

  for (const model of ['gpt', 'gemini', 'bedrock']) {
    test(`Messages client over ${model}: the Anthropic SDK throws the error event after the text sent`, { timeout: 20_000 }, async () => {
      let text = '';
      const stream = anthropic.messages.stream({ model, max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] });
      stream.on('text', (delta) => (text += delta));
      await assert.rejects(
        stream.finalMessage(),
        (error: unknown) => error instanceof Anthropic.APIError && /broke off/.test(error.message),
      );
      assert.equal(text, SENT);
      await assertCutShortRow(sluice, 'anthropic', model);
    });
  }

  for (const model of ['claude', 'gemini', 'bedrock']) {
    test(`Responses API client over ${model}: error, then response.failed with the response as it stood`, { timeout: 20_000 }, async () => {
      const failed = await readFailedStream(openai, model);
      assert.deepEqual(outputTexts(failed), [[SENT]]);
      await assertCutShortRow(sluice, 'openai-responses', model);
      // The stream helper raises the error event: never a final response still in progress.
      await assert.rejects(openai.responses.stream({ model, input: 'hi' }).finalResponse(), (error: Error) =>
        /broke off/.test(error.message),
      );
    });
  }
});

// A Responses API stream passed through to OpenAI or Azure OpenAI (relayed byte for byte) that breaks off ends the same
// way: the error event, then response.failed carrying the provider's response as it stood (its id, model and
// created_at, the output items it had completed), numbered after the provider's last event.
describe('a passed-through Responses API stream that breaks off upstream', () => {
  const FRAMES = responseStreamFrames(PIECES, { input_tokens: 30, output_tokens: 8 });
  /** Everything up to the message's output_item.done (not response.completed), then half of a next event. */
  const CUT = [...FRAMES.slice(0, -1), 'event: response.output_item.added\ndata: {"type":"response.output_item.added","sequ'];
  const mocks: MockProvider[] = [];
  let sluice: TestSluice;
  let openai: OpenAI;

  before(async () => {
    const openaiMock = await MockProvider.start((_request, res) => breakOff(res, 'text/event-stream', CUT));
    // Azure's stream breaks off in the middle of the text: no output item completed yet.
    const azureMock = await MockProvider.start((_request, res) => breakOff(res, 'text/event-stream', FRAMES.slice(0, 4 + PIECES.length)));
    mocks.push(openaiMock, azureMock);
    sluice = await startTestSluice({
      providers: {
        openai: { type: 'openai', baseUrl: `${openaiMock.url}/v1`, apiKey: 'upstream-openai-key-not-real' },
        azure: { type: 'azure-openai', baseUrl: azureMock.url, apiKey: 'upstream-azure-key-not-real', apiVersion: '2024-10-21' },
      },
      models: [
        { name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] },
        { name: 'azure-4o', targets: [{ provider: 'azure', model: 'my-gpt-4o-deployment' }] },
      ],
    });
    openai = new OpenAI({ apiKey: KEYS.checkout, baseURL: `${sluice.baseURL}/v1`, maxRetries: 0 });
  });

  after(async () => {
    await sluice.stop();
    await Promise.all(mocks.map((mock) => mock.close()));
  });

  for (const [model, completed] of [
    ['gpt-4o-mini', [[SENT]]],
    ['azure-4o', []],
  ] as const) {
    test(`${model}: the provider's events, then error and response.failed with the response as it stood`, { timeout: 20_000 }, async () => {
      const failed = await readFailedStream(openai, model);
      assert.deepEqual([failed.id, failed.model, failed.created_at], ['resp_stream1', 'gpt-4o-mini-2024-07-18', 1_760_000_000]);
      assert.deepEqual(outputTexts(failed), completed);
      await assertCutShortRow(sluice, 'openai-responses', model);

      // Read raw: the provider's bytes as they came, then the two events, the last one terminal.
      const raw = await fetch(`${sluice.baseURL}/v1/responses`, {
        method: 'POST',
        headers: { authorization: `Bearer ${KEYS.checkout}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model, input: 'hi', stream: true }),
      });
      const text = await raw.text();
      const blocks = text.split('\n\n').filter((block) => block !== '');
      assert.match(blocks.at(-2)!, /^event: error\ndata: /);
      assert.match(blocks.at(-1)!, /^event: response\.failed\ndata: /);
      assert.equal(JSON.parse(blocks.at(-1)!.split('data: ')[1]!).response.status, 'failed');
      assert.ok(text.startsWith(model === 'azure-4o' ? FRAMES.slice(0, 4 + PIECES.length).join('') : FRAMES.slice(0, -1).join('')));
      // The stream helper raises the error event: never a final response still in progress.
      await assert.rejects(openai.responses.stream({ model, input: 'hi' }).finalResponse(), (error: Error) =>
        /broke off/.test(error.message),
      );
    });
  }
});
