// MCP 2026-07-28 mirrors the method and tool name into headers (Mcp-Method, Mcp-Name, Mcp-Param-*) that a server of that
// revision requires and checks against the body: Sluice passes them on, and refuses a tools/call whose headers name
// another tool than its body (the grant reads the body; something routing on the header would read another tool).
// Spec: modelcontextprotocol/modelcontextprotocol docs/specification/2026-07-28/basic/transports/streamable-http.mdx.
import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { rawMcpGateway, type RawMcpGateway } from '../../support/mock-mcp.js';
import { KEYS, type TestSluice } from '../../support/sluice.js';

describe('MCP gateway: the request metadata headers of MCP 2026-07-28', () => {
  let received: Array<{ headers: IncomingHttpHeaders; body: string }>;
  let gateway: RawMcpGateway;
  let test: TestSluice;

  before(async () => {
    received = [];
    // A modern MCP server's endpoint: records each request and answers every request with an empty result.
    gateway = await rawMcpGateway(
      (req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (chunk: Buffer) => chunks.push(chunk));
        req.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          received.push({ headers: req.headers, body });
          const id = (JSON.parse(body) as { id?: unknown }).id ?? null;
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ jsonrpc: '2.0', id, result: { resultType: 'complete', content: [{ type: 'text', text: 'ran' }] } }));
        });
      },
      { server: 'spanner', tools: ['execute_sql', 'résumé'] },
    );
    test = gateway.sluice;
  });

  after(async () => {
    await gateway?.stop();
  });

  const call = (headers: Record<string, string>, message: Record<string, unknown>) =>
    fetch(`${test.baseURL}/mcp/spanner`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${KEYS.checkout}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-protocol-version': '2026-07-28',
        ...headers,
      },
      body: JSON.stringify({ jsonrpc: '2.0', ...message }),
    });

  it('passes Mcp-Method, Mcp-Name and Mcp-Param-* on to the server', async () => {
    const answer = await call(
      { 'mcp-method': 'tools/call', 'mcp-name': 'execute_sql', 'mcp-param-region': 'us-west1' },
      { id: 1, method: 'tools/call', params: { name: 'execute_sql', arguments: { region: 'us-west1', query: 'SELECT 1' } } },
    );
    assert.equal(answer.status, 200);
    await answer.arrayBuffer();
    const headers = received.at(-1)!.headers;
    assert.equal(headers['mcp-method'], 'tools/call');
    assert.equal(headers['mcp-name'], 'execute_sql');
    assert.equal(headers['mcp-param-region'], 'us-west1');
    assert.equal(headers['mcp-protocol-version'], '2026-07-28');
    const listed = await call({ 'mcp-method': 'tools/list' }, { id: 2, method: 'tools/list' });
    assert.equal(listed.status, 200);
    await listed.arrayBuffer();
    assert.equal(received.at(-1)!.headers['mcp-method'], 'tools/list');
  });

  it('reads a Base64-encoded Mcp-Name as the tool it names', async () => {
    const encoded = `=?base64?${Buffer.from('résumé', 'utf8').toString('base64')}?=`;
    const answer = await call(
      { 'mcp-method': 'tools/call', 'mcp-name': encoded },
      { id: 3, method: 'tools/call', params: { name: 'résumé' } },
    );
    assert.equal(answer.status, 200);
    await answer.arrayBuffer();
    assert.equal(received.at(-1)!.headers['mcp-name'], encoded);
  });

  it('refuses with HeaderMismatch (400, -32020) a tools/call whose headers name another tool or method than its body', async () => {
    const before = received.length;
    for (const headers of [
      { 'mcp-method': 'tools/call', 'mcp-name': 'execute_sql' },
      { 'mcp-method': 'tools/call', 'mcp-name': `=?base64?${Buffer.from('execute_sql').toString('base64')}?=` },
      { 'mcp-method': 'tools/list', 'mcp-name': 'drop_database' },
    ]) {
      const answer = await call(headers, { id: 4, method: 'tools/call', params: { name: 'drop_database', arguments: {} } });
      assert.equal(answer.status, 400, JSON.stringify(headers));
      const body = (await answer.json()) as { id: unknown; error: { code: number; message: string } };
      assert.equal(body.id, 4);
      assert.equal(body.error.code, -32020);
      assert.match(body.error.message, /Mcp-(Name|Method)/);
    }
    assert.equal(received.length, before, 'never sent on');
  });
});
