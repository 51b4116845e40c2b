// Anthropic's code execution tool and OpenAI's code interpreter are billed by container time (Anthropic: $0.05 per
// container-hour past 1,550 free hours a month, 5 minutes at least; OpenAI: per container or 20-minute session by
// memory size), which no answer states: Sluice prices such a call at its tokens (and its web searches) only, never at a
// guessed container charge, and never takes the answer's code execution count for searches (docs/metering.md). The
// official SDKs against Sluice in front of mock Anthropic and OpenAI servers that "ran code", and the ledger's cost.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { json, MockProvider } from '../support/mock-provider.js';
import { messageItem, responseObject } from '../support/mock-responses.js';
import { KEYS, ledgerRows, startTestSluice, type TestSluice } from '../support/sluice.js';

/** Claude's answer after running code twice and searching once, in a container the answer names. */
const ranCode = {
  id: 'msg_code1',
  type: 'message',
  role: 'assistant',
  model: 'claude-sonnet-4-5-20250929',
  container: { id: 'container_011CPR5CNjB747bTd36fQLFk', expires_at: '2026-12-07T21:13:31.749448Z' },
  content: [
    { type: 'server_tool_use', id: 'srvtoolu_01', name: 'bash_code_execution', input: { command: 'python3 -c "print(6*7)"' } },
    {
      type: 'bash_code_execution_tool_result',
      tool_use_id: 'srvtoolu_01',
      content: { type: 'bash_code_execution_result', stdout: '42\n', stderr: '', return_code: 0, content: [] },
    },
    { type: 'text', text: 'It is 42.' },
  ],
  stop_reason: 'end_turn',
  stop_sequence: null,
  usage: { input_tokens: 100, output_tokens: 50, server_tool_use: { web_search_requests: 1, code_execution_requests: 2 } },
};

const interpreterCall = {
  id: 'ci_1',
  type: 'code_interpreter_call',
  status: 'completed',
  code: 'print(6*7)',
  container_id: 'cntr_mock1',
  outputs: [{ type: 'logs', logs: '42\n' }],
};

describe('code execution is not priced: what it is billed on is in no answer', () => {
  let anthropicMock: MockProvider;
  let openaiMock: MockProvider;
  let sluice: TestSluice;

  before(async () => {
    anthropicMock = await MockProvider.start((_request, res) => json(res, 200, ranCode));
    openaiMock = await MockProvider.start((_request, res) =>
      json(res, 200, responseObject([interpreterCall, messageItem('It is 42.')], { input_tokens: 40, output_tokens: 12 }, 'gpt-4.1')),
    );
    sluice = await startTestSluice({
      providers: {
        anthropic: { type: 'anthropic', baseUrl: anthropicMock.url, apiKey: 'sk-ant-upstream-not-real' },
        openai: { type: 'openai', baseUrl: `${openaiMock.url}/v1`, apiKey: 'sk-upstream-not-real' },
      },
      // The catalog's prices: claude-sonnet-4-5 $3 / $15, gpt-4.1 $2 / $8 per 1M tokens, searches $10 per 1,000.
      models: [
        { name: 'claude-sonnet-4-5', targets: [{ provider: 'anthropic', model: 'claude-sonnet-4-5' }] },
        { name: 'gpt-4.1', targets: [{ provider: 'openai', model: 'gpt-4.1' }] },
        { name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] },
      ],
    });
  });

  after(async () => {
    await sluice.stop();
    await Promise.all([anthropicMock.close(), openaiMock.close()]);
  });

  test("Anthropic's code execution tool: its tokens and its one search, not its two code executions", async () => {
    const client = new Anthropic({ apiKey: KEYS.checkout, baseURL: sluice.baseURL, maxRetries: 0 });
    const answer = await client.messages.create({
      model: 'claude-sonnet-4-5',
      max_tokens: 1024,
      messages: [{ role: 'user', content: 'What is 6 times 7? Run it.' }],
      tools: [{ type: 'code_execution_20250825', name: 'code_execution' }],
    });
    assert.equal(answer.container?.id, ranCode.container.id, 'the answer is passed through as it came');
    const rows = (await ledgerRows(sluice)).filter((row) => row.requested_model === 'claude-sonnet-4-5');
    assert.deepEqual(
      rows.map((row) => [row.cost_micro_usd, (row as unknown as { web_searches: number }).web_searches]),
      [[100 * 3 + 50 * 15 + 1 * 10_000, 1]],
    );
  });

  test("OpenAI's code interpreter in the Responses API: the call's tokens only", async () => {
    const client = new OpenAI({ apiKey: KEYS.checkout, baseURL: `${sluice.baseURL}/v1`, maxRetries: 0 });
    const answer = await client.responses.create({
      model: 'gpt-4.1',
      input: 'What is 6 times 7? Run it.',
      tools: [{ type: 'code_interpreter', container: { type: 'auto' } }],
    });
    assert.equal(answer.output_text, 'It is 42.');
    const rows = (await ledgerRows(sluice)).filter((row) => row.requested_model === 'gpt-4.1');
    assert.deepEqual(
      rows.map((row) => row.cost_micro_usd),
      [40 * 2 + 12 * 8],
    );
  });
});
