// `sluice demo`'s provider: a real HTTP server on loopback speaking OpenAI's chat completions wire format (JSON and
// server-sent-event streams with a usage chunk) and embeddings, and Anthropic's Messages API (JSON and event streams,
// with prompt caching: a prefix marked with `cache_control` is written once, then read for five minutes), with
// latencies and token counts like a real model's. No key is checked and nothing leaves the machine.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

const WORDS = (
  'the gateway routes each call to a provider and records its tokens cost and latency so teams can see spend ' +
  'budgets alerts forecast reconcile discovery consumer model answer summary report customer invoice search result'
).split(' ');

export interface SimulatedProvider {
  /** OpenAI's wire format: the base URL its SDK takes (`.../v1`). */
  url: string;
  /** Anthropic's Messages API: the origin (`/v1/messages` below it). */
  anthropicUrl: string;
  close(): Promise<void>;
}

/** Latency of a model: a base and a per-output-token pace, with jitter, like a hosted model under light load. */
function pace(model: string): { firstTokenMs: number; perTokenMs: number } {
  if (model.includes('mini') || model.includes('haiku')) return { firstTokenMs: 180, perTokenMs: 4 };
  if (model.includes('large') || model === 'gpt-4o' || model === 'gpt-4.1') return { firstTokenMs: 420, perTokenMs: 9 };
  return { firstTokenMs: 300, perTokenMs: 6 };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const jitter = (ms: number) => Math.round(ms * (0.7 + Math.random() * 0.6));

function text(words: number): string {
  return Array.from(
    { length: words },
    (_value, index) => WORDS[(index * 7 + Math.floor(Math.random() * WORDS.length)) % WORDS.length],
  ).join(' ');
}

/** About four characters a token, as OpenAI's tokenizers average on English. */
function promptTokens(body: { messages?: Array<{ content?: unknown }>; input?: unknown }): number {
  const source =
    body.messages === undefined
      ? JSON.stringify(body.input ?? '')
      : body.messages.map((message) => JSON.stringify(message.content ?? '')).join(' ');
  return Math.max(8, Math.ceil(source.length / 4) + 7 * (body.messages?.length ?? 1));
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

async function chat(body: Record<string, unknown>, res: ServerResponse): Promise<void> {
  const model = String(body.model ?? 'unknown');
  const maxTokens =
    typeof body.max_tokens === 'number'
      ? body.max_tokens
      : typeof body.max_completion_tokens === 'number'
        ? body.max_completion_tokens
        : 400;
  const input = promptTokens(body as { messages?: Array<{ content?: unknown }> });
  const output = Math.max(5, Math.min(maxTokens, Math.round(40 + Math.random() * 260)));
  const answer = text(Math.round(output * 0.75));
  const id = `chatcmpl-demo-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
  const created = Math.floor(Date.now() / 1000);
  const usage = { prompt_tokens: input, completion_tokens: output, total_tokens: input + output };
  const { firstTokenMs, perTokenMs } = pace(model);
  if (body.stream === true) {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const chunk = (delta: Record<string, unknown>, finish: string | null) =>
      `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
    await sleep(jitter(firstTokenMs));
    res.write(chunk({ role: 'assistant', content: '' }, null));
    const words = answer.split(' ');
    for (let at = 0; at < words.length; at += 8) {
      res.write(chunk({ content: `${at === 0 ? '' : ' '}${words.slice(at, at + 8).join(' ')}` }, null));
      await sleep(jitter(perTokenMs * 10));
    }
    res.write(chunk({}, 'stop'));
    const options = body.stream_options as { include_usage?: boolean } | undefined;
    if (options?.include_usage === true)
      res.write(`data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices: [], usage })}\n\n`);
    res.end('data: [DONE]\n\n');
    return;
  }
  await sleep(jitter(firstTokenMs + perTokenMs * output));
  send(res, 200, {
    id,
    object: 'chat.completion',
    created,
    model,
    choices: [{ index: 0, message: { role: 'assistant', content: answer }, finish_reason: 'stop', logprobs: null }],
    usage,
  });
}

/** Anthropic's minimum cacheable prompt for Sonnet and Opus models (Haiku's is 2,048). */
const MIN_CACHEABLE_TOKENS = 1_024;
/** Cached prefixes (by their text) and when each expires: Anthropic's default cache lives five minutes from its last use. */
const anthropicCache = new Map<string, number>();

type AnthropicBlock = { type?: string; text?: string; cache_control?: unknown };

/**
 * The prompt's tokens, split as Anthropic's usage splits them: the prefix up to the last block marked `cache_control`
 * is read from the cache when an unexpired copy is there, else written to it (when long enough), and the rest is input.
 */
function anthropicPromptUsage(body: Record<string, unknown>): { input: number; cacheRead: number; cacheWrite: number } {
  const system: AnthropicBlock[] =
    typeof body.system === 'string' ? [{ type: 'text', text: body.system }] : ((body.system as AnthropicBlock[]) ?? []);
  const messages = (body.messages as Array<{ content?: unknown }> | undefined) ?? [];
  const marked = system.findLastIndex((block) => block.cache_control !== undefined);
  const prefix =
    marked === -1
      ? ''
      : system
          .slice(0, marked + 1)
          .map((block) => block.text ?? '')
          .join('\n');
  const rest =
    system
      .slice(marked + 1)
      .map((block) => block.text ?? '')
      .join('\n') + JSON.stringify(messages);
  const prefixTokens = Math.ceil(prefix.length / 4);
  const restTokens = Math.max(8, Math.ceil(rest.length / 4) + 7 * messages.length);
  if (prefixTokens < MIN_CACHEABLE_TOKENS) return { input: prefixTokens + restTokens, cacheRead: 0, cacheWrite: 0 };
  const now = Date.now();
  const hit = (anthropicCache.get(prefix) ?? 0) > now;
  anthropicCache.set(prefix, now + 5 * 60_000);
  return hit
    ? { input: restTokens, cacheRead: prefixTokens, cacheWrite: 0 }
    : { input: restTokens, cacheRead: 0, cacheWrite: prefixTokens };
}

async function messages(body: Record<string, unknown>, res: ServerResponse): Promise<void> {
  const model = String(body.model ?? 'unknown');
  const maxTokens = typeof body.max_tokens === 'number' ? body.max_tokens : 400;
  const prompt = anthropicPromptUsage(body);
  const output = Math.max(5, Math.min(maxTokens, Math.round(40 + Math.random() * 260)));
  const answer = text(Math.round(output * 0.75));
  const id = `msg_demo${Date.now().toString(36)}${Math.random().toString(36).slice(2, 10)}`;
  const usage = {
    input_tokens: prompt.input,
    cache_creation_input_tokens: prompt.cacheWrite,
    cache_read_input_tokens: prompt.cacheRead,
    output_tokens: output,
  };
  const { firstTokenMs, perTokenMs } = pace(model);
  if (body.stream === true) {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const event = (type: string, data: Record<string, unknown>) => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
    await sleep(jitter(firstTokenMs));
    const message = { id, type: 'message', role: 'assistant', model, content: [], stop_reason: null, stop_sequence: null };
    res.write(event('message_start', { message: { ...message, usage: { ...usage, output_tokens: 1 } } }));
    res.write(event('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }));
    const words = answer.split(' ');
    for (let at = 0; at < words.length; at += 8) {
      const delta = `${at === 0 ? '' : ' '}${words.slice(at, at + 8).join(' ')}`;
      res.write(event('content_block_delta', { index: 0, delta: { type: 'text_delta', text: delta } }));
      await sleep(jitter(perTokenMs * 10));
    }
    res.write(event('content_block_stop', { index: 0 }));
    res.write(event('message_delta', { delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: output } }));
    res.end(event('message_stop', {}));
    return;
  }
  await sleep(jitter(firstTokenMs + perTokenMs * output));
  send(res, 200, {
    id,
    type: 'message',
    role: 'assistant',
    model,
    content: [{ type: 'text', text: answer }],
    stop_reason: 'end_turn',
    stop_sequence: null,
    usage,
  });
}

async function embeddings(body: Record<string, unknown>, res: ServerResponse): Promise<void> {
  const inputs = Array.isArray(body.input) ? body.input : [body.input];
  const tokens = promptTokens({ input: body.input });
  await sleep(jitter(60));
  send(res, 200, {
    object: 'list',
    model: String(body.model ?? 'unknown'),
    data: inputs.map((_input, index) => ({ object: 'embedding', index, embedding: Array.from({ length: 8 }, () => Math.random() - 0.5) })),
    usage: { prompt_tokens: tokens, total_tokens: tokens },
  });
}

export async function startSimulatedProvider(): Promise<SimulatedProvider> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    readJson(req)
      .then(async (body) => {
        if (req.method === 'POST' && path === '/v1/chat/completions') return chat(body, res);
        if (req.method === 'POST' && path === '/v1/embeddings') return embeddings(body, res);
        if (req.method === 'POST' && path === '/v1/messages') return messages(body, res);
        send(res, 404, { error: { message: `Unknown path ${path}`, type: 'invalid_request_error', param: null, code: 'not_found' } });
        return undefined;
      })
      .catch(() => {
        if (!res.headersSent)
          send(res, 400, {
            error: { message: 'We could not parse the JSON body of your request.', type: 'invalid_request_error', param: null, code: null },
          });
        else res.end();
      });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    anthropicUrl: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
