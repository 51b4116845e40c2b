// The error registry: every error a client can receive from Sluice, declared once, rendered per API shape.

export interface ErrorSpec {
  status: number;
  /** OpenAI's `error.type` and `error.code`. */
  openaiType: string;
  openaiCode: string | null;
  /** Anthropic's `error.type`. */
  anthropicType: string;
  /** What the error table in docs/errors.md says about it. */
  summary: string;
}

export const ERRORS = {
  invalid_api_key: {
    status: 401,
    openaiType: 'invalid_request_error',
    openaiCode: 'invalid_api_key',
    anthropicType: 'authentication_error',
    summary:
      'No Sluice key, or a key no consumer holds; a client certificate missing or from an untrusted CA, or a JWT that does not verify.',
  },
  identity_not_mapped: {
    status: 403,
    openaiType: 'permission_error',
    openaiCode: 'identity_not_mapped',
    anthropicType: 'permission_error',
    summary: 'A client certificate, mesh identity or JWT that verifies but that no identity rule maps to a consumer.',
  },
  model_not_found: {
    status: 404,
    openaiType: 'invalid_request_error',
    openaiCode: 'model_not_found',
    anthropicType: 'not_found_error',
    summary: 'The model is not configured, or this consumer may not use it.',
  },
  route_not_found: {
    status: 404,
    openaiType: 'invalid_request_error',
    openaiCode: 'unknown_url',
    anthropicType: 'not_found_error',
    summary: 'No such endpoint.',
  },
  response_not_found: {
    status: 404,
    openaiType: 'invalid_request_error',
    // OpenAI's own answer for an id it does not hold has no code.
    openaiCode: null,
    anthropicType: 'not_found_error',
    summary: 'No stored response with this id was created through Sluice by this consumer.',
  },
  previous_response_not_found: {
    status: 400,
    openaiType: 'invalid_request_error',
    openaiCode: 'previous_response_not_found',
    anthropicType: 'invalid_request_error',
    summary: "A Responses API call's `previous_response_id` names a response another consumer created through Sluice.",
  },
  method_not_allowed: {
    status: 405,
    openaiType: 'invalid_request_error',
    openaiCode: 'method_not_allowed',
    anthropicType: 'invalid_request_error',
    summary: 'The endpoint exists but not for this HTTP method.',
  },
  invalid_json: {
    status: 400,
    openaiType: 'invalid_request_error',
    openaiCode: 'invalid_json',
    anthropicType: 'invalid_request_error',
    summary: 'The body is not valid JSON.',
  },
  invalid_request: {
    status: 400,
    openaiType: 'invalid_request_error',
    openaiCode: 'invalid_value',
    anthropicType: 'invalid_request_error',
    summary: 'A field is missing or has the wrong type or value; the message names the field.',
  },
  unsupported_by_provider: {
    status: 400,
    openaiType: 'invalid_request_error',
    openaiCode: 'unsupported_parameter',
    anthropicType: 'invalid_request_error',
    summary: "The model's provider does not support a feature the request uses.",
  },
  model_not_sanctioned: {
    status: 403,
    openaiType: 'permission_error',
    openaiCode: 'model_not_sanctioned',
    anthropicType: 'permission_error',
    summary: 'Every provider model behind the requested model is unsanctioned (or unreviewed) and the resource policy enforces it.',
  },
  model_unpriced: {
    status: 403,
    openaiType: 'permission_error',
    openaiCode: 'model_unpriced',
    anthropicType: 'permission_error',
    summary:
      'A budget that limits cost covers the call, and a provider model behind the requested model has no price, so the budget could not count it (`admission.unpriced: refuse`).',
  },
  budget_exhausted: {
    status: 429,
    openaiType: 'insufficient_quota',
    openaiCode: 'budget_exhausted',
    anthropicType: 'rate_limit_error',
    summary: 'An enforced budget has no room for this call; `Retry-After` and `x-ratelimit-*` say when the window resets.',
  },
  reservation_exceeds_budget: {
    status: 400,
    openaiType: 'invalid_request_error',
    openaiCode: 'reservation_exceeds_budget',
    anthropicType: 'invalid_request_error',
    summary:
      "The call's reservation alone (its prompt plus `max_tokens`, or their price) is more than an enforced budget's or rate limit's whole limit: it can never fit, so it is refused without `Retry-After` (a 400, which SDKs do not retry); the message says how to make it fit.",
  },
  rate_limited: {
    status: 429,
    openaiType: 'rate_limit_error',
    openaiCode: 'rate_limit_exceeded',
    anthropicType: 'rate_limit_error',
    summary: 'A tokens- or requests-per-minute limit has no room for this call; `Retry-After` says when it will.',
  },
  counters_unavailable: {
    status: 503,
    openaiType: 'api_error',
    openaiCode: 'counters_unavailable',
    anthropicType: 'api_error',
    summary: 'Budgets cannot be checked (the Redis counters are unreachable) and `counters.failMode` is `closed`.',
  },
  identity_unavailable: {
    status: 503,
    openaiType: 'api_error',
    openaiCode: 'identity_unavailable',
    anthropicType: 'api_error',
    summary: "A JWT's issuer's signing keys (its JWKS) cannot be fetched: the token is neither accepted nor refused, and a retry may pass.",
  },
  response_records_unavailable: {
    status: 503,
    openaiType: 'api_error',
    openaiCode: 'response_records_unavailable',
    anthropicType: 'api_error',
    summary: "The record of stored responses (its Redis) cannot be read: the response's owner is unknown, and a retry may pass.",
  },
  body_too_large: {
    status: 413,
    openaiType: 'invalid_request_error',
    openaiCode: 'request_too_large',
    anthropicType: 'request_too_large',
    summary: 'The body is larger than gateway.maxBodyBytes.',
  },
  unsupported_encoding: {
    status: 415,
    openaiType: 'invalid_request_error',
    openaiCode: 'unsupported_encoding',
    anthropicType: 'invalid_request_error',
    summary: "The body's `content-encoding` is not one Sluice reads (gzip, deflate, br, or none).",
  },
  upstream_rejected: {
    status: 400,
    openaiType: 'invalid_request_error',
    openaiCode: 'upstream_rejected',
    anthropicType: 'invalid_request_error',
    summary:
      "The provider refused the request itself (a 4xx other than 401/403/404/408/409/429); its status and message are passed on, never retried; on a call passed through in the client's own API, its own error fields too.",
  },
  upstream_unavailable: {
    status: 502,
    openaiType: 'api_error',
    openaiCode: 'upstream_unavailable',
    anthropicType: 'api_error',
    summary:
      'Every target failed (connect errors, 5xx, a body that broke off, an answer too large, a stream request not answered with a stream); the message lists each attempt. Status 429 with Retry-After when the last failure was a 429.',
  },
  upstream_timeout: {
    status: 504,
    openaiType: 'api_error',
    openaiCode: 'upstream_timeout',
    anthropicType: 'timeout_error',
    summary:
      'Every target failed and the last failure was a timeout (head, first byte, idle between chunks, a stream past maxStreamMs, connecting, or an upstream 408/504); also the error event that ends a stream cut at maxStreamMs once begun.',
  },
  internal: {
    status: 500,
    openaiType: 'api_error',
    openaiCode: 'internal_error',
    anthropicType: 'api_error',
    summary: 'A fault inside Sluice; logged with its stack and the request id. No client input causes one, and it never ends the process.',
  },
  shutting_down: {
    status: 503,
    openaiType: 'api_error',
    openaiCode: 'shutting_down',
    anthropicType: 'overloaded_error',
    summary: 'The gateway is stopping and takes no new requests.',
  },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERRORS;

/**
 * A provider's own error fields, kept when the client's request passed through in the provider's API (OpenAI to OpenAI,
 * Anthropic to Anthropic): they name the client's own body, so the client is shown them in place of the registry's.
 * Rendered only in the API they came from; null fields fall back to the registry's.
 */
export interface ProviderErrorFields {
  api: 'openai' | 'anthropic';
  type: string | null;
  code: string | null;
}

export interface SluiceErrorOptions {
  param?: string | null;
  status?: number;
  headers?: Record<string, string>;
  provider?: ProviderErrorFields;
}

/** An error that reaches a client; `status` may override the registry's (upstream_rejected keeps the provider's). */
export class SluiceError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly param: string | null;
  readonly headers: Record<string, string> | undefined;
  readonly provider: ProviderErrorFields | undefined;

  constructor(code: ErrorCode, message: string, options: SluiceErrorOptions = {}) {
    super(message);
    this.name = 'SluiceError';
    this.code = code;
    this.status = options.status ?? ERRORS[code].status;
    this.param = options.param ?? null;
    this.headers = options.headers;
    this.provider = options.provider;
  }
}

export function toSluiceError(error: unknown): SluiceError {
  if (error instanceof SluiceError) return error;
  return new SluiceError('internal', 'Internal error in the gateway; see its log for the request id.');
}

export function openaiErrorBody(error: SluiceError): string {
  const spec = ERRORS[error.code];
  const own = error.provider?.api === 'openai' ? error.provider : undefined;
  // OpenAI's own code is passed on even when null: it is what OpenAI would have told this client.
  const type = own?.type ?? spec.openaiType;
  const code = own !== undefined ? own.code : spec.openaiCode;
  return JSON.stringify({ error: { message: error.message, type, param: error.param, code } });
}

export function anthropicErrorBody(error: SluiceError): string {
  const spec = ERRORS[error.code];
  const own = error.provider?.api === 'anthropic' ? error.provider.type : null;
  return JSON.stringify({ type: 'error', error: { type: own ?? anthropicTypeFor(error, spec.anthropicType), message: error.message } });
}

/** Anthropic names some errors by status rather than by cause (429 rate_limit_error, 529 overloaded_error). */
function anthropicTypeFor(error: SluiceError, fallback: string): string {
  return anthropicTypeOfStatus(error.status) ?? fallback;
}

/** Anthropic's type for an error of a status it names by status whatever the cause; undefined for the others. */
export function anthropicTypeOfStatus(status: number): string | undefined {
  switch (status) {
    case 401:
      return 'authentication_error';
    case 403:
      return 'permission_error';
    case 404:
      return 'not_found_error';
    case 413:
      return 'request_too_large';
    case 429:
      return 'rate_limit_error';
    default:
      return undefined;
  }
}
