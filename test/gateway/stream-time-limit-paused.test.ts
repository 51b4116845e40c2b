// retry.maxStreamMs cuts a stream whose client has stopped reading (docs/routing.md, Timeouts: the stream's whole
// length counts "the client's slow reading included"). The provider keeps sending until its writes block: Sluice, its
// client's socket full, stops reading the upstream (backpressure), so the body has no silence deadline, only the whole
// time's. At the limit the upstream's connection is closed, the client's stream ends, and the call is recorded as
// stream_time_limit and counted in sluice_streams_cut_total.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { request, type IncomingMessage, type ServerResponse } from 'node:http';
import { MockProvider, openaiStreamFrames } from '../support/mock-provider.js';
import { KEYS, ledgerRowWhere, startTestSluice, type TestSluice } from '../support/sluice.js';
import { until } from '../support/until.js';

const LIMIT_MS = 1000;
/** A piece of text the provider sends as one chunk, large enough to fill the sockets' buffers within the limit. */
const PIECE = 'more '.repeat(12_000);

/**
 * What the provider saw: its connections, and since when its writes have been blocked (Sluice not reading), null while
 * they go through; `blockedAtClose`: how long they had been blocked when the connection closed.
 */
const upstream = { opened: 0, closed: 0, blockedSince: null as number | null, blockedAtClose: 0 };

/** An endless Chat Completions stream: a chunk whenever the connection takes one, as a real server writes. */
function endless(res: ServerResponse): void {
  const chunk = `data: ${JSON.stringify({
    id: 'chatcmpl-paused',
    object: 'chat.completion.chunk',
    created: 1_700_000_000,
    model: 'gpt-4o-mini',
    choices: [{ index: 0, delta: { content: PIECE }, finish_reason: null }],
  })}\n\n`;
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  res.write(openaiStreamFrames([], null)[0]!);
  upstream.opened++;
  let open = true;
  res.socket!.once('close', () => {
    open = false;
    upstream.blockedAtClose = upstream.blockedSince === null ? 0 : Date.now() - upstream.blockedSince;
    upstream.closed++;
  });
  const send = (): void => {
    upstream.blockedSince = null;
    while (open) {
      if (!res.write(chunk)) {
        upstream.blockedSince = Date.now();
        res.once('drain', send);
        return;
      }
    }
  };
  send();
}

let mock: MockProvider;
let sluice: TestSluice;

before(async () => {
  mock = await MockProvider.start((_received, res) => endless(res));
  sluice = await startTestSluice({
    providers: { openai: { type: 'openai', baseUrl: `${mock.url}/v1`, apiKey: 'upstream-openai-key-not-real' } },
    routing: { retry: { attempts: 1, backoffMs: 5, timeoutMs: 5_000, maxStreamMs: LIMIT_MS } },
    models: [
      { name: 'gpt', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] },
      // The test config's second consumer may use it; never called.
      { name: 'gpt-4o-mini', targets: [{ provider: 'openai', model: 'gpt-4o-mini' }] },
    ],
  });
});

after(async () => {
  await sluice?.stop();
  await mock?.close();
});

test('a stream whose client stopped reading is cut at maxStreamMs', { timeout: 60_000 }, async () => {
  const cutsBefore = await cuts();
  const started = Date.now();
  const body = JSON.stringify({ model: 'gpt', stream: true, messages: [{ role: 'user', content: 'tell me everything' }] });
  const answer = await new Promise<IncomingMessage>((resolve, reject) => {
    const req = request(`${sluice.baseURL}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEYS.checkout}`, 'content-type': 'application/json' },
    });
    req.once('response', resolve).once('error', reject).end(body);
  });
  assert.equal(answer.statusCode, 200);
  // The client reads the first bytes, then nothing more.
  await new Promise((resolve) => answer.once('data', resolve));
  answer.pause();
  let ended = false;
  answer.once('end', () => (ended = true)).once('close', () => (ended = true));
  await until('the upstream connection is closed', () => upstream.closed === upstream.opened, 10_000);
  const cutAfter = Date.now() - started;
  assert.ok(cutAfter >= LIMIT_MS && cutAfter < LIMIT_MS + 2_000, `cut after ${cutAfter} ms`);
  // Held back by the paused client: Sluice had stopped reading it well before the cut.
  assert.ok(upstream.blockedAtClose >= LIMIT_MS / 4, `the provider's writes blocked for ${upstream.blockedAtClose} ms at the cut`);
  const row = await ledgerRowWhere(sluice, 'the cut stream recorded', (found) => found.requested_model === 'gpt');
  assert.deepEqual([row.status, row.error_class, row.stream], [200, 'stream_time_limit', 1]);
  assert.ok(row.latency_ms >= LIMIT_MS && row.latency_ms < LIMIT_MS + 2_000, `latency ${row.latency_ms} ms`);
  assert.ok(row.output_tokens > 0, `${row.output_tokens} output tokens recorded`);
  assert.equal((await cuts()) - cutsBefore, 1);
  // The client's stream ends once it reads again: what Sluice had sent, then the end.
  answer.resume();
  await until("the client's stream ends", () => ended, 10_000);
});

/** sluice_streams_cut_total{reason="stream_time_limit"}, 0 before any cut. */
async function cuts(): Promise<number> {
  const metrics = await sluice.sluice.context.metrics.registry.metrics();
  const line = metrics.split('\n').find((found) => found.startsWith('sluice_streams_cut_total{reason="stream_time_limit"}'));
  return line === undefined ? 0 : Number(line.split(' ').at(-1));
}
