// A mock OpenAI streaming Responses API calls (`stream: true`, in the background or not) in the API's own events
// (https://platform.openai.com/docs/api-reference/responses-streaming): `response.created` (the response queued), then
// `response.queued`, `response.in_progress` and the first text at once; the rest when the test calls `end()` (or at once
// with `streamWhole(true)`). Retrievals of each response are counted; one with stream=true replays the events after
// starting_after, as OpenAI resumes a background response's stream. A cancel of a background response (POST
// .../cancel, https://platform.openai.com/docs/guides/background) answers it `cancelled` with what it used so far and
// closes its stream if still open, no event after; a response not made in the background cannot be cancelled (400).
// `options.path` and `options.authorized`: Azure OpenAI's v1 surface (`/openai/v1`, its `api-key`) instead of OpenAI's.
import type { ServerResponse } from 'node:http';
import { json, type Received } from './mock-provider.js';
import { messageItem, responseObject, type MockUsage } from './mock-responses.js';

interface Streamed {
  events: string[];
  /** The client's connection while the stream is open at the provider; null once ended or left. */
  open: ServerResponse | null;
  response: Record<string, unknown>;
}

export interface StreamingApiOptions {
  /** Where the Responses API is (OpenAI's `/v1`; Azure OpenAI's v1 surface `/openai/v1`). */
  path?: string;
  /** Whether a request carries the credentials (OpenAI's bearer key `apiKey` unless given). */
  authorized?: (request: Received) => boolean;
}

/** The usage a cancelled response reports: what ran before the cancel, billed. */
export const CANCELLED_USAGE: MockUsage = { input_tokens: 900, output_tokens: 150 };

/** `apiKey`: the key the mock expects; `model`: the snapshot its response objects name; `prefix`: its response ids'. */
export function streamingBackgroundApi(apiKey: string, model: string, prefix = 'resp_bgs', options: StreamingApiOptions = {}) {
  const path = options.path ?? '/v1';
  const authorized = options.authorized ?? ((request: Received) => request.headers.authorization === `Bearer ${apiKey}`);
  const streamed = new Map<string, Streamed>();
  const retrievals = new Map<string, number>();
  let next = 0;
  let whole = false;
  const frame = (entry: Streamed, type: string, fields: Record<string, unknown>) => {
    const text = `event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: entry.events.length, ...fields })}\n\n`;
    entry.events.push(text);
    entry.open?.write(text);
  };
  const close = (entry: Streamed) => {
    entry.open?.end();
    entry.open = null;
  };
  const at = { item_id: 'msg_bg1', output_index: 0, content_index: 0 };
  const part = { type: 'output_text', text: '', annotations: [], logprobs: [] };
  const finish = (id: string, usage: MockUsage) => {
    const entry = streamed.get(id)!;
    frame(entry, 'response.output_text.delta', { ...at, delta: 'is done.', logprobs: [] });
    const done = messageItem('The report is done.');
    frame(entry, 'response.output_text.done', { ...at, text: 'The report is done.', logprobs: [] });
    frame(entry, 'response.output_item.done', { output_index: 0, item: { ...done, id: 'msg_bg1' } });
    entry.response = { ...responseObject([done], usage, model, id), background: entry.response.background };
    frame(entry, 'response.completed', { response: entry.response });
    close(entry);
  };
  const responder = (request: Received, res: ServerResponse) => {
    if (!authorized(request)) return json(res, 401, { error: { message: 'Incorrect API key provided', type: 'invalid_request_error' } });
    const url = new URL(request.path, 'http://mock');
    if (request.method === 'POST' && url.pathname === `${path}/responses` && request.body.stream === true) {
      const id = `${prefix}${(++next).toString(16).padStart(5, '0')}`;
      const background = request.body.background === true;
      const queued = {
        ...responseObject([], { input_tokens: 0, output_tokens: 0 }, model, id),
        status: background ? 'queued' : 'in_progress',
        background,
        usage: null,
      };
      const entry: Streamed = { events: [], open: res, response: queued };
      streamed.set(id, entry);
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8' });
      res.on('close', () => {
        if (entry.open === res) entry.open = null;
      });
      frame(entry, 'response.created', { response: queued });
      if (background) frame(entry, 'response.queued', { response: queued });
      entry.response = { ...queued, status: 'in_progress' };
      frame(entry, 'response.in_progress', { response: entry.response });
      frame(entry, 'response.output_item.added', {
        output_index: 0,
        item: { id: 'msg_bg1', type: 'message', status: 'in_progress', role: 'assistant', content: [] },
      });
      frame(entry, 'response.content_part.added', { ...at, part });
      frame(entry, 'response.output_text.delta', { ...at, delta: 'The report ', logprobs: [] });
      if (whole) finish(id, { input_tokens: 300, output_tokens: 4_000 });
      return;
    }
    const match = /^(.*)\/responses\/([^/]+)(\/cancel)?$/.exec(url.pathname);
    const id = match !== null && match[1] === path ? match[2]! : '';
    const entry = streamed.get(id);
    if (entry === undefined)
      return json(res, 404, { error: { message: `Response with id '${id}' not found.`, type: 'invalid_request_error' } });
    if (request.method === 'POST' && match![3] === '/cancel') {
      if (entry.response.background !== true)
        return json(res, 400, {
          error: { message: 'Only responses created with background=true can be cancelled.', type: 'invalid_request_error' },
        });
      if (entry.response.status === 'in_progress' || entry.response.status === 'queued') {
        entry.response = { ...responseObject([], CANCELLED_USAGE, model, id), status: 'cancelled', background: true };
        close(entry);
      }
      return json(res, 200, entry.response);
    }
    if (request.method !== 'GET' || match![3] !== undefined)
      return json(res, 405, { error: { message: 'no such method', type: 'invalid_request_error' } });
    retrievals.set(id, (retrievals.get(id) ?? 0) + 1);
    if (url.searchParams.get('stream') !== 'true') return json(res, 200, entry.response);
    const after = Number(url.searchParams.get('starting_after') ?? -1);
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8' });
    res.end(entry.events.slice(after + 1).join(''));
  };
  return {
    responder,
    retrievals: (id: string) => retrievals.get(id) ?? 0,
    /** Whether the provider's streams run to the response's end at once. */
    streamWhole(value: boolean) {
      whole = value;
    },
    /** Ends a running response, as the model finishing would: its last events, and its usage. */
    end: finish,
    /** Whether the provider still has the stream's connection open. */
    connected: (id: string) => streamed.get(id)?.open !== null,
  };
}
