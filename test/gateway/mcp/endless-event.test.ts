// A broken MCP server that answers a tools/call with an SSE event that never ends (a data line without its newline,
// or data lines without the blank line closing the event): Sluice reads the answer event by event to see the call's
// outcome, so without a bound it would hold the whole unfinished event in memory. Past the largest answer it holds it
// gives up: the client's stream is cut, the server's connection closed, the call recorded as the server's failure.
import assert from 'node:assert/strict';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { KEYS, ledgerRowWhere, startTestSluice, type TestSluice } from '../../support/sluice.js';
import { until } from '../../support/until.js';

/** Far more than Sluice holds of one message (32 MiB). */
const OFFERED = 96 * 1024 * 1024;
const PIECE = 'x'.repeat(64 * 1024);

interface Broken {
  url: string;
  /** How much of the last answer the server handed to its socket, and whether Sluice closed it before the end. */
  last: { sent: number; cut: boolean; done: boolean };
  close(): Promise<void>;
}

async function startBroken(shape: 'line' | 'lines'): Promise<Broken> {
  const last = { sent: 0, cut: false, done: false };
  const answer = (res: ServerResponse): void => {
    Object.assign(last, { sent: 0, cut: false, done: false });
    res.once('close', () => {
      last.cut = !res.writableFinished;
      last.done = true;
    });
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write(shape === 'line' ? 'data: {"jsonrpc":"2.0","id":7,"result":"' : 'data: {"jsonrpc":"2.0","id":7,\n');
    const piece = shape === 'line' ? PIECE : `data: ${PIECE}\n`;
    const more = (): void => {
      while (last.sent < OFFERED && !res.destroyed) {
        last.sent += piece.length;
        if (!res.write(piece)) return void res.once('drain', more);
      }
      res.end();
    };
    more();
  };
  const http: Server = createServer((req, res) => {
    req.resume();
    req.once('end', () => answer(res));
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const address = http.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    last,
    close: () =>
      new Promise<void>((resolve) => {
        http.closeAllConnections();
        http.close(() => resolve());
      }),
  };
}

for (const shape of ['line', 'lines'] as const) {
  describe(`MCP gateway: a server whose SSE event never ends (${shape === 'line' ? 'one endless line' : 'no blank line'})`, () => {
    let broken: Broken;
    let test: TestSluice;

    before(async () => {
      broken = await startBroken(shape);
      test = await startTestSluice({
        consumers: [{ name: 'checkout-service', team: 'payments', keys: [KEYS.checkout] }],
        mcp: { servers: { tools: { url: broken.url } }, access: [{ consumer: 'checkout-service', server: 'tools', tools: '*' }] },
      });
    });

    after(async () => {
      await test?.stop();
      await broken?.close();
    });

    it('stops reading it past the largest message, cuts the stream and records the call as failed', async () => {
      const answered = fetch(`${test.baseURL}/mcp/tools`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${KEYS.checkout}`,
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
        },
        body: '{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"tail","arguments":{}}}',
      }).then((answer) => answer.text());
      // Cut before any event was complete: the client sees the answer fail, not end as if whole.
      await assert.rejects(answered);
      await until('the server sees its answer closed', () => broken.last.done);
      assert.ok(broken.last.cut && broken.last.sent < OFFERED, `the server sent ${broken.last.sent} bytes, cut: ${broken.last.cut}`);
      const row = await ledgerRowWhere(test, 'the tools/call', (row) => row.operation === 'mcp_tool_call');
      assert.deepEqual([row.status, row.error_class, row.stream], [502, 'upstream_unavailable', 1]);
    });
  });
}
