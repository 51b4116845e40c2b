// Several real `sluice` processes in front of one MCP server, as behind a load balancer: the deployment's master key
// and the counters' Redis (a key prefix of the test's own) shared, or each gateway with counters of its own. Each
// writes its own SQLite ledger, read back per process once it has stopped.
import { writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import type { Rpc } from './mock-mcp.js';
import { deleteTestKeys, TEST_REDIS_URL } from './redis.js';
import { KEYS } from './sluice.js';
import { freePort, startSluiceProcess, type SluiceProcess } from './sluice-process.js';
import { scratchDir } from './scratch.js';

export const MCP_MASTER_KEY = Buffer.alloc(32, 12).toString('base64');

export interface McpGateway {
  name: string;
  sluice: SluiceProcess;
  /** /mcp/tools on this gateway. */
  url: string;
  dbPath: string;
}

/** A tools/call row as a test reads it, with the gateway that wrote it. */
export interface McpCallRow {
  gateway: string;
  request_id: string;
  consumer: string;
  provider: string;
  provider_model: string;
  status: number;
  error_class: string | null;
}

/**
 * Starts one gateway per name, each granting checkout-service the `add` tool of the server `tools` at `upstreamUrl`.
 * `keyPrefix`: the counters' Redis they share; null: memory counters, nothing shared between them but the master key.
 */
export async function startMcpGateways(
  names: string[],
  upstreamUrl: string,
  timeoutMs: number,
  keyPrefix: string | null,
): Promise<McpGateway[]> {
  const dir = scratchDir('sluice-mcp-gateways-');
  const counters = keyPrefix === null ? '' : `counters: { url: "${TEST_REDIS_URL}", keyPrefix: "${keyPrefix}" }`;
  return Promise.all(
    names.map(async (name) => {
      const port = await freePort();
      const adminPort = await freePort();
      const config = join(dir, `${name}.yaml`);
      const dbPath = join(dir, `${name}.db`);
      writeFileSync(
        config,
        `
gateway: { host: 127.0.0.1, port: ${port} }
admin: { host: 127.0.0.1, port: ${adminPort}, token: admin-token-for-the-mcp-gateways-test }
storage: sqlite:${dbPath}
${counters}
consumers:
  - { name: checkout-service, team: payments, keys: ["${KEYS.checkout}"] }
mcp:
  servers:
    tools: { url: "${upstreamUrl}", timeoutMs: ${timeoutMs} }
  access:
    - { consumer: checkout-service, server: tools, tools: ["add"] }
`,
      );
      const sluice = await startSluiceProcess(['start', '--config', config], {
        cwd: dir,
        env: { SLUICE_MASTER_KEY: MCP_MASTER_KEY },
        adminURL: `http://127.0.0.1:${adminPort}`,
      });
      return { name, sluice, url: `http://127.0.0.1:${port}/mcp/tools`, dbPath };
    }),
  );
}

/** Stops every gateway (its ledger flushed) and reads the tools/call rows each wrote. */
export async function stopAndReadCalls(gateways: McpGateway[]): Promise<McpCallRow[]> {
  const rows: McpCallRow[] = [];
  for (const { name, sluice, dbPath } of gateways) {
    await sluice.stop();
    const db = new Database(dbPath, { readonly: true });
    const found = db
      .prepare(
        "SELECT request_id, consumer, provider, provider_model, status, error_class FROM transactions WHERE operation = 'mcp_tool_call' ORDER BY started_at",
      )
      .all() as Array<Omit<McpCallRow, 'gateway'>>;
    db.close();
    rows.push(...found.map((row) => ({ gateway: name, ...row })));
  }
  return rows;
}

/** After the test: the gateways still running stopped, the MCP server closed, the test's Redis keys deleted. */
export async function stopMcpGateways(gateways: McpGateway[], upstream: Server | undefined, keyPrefix: string): Promise<void> {
  for (const { sluice } of gateways) await sluice.stop();
  upstream?.closeAllConnections();
  await new Promise<void>((resolve) => upstream?.close(() => resolve()) ?? resolve());
  await deleteTestKeys(keyPrefix);
}

/** POSTs `message` to a gateway as checkout-service; answers its (last) message. */
export async function sendMcp(gateway: McpGateway, message: Rpc, requestId?: string): Promise<Rpc> {
  const answer = await fetch(gateway.url, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${KEYS.checkout}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      ...(requestId === undefined ? {} : { 'x-request-id': requestId }),
    },
    body: JSON.stringify({ jsonrpc: '2.0', ...message }),
  });
  assert.equal(answer.status, 200);
  const text = await answer.text();
  const data = text.startsWith('{')
    ? text
    : text
        .split('\n')
        .findLast((line) => line.startsWith('data: '))!
        .slice(6);
  return JSON.parse(data) as Rpc;
}
