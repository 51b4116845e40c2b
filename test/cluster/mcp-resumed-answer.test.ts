// A tools/call's answer resumed through another gateway: since MCP 2025-11-25 a server may close a POST's SSE stream
// after an event with an id, and the client resumes with GET and Last-Event-ID, where the answer comes. Behind one
// address (a load balancer) that GET may reach another gateway than the POST did. Two `sluice` processes sharing the
// deployment's master key and the counters' Redis: the call is one ledger row with the outcome its answer gave, written
// by the gateway that read the answer, under the call's own request id; the gateway that took the POST writes nothing.
// Two sharing the master key but not their counters: the call is one row all the same, the 504 of the gateway that took
// the POST (the one that read the answer cannot keep that from being written, so it writes nothing).
// Spec: modelcontextprotocol/modelcontextprotocol docs/specification/2025-11-25/basic/transports.mdx (Resumability and
// Redelivery: the server replays the messages after Last-Event-ID; event ids are opaque to the client).
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startMcpGateways, stopAndReadCalls, stopMcpGateways, type McpCallRow, type McpGateway } from '../support/mcp-gateways.js';
import { testKeyPrefix } from '../support/redis.js';
import { KEYS } from '../support/sluice.js';

// Long enough for the test's requests on a loaded machine: past it an answer is not the call's to record.
const TIMEOUT_MS = 30_000;

for (const shared of [true, false]) {
  describe(`MCP: a tools/call's answer resumed on a GET stream through another gateway, ${shared ? 'on one Redis' : 'each with its own counters'}`, () => {
    let upstream: Server;
    const lastEventIds: Array<string | undefined> = [];
    let gateways: McpGateway[] = [];
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
      const { port } = upstream.address() as AddressInfo;
      gateways = await startMcpGateways(['one', 'two'], `http://127.0.0.1:${port}/mcp`, TIMEOUT_MS, shared ? keyPrefix : null);
    });

    after(() => stopMcpGateways(gateways, upstream, keyPrefix));

    const outcome = shared ? 'by the gateway that read the answer, with its outcome' : 'by the gateway that took the POST, as unseen';
    it(`is recorded once, ${outcome}`, { timeout: 60_000 }, async () => {
      const [one, two] = gateways as [McpGateway, McpGateway];
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
      const call = { request_id: requestId, consumer: 'checkout-service', provider: 'mcp:tools', provider_model: 'add' };
      const row: McpCallRow = shared
        ? { gateway: 'two', ...call, status: 200, error_class: 'mcp_tool_error' }
        : { gateway: 'one', ...call, status: 504, error_class: 'mcp_answer_unseen' };
      // Stopping, the gateway that took the POST gives up on the answer (its 504, unless the call was claimed): last.
      assert.deepEqual(await stopAndReadCalls([two, one]), [row]);
    });
  });
}
