// An answer that arrives on the GET stream: since MCP 2025-11-25 a server may close a POST's SSE stream after an event
// with an id, and the client then polls with GET and Last-Event-ID, where the server replays the rest, the answer
// included (Resumability and Redelivery). A tools/list answered there must be filtered to the consumer's grant as it
// is on the POST. Spec: modelcontextprotocol/modelcontextprotocol docs/specification/2025-11-25/basic/transports.mdx.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { rawMcpGateway, type RawMcpGateway } from '../../support/mock-mcp.js';
import { KEYS, type TestSluice } from '../../support/sluice.js';

const TOOLS = ['add', 'echo', 'delete_everything'].map((name) => ({ name, inputSchema: { type: 'object' } }));

describe('MCP gateway: a tools/list answer replayed on the GET stream', () => {
  let gateway: RawMcpGateway;
  let test: TestSluice;

  before(async () => {
    // A server whose POST stream closed after its priming event: the GET with Last-Event-ID replays the answer.
    gateway = await rawMcpGateway(
      (req, res) => {
        req.resume();
        if (req.method !== 'GET' || req.headers['last-event-id'] !== 'stream-1:0') return void res.writeHead(405).end();
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(
          `id: stream-1:1\ndata: ${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/message', params: { level: 'info', data: 'listing' } })}\n\n`,
        );
        res.end(`id: stream-1:2\ndata: ${JSON.stringify({ jsonrpc: '2.0', id: 2, result: { tools: TOOLS } })}\n\n`);
      },
      { server: 'tools', tools: ['add', 'echo'] },
    );
    test = gateway.sluice;
  });

  after(async () => {
    await gateway?.stop();
  });

  it('lists only the granted tools, and passes the stream on otherwise as it came', async () => {
    const answer = await fetch(`${test.baseURL}/mcp/tools`, {
      headers: { authorization: `Bearer ${KEYS.checkout}`, accept: 'text/event-stream', 'last-event-id': 'stream-1:0' },
    });
    assert.equal(answer.status, 200);
    const stream = await answer.text();
    assert.doesNotMatch(stream, /delete_everything/);
    const events = stream.split('\n\n').filter((event) => event !== '');
    assert.deepEqual(
      events.map((event) => event.match(/^id: (.*)$/m)?.[1]),
      ['stream-1:1', 'stream-1:2'],
    );
    const listed = JSON.parse(events[1]!.match(/^data: (.*)$/m)![1]!) as { id: number; result: { tools: Array<{ name: string }> } };
    assert.equal(listed.id, 2);
    assert.deepEqual(
      listed.result.tools.map((tool) => tool.name),
      ['add', 'echo'],
    );
    assert.match(events[0]!, /"listing"/);
  });
});
