// Errors of the admin API: one JSON shape, `{ "error": { "code", "message", "issues"? } }`, with the status to send.
import { StoreConflict, StoreInvalid, StoreNotFound } from '../store/errors.js';

export interface Issue {
  /** Dotted path of the field in the request, e.g. `window.rolling`. */
  path: string;
  message: string;
}

export class ApiError extends Error {
  constructor(readonly status: 400 | 401 | 403 | 404 | 409 | 500, readonly code: string, message: string, readonly issues?: Issue[]) {
    super(message);
    this.name = 'ApiError';
  }

  body(): string {
    return JSON.stringify({ error: { code: this.code, message: this.message, ...(this.issues === undefined ? {} : { issues: this.issues }) } });
  }
}

/** The store's typed errors become 404/409/400; anything else is a 500 that says no more than that. */
export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  if (error instanceof StoreNotFound) return new ApiError(404, 'not_found', error.message);
  if (error instanceof StoreConflict) return new ApiError(409, error.reason === 'duplicate' ? 'already_exists' : 'conflict', error.message);
  if (error instanceof StoreInvalid) return new ApiError(400, 'invalid_request', error.message);
  return new ApiError(500, 'internal', 'Internal error in the director; see its log.');
}
