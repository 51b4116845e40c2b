// JSON-RPC 2.0 as MCP uses it (https://modelcontextprotocol.io/specification/2025-06-18/basic): the message shapes the
// gateway reads, and its own error answers.
import type { ServerResponse } from 'node:http';

export type JsonRpcId = string | number;

/** What the gateway needs of a client's message: a request has a method and an id, a notification only a method. */
export interface JsonRpcMessage {
  jsonrpc?: unknown;
  id?: unknown;
  method?: unknown;
  params?: unknown;
  result?: unknown;
  error?: unknown;
}

/** Standard codes (JSON-RPC 2.0 section 5.1); MCP answers an unknown tool with INVALID_PARAMS. */
export const PARSE_ERROR = -32700;
export const INVALID_REQUEST = -32600;
export const METHOD_NOT_FOUND = -32601;
export const INVALID_PARAMS = -32602;
/** Implementation-defined server errors (-32000 to -32099): the gateway's own refusals and failures. */
export const UNAUTHORIZED = -32001;
export const SERVER_NOT_FOUND = -32002;
export const SERVER_REFUSED = -32003;
export const UPSTREAM_FAILED = -32004;
export const UPSTREAM_CREDENTIALS_REFUSED = -32005;
export const ORIGIN_REFUSED = -32006;
export const SESSION_NOT_FOUND = -32007;
/** MCP 2026-07-28's HeaderMismatch: the Mcp-Method / Mcp-Name headers name another method or tool than the body. */
export const HEADER_MISMATCH = -32020;

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function requestId(message: JsonRpcMessage): JsonRpcId | null {
  return typeof message.id === 'string' || typeof message.id === 'number' ? message.id : null;
}

/** An error response; one that answers no request (unread, or without an id) has no id (MCP 2025-11-25), never null. */
export function errorMessage(id: JsonRpcId | null, code: number, message: string): string {
  return JSON.stringify(id === null ? { jsonrpc: '2.0', error: { code, message } } : { jsonrpc: '2.0', id, error: { code, message } });
}

/** An error answer with its HTTP status: 200 for a refusal of one request the client sent well, 4xx/5xx for the exchange. */
export function sendRpcError(res: ServerResponse, status: number, id: JsonRpcId | null, code: number, message: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = errorMessage(id, code, message);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
