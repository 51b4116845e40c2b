// GET and DELETE /v1/responses/{id}, POST /v1/responses/{id}/cancel, GET /v1/responses/{id}/input_items: the calls on a
// response a provider stored, forwarded to the provider that holds it, with its credentials, for the consumer that made
// it only. They spend nothing: no admission, no ledger row; counted in sluice_stored_response_requests_total.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { SluiceError } from '../../errors.js';
import type { StoredResponseAction } from '../../providers/provider.js';
import { request } from '../../wire/undici.js';
import type { GatewayContext } from '../context.js';
import { openaiResponsesFrontDoor } from '../frontdoors/openai-responses.js';
import { authenticate } from '../pipeline/authenticate.js';
import { sendError } from '../respond.js';

const door = openaiResponsesFrontDoor;

/** The longest wait for the provider's head, and between the chunks of its body (routing.retry's defaults). */
const HEADERS_TIMEOUT_MS = 60_000;
const BODY_TIMEOUT_MS = 120_000;
/** The most of an error answer read, to redact it before it is passed on. */
const MAX_ERROR_BYTES = 64 * 1024;

/** The Responses API's endpoints under /v1/responses/ that Sluice does not front: no response has these ids. */
const NOT_FRONTED = new Set(['input_tokens', 'compact']);

interface StoredResponseCall {
  id: string;
  action: StoredResponseAction;
}

/**
 * `rest`: the path after /v1/responses/; `query`: `?...` or ''. Resolves once the answer is sent (or the client gone).
 */
export async function handleStoredResponse(
  context: GatewayContext,
  req: IncomingMessage,
  res: ServerResponse,
  requestId: string,
  rest: string,
  query: string,
): Promise<void> {
  let action: StoredResponseAction | null = null;
  try {
    const call = storedResponseCall(req.method ?? 'GET', rest);
    action = call.action;
    // No body is read: a cancel's (the SDK sends none) is left unread, as node:http discards it.
    const snapshot = context.snapshot;
    const authenticated = authenticate(context.identity, snapshot.consumers, snapshot.identityRules, req, null);
    const consumer = authenticated instanceof Promise ? await authenticated : authenticated;
    const owner = await context.storedResponses.owner(call.id);
    const upstream = owner === null || owner.consumer !== consumer.name ? undefined : snapshot.routing.upstream(owner.provider);
    // Not recorded, another consumer's, or its provider gone from the config: one answer, so ids cannot be probed.
    if (upstream === undefined) throw notFound(call.id);
    const { provider, pool } = upstream;
    if (provider.openStoredResponse === undefined) throw notFound(call.id);
    // A background response the gateway follows, deleted by its client: what it spent is read first.
    if (call.action === 'delete') await context.background.beforeDelete(call.id);
    const wanted = provider.openStoredResponse(call.id, call.action, query);
    const authorized = provider.authorize === undefined ? wanted : { ...wanted, ...(await provider.authorize({ ...wanted, body: '' })) };
    const cancel = new AbortController();
    const onClose = () => {
      if (!res.writableFinished) cancel.abort(new Error('the client closed the connection'));
    };
    res.once('close', onClose);
    let answer: Awaited<ReturnType<typeof request>>;
    try {
      answer = await request(provider.origin + authorized.path, {
        dispatcher: pool,
        method: wanted.method,
        headers: authorized.headers,
        signal: cancel.signal,
        headersTimeout: HEADERS_TIMEOUT_MS,
        bodyTimeout: BODY_TIMEOUT_MS,
      });
    } catch (error) {
      res.off('close', onClose);
      if (cancel.signal.aborted) return;
      throw new SluiceError(
        'upstream_unavailable',
        snapshot.routing.redactor.redact(`Provider ${provider.name} did not answer: ${(error as Error).message}`),
      );
    }
    const status = answer.statusCode;
    const contentType = String(answer.headers['content-type'] ?? 'application/json');
    context.storedResponses.calls.labels(call.action, String(status)).inc();
    if (status >= 200 && status < 300) {
      if (call.action === 'delete') context.storedResponses.forget(call.id);
      // The provider's answer as it is: the response object, the list of input items, or the stream of a GET with
      // stream=true, each chunk passed on as it comes.
      const headers: Record<string, string> = { 'content-type': contentType };
      if (contentType.startsWith('text/event-stream')) headers['cache-control'] = 'no-cache';
      res.writeHead(status, headers);
      try {
        await pipeline(answer.body, res);
      } catch {
        // The client left, or the provider broke off: the connection is all there is left to end.
        res.destroy();
      }
      res.off('close', onClose);
      return;
    }
    // The provider's refusal (its own 404 for an id it no longer holds, a 400 for cancelling a response not in the
    // background) in its own words, any credential it echoes taken out.
    const text = await boundedText(answer.body);
    res.off('close', onClose);
    const body = snapshot.routing.redactor.redact(text);
    res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
    res.end(body);
  } catch (error) {
    if (error instanceof SluiceError) {
      if (error.code === 'invalid_api_key') context.metrics.unauthenticated('/v1/responses/{id}');
      if (action !== null && error.code !== 'invalid_api_key') context.storedResponses.calls.labels(action, String(error.status)).inc();
    }
    sendError(res, door, error, context.logger, requestId);
  }
}

/** What the method and path ask for; throws route_not_found or method_not_allowed. */
function storedResponseCall(method: string, rest: string): StoredResponseCall {
  const parts = rest.split('/');
  const encoded = parts[0]!;
  if (encoded === '' || parts.length > 2 || (parts.length === 1 && NOT_FRONTED.has(encoded)))
    throw new SluiceError('route_not_found', `No endpoint ${method} /v1/responses/${rest}.`);
  let id: string;
  try {
    id = decodeURIComponent(encoded);
  } catch {
    throw new SluiceError('route_not_found', `No endpoint ${method} /v1/responses/${rest}.`);
  }
  const tail = parts[1];
  if (tail === undefined) {
    if (method === 'GET') return { id, action: 'retrieve' };
    if (method === 'DELETE') return { id, action: 'delete' };
    throw notAllowed(method, 'GET, DELETE');
  }
  if (tail === 'cancel') {
    if (method === 'POST') return { id, action: 'cancel' };
    throw notAllowed(method, 'POST');
  }
  if (tail === 'input_items') {
    if (method === 'GET') return { id, action: 'input_items' };
    throw notAllowed(method, 'GET');
  }
  throw new SluiceError('route_not_found', `No endpoint ${method} /v1/responses/${rest}.`);
}

function notAllowed(method: string, allow: string): SluiceError {
  return new SluiceError('method_not_allowed', `${method} is not allowed here; use ${allow}.`, { headers: { allow } });
}

/** OpenAI's words for an id it does not hold. */
function notFound(id: string): SluiceError {
  return new SluiceError('response_not_found', `Response with id '${id}' not found.`);
}

/** The body as text, at most MAX_ERROR_BYTES of it (the rest is read and dropped, so the connection is reused). */
async function boundedText(body: AsyncIterable<Buffer>): Promise<string> {
  const chunks: Buffer[] = [];
  let held = 0;
  for await (const chunk of body) {
    if (held >= MAX_ERROR_BYTES) continue;
    chunks.push(chunk);
    held += chunk.length;
  }
  return Buffer.concat(chunks).subarray(0, MAX_ERROR_BYTES).toString('utf8');
}
