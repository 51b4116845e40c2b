// /mcp/<server>: the MCP gateway (Streamable HTTP transport, JSON-RPC 2.0). Authenticates the consumer as /v1 does,
// keeps it to the servers and tools it was granted, injects the server's credentials, filters tools/list, refuses a
// tools/call outside the grant and records every tools/call in the ledger. GET /mcp lists the consumer's servers.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
import { request } from '../../wire/undici.js';
import type { SluiceError } from '../../errors.js';
import type { GatewayContext } from '../context.js';
import { authenticate, type IdentitySink } from '../pipeline/authenticate.js';
import type { Consumer } from '../../policy/consumers.js';
import { mayCall, type McpServer, type ToolGrant } from './directory.js';
import {
  HEADER_MISMATCH,
  INVALID_PARAMS,
  INVALID_REQUEST,
  isObject,
  METHOD_NOT_FOUND,
  ORIGIN_REFUSED,
  PARSE_ERROR,
  requestId,
  SERVER_NOT_FOUND,
  SERVER_REFUSED,
  SESSION_NOT_FOUND,
  sendRpcError,
  UNAUTHORIZED,
  UPSTREAM_CREDENTIALS_REFUSED,
  UPSTREAM_FAILED,
  type JsonRpcMessage,
} from './json-rpc.js';
import { rewrite, settle } from './answer.js';
import { MULTI_ROUND_TRIP, MULTI_ROUND_TRIP_SINCE, openRequestState } from './request-state.js';
import { eventIdSealer, openEventId } from './resumed-calls.js';
import type { Exchange } from './exchange.js';
import { SseRelay } from './sse-relay.js';
import { openTaskIds } from './tasks.js';
import { ToolCall } from './tool-call.js';

/**
 * Client headers the transport needs upstream; the client's Authorization (its Sluice key) is never among them, and
 * its Mcp-Session-Id goes as the server's own id, unwrapped from Sluice's.
 * Mcp-Method and Mcp-Name (and any Mcp-Param-<name>) mirror the body for MCP 2026-07-28, whose servers require them.
 */
const FORWARDED = ['accept', 'content-type', 'mcp-protocol-version', 'last-event-id', 'mcp-method', 'mcp-name'] as const;
const FORWARDED_PREFIX = 'mcp-param-';
/** Upstream headers the client needs back. */
const RETURNED = ['content-type', 'mcp-session-id', 'mcp-protocol-version', 'cache-control'] as const;
/** The largest JSON answer held to filter or read, and of an SSE answer the largest event (relayed event by event). */
const MAX_JSON_ANSWER_BYTES = 32 * 1024 * 1024;

export async function handleMcp(
  context: GatewayContext,
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  requestId: string,
): Promise<void> {
  const snapshot = context.snapshot;
  // MCP's DNS-rebinding rule: a page can have a browser POST here without a CORS preflight, with credentials the browser
  // holds (a client certificate); an Origin not allowed is refused before anything else is read.
  const origin = req.headers.origin;
  if (origin !== undefined && !snapshot.mcp.allowedOrigins.has(origin)) {
    req.resume();
    return sendRpcError(res, 403, null, ORIGIN_REFUSED, `Origin '${origin}' is not allowed to call the MCP gateway (mcp.allowedOrigins).`);
  }
  let consumer: Consumer;
  // What the caller was authenticated by (a key id, a certificate, a JWT): recorded with each tool call, never a secret.
  const identity: IdentitySink = { identity: null };
  try {
    const authenticated = authenticate(context.identity, snapshot.consumers, snapshot.identityRules, req, identity);
    consumer = authenticated instanceof Promise ? await authenticated : authenticated;
  } catch (error) {
    req.resume();
    context.metrics.unauthenticated('/mcp');
    sendRpcError(res, 401, null, UNAUTHORIZED, (error as SluiceError).message);
    return;
  }
  const access = snapshot.mcp.access(consumer);
  if (path === '/mcp' || path === '/mcp/') {
    req.resume();
    if (req.method !== 'GET')
      return sendRpcError(res, 405, null, INVALID_REQUEST, `${req.method} is not allowed on /mcp; use GET to list servers.`);
    return listServers(res, snapshot.mcp.servers, access);
  }
  const name = path.slice('/mcp/'.length);
  const server = snapshot.mcp.servers.get(name);
  const grant = access.get(name);
  if (server === undefined || grant === undefined) {
    req.resume();
    return sendRpcError(res, 404, null, SERVER_NOT_FOUND, `No MCP server '${name}' is available to consumer '${consumer.name}'.`);
  }
  if (server.resource.action === 'enforce') {
    req.resume();
    return sendRpcError(res, 403, null, SERVER_REFUSED, `The MCP server '${name}' is ${server.resource.status}; calls to it are refused.`);
  }
  // The id the client holds is Sluice's, bound to the consumer it was handed to (sessions.ts): another consumer's (its id
  // leaked), a tampered one or a raw server id is answered as a session the server does not hold. It would otherwise
  // get the owner's server-initiated stream, replayed events (Last-Event-ID), or end the session.
  const presented = req.headers['mcp-session-id'];
  const session = typeof presented === 'string' ? context.mcp.sessions.open(name, consumer.name, presented) : null;
  if (typeof presented === 'string' && session === null) {
    req.resume();
    return sendRpcError(res, 404, null, SESSION_NOT_FOUND, `No such MCP session on '${name}' for consumer '${consumer.name}'.`);
  }
  if (req.method === 'GET' || req.method === 'DELETE') {
    const resumes = req.method === 'GET';
    const exchange: Exchange = {
      ...{ id: null, grant: null, toolCall: null, consumer: consumer.name, caller: consumer, server, session },
      ...{ resumes, listens: resumes, tasks: false, states: false, task: null, taskResult: false, resumed: null },
    };
    // Resumed from an event of a tools/call's stream (maybe taken by another gateway): the server gets its own id.
    const lastEventId = req.headers['last-event-id'];
    if (resumes && typeof lastEventId === 'string') {
      exchange.resumed = openEventId(context.mcp.events, server, consumer, lastEventId);
      if (exchange.resumed !== null) {
        req.headers['last-event-id'] = exchange.resumed.eventId;
        exchange.resumed.call.identity = identity.identity;
      }
    }
    if (resumes) exchange.grant = grant;
    return forward(context, req, res, server, null, exchange);
  }
  if (req.method !== 'POST') {
    req.resume();
    return sendRpcError(res, 405, null, INVALID_REQUEST, `${req.method} is not allowed on ${path}; use POST, GET or DELETE.`);
  }
  let body: Buffer;
  try {
    body = await readBody(req, snapshot.mcp.maxBodyBytes);
  } catch {
    return sendRpcError(res, 413, null, INVALID_REQUEST, `The message is larger than ${snapshot.mcp.maxBodyBytes} bytes.`);
  }
  let message: unknown;
  try {
    message = JSON.parse(body.toString('utf8'));
  } catch {
    return sendRpcError(res, 400, null, PARSE_ERROR, 'The body is not valid JSON.');
  }
  if (!isObject(message)) {
    // JSON-RPC batches left MCP in 2025-06-18; a batch could carry a tools/call past the grant unseen.
    return sendRpcError(res, 400, null, INVALID_REQUEST, 'Send one JSON-RPC message per request; batches are not supported.');
  }
  if (message.method === 'tools/call' && typeof message.id !== 'string' && !Number.isSafeInteger(message.id)) {
    // MCP requests carry a string or integer id, never null: a tools/call without one would reach the server unchecked.
    // An integer past 2^53 is not held exactly once parsed, and the call is sent on as parsed (below).
    return sendRpcError(
      res,
      400,
      null,
      INVALID_REQUEST,
      'A tools/call is a request: it needs an id, a string or an integer (within ±2^53).',
    );
  }
  const exchange = exchangeFor(message, grant, consumer, server, requestId, session);
  // Multi round-trip requests are MCP 2026-07-28's: an older client's prompts/get and resources/read answers go on unread.
  const version = req.headers['mcp-protocol-version'];
  if (exchange.toolCall === null && !(typeof version === 'string' && version >= MULTI_ROUND_TRIP_SINCE)) exchange.states = false;
  const mismatch = exchange.toolCall === null ? null : headerMismatch(req, exchange.toolCall.tool);
  if (mismatch !== null) return sendRpcError(res, 400, exchange.id, HEADER_MISMATCH, mismatch);
  if (exchange.toolCall !== null) exchange.toolCall.identity = identity.identity;
  if (exchange.toolCall !== null && !mayCall(grant, exchange.toolCall.tool)) {
    exchange.toolCall.fail(403, 'mcp_tool_not_allowed');
    exchange.toolCall.record(context);
    return sendRpcError(
      res,
      200,
      exchange.id,
      INVALID_PARAMS,
      `Tool '${exchange.toolCall.tool}' is not available to consumer '${consumer.name}'.`,
    );
  }
  // Task ids are the consumer's (tasks.ts): another's, a forged or a raw one is a task the server does not hold (MCP
  // 2025-11-25 tasks: -32602), and the server's tasks/list would show every consumer's tasks.
  const presentedTask = isObject(message.params) ? message.params.taskId : undefined;
  const tasks = openTaskIds(message, context.mcp.tasks, name, consumer.name);
  if (tasks === 'unknown') return sendRpcError(res, 200, exchange.id, INVALID_PARAMS, 'Failed to retrieve task: Task not found');
  // A multi round-trip retry's requestState is the consumer's (request-state.ts): another's, an altered or a raw one is
  // refused, as the spec has a server refuse state that fails verification.
  const state = exchange.states ? openRequestState(message, context.mcp.states, name, consumer.name) : 'none';
  if (state === 'refused') {
    exchange.toolCall?.fail(403, 'mcp_request_state_refused');
    exchange.toolCall?.record(context);
    return sendRpcError(res, 200, exchange.id, INVALID_PARAMS, 'Invalid requestState: it was not issued to this consumer.');
  }
  // Opened: the server's id of the task a tasks/* request names, whose answer may give the task's outcome.
  if (tasks === 'opened' && exchange.tasks && isObject(message.params) && typeof message.params.taskId === 'string')
    exchange.task = message.params.taskId;
  if (message.method === 'tasks/list') {
    return sendRpcError(res, 200, exchange.id, METHOD_NOT_FOUND, 'tasks/list is not available through Sluice; poll each task by its id.');
  }
  // MCP 2026-07-28: a tasks/* request's Mcp-Name is its params.taskId, which goes on as the server's.
  const mcpName = req.headers['mcp-name'];
  if (exchange.tasks && typeof presentedTask === 'string' && mcpName !== undefined) {
    if (mcpName !== presentedTask)
      return sendRpcError(
        res,
        400,
        exchange.id,
        HEADER_MISMATCH,
        `Header mismatch: Mcp-Name header value '${String(mcpName)}' does not match body value.`,
      );
    req.headers['mcp-name'] = (message.params as { taskId: string }).taskId;
  }
  // A tools/call goes on as the grant read it: JSON with a key twice (a second "name") is read last-wins here and may be
  // read first-wins by the server, which would run a tool the grant never saw.
  const sent = exchange.toolCall === null && tasks === 'none' && state === 'none' ? body : Buffer.from(JSON.stringify(message));
  return forward(context, req, res, server, sent, exchange);
}

function exchangeFor(
  message: JsonRpcMessage,
  grant: ToolGrant,
  consumer: Consumer,
  server: McpServer,
  callId: string,
  session: string | null,
): Exchange {
  const id = requestId(message);
  const listens = message.method === 'subscriptions/listen';
  const method = typeof message.method === 'string' ? message.method : '';
  const tasks = listens || method === 'initialize' || method.startsWith('tasks/');
  const exchange: Exchange = {
    ...{ id, grant: null, toolCall: null, consumer: consumer.name, caller: consumer, server, session },
    ...{ resumes: false, listens, tasks, states: MULTI_ROUND_TRIP.has(method), task: null },
    ...{ taskResult: method === 'tasks/result', resumed: null },
  };
  if (id === null) return exchange;
  if (message.method === 'tools/list') exchange.grant = grant;
  else if (message.method === 'tools/call') {
    const params = isObject(message.params) ? message.params : {};
    const tool = typeof params.name === 'string' ? params.name : '';
    exchange.toolCall = new ToolCall(callId, consumer, server, tool);
  }
  return exchange;
}

/**
 * What a tools/call's Mcp-Method or Mcp-Name header says against its body, or null when they agree (or are absent, as
 * before MCP 2026-07-28). The grant reads the body: a header naming another tool would mislead whatever routes or
 * counts by it, so the call is refused (HeaderMismatch) rather than sent on.
 */
function headerMismatch(req: IncomingMessage, tool: string): string | null {
  const method = req.headers['mcp-method'];
  if (method !== undefined && method !== 'tools/call')
    return `Header mismatch: Mcp-Method header value '${String(method)}' does not match body value 'tools/call'.`;
  const header = req.headers['mcp-name'];
  if (header === undefined) return null;
  const name = String(header);
  // Base64 sentinel (=?base64?...?=): a name that is not plain ASCII.
  const decoded =
    name.startsWith('=?base64?') && name.endsWith('?=') && name.length >= 11
      ? Buffer.from(name.slice(9, -2), 'base64').toString('utf8')
      : name;
  return decoded === tool ? null : `Header mismatch: Mcp-Name header value '${name}' does not match body value '${tool}'.`;
}

async function forward(
  context: GatewayContext,
  req: IncomingMessage,
  res: ServerResponse,
  server: McpServer,
  body: Buffer | null,
  exchange: Exchange,
): Promise<void> {
  const toolCall = exchange.toolCall;
  const abort = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) {
      toolCall?.fail(499, 'client_disconnected');
      abort.abort();
    }
  });
  const headers: Record<string, string> = {};
  for (const name of FORWARDED) {
    const value = req.headers[name];
    if (typeof value === 'string') headers[name] = value;
  }
  if (exchange.session !== null) headers['mcp-session-id'] = exchange.session;
  for (const name in req.headers) {
    const value = req.headers[name];
    if (name.startsWith(FORWARDED_PREFIX) && typeof value === 'string') headers[name] = value;
  }
  Object.assign(headers, server.headers);
  let upstream: Dispatcher.ResponseData;
  try {
    if (toolCall !== null) toolCall.attempts = 1;
    upstream = await request(server.url, {
      method: req.method as Dispatcher.HttpMethod,
      headers,
      body,
      dispatcher: server.dispatcher,
      signal: abort.signal,
      headersTimeout: server.timeoutMs,
      // A GET stream, or a subscriptions/listen answer (MCP 2026-07-28's replacement for it), waits for server-initiated
      // messages for as long as the client keeps it open.
      bodyTimeout: exchange.listens ? 0 : server.timeoutMs,
    });
  } catch (error) {
    // Aborted because the client left (recorded as 499 by the close listener): not the server's failure.
    if (!abort.signal.aborted) {
      context.logger.warn({ server: server.name, err: (error as Error).message }, 'MCP server unreachable');
      toolCall?.fail(502, 'upstream_unavailable');
    }
    toolCall?.record(context);
    if (!res.destroyed) sendRpcError(res, 502, exchange.id, UPSTREAM_FAILED, `The MCP server '${server.name}' could not be reached.`);
    return;
  }
  if (upstream.statusCode === 401 || upstream.statusCode === 403) return refusedCredentials(context, res, upstream, server, exchange);
  const type = String(upstream.headers['content-type'] ?? '');
  const returned: Record<string, string> = {};
  for (const name of RETURNED) {
    const value = upstream.headers[name];
    if (typeof value === 'string') returned[name] = value;
  }
  // A session the server opens (or names again) is handed to the client bound to its consumer.
  const opened = returned['mcp-session-id'];
  if (opened !== undefined) returned['mcp-session-id'] = context.mcp.sessions.seal(server.name, exchange.consumer, opened);
  if (toolCall !== null && upstream.statusCode >= 400) toolCall.fail(upstream.statusCode, 'mcp_upstream_error');
  try {
    // A GET stream is read for the answers replayed on it (Last-Event-ID): a tools/list's to filter, a tools/call's to
    // record.
    const reads =
      exchange.id !== null ? exchange.grant !== null || toolCall !== null || exchange.tasks || exchange.states : exchange.resumes;
    if (reads && upstream.statusCode < 300) {
      if (type.startsWith('application/json')) return await relayJson(context, res, upstream, returned, exchange, server.name);
      if (type.startsWith('text/event-stream')) return await relaySse(context, res, upstream, returned, exchange, server.name);
    }
    res.writeHead(upstream.statusCode, returned);
    for await (const chunk of upstream.body) if (!res.write(chunk as Buffer)) await drained(res);
    res.end();
  } catch (error) {
    if (!abort.signal.aborted) {
      context.logger.warn({ server: server.name, err: (error as Error).message }, 'MCP server answer failed');
      toolCall?.fail(502, 'upstream_unavailable');
    }
    if (!res.headersSent) sendRpcError(res, 502, exchange.id, UPSTREAM_FAILED, `The MCP server '${server.name}' failed while answering.`);
    else res.destroy();
  } finally {
    // The server closed the call's stream before its answer (MCP 2025-11-25): the client resumes with GET, where the
    // answer comes and is recorded with its outcome.
    if (toolCall !== null && toolCall.stream && !toolCall.answered && toolCall.errorClass === null && exchange.id !== null)
      context.mcp.answers.wait(exchange.session, exchange.id, toolCall, server.timeoutMs);
    else if (toolCall !== null) settle(context, toolCall);
  }
}

/**
 * The server refused the credentials Sluice injects for it (wrong, expired, short of a scope). Relayed, its 401 and
 * WWW-Authenticate challenge would tell the client its own credentials were bad (an MCP client then starts an OAuth flow
 * against the server), though it authenticated to Sluice fine: it gets a 502 naming the server's refusal instead, as a
 * provider's 401/403 reaches a /v1 client as upstream_unavailable. The server's body is not passed on.
 */
function refusedCredentials(
  context: GatewayContext,
  res: ServerResponse,
  upstream: Dispatcher.ResponseData,
  server: McpServer,
  exchange: Exchange,
): void {
  const status = upstream.statusCode;
  upstream.body.dump().catch(() => undefined);
  context.logger.warn({ server: server.name, status }, 'MCP server refused the credentials configured for it');
  exchange.toolCall?.fail(502, 'mcp_upstream_unauthorized');
  exchange.toolCall?.record(context);
  sendRpcError(
    res,
    502,
    exchange.id,
    UPSTREAM_CREDENTIALS_REFUSED,
    `The MCP server '${server.name}' refused the credentials Sluice holds for it (HTTP ${status}); an operator must update them in Sluice's configuration.`,
  );
}

async function relayJson(
  context: GatewayContext,
  res: ServerResponse,
  upstream: Dispatcher.ResponseData,
  returned: Record<string, string>,
  exchange: Exchange,
  server: string,
): Promise<void> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of upstream.body) {
    size += (chunk as Buffer).length;
    if (size > MAX_JSON_ANSWER_BYTES) throw new Error('MCP answer too large');
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks, size).toString('utf8');
  let body = text;
  try {
    body = rewrite(context, JSON.parse(text), exchange, server) ?? text;
  } catch {
    // Not JSON after all: relayed as it came.
  }
  res.writeHead(upstream.statusCode, { ...returned, 'content-length': String(Buffer.byteLength(body)) });
  res.end(body);
}

async function relaySse(
  context: GatewayContext,
  res: ServerResponse,
  upstream: Dispatcher.ResponseData,
  returned: Record<string, string>,
  exchange: Exchange,
  server: string,
): Promise<void> {
  const call = exchange.toolCall;
  if (call !== null) call.stream = true;
  res.writeHead(upstream.statusCode, returned);
  const sealId = eventIdSealer(context.mcp.events, exchange, context.governance.store.scope);
  const relay = new SseRelay(res, (message) => rewrite(context, message, exchange, server), MAX_JSON_ANSWER_BYTES, sealId);
  for await (const chunk of upstream.body) if (!relay.push(chunk as Buffer)) await drained(res);
  relay.end();
  res.end();
}

/**
 * Until the client has taken what is buffered for it, or has gone (its close aborts the upstream call). Reading the
 * server no faster than the client reads keeps a slow client's stream from piling up in the gateway's memory.
 */
function drained(res: ServerResponse): Promise<void> {
  // A destroyed response (the client gone) may have closed already: no event would come.
  if (res.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

function listServers(res: ServerResponse, servers: ReadonlyMap<string, McpServer>, access: ReadonlyMap<string, ToolGrant>): void {
  const data = [...access].flatMap(([name, grant]) => {
    const server = servers.get(name);
    if (server === undefined) return [];
    return [
      {
        id: name,
        object: 'mcp_server',
        url: `/mcp/${name}`,
        resource: server.resource.id,
        status: server.resource.status,
        available: server.resource.action !== 'enforce',
        tools: grant === '*' ? '*' : [...grant],
      },
    ];
  });
  const body = JSON.stringify({ object: 'list', data });
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        req.removeAllListeners('data');
        req.resume();
        reject(new Error('message too large'));
        return;
      }
      chunks.push(chunk);
    });
    req.once('end', () => resolve(Buffer.concat(chunks, size)));
    req.once('error', reject);
  });
}
