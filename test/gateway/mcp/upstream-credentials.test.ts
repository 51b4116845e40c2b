// An MCP server that refuses the credentials Sluice holds for it (401/403): the client, which authenticated to Sluice
// fine, gets a 502 saying so, never the server's 401 and its WWW-Authenticate challenge (an MCP client answers those by
// starting an OAuth flow for its own credentials), and the ledger records the call as the server's refusal.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { startMockMcp, type MockMcp } from '../../support/mock-mcp.js';
import { KEYS, ledgerRows, startTestSluice, type TestSluice } from '../../support/sluice.js';

const EXPIRED = 'mcp-expired-token-not-valid-0002';

describe('MCP gateway: a server refusing the credentials Sluice holds for it', () => {
  let server: MockMcp;
  let sluice: TestSluice;

  before(async () => {
    server = await startMockMcp({ json: true });
    sluice = await startTestSluice({
      consumers: [{ name: 'checkout-service', team: 'payments', keys: [KEYS.checkout] }],
      mcp: {
        servers: { expired: { url: server.url, headers: { authorization: `Bearer ${EXPIRED}` } } },
        access: [{ consumer: 'checkout-service', server: 'expired', tools: '*' }],
      },
    });
  });

  after(async () => {
    await sluice?.stop();
    await server?.close();
  });

  it("answers an MCP client's connect with a 502 naming the server's refusal, not the server's 401", async () => {
    const client = new Client({ name: 'test-agent', version: '1.0.0' });
    const transport = new StreamableHTTPClientTransport(new URL(`${sluice.baseURL}/mcp/expired`), {
      requestInit: { headers: { authorization: `Bearer ${KEYS.checkout}` } },
    });
    await assert.rejects(client.connect(transport), (error: unknown) => {
      assert.equal((error as { code?: unknown }).code, 502, String(error));
      assert.match((error as Error).message, /MCP server 'expired' refused the credentials Sluice holds for it \(HTTP 401\)/);
      return true;
    });
    await client.close();
  });

  it('answers a tools/call with a JSON-RPC error, no challenge, and records it in the ledger', async () => {
    const answer = await fetch(`${sluice.baseURL}/mcp/expired`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${KEYS.checkout}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'add', arguments: { a: 1, b: 2 } } }),
    });
    assert.equal(answer.status, 502);
    assert.equal(answer.headers.get('www-authenticate'), null);
    const body = (await answer.json()) as { jsonrpc: string; id: unknown; error: { code: number; message: string } };
    assert.deepEqual([body.jsonrpc, body.id, body.error.code], ['2.0', 7, -32005]);
    assert.ok(!body.error.message.includes(EXPIRED) && !body.error.message.includes('access token expired'), body.error.message);
    const rows = (await ledgerRows(sluice)).filter((row) => row.operation === 'mcp_tool_call');
    assert.equal(rows.length, 1);
    assert.deepEqual([rows[0]!.status, rows[0]!.error_class, rows[0]!.provider], [502, 'mcp_upstream_unauthorized', 'mcp:expired']);
  });
});
