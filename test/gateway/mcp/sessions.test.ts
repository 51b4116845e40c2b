// MCP sessions through Sluice: the server sees one caller (Sluice, with its credentials), so it cannot tell one
// consumer's session from another's. A session id is the consumer's that opened it: another consumer presenting it
// (leaked in a log, a shared trace) gets 404 as for an unknown session, and never the owner's server-initiated stream,
// its replayed events or the power to end it. Spec: modelcontextprotocol/modelcontextprotocol
// docs/specification/2025-11-25/basic/transports.mdx (Session Management: 404 for a session the server does not hold)
// and basic/security_best_practices.mdx (Session Hijacking: bind the session to the user).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { assertSessionRefused, initializeMcpSession, startMockMcp, MOCK_MCP_TOKEN, type MockMcp } from '../../support/mock-mcp.js';
import { KEYS, startTestSluice, type TestSluice } from '../../support/sluice.js';

describe("MCP gateway: one consumer's session is not another's", () => {
  let server: MockMcp;
  let test: TestSluice;
  let url: string;

  before(async () => {
    server = await startMockMcp();
    test = await startTestSluice({
      consumers: [
        { name: 'checkout-service', team: 'payments', keys: [KEYS.checkout] },
        { name: 'search-service', team: 'discovery', keys: [KEYS.search] },
      ],
      mcp: {
        servers: { tools: { url: server.url, headers: { authorization: `Bearer ${MOCK_MCP_TOKEN}` } } },
        access: [
          { consumer: 'checkout-service', server: 'tools', tools: '*' },
          { consumer: 'search-service', server: 'tools', tools: '*' },
        ],
      },
    });
    url = `${test.baseURL}/mcp/tools`;
  });

  after(async () => {
    await test?.stop();
    await server?.close();
  });

  it("answers 404 to another consumer presenting a session's id, for POST, GET and DELETE, and leaves the session to its owner", async () => {
    const owner = await initializeMcpSession(url, KEYS.checkout, 'owner');
    const initialized = await fetch(url, {
      method: 'POST',
      headers: owner,
      body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }),
    });
    assert.equal(initialized.status, 202);
    const other = { ...owner, authorization: `Bearer ${KEYS.search}` };
    await assertSessionRefused(url, other, server);
    const listed = await fetch(url, {
      method: 'POST',
      headers: owner,
      body: JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'tools/list' }),
    });
    assert.equal(listed.status, 200);
    assert.match(await listed.text(), /"add"/);
    const ended = await fetch(url, { method: 'DELETE', headers: owner });
    assert.equal(ended.status, 200);
    await ended.arrayBuffer();
  });

  it('serves each consumer its own session side by side', async () => {
    const first = await initializeMcpSession(url, KEYS.checkout, 'first');
    const second = await initializeMcpSession(url, KEYS.search, 'second');
    assert.notEqual(first['mcp-session-id'], second['mcp-session-id']);
    for (const headers of [first, second]) {
      const listed = await fetch(url, { method: 'POST', headers, body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }) });
      assert.equal(listed.status, 200);
      await listed.arrayBuffer();
    }
  });
});
