// An MCP server's stream relayed to a client that reads slowly: Sluice reads the server only as fast as the client
// takes the answer, rather than holding whatever the server sends in memory.
import assert from 'node:assert/strict';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { KEYS, startTestSluice, type TestSluice } from '../../support/sluice.js';

/** What the server offers on each stream: far more than the sockets between it and the client can hold. */
const OFFERED = 256 * 1024 * 1024;
const EVENT = `data: {"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info","data":"${'x'.repeat(64 * 1024)}"}}\n\n`;

interface Streamer {
  url: string;
  /** Bytes of the stream the server has handed to its socket, the last stream started. */
  sent(): number;
  close(): Promise<void>;
}

/** An MCP server that answers every request with an endless SSE stream, writing only as its socket takes it. */
async function startStreamer(): Promise<Streamer> {
  let sent = 0;
  const stream = (req: IncomingMessage, res: ServerResponse): void => {
    sent = 0;
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    const more = (): void => {
      while (sent < OFFERED && !res.destroyed) {
        sent += EVENT.length;
        if (!res.write(EVENT)) return void res.once('drain', more);
      }
      res.end();
    };
    more();
  };
  const http: Server = createServer((req, res) => {
    req.resume();
    req.once('end', () => stream(req, res));
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const address = http.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    sent: () => sent,
    close: () =>
      new Promise<void>((resolve) => {
        http.closeAllConnections();
        http.close(() => resolve());
      }),
  };
}

/** Opens a call through Sluice and never reads its answer; resolves once the answer's head is in. */
function openUnread(test: TestSluice, method: 'GET' | 'POST', body: string | null): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const call = request(`${test.baseURL}/mcp/tools`, {
      method,
      headers: {
        authorization: `Bearer ${KEYS.checkout}`,
        accept: 'application/json, text/event-stream',
        ...(body === null ? {} : { 'content-type': 'application/json' }),
      },
    });
    call.once('response', (res) => {
      res.pause();
      resolve(res);
    });
    call.once('error', reject);
    call.end(body ?? undefined);
  });
}

/** The server's sent figure once it has stopped growing for half a second (the stream stalled, or ended). */
async function settled(streamer: Streamer): Promise<number> {
  let last = -1;
  while (streamer.sent() !== last) {
    last = streamer.sent();
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  return last;
}

describe('MCP gateway: a slow client', () => {
  let streamer: Streamer;
  let test: TestSluice;

  before(async () => {
    streamer = await startStreamer();
    test = await startTestSluice({
      consumers: [{ name: 'checkout-service', team: 'payments', keys: [KEYS.checkout] }],
      mcp: { servers: { tools: { url: streamer.url } }, access: [{ consumer: 'checkout-service', server: 'tools', tools: '*' }] },
    });
  });

  after(async () => {
    await test?.stop();
    await streamer?.close();
  });

  for (const [what, method, body] of [
    [
      'a tools/call answered in an SSE stream (read event by event)',
      'POST',
      '{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"tail","arguments":{}}}',
    ],
    ["the server's notification stream (relayed as it comes)", 'GET', null],
  ] as const) {
    it(`holds the server back to what the client reads: ${what}`, async () => {
      const answer = await openUnread(test, method, body);
      assert.equal(answer.statusCode, 200);
      const stalled = await settled(streamer);
      // The sockets on the way hold some megabytes; without backpressure Sluice reads the whole stream.
      assert.ok(stalled < OFFERED / 4, `the server sent ${stalled} bytes to a client that read none`);
      answer.destroy();
    });
  }
});
