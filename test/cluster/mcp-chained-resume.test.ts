// A tools/call's answer resumed twice, through three gateways: the server closes the POST's stream (taken by gateway
// one) after its priming event, the client resumes with GET and Last-Event-ID through gateway two, whose stream the
// server closes too after a progress notification, and resumes from that event's id through gateway three, where the
// answer comes. Resumption applies however the broken stream began, POST or GET, and the event ids are a cursor per
// stream. The call is one row, with its consumer, tool, server and the outcome its answer gave.
// Spec: modelcontextprotocol/modelcontextprotocol docs/specification/2025-11-25/basic/transports.mdx (Resumability and
// Redelivery: "This mechanism applies regardless of how the original stream was initiated (via POST or GET)").
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startMcpGateways, stopAndReadCalls, stopMcpGateways, type McpGateway } from '../support/mcp-gateways.js';
import { testKeyPrefix } from '../support/redis.js';
import { KEYS } from '../support/sluice.js';

// Long enough for the test's requests on a loaded machine: past it an answer is not the call's to record.
const TIMEOUT_MS = 30_000;

describe("MCP: a tools/call's answer resumed through a third gateway", () => {
  let upstream: Server;
  const lastEventIds: Array<string | undefined> = [];
  let gateways: McpGateway[] = [];
  const keyPrefix = testKeyPrefix();

  before(async () => {
    upstream = createServer((req, res) => {
      req.resume();
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      if (req.method === 'POST') return void res.end('id: call-9:0\ndata: \n\n');
      const last = req.headers['last-event-id'] as string | undefined;
      lastEventIds.push(last);
      const progress = { jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 't', progress: 1 } };
      if (last === 'call-9:0') return void res.end(`id: call-9:1\ndata: ${JSON.stringify(progress)}\n\n`);
      const answer = { jsonrpc: '2.0', id: 9, result: { content: [], isError: true } };
      res.end(`id: call-9:2\ndata: ${JSON.stringify(answer)}\n\n`);
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const { port } = upstream.address() as AddressInfo;
    gateways = await startMcpGateways(['one', 'two', 'three'], `http://127.0.0.1:${port}/mcp`, TIMEOUT_MS, keyPrefix);
  });

  after(() => stopMcpGateways(gateways, upstream, keyPrefix));

  it('is one row, with the call and its outcome, written by the gateway that read the answer', { timeout: 60_000 }, async () => {
    const [one, two, three] = gateways as [McpGateway, McpGateway, McpGateway];
    const headers = { authorization: `Bearer ${KEYS.checkout}`, accept: 'application/json, text/event-stream' };
    const requestId = 'mcp-chained-call-0001';
    const posted = await fetch(one.url, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json', 'x-request-id': requestId },
      body: JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'tools/call', params: { name: 'add', arguments: { a: 1, b: 2 } } }),
    });
    const primed = (await posted.text()).match(/^id: (.*)$/m)?.[1];
    assert.ok(primed !== undefined, 'the priming event keeps an id to resume from');
    const first = await (await fetch(two.url, { headers: { ...headers, 'last-event-id': primed } })).text();
    assert.match(first, /notifications\/progress/);
    const progressed = first.match(/^id: (.*)$/m)?.[1];
    assert.ok(progressed !== undefined, 'the progress event keeps an id to resume from');
    const second = await fetch(three.url, { headers: { ...headers, 'last-event-id': progressed } });
    assert.match(await second.text(), /"isError":true/);
    assert.deepEqual(lastEventIds, ['call-9:0', 'call-9:1'], 'the server is sent its own event ids');
    // Stopping, the gateway that took the POST gives up on the answer (its 504, unless the call was claimed): last.
    const rows = await stopAndReadCalls([three, two, one]);
    const call = { request_id: requestId, consumer: 'checkout-service', provider: 'mcp:tools', provider_model: 'add' };
    assert.deepEqual(rows, [{ gateway: 'three', ...call, status: 200, error_class: 'mcp_tool_error' }]);
  });
});
