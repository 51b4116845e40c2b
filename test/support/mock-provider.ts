// A mock upstream provider: a real HTTP server on loopback that records what it receives and answers as scripted.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

export interface Received {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: Record<string, unknown>;
  /** The body exactly as sent, for checks that hash it (AWS signatures). */
  rawBody: string;
}

export type Responder = (request: Received, res: ServerResponse) => void | Promise<void>;

export class MockProvider {
  readonly received: Received[] = [];
  private readonly server: Server;
  private responder: Responder;
  url = '';

  private constructor(responder: Responder) {
    this.responder = responder;
    this.server = createServer((req, res) => void this.handle(req, res));
  }

  static async start(responder: Responder): Promise<MockProvider> {
    const mock = new MockProvider(responder);
    await new Promise<void>((resolve) => mock.server.listen(0, '127.0.0.1', resolve));
    const address = mock.server.address();
    mock.url = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;
    return mock;
  }

  respondWith(responder: Responder): void {
    this.responder = responder;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const received: Received = {
      method: req.method ?? '',
      path: req.url ?? '',
      headers: req.headers,
      body: parseBody(text),
      rawBody: text,
    };
    this.received.push(received);
    try {
      await this.responder(received, res);
    } catch (error) {
      if (!res.headersSent) res.writeHead(500);
      res.end(String(error));
    }
  }
}

/** JSON bodies parsed; anything else (a token endpoint's form) is left to rawBody. */
function parseBody(text: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

export function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(text);
}

/**
 * Writes SSE frames one by one, optionally spaced out to prove tokens are relayed as they come. Frames of many megabytes
 * go as Buffers: encoding strings that large holds the test's process (the gateway's too) for a tenth of a second or more.
 */
export async function sse(res: ServerResponse, frames: ReadonlyArray<string | Buffer>, gapMs = 0): Promise<void> {
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  for (const frame of frames) {
    res.write(frame);
    if (gapMs > 0) await new Promise((resolve) => setTimeout(resolve, gapMs));
  }
  res.end();
}

// --- OpenAI wire -------------------------------------------------------------------------------

export function openaiCompletion(text: string, usage = { prompt_tokens: 12, completion_tokens: 5 }, model = 'gpt-4o-mini-2024-07-18') {
  return {
    id: 'chatcmpl-mock1',
    object: 'chat.completion',
    created: 1_700_000_000,
    model,
    choices: [{ index: 0, message: { role: 'assistant', content: text, refusal: null }, finish_reason: 'stop', logprobs: null }],
    usage: { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens, prompt_tokens_details: { cached_tokens: 0 } },
  };
}

export function openaiToolCompletion(name: string, args: string, usage = { prompt_tokens: 30, completion_tokens: 9 }) {
  return {
    id: 'chatcmpl-mock2',
    object: 'chat.completion',
    created: 1_700_000_000,
    model: 'gpt-4o-mini-2024-07-18',
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: null,
          refusal: null,
          tool_calls: [{ id: 'call_abc', type: 'function', function: { name, arguments: args } }],
        },
        finish_reason: 'tool_calls',
        logprobs: null,
      },
    ],
    usage: { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens },
  };
}

/** The frames OpenAI sends for a streamed text answer; with usage, the final usage-only chunk is included. */
export function openaiStreamFrames(pieces: string[], usage: { prompt_tokens: number; completion_tokens: number } | null): string[] {
  const base = { id: 'chatcmpl-mockstream', object: 'chat.completion.chunk', created: 1_700_000_000, model: 'gpt-4o-mini-2024-07-18' };
  const frames = [
    `data: ${JSON.stringify({ ...base, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }], ...(usage && { usage: null }) })}\n\n`,
  ];
  for (const piece of pieces) {
    frames.push(
      `data: ${JSON.stringify({ ...base, choices: [{ index: 0, delta: { content: piece }, finish_reason: null }], ...(usage && { usage: null }) })}\n\n`,
    );
  }
  frames.push(
    `data: ${JSON.stringify({ ...base, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }], ...(usage && { usage: null }) })}\n\n`,
  );
  if (usage) {
    frames.push(
      `data: ${JSON.stringify({ ...base, choices: [], usage: { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens } })}\n\n`,
    );
  }
  frames.push('data: [DONE]\n\n');
  return frames;
}

export function openaiToolStreamFrames(name: string, argPieces: string[]): string[] {
  const base = { id: 'chatcmpl-mocktool', object: 'chat.completion.chunk', created: 1_700_000_000, model: 'gpt-4o-mini-2024-07-18' };
  const frames = [
    `data: ${JSON.stringify({ ...base, choices: [{ index: 0, delta: { role: 'assistant', content: null, tool_calls: [{ index: 0, id: 'call_xyz', type: 'function', function: { name, arguments: '' } }] }, finish_reason: null }] })}\n\n`,
  ];
  for (const piece of argPieces) {
    frames.push(
      `data: ${JSON.stringify({ ...base, choices: [{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: piece } }] }, finish_reason: null }] })}\n\n`,
    );
  }
  frames.push(`data: ${JSON.stringify({ ...base, choices: [{ index: 0, delta: {}, finish_reason: 'tool_calls' }] })}\n\n`);
  frames.push(
    `data: ${JSON.stringify({ ...base, choices: [], usage: { prompt_tokens: 40, completion_tokens: 11, total_tokens: 51 } })}\n\n`,
  );
  frames.push('data: [DONE]\n\n');
  return frames;
}

// --- Anthropic wire ----------------------------------------------------------------------------

export function anthropicMessage(text: string, usage = { input_tokens: 20, output_tokens: 7 }) {
  return {
    id: 'msg_mock1',
    type: 'message',
    role: 'assistant',
    model: 'claude-3-5-haiku-20241022',
    content: [{ type: 'text', text }],
    stop_reason: 'end_turn',
    stop_sequence: null,
    usage,
  };
}

export function anthropicToolMessage(name: string, input: Record<string, unknown>) {
  return {
    id: 'msg_mock2',
    type: 'message',
    role: 'assistant',
    model: 'claude-3-5-haiku-20241022',
    content: [
      { type: 'text', text: 'Let me check.' },
      { type: 'tool_use', id: 'toolu_01', name, input },
    ],
    stop_reason: 'tool_use',
    stop_sequence: null,
    usage: { input_tokens: 50, output_tokens: 15 },
  };
}

/** One server-sent event frame, named, its data as JSON (Anthropic's and OpenAI's Responses streams). */
export function sseEvent(name: string, data: unknown): string {
  return `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** A frame whose data also carries its name as `type`, as every Anthropic and Responses API event does. */
export function typedSseEvent(name: string, data: Record<string, unknown>): string {
  return sseEvent(name, { type: name, ...data });
}

export function anthropicStreamFrames(pieces: string[], usage = { input_tokens: 25, output_tokens: 6 }): string[] {
  return [
    sseEvent('message_start', {
      type: 'message_start',
      message: {
        id: 'msg_stream1',
        type: 'message',
        role: 'assistant',
        model: 'claude-3-5-haiku-20241022',
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { input_tokens: usage.input_tokens, output_tokens: 1 },
      },
    }),
    sseEvent('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }),
    sseEvent('ping', { type: 'ping' }),
    ...pieces.map((text) =>
      sseEvent('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text } }),
    ),
    sseEvent('content_block_stop', { type: 'content_block_stop', index: 0 }),
    sseEvent('message_delta', {
      type: 'message_delta',
      delta: { stop_reason: 'end_turn', stop_sequence: null },
      usage: { output_tokens: usage.output_tokens },
    }),
    sseEvent('message_stop', { type: 'message_stop' }),
  ];
}

export function anthropicToolStreamFrames(name: string, jsonPieces: string[]): string[] {
  return [
    sseEvent('message_start', {
      type: 'message_start',
      message: {
        id: 'msg_stream2',
        type: 'message',
        role: 'assistant',
        model: 'claude-3-5-haiku-20241022',
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { input_tokens: 60, output_tokens: 1 },
      },
    }),
    sseEvent('content_block_start', {
      type: 'content_block_start',
      index: 0,
      content_block: { type: 'tool_use', id: 'toolu_02', name, input: {} },
    }),
    ...jsonPieces.map((partial_json) =>
      sseEvent('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'input_json_delta', partial_json } }),
    ),
    sseEvent('content_block_stop', { type: 'content_block_stop', index: 0 }),
    sseEvent('message_delta', {
      type: 'message_delta',
      delta: { stop_reason: 'tool_use', stop_sequence: null },
      usage: { output_tokens: 18 },
    }),
    sseEvent('message_stop', { type: 'message_stop' }),
  ];
}
