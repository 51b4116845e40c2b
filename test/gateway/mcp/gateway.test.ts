// The MCP gateway end to end: the official MCP SDK as the client and as the upstream server, Sluice between them.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { initializeMcpSession, startMockMcp, MOCK_MCP_TOKEN, type MockMcp } from '../../support/mock-mcp.js';
import { KEYS, ledgerRows, startTestSluice, type TestSluice } from '../../support/sluice.js';
import { until } from '../../support/until.js';

async function connect(test: TestSluice, server: string, key: string): Promise<Client> {
  const client = new Client({ name: 'test-agent', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(`${test.baseURL}/mcp/${server}`), {
    requestInit: { headers: { authorization: `Bearer ${key}` } },
  });
  await client.connect(transport);
  return client;
}

/** The SDK client's transport error: the HTTP status as its code, Sluice's JSON-RPC error in its message. */
function httpError(status: number, message: RegExp): (error: unknown) => boolean {
  return (error) => {
    assert.equal((error as { code?: unknown }).code, status);
    assert.match((error as Error).message, message);
    return true;
  };
}

function text(result: Awaited<ReturnType<Client['callTool']>>): string {
  const content = result.content as Array<{ type: string; text?: string }>;
  return content.map((part) => part.text ?? '').join('');
}

describe('MCP gateway', () => {
  let streamed: MockMcp;
  let json: MockMcp;
  let test: TestSluice;

  before(async () => {
    streamed = await startMockMcp();
    json = await startMockMcp({ json: true });
    test = await startTestSluice({
      consumers: [
        { name: 'checkout-service', team: 'payments', keys: [KEYS.checkout] },
        { name: 'search-service', team: 'discovery', keys: [KEYS.search] },
      ],
      mcp: {
        servers: {
          tools: { url: streamed.url, headers: { Authorization: `Bearer ${MOCK_MCP_TOKEN}` }, status: 'sanctioned' },
          'json-tools': { url: json.url, headers: { authorization: `Bearer ${MOCK_MCP_TOKEN}` } },
          shadow: { url: json.url, headers: { authorization: `Bearer ${MOCK_MCP_TOKEN}` }, status: 'unsanctioned' },
        },
        access: [
          { consumer: 'checkout-service', server: 'tools', tools: ['add', 'echo', 'fail'] },
          { consumer: 'checkout-service', server: 'shadow', tools: '*' },
          { team: 'discovery', server: 'json-tools', tools: '*' },
        ],
      },
    });
  });

  after(async () => {
    await test?.stop();
    await streamed?.close();
    await json?.close();
  });

  it('lists only the granted tools and calls them, with the server credentials injected and the Sluice key kept back', async () => {
    const client = await connect(test, 'tools', KEYS.checkout);
    try {
      const { tools } = await client.listTools();
      assert.deepEqual(tools.map((tool) => tool.name).sort(), ['add', 'echo', 'fail']);
      assert.equal(text(await client.callTool({ name: 'add', arguments: { a: 2, b: 3 } })), '5');
      assert.equal(
        text(await client.callTool({ name: 'echo', arguments: { text: 'argument-never-stored-7f3a' } })),
        'argument-never-stored-7f3a',
      );
      const failed = await client.callTool({ name: 'fail', arguments: {} });
      assert.equal(failed.isError, true);
    } finally {
      await client.close();
    }
    assert.ok(streamed.received.length > 0);
    for (const headers of streamed.received) {
      assert.equal(headers.authorization, `Bearer ${MOCK_MCP_TOKEN}`);
      assert.ok(!JSON.stringify(headers).includes(KEYS.checkout), 'the consumer key never reaches the MCP server');
    }
  });

  it('refuses a tools/call outside the grant with a JSON-RPC error, without reaching the server', async () => {
    const client = await connect(test, 'tools', KEYS.checkout);
    try {
      await assert.rejects(client.callTool({ name: 'delete_everything', arguments: {} }), (error: unknown) => {
        assert.ok(error instanceof McpError);
        assert.equal(error.code, -32602);
        assert.match(error.message, /delete_everything.*not available to consumer 'checkout-service'/);
        return true;
      });
    } finally {
      await client.close();
    }
    assert.ok(!streamed.calls.includes('delete_everything'));
  });

  it('records every tools/call in the ledger: server, tool, consumer, latency and status, never the arguments', async () => {
    const rows = (await ledgerRows(test)).filter((row) => row.operation === 'mcp_tool_call');
    const byTool = new Map(rows.map((row) => [row.provider_model, row]));
    assert.deepEqual([...byTool.keys()].sort(), ['add', 'delete_everything', 'echo', 'fail']);
    for (const row of rows) {
      assert.equal(row.api, 'mcp');
      assert.equal(row.provider, 'mcp:tools');
      assert.equal(row.consumer, 'checkout-service');
      assert.equal(row.team, 'payments');
      assert.ok(row.latency_ms > 0);
      assert.equal(row.cost_micro_usd, 0);
    }
    assert.equal(byTool.get('add')!.status, 200);
    assert.equal(byTool.get('add')!.error_class, null);
    assert.equal(byTool.get('add')!.stream, 1);
    assert.equal(byTool.get('fail')!.error_class, 'mcp_tool_error');
    assert.equal(byTool.get('delete_everything')!.status, 403);
    assert.equal(byTool.get('delete_everything')!.error_class, 'mcp_tool_not_allowed');
    assert.equal(byTool.get('delete_everything')!.attempts, 0);
    assert.ok(!JSON.stringify(rows).includes('argument-never-stored'));
  });

  it('serves a JSON-answering server, every tool for a team granted "*"', async () => {
    const client = await connect(test, 'json-tools', KEYS.search);
    try {
      const { tools } = await client.listTools();
      assert.deepEqual(tools.map((tool) => tool.name).sort(), ['add', 'delete_everything', 'echo', 'fail']);
      assert.equal(text(await client.callTool({ name: 'add', arguments: { a: 40, b: 2 } })), '42');
    } finally {
      await client.close();
    }
    const rows = (await ledgerRows(test)).filter((row) => row.provider === 'mcp:json-tools');
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.consumer, 'search-service');
    assert.equal(rows[0]!.stream, 0);
  });

  it('hides servers a consumer holds no grant for, and refuses an unsanctioned server', async () => {
    await assert.rejects(
      connect(test, 'tools', KEYS.search),
      httpError(404, /No MCP server 'tools' is available to consumer 'search-service'/),
    );
    await assert.rejects(connect(test, 'nowhere', KEYS.checkout), httpError(404, /No MCP server 'nowhere'/));
    await assert.rejects(connect(test, 'shadow', KEYS.checkout), httpError(403, /unsanctioned/));
    const refused = await fetch(`${test.baseURL}/mcp/shadow`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${KEYS.checkout}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    assert.equal(refused.status, 403);
    assert.deepEqual(await refused.json(), {
      jsonrpc: '2.0',
      error: { code: -32003, message: "The MCP server 'shadow' is unsanctioned; calls to it are refused." },
    });
  });

  it('answers a missing or unknown key with 401 and a JSON-RPC error', async () => {
    await assert.rejects(connect(test, 'tools', 'sk-not-a-sluice-key-000'), httpError(401, /Invalid API key/));
    const response = await fetch(`${test.baseURL}/mcp/tools`, { method: 'POST', body: '{}' });
    assert.equal(response.status, 401);
    const body = (await response.json()) as { error: { code: number } };
    assert.equal(body.error.code, -32001);
  });

  it("lists the consumer's servers with their resource status on GET /mcp", async () => {
    const response = await fetch(`${test.baseURL}/mcp`, { headers: { authorization: `Bearer ${KEYS.checkout}` } });
    assert.equal(response.status, 200);
    const body = (await response.json()) as { data: Array<Record<string, unknown>> };
    assert.deepEqual(
      body.data.map((server) => [server.id, server.resource, server.status, server.available, server.tools]),
      [
        ['tools', 'mcp/tools', 'sanctioned', true, ['add', 'echo', 'fail']],
        ['shadow', 'mcp/shadow', 'unsanctioned', false, '*'],
      ],
    );
  });

  it('refuses JSON-RPC batches and bodies that are not JSON', async () => {
    const headers = {
      authorization: `Bearer ${KEYS.checkout}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
    };
    const batch = await fetch(`${test.baseURL}/mcp/tools`, {
      method: 'POST',
      headers,
      body: JSON.stringify([{ jsonrpc: '2.0', id: 1, method: 'tools/list' }]),
    });
    assert.equal(batch.status, 400);
    assert.equal(((await batch.json()) as { error: { code: number } }).error.code, -32600);
    const garbled = await fetch(`${test.baseURL}/mcp/tools`, { method: 'POST', headers, body: '{"jsonrpc":' });
    assert.equal(garbled.status, 400);
    assert.equal(((await garbled.json()) as { error: { code: number } }).error.code, -32700);
  });
});

/** A bare MCP endpoint that records every message it gets and answers each after `delayMs`. */
async function startRecordingServer(delayMs: number): Promise<{ url: string; messages: string[]; close(): Promise<void> }> {
  const messages: string[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      messages.push(text);
      const id = (JSON.parse(text) as { id?: unknown }).id ?? null;
      setTimeout(() => {
        if (res.destroyed) return;
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ jsonrpc: '2.0', id, result: { content: [{ type: 'text', text: 'ran' }] } }));
      }, delayMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    messages,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('MCP gateway: tools/call messages the grant must still see', () => {
  let upstream: Awaited<ReturnType<typeof startRecordingServer>>;
  let test: TestSluice;
  const headers = {
    authorization: `Bearer ${KEYS.checkout}`,
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
  };

  before(async () => {
    upstream = await startRecordingServer(400);
    test = await startTestSluice({
      consumers: [{ name: 'checkout-service', team: 'payments', keys: [KEYS.checkout] }],
      mcp: { servers: { raw: { url: upstream.url } }, access: [{ consumer: 'checkout-service', server: 'raw', tools: ['lookup'] }] },
    });
  });

  after(async () => {
    await test?.stop();
    await upstream?.close();
  });

  it('refuses a tools/call without an id (or with id null) and never lets it reach the server', async () => {
    for (const message of [
      { jsonrpc: '2.0', method: 'tools/call', params: { name: 'delete_everything', arguments: {} } },
      { jsonrpc: '2.0', id: null, method: 'tools/call', params: { name: 'delete_everything', arguments: {} } },
    ]) {
      const response = await fetch(`${test.baseURL}/mcp/raw`, { method: 'POST', headers, body: JSON.stringify(message) });
      assert.equal(response.status, 400);
      const body = (await response.json()) as { id: unknown; error: { code: number; message: string } };
      assert.equal(body.id, undefined);
      assert.equal(body.error.code, -32600);
      assert.match(body.error.message, /tools\/call.*id/);
    }
    assert.deepEqual(upstream.messages, []);
  });

  it('records a tools/call the client abandoned before the server answered as 499, not as a server failure', async () => {
    const started = (await ledgerRows(test)).length;
    const seen = upstream.messages.length;
    const abort = new AbortController();
    const pending = fetch(`${test.baseURL}/mcp/raw`, {
      method: 'POST',
      headers,
      signal: abort.signal,
      body: JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'lookup', arguments: {} } }),
    });
    await until('the server has the call', () => upstream.messages.length > seen);
    abort.abort();
    await assert.rejects(pending);
    await until('the call is recorded', async () => (await ledgerRows(test)).length > started);
    const row = (await ledgerRows(test)).at(-1)!;
    assert.equal(row.provider_model, 'lookup');
    assert.equal(row.status, 499);
    assert.equal(row.error_class, 'client_disconnected');
  });
});

describe('MCP gateway: a long tool call answered as an SSE stream', () => {
  let upstream: MockMcp;
  let test: TestSluice;

  before(async () => {
    upstream = await startMockMcp({ keepAliveMs: 100 });
    test = await startTestSluice({
      consumers: [{ name: 'checkout-service', team: 'payments', keys: [KEYS.checkout] }],
      mcp: {
        servers: { tools: { url: upstream.url, headers: { authorization: `Bearer ${MOCK_MCP_TOKEN}` } } },
        access: [{ consumer: 'checkout-service', server: 'tools', tools: ['wait'] }],
      },
    });
  });

  after(async () => {
    await test?.stop();
    await upstream?.close();
  });

  it("relays the server's keep-alive comments, so the client's connection is not idle while the tool runs", async () => {
    const url = `${test.baseURL}/mcp/tools`;
    const headers = await initializeMcpSession(url, KEYS.checkout, 'raw-client');
    const initialized = await fetch(url, {
      method: 'POST',
      headers,
      body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }),
    });
    assert.equal(initialized.status, 202);
    const call = await fetch(url, {
      method: 'POST',
      headers,
      body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'wait', arguments: { ms: 600 } } }),
    });
    assert.match(call.headers.get('content-type') ?? '', /^text\/event-stream/);
    const stream = await call.text();
    assert.match(stream, /^: keepalive$/m);
    assert.match(stream, /waited 600 ms/);
  });
});
