// A stream's events are held whole until they end: one that arrives in many reads costs its size, not its size times its
// reads, and one that never ends is cut at the limit, the gateway serving other calls meanwhile and the call recorded.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request, type ServerResponse } from 'node:http';
import { anthropicStreamFrames, MockProvider, openaiStreamFrames } from '../support/mock-provider.js';
import { responseStreamFrames } from '../support/mock-responses.js';
import { KEYS, ledgerRows, startTestSluice, type TestSluice } from '../support/sluice.js';

const MiB = 1024 * 1024;
/** The largest event a stream may hold (docs/operations.md). */
const MAX_EVENT_BYTES = 32 * MiB;
const BIG = 'a'.repeat(8 * MiB);

interface Route {
  name: string;
  path: string;
  model: string;
  body: Record<string, unknown>;
  headers: Record<string, string>;
}

const ROUTES: Route[] = [
  {
    name: 'OpenAI pass-through',
    path: '/v1/chat/completions',
    model: 'gpt',
    body: { messages: [{ role: 'user', content: 'hi' }] },
    headers: {},
  },
  {
    name: 'Anthropic pass-through',
    path: '/v1/messages',
    model: 'claude',
    body: { max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] },
    headers: { 'anthropic-version': '2023-06-01' },
  },
  { name: 'Responses pass-through', path: '/v1/responses', model: 'gpt', body: { input: 'hi' }, headers: {} },
  { name: 'translated', path: '/v1/chat/completions', model: 'claude', body: { messages: [{ role: 'user', content: 'hi' }] }, headers: {} },
];

/** The frames of a streamed answer in the upstream's API, one piece of text `piece`. */
function framesFor(path: string, piece: string): string[] {
  if (path.endsWith('/messages')) return anthropicStreamFrames(['start ', piece, ' end']);
  if (path.endsWith('/responses')) return responseStreamFrames(['start ', piece, ' end'], { input_tokens: 5, output_tokens: 9 });
  return openaiStreamFrames(['start ', piece, ' end'], { prompt_tokens: 5, completion_tokens: 9 });
}

/** Writes `text` in 16 KiB writes, each waiting for the event loop's turn: the gateway reads it in as many pieces. */
async function trickle(res: ServerResponse, text: string): Promise<void> {
  for (let at = 0; at < text.length && !res.destroyed; at += 16 * 1024) {
    if (!res.write(text.slice(at, at + 16 * 1024))) await new Promise((resolve) => res.once('drain', resolve));
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** Opens an event and never ends it: its data runs on in 64 KiB writes until the gateway hangs up (or 48 MiB). */
async function endlessEvent(res: ServerResponse): Promise<void> {
  res.write('data: {"type":"x","text":"');
  const piece = Buffer.alloc(64 * 1024, 'a');
  for (let sent = 0; sent < 48 * MiB && !res.destroyed; sent += piece.length) {
    if (!res.write(piece)) await new Promise((resolve) => res.once('drain', resolve));
  }
  res.end();
}

describe('stream events of any size', () => {
  let mock: MockProvider;
  let sluice: TestSluice;

  before(async () => {
    mock = await MockProvider.start(async (received, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const frames = framesFor(received.path, BIG);
      const [opening] = frames;
      if (String(received.body.model).startsWith('endless-')) {
        res.write(opening);
        return endlessEvent(res);
      }
      for (const frame of frames) await trickle(res, frame);
      res.end();
    });
    sluice = await startTestSluice({
      providers: {
        openai: { type: 'openai', baseUrl: `${mock.url}/v1`, apiKey: 'openai-key-not-real' },
        anthropic: { type: 'anthropic', baseUrl: mock.url, apiKey: 'anthropic-key-not-real' },
      },
      models: [
        { name: 'gpt', targets: [{ provider: 'openai', model: 'gpt-upstream' }] },
        { name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] },
        { name: 'claude', targets: [{ provider: 'anthropic', model: 'claude-upstream' }] },
        { name: 'gpt-endless', targets: [{ provider: 'openai', model: 'endless-gpt' }] },
        { name: 'claude-endless', targets: [{ provider: 'anthropic', model: 'endless-claude' }] },
      ],
      // Each upstream's stream goes to one attempt: the endless one is not asked for twice.
      routing: { retry: { attempts: 0, backoffMs: 5, timeoutMs: 30_000 } },
    });
  });

  after(async () => {
    await sluice.stop();
    await mock.close();
  });

  /** Streams a call, asking /healthz every 100 ms meanwhile: the answer's text, and the slowest /healthz. */
  async function streamWhileProbing(route: Route, requestId: string, endless: boolean): Promise<{ text: string; slowestHealthMs: number }> {
    let slowest = 0;
    let probing = true;
    const probes = (async () => {
      while (probing) {
        const started = Date.now();
        await new Promise<void>((resolve, reject) =>
          request(`${sluice.baseURL}/healthz`, (res) => res.resume().on('end', resolve))
            .on('error', reject)
            .end(),
        );
        slowest = Math.max(slowest, Date.now() - started);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();
    const text = await new Promise<string>((resolve, reject) => {
      const req = request(
        `${sluice.baseURL}${route.path}`,
        {
          method: 'POST',
          headers: {
            authorization: `Bearer ${KEYS.checkout}`,
            'content-type': 'application/json',
            'x-request-id': requestId,
            ...route.headers,
          },
        },
        (res) => {
          assert.equal(res.statusCode, 200);
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(JSON.stringify({ model: endless ? `${route.model}-endless` : route.model, stream: true, ...route.body }));
    });
    probing = false;
    await probes;
    return { text, slowestHealthMs: slowest };
  }

  for (const route of ROUTES) {
    test(`${route.name}: an 8 MiB event sent in 16 KiB pieces is relayed whole, and the gateway answers meanwhile`, async () => {
      const { text, slowestHealthMs } = await streamWhileProbing(route, `big-${route.name.replace(/\W/g, '-')}`, false);
      assert.ok(text.includes(BIG), `the 8 MiB piece relayed (got ${text.length} characters: ${text.slice(-200)})`);
      assert.doesNotMatch(text.slice(-400), /broke off/);
      assert.ok(slowestHealthMs < 1_000, `/healthz took ${slowestHealthMs} ms while the event came in`);
    });

    test(`${route.name}: an event that never ends is cut at ${MAX_EVENT_BYTES} bytes with the stream's error, and recorded once`, async () => {
      const requestId = `endless-${route.name.replace(/\W/g, '-')}`;
      const { text, slowestHealthMs } = await streamWhileProbing(route, requestId, true);
      // The tail: a Responses stream passed through follows the error event with response.failed, which repeats it.
      assert.match(text.slice(-4000), new RegExp(`broke off: an event of the stream runs past ${MAX_EVENT_BYTES} bytes`));
      assert.ok(slowestHealthMs < 1_000, `/healthz took ${slowestHealthMs} ms while the event came in`);
      const rows = (await ledgerRows(sluice)).filter((row) => row.request_id === requestId);
      assert.equal(rows.length, 1);
      assert.equal(rows[0]!.error_class, 'stream_interrupted');
    });
  }
});
