// A mock of OpenAI's stored responses (and Azure OpenAI's, at its own prefix): it stores what it answers, serves GET,
// DELETE, cancel and input_items on it as OpenAI does, and checks the credentials of every request.
import type { ServerResponse } from 'node:http';
import { json, sse, type Received } from './mock-provider.js';
import { messageItem, responseObject, responseStreamFrames } from './mock-responses.js';

const STREAM_FRAMES = responseStreamFrames(['Hel', 'lo'], { input_tokens: 7, output_tokens: 2 });

interface Stored {
  response: Record<string, unknown>;
  input: unknown[];
  frames: string[];
}

/**
 * A mock of OpenAI's stored responses at `<prefix>/responses`: it answers POST as OpenAI does (storing the response
 * unless `store: false`), and GET (with `stream=true` too), DELETE, cancel and input_items on what it stored. Every
 * request must carry `authorized`'s credentials. `idPrefix`: its ids', for mocks of two accounts whose ids must differ.
 */
export function storingResponsesApi(prefix: string, authorized: (request: Received) => boolean, idPrefix = 'resp_') {
  const stored = new Map<string, Stored>();
  let next = 0;
  const responder = (request: Received, res: ServerResponse) => {
    if (!authorized(request)) return json(res, 401, { error: { message: 'Incorrect API key provided', type: 'invalid_request_error' } });
    const url = new URL(request.path, 'http://mock');
    if (request.method === 'POST' && url.pathname === `${prefix}/responses`) {
      const id = `${idPrefix}${(++next).toString(16).padStart(8, '0')}`;
      const input =
        typeof request.body.input === 'string' ? [{ role: 'user', content: request.body.input }] : (request.body.input as unknown[]);
      const frames = STREAM_FRAMES.map((frame) => frame.replaceAll('resp_stream1', id));
      const response = responseObject([messageItem(`Answer ${id}`)], { input_tokens: 10, output_tokens: 4 }, 'gpt-4o-mini-2024-07-18', id);
      if (request.body.store !== false) stored.set(id, { response, input, frames });
      return request.body.stream === true ? sse(res, frames) : json(res, 200, response);
    }
    const match = /^(.*)\/responses\/([^/]+)(\/cancel|\/input_items)?$/.exec(url.pathname);
    if (match === null || match[1] !== prefix)
      return json(res, 404, { error: { message: `no route ${request.path}`, type: 'invalid_request_error' } });
    const id = decodeURIComponent(match[2]!);
    const found = stored.get(id);
    if (found === undefined)
      return json(res, 404, {
        error: { message: `Response with id '${id}' not found.`, type: 'invalid_request_error', param: null, code: null },
      });
    const action = `${request.method} ${match[3] ?? ''}`;
    switch (action) {
      case 'GET ':
        return url.searchParams.get('stream') === 'true' ? sse(res, found.frames) : json(res, 200, found.response);
      case 'DELETE ':
        stored.delete(id);
        return json(res, 200, { id, object: 'response', deleted: true });
      case 'POST /cancel':
        return json(res, 400, {
          error: {
            message: 'Only responses created with background=true can be cancelled.',
            type: 'invalid_request_error',
            param: null,
            code: null,
          },
        });
      case 'GET /input_items': {
        const limit = Number(url.searchParams.get('limit') ?? 20);
        const items = found.input.map((item, index) => ({
          id: `msg_in${index}`,
          type: 'message',
          status: 'completed',
          ...(item as object),
        }));
        const data = url.searchParams.get('order') === 'asc' ? items : [...items].reverse();
        const page = data.slice(0, limit);
        return json(res, 200, {
          object: 'list',
          data: page,
          first_id: page[0]?.id,
          last_id: page.at(-1)?.id,
          has_more: data.length > limit,
        });
      }
    }
    return json(res, 405, { error: { message: `no ${action}`, type: 'invalid_request_error' } });
  };
  return { stored, responder };
}
