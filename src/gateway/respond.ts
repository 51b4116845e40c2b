// Writing to the client: JSON answers and errors in the caller's API shape (streams: handlers/chat.ts).
import type { ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { SluiceError, toSluiceError } from '../errors.js';
import type { FrontDoor } from './frontdoors/frontdoor.js';
import type { Call } from './pipeline/call.js';

export function sendJson(res: ServerResponse, status: number, body: string | Buffer): void {
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/**
 * Renders any failure for the client; once a stream has begun, the error goes in-band as the API's error event. Given a
 * logger, a fault inside Sluice (anything not a SluiceError, answered 500) is logged with its stack and request id.
 */
export function sendError(res: ServerResponse, door: FrontDoor, call: Call, thrown: unknown, logger?: Logger): SluiceError {
  const error = toSluiceError(thrown);
  // A client that went away keeps its client_disconnected class: what failed after that is a consequence (a cancelled
  // upstream call, a body cut short), not a fault. An answer already complete takes nothing more.
  if (res.destroyed || res.writableEnded) return error;
  if (logger !== undefined && !(thrown instanceof SluiceError)) logger.error({ requestId: call.requestId, err: thrown }, 'internal error in the request pipeline');
  if (call.errorClass === null) call.errorClass = error.code;
  if (res.headersSent) {
    res.end(door.errorEvent(error));
    return error;
  }
  call.status = error.status;
  if (error.headers !== undefined) for (const [name, value] of Object.entries(error.headers)) res.setHeader(name, value);
  sendJson(res, error.status, door.errorBody(error));
  return error;
}
