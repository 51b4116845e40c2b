// An answer that arrives on the GET stream: since MCP 2025-11-25 a server may close a POST's SSE stream after an event
// with an id, and the client then polls with GET and Last-Event-ID, where the server replays the rest, the answer
// included (Resumability and Redelivery). A tools/list answered there must be filtered to the consumer's grant as it
// is on the POST, and a tools/call answered there is recorded once, with the outcome read there.
// Spec: modelcontextprotocol/modelcontextprotocol docs/specification/2025-11-25/basic/transports.mdx.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { rawMcpGateway, type RawMcpGateway } from '../../support/mock-mcp.js';
import { deleteTestKeys, TEST_REDIS, testKeyPrefix, testRedisUrlVia } from '../../support/redis.js';
import { KEYS, ledgerRows, ledgerRowWhere, type TestSluice } from '../../support/sluice.js';
import { TcpRelay } from '../../support/tcp-relay.js';

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

describe('MCP gateway: a tools/call answered on the GET stream', () => {
  let gateway: RawMcpGateway;

  before(async () => {
    // The POST's stream ends after its priming event, before the answer; the GET with Last-Event-ID delivers it.
    gateway = await rawMcpGateway(
      (req, res) => {
        req.resume();
        if (req.method === 'POST') {
          res.writeHead(200, { 'content-type': 'text/event-stream' });
          return void res.end('id: call-1:0\ndata: \n\n');
        }
        if (req.headers['last-event-id'] !== 'call-1:0') return void res.writeHead(405).end();
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.end(`id: call-1:1\ndata: ${JSON.stringify({ jsonrpc: '2.0', id: 7, result: { content: [], isError: true } })}\n\n`);
      },
      { server: 'tools', tools: ['add'] },
    );
  });

  after(async () => {
    await gateway?.stop();
  });

  it('records the call once, with the outcome its answer on the GET stream gives', async () => {
    const headers = { authorization: `Bearer ${KEYS.checkout}`, accept: 'application/json, text/event-stream' };
    const posted = await fetch(`${gateway.sluice.baseURL}/mcp/tools`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'add', arguments: { a: 1, b: 2 } } }),
    });
    assert.equal(posted.status, 200);
    assert.doesNotMatch(await posted.text(), /"result"/);
    const resumed = await fetch(`${gateway.sluice.baseURL}/mcp/tools`, { headers: { ...headers, 'last-event-id': 'call-1:0' } });
    assert.equal(resumed.status, 200);
    assert.match(await resumed.text(), /"isError":true/);
    const rows = (await ledgerRows(gateway.sluice)).filter((row) => row.operation === 'mcp_tool_call');
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.provider_model, 'add');
    assert.equal(rows[0]!.status, 200);
    assert.equal(rows[0]!.error_class, 'mcp_tool_error');
    assert.equal(rows[0]!.stream, 1);
  });
});

describe('MCP gateway: a tools/call whose answer never comes after its stream closed', () => {
  let gateway: RawMcpGateway;

  before(async () => {
    gateway = await rawMcpGateway(
      (req, res) => {
        req.resume();
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.end('id: call-2:0\ndata: \n\n');
      },
      { server: 'tools', tools: ['add'], timeoutMs: 200 },
    );
  });

  after(async () => {
    await gateway?.stop();
  });

  it("records the call once as unanswered (504 mcp_answer_unseen) after the server's timeout", async () => {
    const posted = await fetch(`${gateway.sluice.baseURL}/mcp/tools`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${KEYS.checkout}`,
        accept: 'application/json, text/event-stream',
        'content-type': 'application/json',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 8, method: 'tools/call', params: { name: 'add', arguments: { a: 1, b: 2 } } }),
    });
    assert.equal(posted.status, 200);
    await posted.text();
    const row = await ledgerRowWhere(gateway.sluice, 'the unanswered call', (found) => found.operation === 'mcp_tool_call');
    assert.equal(row.status, 504);
    assert.equal(row.error_class, 'mcp_answer_unseen');
    assert.ok(row.latency_ms >= 200, String(row.latency_ms));
    assert.equal((await ledgerRows(gateway.sluice)).filter((found) => found.operation === 'mcp_tool_call').length, 1);
  });
});

describe('MCP gateway: a tools/call answered on the GET stream as the gateway stops, its counters on a slow Redis', () => {
  let gateway: RawMcpGateway;
  let relay: TcpRelay;
  const keyPrefix = testKeyPrefix();

  before(async () => {
    relay = await TcpRelay.start(TEST_REDIS);
    gateway = await rawMcpGateway(
      (req, res) => {
        req.resume();
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        if (req.method === 'POST') return void res.end('id: call-3:0\ndata: \n\n');
        res.end(`id: call-3:1\ndata: ${JSON.stringify({ jsonrpc: '2.0', id: 5, result: { content: [] } })}\n\n`);
      },
      { server: 'tools', tools: ['add'] },
      { counters: { url: testRedisUrlVia(relay.port), keyPrefix } },
    );
  });

  after(async () => {
    await gateway?.stop();
    await relay?.close();
    await deleteTestKeys(keyPrefix);
  });

  it('is recorded before the ledger closes: the stop waits for the claim that makes the call one row', async () => {
    const headers = { authorization: `Bearer ${KEYS.checkout}`, accept: 'application/json, text/event-stream' };
    const posted = await fetch(`${gateway.sluice.baseURL}/mcp/tools`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 5, method: 'tools/call', params: { name: 'add', arguments: { a: 1, b: 2 } } }),
    });
    await posted.text();
    // Redis answers the claim made once the answer is read only after the client has that answer and the stop began.
    relay.delayAnswers(500);
    const resumed = await fetch(`${gateway.sluice.baseURL}/mcp/tools`, { headers: { ...headers, 'last-event-id': 'call-3:0' } });
    assert.match(await resumed.text(), /"content":\[\]/);
    await gateway.sluice.stop();
    const db = new Database(gateway.sluice.dbPath, { readonly: true });
    const rows = db.prepare("SELECT status, error_class FROM transactions WHERE operation = 'mcp_tool_call'").all();
    db.close();
    assert.deepEqual(rows, [{ status: 200, error_class: null }]);
  });
});
