// Sluice's own error answers on /mcp are MCP error responses as the official SDK's schema reads them. MCP 2025-11-25
// made an error response's id optional, a string or a number (never null): an error that answers no request (the
// request was not read, or had no id) has no id. Spec: modelcontextprotocol/modelcontextprotocol
// schema/2025-11-25/schema.ts (JSONRPCErrorResponse) and docs/specification/2025-11-25/basic/transports.mdx.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isJSONRPCErrorResponse } from '@modelcontextprotocol/sdk/types.js';
import { KEYS, startTestSluice, type TestSluice } from '../../support/sluice.js';

describe("MCP gateway: Sluice's own error answers", () => {
  let test: TestSluice;

  before(async () => {
    test = await startTestSluice({
      consumers: [{ name: 'checkout-service', team: 'payments', keys: [KEYS.checkout] }],
      mcp: {
        servers: {
          // Nothing listens there: every call that reaches it fails.
          gone: { url: 'http://127.0.0.1:9/mcp', timeoutMs: 2_000 },
          shadow: { url: 'http://127.0.0.1:9/mcp', status: 'unsanctioned' },
        },
        access: [
          { consumer: 'checkout-service', server: 'gone', tools: ['add'] },
          { consumer: 'checkout-service', server: 'shadow', tools: '*' },
        ],
        maxBodyBytes: 1024,
      },
    });
  });

  after(async () => {
    await test?.stop();
  });

  const cases: Array<{ name: string; status: number; code: number; id?: number; init: RequestInit; path?: string }> = [
    { name: 'no key', status: 401, code: -32001, init: { method: 'POST', body: '{}' } },
    { name: 'a server not granted', status: 404, code: -32002, path: '/mcp/nowhere', init: { method: 'POST', body: '{}' } },
    { name: 'an unsanctioned server', status: 403, code: -32003, path: '/mcp/shadow', init: { method: 'POST', body: '{}' } },
    { name: 'a body that is not JSON', status: 400, code: -32700, init: { method: 'POST', body: '{"jsonrpc":' } },
    { name: 'a batch', status: 400, code: -32600, init: { method: 'POST', body: '[{"jsonrpc":"2.0","id":1,"method":"ping"}]' } },
    { name: 'a message too large', status: 413, code: -32600, init: { method: 'POST', body: `{"x":"${'x'.repeat(2048)}"}` } },
    {
      name: 'a tools/call without an id',
      status: 400,
      code: -32600,
      init: { method: 'POST', body: '{"jsonrpc":"2.0","method":"tools/call","params":{"name":"add"}}' },
    },
    {
      name: 'a notification the server could not take',
      status: 502,
      code: -32004,
      init: { method: 'POST', body: '{"jsonrpc":"2.0","method":"notifications/initialized"}' },
    },
    {
      name: 'a request the server could not take (its id kept)',
      status: 502,
      code: -32004,
      id: 5,
      init: { method: 'POST', body: '{"jsonrpc":"2.0","id":5,"method":"tools/list"}' },
    },
  ];
  for (const { name, status, code, id, init, path = '/mcp/gone' } of cases) {
    it(`answers ${name} with an MCP error response (${status}, ${code})`, async () => {
      const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
      if (name !== 'no key') headers.authorization = `Bearer ${KEYS.checkout}`;
      const answer = await fetch(`${test.baseURL}${path}`, { ...init, headers });
      assert.equal(answer.status, status);
      const body = (await answer.json()) as Record<string, unknown> & { error: { code: number } };
      assert.equal(body.error.code, code);
      assert.ok(isJSONRPCErrorResponse(body), `the SDK reads it as an error response: ${JSON.stringify(body)}`);
      if (id === undefined) assert.ok(!('id' in body), JSON.stringify(body));
      else assert.equal(body.id, id);
    });
  }
});
