// A tools/call's answer resumed through another gateway: since MCP 2025-11-25 a server may close a POST's SSE stream
// after an event with an id, and the client resumes with GET and Last-Event-ID, where the answer comes. Behind one
// address (a load balancer) that GET may reach another gateway than the POST did. Two `sluice` processes sharing the
// deployment's master key and the counters' Redis: the call is one ledger row with the outcome its answer gave, written
// by the gateway that read the answer, under the call's own request id; the gateway that took the POST writes nothing.
// Spec: modelcontextprotocol/modelcontextprotocol docs/specification/2025-11-25/basic/transports.mdx (Resumability and
// Redelivery: the server replays the messages after Last-Event-ID; event ids are opaque to the client).
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { deleteTestKeys, TEST_REDIS_URL, testKeyPrefix } from '../support/redis.js';
import { KEYS } from '../support/sluice.js';
import { freePort, startSluiceProcess, type SluiceProcess } from '../support/sluice-process.js';
import { scratchDir } from '../support/scratch.js';

const MASTER_KEY = Buffer.alloc(32, 12).toString('base64');
const TIMEOUT_MS = 1500;

describe("MCP: a tools/call's answer resumed on a GET stream through another gateway", () => {
  let upstream: Server;
  const lastEventIds: Array<string | undefined> = [];
  const gateways: Array<{ sluice: SluiceProcess; url: string; dbPath: string }> = [];
  const keyPrefix = testKeyPrefix();

  before(async () => {
    // The POST's stream ends after its priming event, before the answer; the GET with its Last-Event-ID delivers it.
    upstream = createServer((req, res) => {
      req.resume();
      if (req.method === 'POST') {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        return void res.end('id: call-9:0\ndata: \n\n');
      }
      lastEventIds.push(req.headers['last-event-id'] as string | undefined);
      if (req.headers['last-event-id'] !== 'call-9:0') return void res.writeHead(405).end();
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end(`id: call-9:1\ndata: ${JSON.stringify({ jsonrpc: '2.0', id: 9, result: { content: [], isError: true } })}\n\n`);
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const { port: upstreamPort } = upstream.address() as AddressInfo;
    const dir = scratchDir('sluice-mcp-resumed-');
    for (const name of ['one', 'two']) {
      const port = await freePort();
      const adminPort = await freePort();
      const config = join(dir, `${name}.yaml`);
      const dbPath = join(dir, `${name}.db`);
      writeFileSync(
        config,
        `
gateway: { host: 127.0.0.1, port: ${port} }
admin: { host: 127.0.0.1, port: ${adminPort}, token: admin-token-for-the-mcp-resumed-test }
storage: sqlite:${dbPath}
counters: { url: "${TEST_REDIS_URL}", keyPrefix: "${keyPrefix}" }
consumers:
  - { name: checkout-service, team: payments, keys: ["${KEYS.checkout}"] }
mcp:
  servers:
    tools: { url: "http://127.0.0.1:${upstreamPort}/mcp", timeoutMs: ${TIMEOUT_MS} }
  access:
    - { consumer: checkout-service, server: tools, tools: ["add"] }
`,
      );
      const sluice = await startSluiceProcess(['start', '--config', config], {
        cwd: dir,
        env: { SLUICE_MASTER_KEY: MASTER_KEY },
        adminURL: `http://127.0.0.1:${adminPort}`,
      });
      gateways.push({ sluice, url: `http://127.0.0.1:${port}/mcp/tools`, dbPath });
    }
  });

  after(async () => {
    for (const { sluice } of gateways) await sluice.stop();
    upstream?.closeAllConnections();
    await new Promise<void>((resolve) => upstream?.close(() => resolve()));
    await deleteTestKeys(keyPrefix);
  });

  it('is recorded once, with its outcome, by the gateway that read the answer', { timeout: 60_000 }, async () => {
    const [one, two] = gateways as [(typeof gateways)[0], (typeof gateways)[0]];
    const headers = { authorization: `Bearer ${KEYS.checkout}`, accept: 'application/json, text/event-stream' };
    const requestId = 'mcp-resumed-call-0001';
    const posted = await fetch(one.url, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json', 'x-request-id': requestId },
      body: JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'tools/call', params: { name: 'add', arguments: { a: 1, b: 2 } } }),
    });
    assert.equal(posted.status, 200);
    const primed = (await posted.text()).match(/^id: (.*)$/m)?.[1];
    assert.ok(primed !== undefined, 'the priming event keeps an id to resume from');
    const resumed = await fetch(two.url, { headers: { ...headers, 'last-event-id': primed } });
    assert.equal(resumed.status, 200);
    assert.match(await resumed.text(), /"isError":true/);
    assert.equal(lastEventIds.at(-1), 'call-9:0', 'the server is sent its own event id');
    // Past the wait of the gateway that took the POST: it has given up on the answer by now.
    await sleep(TIMEOUT_MS + 500);
    const rows: Array<{ gateway: string; request_id: string; status: number; error_class: string | null; provider_model: string }> = [];
    for (const [index, { sluice, dbPath }] of gateways.entries()) {
      await sluice.stop();
      const db = new Database(dbPath, { readonly: true });
      const found = db
        .prepare("SELECT request_id, status, error_class, provider_model FROM transactions WHERE operation = 'mcp_tool_call'")
        .all() as Array<{ request_id: string; status: number; error_class: string | null; provider_model: string }>;
      db.close();
      rows.push(...found.map((row) => ({ gateway: index === 0 ? 'one' : 'two', ...row })));
    }
    assert.deepEqual(rows, [{ gateway: 'two', request_id: requestId, status: 200, error_class: 'mcp_tool_error', provider_model: 'add' }]);
  });
});
