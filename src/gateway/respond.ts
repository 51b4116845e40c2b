// Writing to the client: JSON answers and errors in the caller's API shape (streams: handlers/chat.ts).
import { ServerResponse, type OutgoingHttpHeader, type OutgoingHttpHeaders } from 'node:http';
import type { Logger } from 'pino';
import { SluiceError, toSluiceError } from '../errors.js';
import type { FrontDoor } from './frontdoors/frontdoor.js';

const REQUEST_ID_HEADER = 'x-request-id';

/**
 * The gateway listener's responses (node:http's `ServerResponse` option): each carries its call's request id in
 * x-request-id, added to the headers its head is written with. Every answer, error and stream goes through writeHead
 * (node's implicit head too), and a response with no header set before it takes node's direct path, where one set by
 * setHeader first sends every answer through the merging one: about 1 µs a call.
 */
export class GatewayResponse extends ServerResponse {
  /** Set by the listener before anything is written. */
  requestId = '';

  override writeHead(
    statusCode: number,
    reason?: string | OutgoingHttpHeaders | OutgoingHttpHeader[],
    headers?: OutgoingHttpHeaders | OutgoingHttpHeader[],
  ): this {
    if (typeof reason === 'string') return super.writeHead(statusCode, reason, this.withRequestId(headers));
    return super.writeHead(statusCode, this.withRequestId(reason ?? headers));
  }

  private withRequestId(
    headers: OutgoingHttpHeaders | OutgoingHttpHeader[] | undefined,
  ): OutgoingHttpHeaders | OutgoingHttpHeader[] | undefined {
    // An id the headers name already (an MCP server's) is theirs to send, as when it was set first and they merged over it.
    if (headers === undefined || Array.isArray(headers)) {
      if (!this.hasHeader(REQUEST_ID_HEADER)) this.setHeader(REQUEST_ID_HEADER, this.requestId);
      return headers;
    }
    if (headers[REQUEST_ID_HEADER] !== undefined) return headers;
    // The callers build a headers object per answer; one that cannot take the id (frozen) is copied.
    if (!Object.isExtensible(headers)) return { ...headers, [REQUEST_ID_HEADER]: this.requestId };
    headers[REQUEST_ID_HEADER] = this.requestId;
    return headers;
  }
}

export function sendJson(res: ServerResponse, status: number, body: string | Buffer): void {
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/** What sending a failure means for the call's record: its error class, and its status when it went as the answer's. */
export interface ErrorSent {
  code: string;
  /** Null when the error went in-band, in a stream already begun with 200. */
  status: number | null;
}

/**
 * Renders any failure for the client; once a stream has begun, the error goes in-band as the API's error event. Given a
 * logger, a fault inside Sluice (anything not a SluiceError, answered 500) is logged with its stack and request id.
 * Null when nothing could be sent.
 */
export function sendError(res: ServerResponse, door: FrontDoor, thrown: unknown, logger?: Logger, requestId?: string): ErrorSent | null {
  // A client that went away keeps its client_disconnected class: what failed after that is a consequence (a cancelled
  // upstream call, a body cut short), not a fault. An answer already complete takes nothing more.
  if (res.destroyed || res.writableEnded) return null;
  const error = toSluiceError(thrown);
  if (logger !== undefined && !(thrown instanceof SluiceError))
    logger.error({ requestId, err: thrown }, 'internal error in the request pipeline');
  if (res.headersSent) {
    res.end(door.errorEvent(error));
    return { code: error.code, status: null };
  }
  if (error.headers !== undefined) for (const [name, value] of Object.entries(error.headers)) res.setHeader(name, value);
  sendJson(res, error.status, door.errorBody(error));
  return { code: error.code, status: error.status };
}
