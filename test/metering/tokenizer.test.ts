// The tokenizer behind estimates and admission: exact on ordinary text, and linear on runs that BPE merges in quadratic
// time (one letter, spaces or CJK repeated), which any key holder or upstream can send.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { countTokens, encode } from 'gpt-tokenizer/encoding/o200k_base';
import OpenAI from 'openai';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Worker } from 'node:worker_threads';
import type { ChatRequest } from '../../src/ir/chat.js';
import { countTextTokens, estimatePromptTokens, loadedOnce, promptTokensNow, TokenCountCache } from '../../src/metering/tokenizer.js';
import { json, MockProvider, openaiCompletion } from '../support/mock-provider.js';
import { KEYS, ledgerRows, startTestSluice } from '../support/sluice.js';

const started: Array<{ stop(): Promise<void> }> = [];
after(async () => {
  for (const thing of started.reverse()) await thing.stop();
});

/** A gateway over `mock` with a token budget: admission counts every prompt with the tokenizer only when one applies. */
async function budgetedGateway(mock: MockProvider) {
  started.push({ stop: () => mock.close() });
  const sluice = await startTestSluice({
    providers: { openai: { type: 'openai', baseUrl: `${mock.url}/v1`, apiKey: 'sk-upstream-not-real' } },
    models: [{ name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }], pricing: { input: 1, output: 2 } }],
    budgets: [{ name: 'tokens', consumers: { consumer: 'checkout-service' }, measure: 'total_tokens', limit: 100_000_000, window: 'day' }],
  });
  started.push(sluice);
  return sluice;
}

describe('tokenizer', () => {
  test('ordinary text counts exactly as the BPE tokenizer counts it', async () => {
    const texts = [
      'The quick brown fox jumps over the lazy dog, and then it runs away into the forest. '.repeat(2_000),
      '我们的团队正在开发一个新的网关系统，它可以处理大量的人工智能请求并进行计费。'.repeat(500),
      JSON.stringify({
        tools: Array.from({ length: 300 }, (_, i) => ({ name: `tool_${i}`, parameters: { type: 'object', description: 'x'.repeat(40) } })),
      }),
      `${'word '.repeat(100)}${'a'.repeat(512)} tail`,
      // Tokens that are bytes rather than text (pieces of emoji and rare characters), beside Arabic, Hindi and Cyrillic.
      '👩‍👩‍👧‍👦 🧑🏽‍🚀 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 مرحبا بالعالم नमस्ते दुनिया Привет, мир '.repeat(200),
    ];
    for (const text of texts) assert.equal(await countTextTokens([text]), countTokens(text));
  });

  // o200k_base's special tokens are markers a model's own framing uses; a caller's text that spells one is text, as
  // OpenAI counts it. gpt-tokenizer's countTokens refuses such text by default (it throws), which failed the call.
  const SPELLED_SPECIAL = 'Docs say <|endoftext|> ends a document; <|endofprompt|> and <|im_start|>user too.';

  test('text that spells a special token is counted as the text it is', async () => {
    assert.equal(await countTextTokens([SPELLED_SPECIAL]), encode(SPELLED_SPECIAL, { disallowedSpecial: new Set() }).length);
  });

  test('a budgeted gateway serves and meters a prompt that spells a special token', async () => {
    // No usage in the answer, as some compatible servers send: metering counts the prompt and output itself.
    const mock = await MockProvider.start((request, res) => {
      const { usage: _usage, ...answer } = openaiCompletion('It reads <|endoftext|> as text.', undefined, String(request.body.model));
      json(res, 200, answer);
    });
    const sluice = await budgetedGateway(mock);
    const client = new OpenAI({ apiKey: KEYS.checkout, baseURL: `${sluice.baseURL}/v1`, maxRetries: 0 });
    const answer = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: SPELLED_SPECIAL }] });
    assert.equal(answer.choices[0]!.message.content, 'It reads <|endoftext|> as text.');
    assert.equal(mock.received.length, 1);
    const [row] = await ledgerRows(sluice);
    assert.equal(row!.status, 200);
    assert.equal(row!.tokens_estimated, 1);
    const plain = (text: string) => encode(text, { disallowedSpecial: new Set() }).length;
    // OpenAI's framing: 3 tokens per message and 3 to prime the reply.
    assert.equal(row!.input_tokens, plain(SPELLED_SPECIAL) + 6);
    assert.equal(row!.output_tokens, plain('It reads <|endoftext|> as text.'));
    assert.ok(row!.cost_micro_usd !== null && row!.cost_micro_usd > 0);
  });

  // Unsliced, 2 MB of one letter takes about 25 minutes of one core. The counts run in a worker, so a tokenizer that blocks
  // fails this test at its deadline instead of hanging the suite.
  test('a run of megabytes of one letter, spaces, newlines or one CJK character is counted in linear time', async () => {
    const size = 2_000_000;
    const counted = await inWorker(size, 60_000);
    assert.ok(Math.abs(counted.letters - size / 8) <= size / 512, `a run of letters: ${counted.letters}`);
    assert.ok(counted.spaces > 0 && counted.newlines > 0);
    assert.ok(Math.abs(counted.cjk - size) <= size / 512 + 1, `a run of one CJK character: ${counted.cjk}`);
    const expected = countTokens('Hello there. '.repeat(1_000)) + size / 8 + countTokens(' after'.repeat(1_000));
    assert.ok(Math.abs(counted.mixed - expected) <= size / 512 + 2, `prose around a run: ${counted.mixed} against ${expected}`);
  });

  test('a budgeted gateway admits a 3 MB single-word prompt and keeps serving', { timeout: 60_000 }, async () => {
    const mock = await MockProvider.start((request, res) =>
      json(res, 200, openaiCompletion('ok', { prompt_tokens: 5, completion_tokens: 1 }, String(request.body.model))),
    );
    const sluice = await budgetedGateway(mock);
    const client = new OpenAI({ apiKey: KEYS.checkout, baseURL: `${sluice.baseURL}/v1`, maxRetries: 0 });
    const answer = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'q'.repeat(3_000_000) }],
    });
    assert.equal(answer.choices[0]!.message.content, 'ok');
    assert.equal(mock.received.length, 1);
    const models = await fetch(`${sluice.baseURL}/v1/models`, { headers: { authorization: `Bearer ${KEYS.checkout}` } });
    assert.equal(models.status, 200);
  });
});

interface Counted {
  letters: number;
  spaces: number;
  newlines: number;
  cjk: number;
  mixed: number;
}

/** Counts the pathological texts in a worker thread; rejects if that takes longer than `deadlineMs`. */
function inWorker(size: number, deadlineMs: number): Promise<Counted> {
  const tokenizer = new URL('../../src/metering/tokenizer.js', import.meta.url).href;
  const source = `
    const { parentPort, workerData } = require('node:worker_threads');
    import(workerData.tokenizer).then(async ({ countTextTokens }) => {
      const size = workerData.size;
      const count = (text) => countTextTokens([text]);
      parentPort.postMessage({
        letters: await count('a'.repeat(size)),
        spaces: await count(' '.repeat(size)),
        newlines: await count('\\n'.repeat(size)),
        cjk: await count('\\u4e2d'.repeat(size)),
        mixed: await count('Hello there. '.repeat(1000) + 'a'.repeat(size) + ' after'.repeat(1000)),
      });
    });`;
  const worker = new Worker(source, { eval: true, workerData: { tokenizer, size } });
  return new Promise((resolve, reject) => {
    const deadline = setTimeout(() => {
      void worker.terminate();
      reject(new Error(`the tokenizer took longer than ${deadlineMs} ms`));
    }, deadlineMs);
    worker.once('message', (counted: Counted) => {
      clearTimeout(deadline);
      void worker.terminate();
      resolve(counted);
    });
    worker.once('error', (error) => {
      clearTimeout(deadline);
      reject(error);
    });
  });
}

describe("the tokenizer's memory", () => {
  test('counting varied text does not grow the heap past a bounded cache of merges', async () => {
    // A word not in the vocabulary is merged from its bytes, and gpt-tokenizer keeps each such merge (100,000 by default:
    // 28 MB for this text). Made-up words from a few syllables, so nearly every one is new.
    const syllables = ['ka', 'ro', 'mi', 'sen', 'tel', 'vor', 'qu', 'zan', 'pli', 'gru', 'ex', 'ost', 'ine', 'ula', 'bra', 'dre'];
    // xorshift32: the same words at every run.
    let seed = 2_463_534_242;
    const next = () => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return seed >>> 0;
    };
    const word = () => Array.from({ length: 3 + (next() % 4) }, () => syllables[next() % syllables.length]).join('');
    const texts = Array.from({ length: 1_500 }, () => Array.from({ length: 100 }, word).join(' '));
    await countTextTokens(['load the tables first']);
    const before = heapAfterCollection();
    let counted = 0;
    for (const text of texts) counted += await countTextTokens([text]);
    const grown = heapAfterCollection() - before;
    assert.ok(counted > texts.length * 100);
    // The cache's bound (MERGE_CACHE_ENTRIES) is some 2.5 MB; the library's default kept 28 MB here.
    assert.ok(grown < 8 * 1024 * 1024, `the heap grew by ${(grown / 1048576).toFixed(1)} MB`);
  });
});

describe("the tokenizer's tables, loaded on first use", () => {
  test('are loaded once for every caller; a load that failed is tried again by the next call', async () => {
    let loads = 0;
    const tables = loadedOnce(async () => {
      loads++;
      await new Promise((resolve) => setTimeout(resolve, 10));
      if (loads === 1) throw new Error('the ranks thread exited with 1');
      return `tables ${loads}`;
    });
    // Two callers while the first load runs share it, and its failure.
    const [first, second] = await Promise.allSettled([tables(), tables()]);
    assert.equal(first.status, 'rejected');
    assert.equal(second.status, 'rejected');
    assert.equal(loads, 1);
    // The failure is not kept: the next call loads again, and what it loaded serves every later call.
    assert.deepEqual(await Promise.all([tables(), tables()]), ['tables 2', 'tables 2']);
    assert.equal(await tables(), 'tables 2');
    assert.equal(loads, 2);
  });
});

describe("a translated stream's first event does not wait for the tokenizer", () => {
  test('before the tables are loaded the count is rough and the load starts; after, it is the exact estimate', async () => {
    // A thread of its own, so the tokenizer's module starts unloaded, as in a gateway just started.
    const tokenizer = new URL('../../src/metering/tokenizer.js', import.meta.url).href;
    const source = `
      const { parentPort, workerData } = require('node:worker_threads');
      import(workerData.tokenizer).then(async ({ promptTokensNow, estimatePromptTokens }) => {
        const request = workerData.request;
        const before = promptTokensNow(request);
        // The load promptTokensNow started, waited for here only to see its result.
        const exact = await estimatePromptTokens(request);
        parentPort.postMessage({ before, exact, after: promptTokensNow(request) });
      });`;
    const request: ChatRequest = {
      model: 'claude-bedrock',
      stream: true,
      // Long numbers: the tokenizer cuts them in threes, so the rough and the exact counts differ.
      messages: [{ role: 'user', content: [{ type: 'text', text: 'Add 1234567890123456789 and 9876543210987654321, please.' }] }],
    };
    const worker = new Worker(source, { eval: true, workerData: { tokenizer, request } });
    const counts = await new Promise<{ before: number; exact: number; after: number }>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    await worker.terminate();
    // 56 characters: 14 rough tokens (21 exact), and the framing of one message and the reply (3 + 3).
    assert.equal(counts.before, 14 + 6);
    assert.equal(counts.exact, 21 + 6);
    assert.equal(counts.exact, await estimatePromptTokens(request));
    assert.equal(counts.after, counts.exact);
    assert.equal(promptTokensNow(request), counts.exact, 'loaded here by the tests above: exact at once');
  });
});

describe('a stop does not wait for the tokenizer', () => {
  test('counts waiting for the load, or asked for while countWithoutWaiting() lasts, are rough; after it, exact', async () => {
    // A thread of its own, so the tokenizer's module starts unloaded, as in a gateway stopped before any call loaded it.
    const tokenizer = new URL('../../src/metering/tokenizer.js', import.meta.url).href;
    const source = `
      const { parentPort, workerData } = require('node:worker_threads');
      import(workerData.tokenizer).then(async ({ countTextTokens, estimatePromptTokens, countWithoutWaiting }) => {
        const texts = ['1234567890123456789 and 9876543210987654321'];
        const waiting = countTextTokens(texts);
        const done = countWithoutWaiting();
        const rough = await waiting;
        // Asked for while it lasts: rough too, without waiting for the load.
        const roughPrompt = await estimatePromptTokens(workerData.request);
        done();
        const [exact, exactPrompt] = await Promise.all([countTextTokens(texts), estimatePromptTokens(workerData.request)]);
        parentPort.postMessage({ rough, roughPrompt, exact, exactPrompt });
      });`;
    const request: ChatRequest = {
      model: 'gpt-4o-mini',
      stream: false,
      messages: [{ role: 'user', content: [{ type: 'text', text: 'Add 1234567890123456789 and 9876543210987654321, please.' }] }],
    };
    const worker = new Worker(source, { eval: true, workerData: { tokenizer, request } });
    const counts = await new Promise<{ rough: number; roughPrompt: number; exact: number; exactPrompt: number }>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    await worker.terminate();
    // 43 characters: 11 rough tokens; the tokenizer cuts numbers in threes.
    assert.equal(counts.rough, 11);
    assert.equal(counts.exact, await countTextTokens(['1234567890123456789 and 9876543210987654321']));
    assert.notEqual(counts.exact, counts.rough);
    // The rough prompt count was not kept: the exact one follows once loaded.
    assert.equal(counts.roughPrompt, 14 + 6);
    assert.equal(counts.exactPrompt, 21 + 6);
  });
});

describe('prompt counts kept for texts that repeat', () => {
  test('a kept count is the count; the least recently used go first, within the bound in characters', () => {
    let counted = 0;
    const count = (text: string) => {
      counted++;
      return countTokens(text);
    };
    const cache = new TokenCountCache(30);
    const system = 'You are a helpful assistant.'; // 28 characters
    assert.equal(cache.count(system, count), countTokens(system));
    assert.equal(cache.count(system, count), countTokens(system));
    assert.equal(counted, 1, 'the second time is answered from the cache');
    // Over the bound: the oldest text goes, the newest stays.
    cache.count('short one', count);
    assert.equal(cache.size, 1);
    assert.equal(cache.count('short one', count), countTokens('short one'));
    assert.equal(counted, 2);
    cache.count(system, count);
    assert.equal(counted, 3, 'the system prompt had gone and was counted again');
    // Used recently, a text outlives one added before it but used less recently.
    const small = new TokenCountCache(20);
    small.count('aaaa', count);
    small.count('bbbb', count);
    small.count('aaaa', count); // now the most recent
    small.count('c'.repeat(12), count); // 20 in all: fits
    small.count('dd', count); // 22: the least recently used (bbbb) goes
    const before = counted;
    small.count('aaaa', count);
    assert.equal(counted, before, 'aaaa was kept');
    small.count('bbbb', count);
    assert.equal(counted, before + 1, 'bbbb was not');
    // A text longer than the whole bound is counted and not kept.
    const tiny = new TokenCountCache(4);
    tiny.count('longer than four', count);
    assert.equal(tiny.size, 0);
  });

  test('a prompt estimated twice is estimated alike (system prompt and history answered from the cache)', async () => {
    const request: ChatRequest = {
      model: 'gpt-4o-mini',
      stream: false,
      messages: [
        { role: 'system' as const, content: [{ type: 'text' as const, text: 'You are terse. '.repeat(40) }] },
        { role: 'user' as const, content: [{ type: 'text' as const, text: 'What is a fox?' }] },
      ],
    };
    const first = await estimatePromptTokens(request);
    assert.equal(await estimatePromptTokens(request), first);
    assert.equal(first, 3 + 3 + countTokens('You are terse. '.repeat(40)) + 3 + countTokens('What is a fox?'));
  });
});

/** The heap in use after a full collection: V8's gc() exposed for this call only (by flag, then a fresh context). */
function heapAfterCollection(): number {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  gc();
  return process.memoryUsage().heapUsed;
}
