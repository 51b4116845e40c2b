// A tools/call the gateway reads one way and the MCP server another: JSON with a key twice is read by JSON.parse with
// the last value winning, by some servers' parsers with the first. The grant must hold for what the server runs.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { rawMcpGateway, type RawMcpGateway } from '../../support/mock-mcp.js';
import { KEYS, type TestSluice } from '../../support/sluice.js';

describe('MCP gateway: what the server reads is what the grant checked', () => {
  let bodies: string[];
  let gateway: RawMcpGateway;
  let test: TestSluice;

  before(async () => {
    bodies = [];
    // An MCP server that records each body as it came and answers every request with an empty result.
    gateway = await rawMcpGateway(
      (req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (chunk: Buffer) => chunks.push(chunk));
        req.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          bodies.push(text);
          const id = (JSON.parse(text) as { id?: unknown }).id ?? null;
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ jsonrpc: '2.0', id, result: { content: [{ type: 'text', text: 'ran' }] } }));
        });
      },
      { server: 'tools', tools: ['add'] },
    );
    test = gateway.sluice;
  });

  after(async () => {
    await gateway?.stop();
  });

  const call = (body: string) =>
    fetch(`${test.baseURL}/mcp/tools`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${KEYS.checkout}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body,
    });

  it('sends the server a tools/call with each key once, as the gateway read it', async () => {
    // Granted by its last "name"; a first-wins parser would run delete_everything.
    const sent = '{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"delete_everything","arguments":{},"name":"add"}}';
    const answer = await call(sent);
    assert.equal(answer.status, 200);
    await answer.arrayBuffer();
    const received = bodies.at(-1)!;
    assert.equal(received.match(/"name"/g)?.length, 1, received);
    assert.deepEqual(JSON.parse(received), JSON.parse(sent));
  });

  it('refuses a tools/call whose integer id JSON numbers cannot hold exactly', async () => {
    const before = bodies.length;
    const answer = await call('{"jsonrpc":"2.0","id":12345678901234567890,"method":"tools/call","params":{"name":"add","arguments":{}}}');
    assert.equal(answer.status, 400);
    const error = (await answer.json()) as { error: { code: number; message: string } };
    assert.equal(error.error.code, -32600);
    assert.match(error.error.message, /id/);
    assert.equal(bodies.length, before);
  });

  it('passes other messages on byte for byte', async () => {
    const sent = '{ "jsonrpc": "2.0", "id": 8, "method": "tools/list" }';
    const answer = await call(sent);
    assert.equal(answer.status, 200);
    await answer.arrayBuffer();
    assert.equal(bodies.at(-1), sent);
  });
});
