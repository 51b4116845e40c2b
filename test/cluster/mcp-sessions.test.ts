// MCP sessions across gateways: two `sluice` processes behind one address (a load balancer), sharing the deployment's
// master key and nothing else. A session opened through one is its consumer's on the other too: another consumer
// presenting its id there (leaked in a log, a shared trace) gets 404 as for a session the server does not hold, and
// the owner carries on through either. Spec: modelcontextprotocol/modelcontextprotocol
// docs/specification/2025-11-25/basic/transports.mdx (Session Management: 404 for a session the server does not hold)
// and basic/security_best_practices.mdx (Session Hijacking: bind the session to the user).
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { assertSessionRefused, initializeMcpSession, MOCK_MCP_TOKEN, startMockMcp, type MockMcp } from '../support/mock-mcp.js';
import { KEYS } from '../support/sluice.js';
import { freePort, startSluiceProcess, type SluiceProcess } from '../support/sluice-process.js';
import { scratchDir } from '../support/scratch.js';

const MASTER_KEY = Buffer.alloc(32, 11).toString('base64');

describe('MCP sessions across two gateways sharing the master key', () => {
  let server: MockMcp;
  const gateways: Array<{ sluice: SluiceProcess; url: string }> = [];

  before(async () => {
    server = await startMockMcp();
    const dir = scratchDir('sluice-mcp-sessions-');
    for (const name of ['one', 'two']) {
      const port = await freePort();
      const adminPort = await freePort();
      const config = join(dir, `${name}.yaml`);
      writeFileSync(
        config,
        `
gateway: { host: 127.0.0.1, port: ${port} }
admin: { host: 127.0.0.1, port: ${adminPort}, token: admin-token-for-the-mcp-sessions-test }
storage: sqlite:${join(dir, `${name}.db`)}
consumers:
  - { name: checkout-service, team: payments, keys: ["${KEYS.checkout}"] }
  - { name: search-service, team: discovery, keys: ["${KEYS.search}"] }
mcp:
  servers:
    tools: { url: "${server.url}", headers: { authorization: "Bearer ${MOCK_MCP_TOKEN}" } }
  access:
    - { consumer: checkout-service, server: tools, tools: "*" }
    - { consumer: search-service, server: tools, tools: "*" }
`,
      );
      const sluice = await startSluiceProcess(['start', '--config', config], {
        cwd: dir,
        env: { SLUICE_MASTER_KEY: MASTER_KEY },
        adminURL: `http://127.0.0.1:${adminPort}`,
      });
      gateways.push({ sluice, url: `http://127.0.0.1:${port}/mcp/tools` });
    }
  });

  after(async () => {
    for (const { sluice } of gateways) await sluice.stop();
    await server?.close();
  });

  it("answers 404 on the other gateway to another consumer presenting a session's id, and serves its owner there", async () => {
    const [one, two] = gateways as [(typeof gateways)[0], (typeof gateways)[0]];
    const owner = await initializeMcpSession(one.url, KEYS.checkout, 'owner');
    const other = { ...owner, authorization: `Bearer ${KEYS.search}` };
    await assertSessionRefused(two.url, other, server);
    // Its owner goes on through the other gateway, and ends it there.
    const listed = await fetch(two.url, {
      method: 'POST',
      headers: owner,
      body: JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'tools/list' }),
    });
    assert.equal(listed.status, 200);
    assert.match(await listed.text(), /"add"/);
    const ended = await fetch(two.url, { method: 'DELETE', headers: owner });
    assert.equal(ended.status, 200);
    await ended.arrayBuffer();
    // Ended: the server no longer holds it, through either gateway.
    const after = await fetch(one.url, {
      method: 'POST',
      headers: owner,
      body: JSON.stringify({ jsonrpc: '2.0', id: 4, method: 'tools/list' }),
    });
    assert.equal(after.status, 404);
    await after.arrayBuffer();
  });

  it("refuses the server's own session id, and any id Sluice did not hand out", async () => {
    const [one] = gateways as [(typeof gateways)[0]];
    const owner = await initializeMcpSession(one.url, KEYS.checkout, 'raw');
    const listed = await fetch(one.url, {
      method: 'POST',
      headers: owner,
      body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }),
    });
    assert.equal(listed.status, 200);
    await listed.arrayBuffer();
    const upstream = server.received.at(-1)?.['mcp-session-id'];
    assert.equal(typeof upstream, 'string');
    assert.notEqual(upstream, owner['mcp-session-id'], "the client holds Sluice's id, not the server's");
    for (const session of [upstream as string, 'not-a-session-sluice-handed-out']) {
      const answer = await fetch(one.url, {
        method: 'POST',
        headers: { ...owner, 'mcp-session-id': session },
        body: JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'tools/list' }),
      });
      assert.equal(answer.status, 404, session);
      assert.equal(((await answer.json()) as { error: { code: number } }).error.code, -32007);
    }
  });
});
