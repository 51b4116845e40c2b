// MCP 2026-07-28 through Sluice: `subscriptions/listen` (which replaced the GET stream and resources/subscribe) is a
// POST whose SSE answer stays open for as long as the client listens, and a tools/list Sluice filters to a consumer's
// grant is that consumer's alone, whatever cache scope the server gave the whole list. Spec:
// modelcontextprotocol/modelcontextprotocol docs/specification/2026-07-28/basic/patterns/subscriptions.mdx and
// server/utilities/caching.mdx ("private" for filtered list results that vary per user).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { rawMcpGateway, type RawMcpGateway } from '../../support/mock-mcp.js';
import { KEYS } from '../../support/sluice.js';

const TOOLS = ['add', 'echo', 'delete_everything'].map((name) => ({ name, inputSchema: { type: 'object' } }));
/** The server's timeout in sluice.yaml: a listening stream stays quiet longer than this. */
const TIMEOUT_MS = 300;

describe('MCP gateway: MCP 2026-07-28 subscriptions and cacheable lists', () => {
  let gateway: RawMcpGateway;
  const headers = {
    authorization: `Bearer ${KEYS.checkout}`,
    accept: 'application/json, text/event-stream',
    'content-type': 'application/json',
  };

  before(async () => {
    gateway = await rawMcpGateway(
      (req, res) => {
        let body = '';
        req.on('data', (chunk: Buffer) => (body += chunk.toString()));
        req.on('end', () => {
          const message = JSON.parse(body) as { id: number; method: string };
          if (message.method === 'tools/list') {
            const result = { resultType: 'complete', tools: TOOLS, ttlMs: 60_000, cacheScope: 'public' };
            return void res
              .writeHead(200, { 'content-type': 'application/json' })
              .end(JSON.stringify({ jsonrpc: '2.0', id: message.id, result }));
          }
          const meta = { 'io.modelcontextprotocol/subscriptionId': message.id };
          res.writeHead(200, { 'content-type': 'text/event-stream' });
          const acknowledged = {
            method: 'notifications/subscriptions/acknowledged',
            params: { _meta: meta, notifications: { toolsListChanged: true } },
          };
          res.write(`data: ${JSON.stringify({ jsonrpc: '2.0', ...acknowledged })}\n\n`);
          // Quiet for longer than the server's timeout, as a listening stream is until something changes.
          setTimeout(() => {
            res.write(
              `data: ${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/tools/list_changed', params: { _meta: meta } })}\n\n`,
            );
            res.end(`data: ${JSON.stringify({ jsonrpc: '2.0', id: message.id, result: { resultType: 'complete', _meta: meta } })}\n\n`);
          }, TIMEOUT_MS * 3);
        });
      },
      { server: 'tools', tools: ['add', 'echo'], timeoutMs: TIMEOUT_MS },
    );
  });

  after(async () => {
    await gateway?.stop();
  });

  it("keeps a subscriptions/listen stream open past the server's timeout, until the server ends it", async () => {
    const listening = await fetch(`${gateway.sluice.baseURL}/mcp/tools`, {
      method: 'POST',
      headers: { ...headers, 'mcp-method': 'subscriptions/listen' },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'subscriptions/listen',
        params: { notifications: { toolsListChanged: true } },
      }),
    });
    assert.equal(listening.status, 200);
    const stream = await listening.text();
    assert.match(stream, /notifications\/subscriptions\/acknowledged/);
    assert.match(stream, /notifications\/tools\/list_changed/);
    assert.match(stream, /"resultType":"complete"/);
  });

  it('marks a tools/list filtered to the grant private, the server\'s "public" notwithstanding', async () => {
    const listed = await fetch(`${gateway.sluice.baseURL}/mcp/tools`, {
      method: 'POST',
      headers: { ...headers, 'mcp-method': 'tools/list' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }),
    });
    assert.equal(listed.status, 200);
    const { result } = (await listed.json()) as { result: { tools: Array<{ name: string }>; cacheScope: string; ttlMs: number } };
    assert.deepEqual(
      result.tools.map((tool) => tool.name),
      ['add', 'echo'],
    );
    assert.equal(result.cacheScope, 'private');
    assert.equal(result.ttlMs, 60_000);
  });
});
