// Errors of the admin API: one JSON shape, `{ "error": { "code", "message", "issues"? } }`, with the status to send.
import { HTTPException } from 'hono/http-exception';
import { StoreConflict, StoreInvalid, StoreNotFound } from '../store/errors.js';

export interface Issue {
  /** Dotted path of the field in the request, e.g. `window.rolling`. */
  path: string;
  message: string;
}

export type ApiStatus = 400 | 401 | 403 | 404 | 405 | 409 | 413 | 415 | 500 | 503;

export class ApiError extends Error {
  /** A 400 always names what was wrong, each field by its path (`(body)` for the body as a whole). */
  constructor(status: 400, code: string, message: string, issues: Issue[], headers?: Record<string, string>);
  constructor(status: Exclude<ApiStatus, 400>, code: string, message: string, issues?: Issue[], headers?: Record<string, string>);
  /** `headers`: sent with the answer, e.g. `allow` with a 405. */
  constructor(
    readonly status: ApiStatus,
    readonly code: string,
    message: string,
    readonly issues?: Issue[],
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }

  body(): string {
    return JSON.stringify({
      error: { code: this.code, message: this.message, ...(this.issues === undefined ? {} : { issues: this.issues }) },
    });
  }
}

/**
 * The store's typed errors become 404/409/400, hono's a 400 (a body that is not JSON) or 415 (a body that is not sent
 * as JSON); anything else is a 500 that says no more than that.
 */
export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  if (error instanceof HTTPException && error.status === 400) {
    const message = `not valid JSON (${error.message})`;
    return new ApiError(400, 'invalid_json', `The request body is ${message}.`, [{ path: '(body)', message }]);
  }
  if (error instanceof HTTPException && error.status === 415)
    return new ApiError(415, 'unsupported_media_type', 'Send the request body as JSON, with content-type: application/json.');
  if (error instanceof StoreNotFound) return new ApiError(404, 'not_found', error.message);
  if (error instanceof StoreConflict) return new ApiError(409, error.reason === 'duplicate' ? 'already_exists' : 'conflict', error.message);
  if (error instanceof StoreInvalid)
    return new ApiError(400, 'invalid_request', error.message, [{ path: error.field, message: error.message }]);
  return new ApiError(500, 'internal', 'Internal error in the director; see its log.');
}
