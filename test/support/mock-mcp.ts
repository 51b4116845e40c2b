// A real MCP server for tests: the official SDK's McpServer over StreamableHTTPServerTransport on loopback, one
// session per client, answering only requests that carry the credentials Sluice is configured to inject; and a raw
// client's handshake through Sluice; and a raw server of the test's own behind a test sluice.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { z } from 'zod';
import { KEYS, startTestSluice, type TestSluice } from './sluice.js';

export const MOCK_MCP_TOKEN = 'mcp-upstream-secret-token-0001';

export interface MockMcp {
  url: string;
  /** Every request's headers, as the server received them. */
  received: IncomingMessage['headers'][];
  /** tools/call names the server ran. */
  calls: string[];
  close(): Promise<void>;
}

/**
 * `json`: answer requests with application/json rather than an SSE stream (the transport's other mode).
 * `keepAliveMs`: the SSE keep-alive comment's interval, and a `wait` tool that answers after `ms` milliseconds.
 */
export async function startMockMcp(options: { json?: boolean; keepAliveMs?: number } = {}): Promise<MockMcp> {
  const received: IncomingMessage['headers'][] = [];
  const calls: string[] = [];
  const transports = new Map<string, StreamableHTTPServerTransport>();
  let port = 0;
  const build = () => {
    const server = new McpServer({ name: 'mock-tools', version: '1.0.0' });
    server.registerTool('add', { description: 'Adds two numbers', inputSchema: { a: z.number(), b: z.number() } }, ({ a, b }) => {
      calls.push('add');
      return { content: [{ type: 'text', text: String(a + b) }] };
    });
    server.registerTool('echo', { description: 'Echoes its text', inputSchema: { text: z.string() } }, ({ text }) => {
      calls.push('echo');
      return { content: [{ type: 'text', text }] };
    });
    server.registerTool('fail', { description: 'Always fails', inputSchema: {} }, () => {
      calls.push('fail');
      return { content: [{ type: 'text', text: 'it failed' }], isError: true };
    });
    server.registerTool('delete_everything', { description: 'Must never run', inputSchema: {} }, () => {
      calls.push('delete_everything');
      return { content: [{ type: 'text', text: 'deleted' }] };
    });
    if (options.keepAliveMs !== undefined) {
      server.registerTool('wait', { description: 'Answers after ms milliseconds', inputSchema: { ms: z.number() } }, async ({ ms }) => {
        calls.push('wait');
        await new Promise((resolve) => setTimeout(resolve, ms));
        return { content: [{ type: 'text', text: `waited ${ms} ms` }] };
      });
    }
    return server;
  };
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    received.push(req.headers);
    if (req.headers.authorization !== `Bearer ${MOCK_MCP_TOKEN}`) {
      // As the MCP authorization spec has a protected server answer: a challenge pointing at its OAuth metadata.
      res
        .writeHead(401, {
          'content-type': 'application/json',
          'www-authenticate': `Bearer resource_metadata="http://127.0.0.1:${port}/.well-known/oauth-protected-resource"`,
        })
        .end('{"error":"invalid_token","error_description":"The access token expired"}');
      return;
    }
    const sessionId = req.headers['mcp-session-id'];
    let transport = typeof sessionId === 'string' ? transports.get(sessionId) : undefined;
    if (transport === undefined) {
      const created = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        enableJsonResponse: options.json === true,
        ...(options.keepAliveMs !== undefined && { keepAliveMs: options.keepAliveMs }),
        onsessioninitialized: (id) => void transports.set(id, created),
      });
      transport = created;
      await build().connect(created);
    }
    await transport.handleRequest(req, res);
  };
  const http: Server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const address = http.address();
  port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    received,
    calls,
    close: async () => {
      for (const transport of transports.values()) await transport.close();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

/**
 * A raw MCP client's handshake through Sluice's MCP endpoint `url` with the consumer key `key`: initialize, answered 200.
 * Answers the headers each later request of the session carries (the session id and protocol version included).
 */
export async function initializeMcpSession(url: string, key: string, clientName: string): Promise<Record<string, string>> {
  const headers: Record<string, string> = {
    authorization: `Bearer ${key}`,
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
  };
  const initialized = await fetch(url, {
    method: 'POST',
    headers,
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: clientName, version: '1.0.0' } },
    }),
  });
  assert.equal(initialized.status, 200);
  await initialized.arrayBuffer();
  return { ...headers, 'mcp-session-id': initialized.headers.get('mcp-session-id')!, 'mcp-protocol-version': '2025-06-18' };
}

/**
 * Asserts a session's id presented with `headers` (another consumer's key) gets 404 (-32007, a session the server does
 * not hold) for POST, GET and DELETE at Sluice's MCP endpoint `url`, and that none of them reached `server`.
 */
export async function assertSessionRefused(url: string, headers: Record<string, string>, server: MockMcp): Promise<void> {
  const seen = server.received.length;
  for (const [method, body] of [
    ['POST', JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' })],
    ['GET', null],
    ['DELETE', null],
  ] as const) {
    const answer = await fetch(url, { method, headers, body });
    assert.equal(answer.status, 404, method);
    const error = (await answer.json()) as { error: { code: number; message: string } };
    assert.equal(error.error.code, -32007, method);
    assert.match(error.error.message, /session/i, method);
  }
  assert.equal(server.received.length, seen, 'none of them reached the server');
}

/** A raw MCP server (`handler` answers every request) on loopback, behind a test sluice. */
export interface RawMcpGateway {
  sluice: TestSluice;
  upstream: Server;
  stop(): Promise<void>;
}

/**
 * Consumer checkout-service (KEYS.checkout) is granted `tools` of the raw server, named `server` in sluice.yaml (with
 * `timeoutMs` when given); with `searchTools`, consumer search-service (KEYS.search) is granted those. `overrides`: the
 * rest of the config (counters on Redis, say).
 */
export async function rawMcpGateway(
  handler: RequestListener,
  grant: { server: string; tools: string[]; timeoutMs?: number; searchTools?: string[] },
  overrides: Record<string, unknown> = {},
): Promise<RawMcpGateway> {
  const upstream = createServer(handler);
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  const { port } = upstream.address() as AddressInfo;
  const sluice = await startTestSluice({
    ...overrides,
    consumers: [
      { name: 'checkout-service', team: 'payments', keys: [KEYS.checkout] },
      ...(grant.searchTools === undefined ? [] : [{ name: 'search-service', team: 'discovery', keys: [KEYS.search] }]),
    ],
    mcp: {
      servers: {
        [grant.server]: { url: `http://127.0.0.1:${port}/mcp`, ...(grant.timeoutMs === undefined ? {} : { timeoutMs: grant.timeoutMs }) },
      },
      access: [
        { consumer: 'checkout-service', server: grant.server, tools: grant.tools },
        ...(grant.searchTools === undefined ? [] : [{ consumer: 'search-service', server: grant.server, tools: grant.searchTools }]),
      ],
    },
  });
  return {
    sluice,
    upstream,
    stop: async () => {
      await sluice.stop();
      upstream.closeAllConnections();
      await new Promise<void>((resolve) => upstream.close(() => resolve()));
    },
  };
}

/** A JSON-RPC message as the raw servers and clients of the MCP tests read it. */
export interface Rpc {
  id?: number;
  method?: string;
  params?: Record<string, unknown>;
  result?: Record<string, unknown>;
  error?: { code: number; message: string };
}

/** The JSON-RPC message a raw server was sent. */
export async function readRpc(req: IncomingMessage): Promise<Rpc> {
  let text = '';
  for await (const chunk of req) text += String(chunk);
  return JSON.parse(text) as Rpc;
}

/** Answers `message` with `result` as application/json. */
export function answerRpc(res: ServerResponse, message: Rpc, result: unknown): void {
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', id: message.id, result }));
}

/** POSTs one message to Sluice's MCP endpoint `url` as consumer `key`; answers the answer's last message (JSON or SSE). */
export async function postRpc(url: string, key: string, message: Rpc): Promise<Rpc> {
  const answer = await fetch(url, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify({ jsonrpc: '2.0', ...message }),
  });
  assert.equal(answer.status, 200);
  const text = await answer.text();
  if (!String(answer.headers.get('content-type')).startsWith('text/event-stream')) return JSON.parse(text) as Rpc;
  const data = text.split('\n').filter((line) => line.startsWith('data: '));
  return JSON.parse(data.at(-1)!.slice(6)) as Rpc;
}
