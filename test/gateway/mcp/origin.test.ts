// The Origin header on /mcp (MCP Streamable HTTP, "Security Warning": servers MUST validate Origin and answer 403 to a
// present, invalid one). A web page can make a browser POST a JSON body to Sluice without a CORS preflight (as
// text/plain), carrying whatever credentials the browser holds for it (a client certificate): the call would run. Only
// the origins listed in mcp.allowedOrigins get through; a client that sends no Origin (a program, not a browser) does.
// Spec: modelcontextprotocol/modelcontextprotocol docs/specification/2025-11-25/basic/transports.mdx.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { startMockMcp, MOCK_MCP_TOKEN, type MockMcp } from '../../support/mock-mcp.js';
import { KEYS, ledgerRows, startTestSluice, type TestSluice } from '../../support/sluice.js';

function post(test: TestSluice, origin: string | null): Promise<Response> {
  return fetch(`${test.baseURL}/mcp/tools`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${KEYS.checkout}`,
      // What a page can send cross-origin without a preflight.
      'content-type': 'text/plain',
      accept: 'application/json, text/event-stream',
      ...(origin === null ? {} : { origin }),
    },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'delete_everything', arguments: {} } }),
  });
}

async function assertRefused(answer: Response, origin: string): Promise<void> {
  assert.equal(answer.status, 403, origin);
  const body = (await answer.json()) as Record<string, unknown> & { error: { code: number; message: string } };
  assert.equal(body.jsonrpc, '2.0');
  assert.equal(body.error.code, -32006);
  assert.match(body.error.message, /Origin/);
}

for (const allowedOrigins of [undefined, ['https://agents.example.com']]) {
  describe(`MCP gateway: the Origin header, ${allowedOrigins === undefined ? 'no origin allowed (the default)' : 'one origin allowed'}`, () => {
    let server: MockMcp;
    let test: TestSluice;

    before(async () => {
      server = await startMockMcp({ json: true });
      test = await startTestSluice({
        consumers: [{ name: 'checkout-service', team: 'payments', keys: [KEYS.checkout] }],
        mcp: {
          servers: { tools: { url: server.url, headers: { authorization: `Bearer ${MOCK_MCP_TOKEN}` } } },
          access: [{ consumer: 'checkout-service', server: 'tools', tools: '*' }],
          ...(allowedOrigins !== undefined && { allowedOrigins }),
        },
      });
    });

    after(async () => {
      await test?.stop();
      await server?.close();
    });

    it('refuses a request from an origin not allowed with 403 and a JSON-RPC error, before it reaches the server', async () => {
      const seen = server.received.length;
      for (const origin of ['https://evil.example', 'null', 'https://agents.example.com.evil.example']) {
        await assertRefused(await post(test, origin), origin);
      }
      await assertRefused(
        await fetch(`${test.baseURL}/mcp`, { headers: { authorization: `Bearer ${KEYS.checkout}`, origin: 'https://evil.example' } }),
        'GET /mcp',
      );
      assert.equal(server.received.length, seen);
      assert.ok(!server.calls.includes('delete_everything'));
      assert.deepEqual(
        (await ledgerRows(test)).filter((row) => row.operation === 'mcp_tool_call'),
        [],
        'nothing was called, nothing recorded',
      );
    });

    it('serves a client that sends no Origin (the official SDK in Node)', async () => {
      const client = new Client({ name: 'test-agent', version: '1.0.0' });
      await client.connect(
        new StreamableHTTPClientTransport(new URL(`${test.baseURL}/mcp/tools`), {
          requestInit: { headers: { authorization: `Bearer ${KEYS.checkout}` } },
        }),
      );
      try {
        const { tools } = await client.listTools();
        assert.ok(tools.some((tool) => tool.name === 'add'));
      } finally {
        await client.close();
      }
    });

    if (allowedOrigins !== undefined)
      it('serves an origin listed in mcp.allowedOrigins', async () => {
        const allowed = await post(test, 'https://agents.example.com');
        assert.notEqual(allowed.status, 403);
        await allowed.arrayBuffer();
      });
  });
}
