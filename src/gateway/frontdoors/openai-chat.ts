// The OpenAI Chat Completions front door: POST /v1/chat/completions, answers and streams in OpenAI's exact shapes.
import type { ChatRequest, ChatResponse, FinishReason } from '../../ir/chat.js';
import type { StreamEvent } from '../../ir/stream.js';
import { emptyUsage, type Usage } from '../../ir/usage.js';
import { openaiErrorBody } from '../../errors.js';
import { openaiUsage } from '../../providers/openai/response.js';
import type { OpenAIChatChunk, OpenAIChatCompletion, OpenAIFinishReason, OpenAIUsage } from '../../providers/openai/wire.js';
import { asArray, asObject, asString, isObject, tryParseJson } from '../../providers/shared/json.js';
import { SseParser, sseData, type SseEvent } from '../../providers/shared/sse.js';
import type { ClientStream, FrontDoor, StreamEncoder } from './frontdoor.js';
import { parseOpenAIChat } from './openai-chat-parse.js';
import { OutputSample, type OutputEstimate } from './output-sample.js';
import { mergeUsage } from './translating-stream.js';

const FINISH: Record<FinishReason, OpenAIFinishReason> = {
  stop: 'stop', length: 'length', tool_calls: 'tool_calls', content_filter: 'content_filter', error: 'stop',
};

export function toOpenAIUsage(usage: Usage): OpenAIUsage {
  return {
    prompt_tokens: usage.inputTokens,
    completion_tokens: usage.outputTokens,
    total_tokens: usage.inputTokens + usage.outputTokens,
    prompt_tokens_details: { cached_tokens: usage.cachedInputTokens },
  };
}

function chatId(id: string): string {
  return id.startsWith('chatcmpl-') ? id : `chatcmpl-${id}`;
}

function renderChat(response: ChatResponse, requestedModel: string): string {
  const completion: OpenAIChatCompletion = {
    id: chatId(response.id),
    object: 'chat.completion',
    created: response.created,
    model: requestedModel,
    choices: [{
      index: 0,
      message: {
        role: 'assistant',
        content: response.text === '' && response.toolCalls.length > 0 ? null : response.text,
        ...(response.toolCalls.length > 0 && {
          tool_calls: response.toolCalls.map((call) => ({ id: call.id, type: 'function' as const, function: { name: call.name, arguments: call.arguments } })),
        }),
        refusal: null,
      },
      finish_reason: FINISH[response.finishReason],
      logprobs: null,
    }],
    usage: toOpenAIUsage(response.usage),
  };
  return JSON.stringify(completion);
}

function wantsUsage(body: Record<string, unknown>): boolean {
  return isObject(body.stream_options) && body.stream_options.include_usage === true;
}

/** IR events -> chat.completion.chunk SSE. Usage goes in a final chunk with no choices, only when the client asked. */
class OpenAIStreamEncoder implements StreamEncoder {
  private readonly model: string;
  private readonly includeUsage: boolean;
  private id: string;
  private created: number;
  private started: boolean;
  private ended: boolean;
  private readonly usage: Usage;

  constructor(model: string, includeUsage: boolean) {
    this.model = model;
    this.includeUsage = includeUsage;
    this.id = `chatcmpl-${crypto.randomUUID()}`;
    this.created = Math.floor(Date.now() / 1000);
    this.started = false;
    this.ended = false;
    this.usage = emptyUsage();
  }

  encode(events: readonly StreamEvent[]): string {
    let out = '';
    for (const event of events) {
      switch (event.type) {
        case 'start':
          if (event.id !== '') this.id = chatId(event.id);
          this.created = event.created;
          out += this.ensureStarted();
          break;
        case 'text':
          out += this.ensureStarted() + this.chunk({ content: event.text }, null);
          break;
        case 'tool_call_start':
          out += this.ensureStarted() + this.chunk({
            tool_calls: [{ index: event.index, id: event.id, type: 'function', function: { name: event.name, arguments: '' } }],
          }, null);
          break;
        case 'tool_call_delta':
          out += this.chunk({ tool_calls: [{ index: event.index, function: { arguments: event.argumentsDelta } }] }, null);
          break;
        case 'finish':
          out += this.ensureStarted() + this.chunk({}, FINISH[event.finishReason]);
          break;
        case 'usage':
          mergeUsage(this.usage, event.usage);
          break;
        case 'error':
          out += sseData(JSON.stringify({ error: { message: event.message, type: event.errorType, param: null, code: null } }));
          break;
      }
    }
    return out;
  }

  end(): string {
    if (this.ended) return '';
    this.ended = true;
    let out = this.ensureStarted();
    if (this.includeUsage) {
      const chunk: OpenAIChatChunk = {
        id: this.id, object: 'chat.completion.chunk', created: this.created, model: this.model, choices: [], usage: toOpenAIUsage(this.usage),
      };
      out += sseData(JSON.stringify(chunk));
    }
    return `${out}data: [DONE]\n\n`;
  }

  private ensureStarted(): string {
    if (this.started) return '';
    this.started = true;
    return this.chunk({ role: 'assistant', content: '' }, null);
  }

  private chunk(delta: OpenAIChatChunk['choices'][number]['delta'], finishReason: OpenAIFinishReason | null): string {
    const chunk: OpenAIChatChunk = {
      id: this.id,
      object: 'chat.completion.chunk',
      created: this.created,
      model: this.model,
      choices: [{ index: 0, delta, finish_reason: finishReason }],
    };
    if (this.includeUsage) chunk.usage = null;
    return sseData(JSON.stringify(chunk));
  }
}

/**
 * OpenAI-shaped client, OpenAI-shaped provider: forwards each event's data untouched, taps usage, and drops the
 * usage-only chunk Sluice asked for on the client's behalf when the client did not ask for it itself.
 */
class OpenAIStreamRelay implements ClientStream {
  readonly usage: Usage;
  streamError: string | null;
  private readonly output: OutputSample;
  private readonly forwardUsage: boolean;
  /** An incomplete event carried over to the next chunk. */
  private tail: Buffer | null;

  constructor(forwardUsage: boolean) {
    this.usage = emptyUsage();
    this.output = new OutputSample();
    this.streamError = null;
    this.forwardUsage = forwardUsage;
    this.tail = null;
  }

  /** Works on bytes: runs of plain content events go out as the very bytes that came in. */
  push(chunk: Buffer): Buffer {
    const buffer = this.tail === null ? chunk : Buffer.concat([this.tail, chunk]);
    this.tail = null;
    const out: Buffer[] = [];
    const crlf = buffer.indexOf(CR) !== -1;
    let start = 0;
    let passFrom = 0;
    // Where the next event that needs a look starts to matter; each search runs once over the buffer, not per event.
    let mark = nextMark(buffer, 0);
    for (;;) {
      const end = eventEnd(buffer, start, crlf);
      if (end === -1) break;
      if (mark < end) {
        mark = nextMark(buffer, end);
        if (start > passFrom) this.pass(buffer.subarray(passFrom, start), out);
        const replacement = this.inspect(buffer.subarray(start, end));
        if (replacement !== null) out.push(replacement);
        passFrom = end;
      }
      start = end;
    }
    if (start > passFrom) this.pass(buffer.subarray(passFrom, start), out);
    if (start < buffer.length) this.tail = Buffer.from(buffer.subarray(start));
    return out.length === 1 ? out[0]! : Buffer.concat(out);
  }

  /** A run of events that go out untouched; sampled as one piece (one copy per run, not per event). */
  private pass(run: Buffer, out: Buffer[]): void {
    out.push(run);
    this.output.add(run);
  }

  end(): Buffer {
    const rest = this.tail;
    this.tail = null;
    // A last event without its closing blank line: complete it so the client's parser sees it.
    return rest === null || rest.length === 0 ? EMPTY : this.push(Buffer.concat([rest, BLANK_LINE]));
  }

  estimateOutput(): OutputEstimate {
    return this.output.estimate(frameOutput);
  }

  /** Taps usage and errors; returns what to send instead of the event: itself, null to drop it, or it without usage. */
  private inspect(event: Buffer): Buffer | null {
    const frames = framesOf(event);
    let out = '';
    for (const frame of frames) {
      const chunk = asObject(tryParseJson(frame.data));
      if (chunk.error !== undefined) {
        this.streamError = asString(asObject(chunk.error).message, 'upstream stream error');
        out += sseData(frame.data);
        continue;
      }
      if (chunk.usage === undefined || chunk.usage === null) {
        this.output.add(`data: ${frame.data}\n\n`);
        out += sseData(frame.data);
        continue;
      }
      const usage = openaiUsage(chunk.usage);
      if (usage.reported) mergeUsage(this.usage, usage);
      const choices = asArray(chunk.choices);
      if (choices.length > 0) this.output.add(`data: ${frame.data}\n\n`);
      if (this.forwardUsage) out += sseData(frame.data);
      else if (choices.length > 0) {
        // A usage figure riding on a content chunk: strip just the field the client never asked for.
        delete chunk.usage;
        out += sseData(JSON.stringify(chunk));
      }
    }
    return out === '' ? null : Buffer.from(out);
  }
}

const CR = 0x0d;
const USAGE = Buffer.from('"usage":{');
const ERROR = Buffer.from('"error"');
const BLANK_LINE = Buffer.from('\n\n');
const EMPTY = Buffer.alloc(0);

/** The end (exclusive) of the first complete event at or after `from`: its blank line is LF LF or CR LF CR LF. */
function eventEnd(buffer: Buffer, from: number, crlfInBuffer: boolean): number {
  const lf = buffer.indexOf('\n\n', from);
  const crlf = crlfInBuffer ? buffer.indexOf('\r\n\r\n', from) : -1;
  if (lf === -1) return crlf === -1 ? -1 : crlf + 4;
  if (crlf === -1 || lf < crlf) return lf + 2;
  return crlf + 4;
}

/** The first position at or after `from` of a usage object or an error, or Infinity. */
function nextMark(buffer: Buffer, from: number): number {
  const usage = buffer.indexOf(USAGE, from);
  const error = buffer.indexOf(ERROR, from);
  if (usage === -1) return error === -1 ? Infinity : error;
  return error === -1 ? usage : Math.min(usage, error);
}

function framesOf(event: Buffer): SseEvent[] {
  const parser = new SseParser();
  return parser.end(parser.push(event));
}

/** The model's output in a raw SSE frame of chat.completion.chunk events. */
function frameOutput(frame: string): string[] {
  return framesOf(Buffer.from(frame)).flatMap((event) => (event.data === '[DONE]' ? [] : chunkOutput(event.data)));
}

/** The text and tool-call arguments in one raw chat.completion.chunk. */
function chunkOutput(data: string): string[] {
  const texts: string[] = [];
  for (const choice of asArray(asObject(tryParseJson(data)).choices)) {
    const delta = asObject(asObject(choice).delta);
    if (typeof delta.content === 'string' && delta.content !== '') texts.push(delta.content);
    for (const call of asArray(delta.tool_calls)) {
      const args = asObject(asObject(call).function).arguments;
      if (typeof args === 'string' && args !== '') texts.push(args);
    }
  }
  return texts;
}

export const openaiChatFrontDoor: FrontDoor = {
  dialect: 'openai',
  errorBody: openaiErrorBody,
  parseChat: parseOpenAIChat,
  renderChat,
  streamEncoder: (request: ChatRequest, clientBody: Record<string, unknown>) => new OpenAIStreamEncoder(request.model, wantsUsage(clientBody)),
  nativeUsage: (body: unknown) => openaiUsage(asObject(body).usage),
  streamRelay: (_request: ChatRequest, clientBody: Record<string, unknown>) => new OpenAIStreamRelay(wantsUsage(clientBody)),
};
