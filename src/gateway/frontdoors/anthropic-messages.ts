// The Anthropic Messages front door: POST /v1/messages, answers and streams in Anthropic's exact shapes.
import type { ChatRequest, ChatResponse, FinishReason } from '../../ir/chat.js';
import type { StreamEvent } from '../../ir/stream.js';
import { emptyUsage, type Usage } from '../../ir/usage.js';
import { anthropicErrorBody } from '../../errors.js';
import { anthropicUsage } from '../../providers/anthropic/response.js';
import type { AnthropicResponse, AnthropicStopReason } from '../../providers/anthropic/wire.js';
import { asObject, asString, tryParseJson } from '../../providers/shared/json.js';
import type { SecretRedactor } from '../../providers/shared/secret-redactor.js';
import { SseParser, sseEvent, type SseEvent } from '../../providers/shared/sse.js';
import { parseAnthropicMessages } from './anthropic-messages-parse.js';
import type { ClientStream, FrontDoor, StreamEncoder } from './frontdoor.js';
import { OutputSample, type OutputEstimate } from './output-sample.js';
import { mergeUsage } from './translating-stream.js';

function stopReason(finish: FinishReason | null, stopSequence: string | undefined): AnthropicStopReason {
  switch (finish) {
    case 'length': return 'max_tokens';
    case 'tool_calls': return 'tool_use';
    case 'content_filter': return 'refusal';
    default: return stopSequence !== undefined ? 'stop_sequence' : 'end_turn';
  }
}

function messageId(id: string): string {
  return id.startsWith('msg_') ? id : `msg_${id || crypto.randomUUID().replaceAll('-', '')}`;
}

/** IR usage counts the whole prompt; Anthropic's input_tokens leaves out cache reads and writes. */
function toAnthropicUsage(usage: Usage) {
  return {
    input_tokens: Math.max(0, usage.inputTokens - usage.cachedInputTokens - usage.cacheWriteTokens),
    output_tokens: usage.outputTokens,
    cache_read_input_tokens: usage.cachedInputTokens,
    cache_creation_input_tokens: usage.cacheWriteTokens,
  };
}

function renderChat(response: ChatResponse, requestedModel: string): string {
  const content: AnthropicResponse['content'] = [];
  if (response.text !== '') content.push({ type: 'text', text: response.text });
  for (const call of response.toolCalls) {
    const input = tryParseJson(call.arguments);
    content.push({ type: 'tool_use', id: call.id, name: call.name, input: typeof input === 'object' && input !== null ? input : {} });
  }
  const message: AnthropicResponse = {
    id: messageId(response.id),
    type: 'message',
    role: 'assistant',
    model: requestedModel,
    content,
    stop_reason: stopReason(response.finishReason, response.stopSequence),
    stop_sequence: response.stopSequence ?? null,
    usage: toAnthropicUsage(response.usage),
  };
  return JSON.stringify(message);
}

/** IR events -> Anthropic's event sequence: message_start, content blocks, message_delta, message_stop. */
class AnthropicStreamEncoder implements StreamEncoder {
  private readonly model: string;
  private id: string;
  private started: boolean;
  private ended: boolean;
  private nextBlock: number;
  private openBlock: number | null;
  private openKind: 'text' | 'tool_use' | null;
  /** IR tool call index -> content block index. */
  private readonly toolBlocks: Map<number, number>;
  private finish: FinishReason | null;
  private stopSequence: string | undefined;
  private readonly usage: Usage;
  /** The prompt's tokens as Sluice's tokenizer counts them, for message_start when the provider reports them only at the end. */
  private readonly promptEstimate: number;

  constructor(model: string, promptEstimate: number) {
    this.model = model;
    this.promptEstimate = promptEstimate;
    this.id = '';
    this.started = false;
    this.ended = false;
    this.nextBlock = 0;
    this.openBlock = null;
    this.openKind = null;
    this.toolBlocks = new Map();
    this.finish = null;
    this.stopSequence = undefined;
    this.usage = emptyUsage();
  }

  encode(events: readonly StreamEvent[]): string {
    let out = '';
    for (const event of events) {
      switch (event.type) {
        case 'start':
          this.id = event.id;
          break;
        case 'usage':
          mergeUsage(this.usage, event.usage);
          break;
        case 'text':
          out += this.ensureStarted();
          if (this.openKind !== 'text') out += this.closeBlock() + this.openTextBlock();
          out += sseEvent('content_block_delta', JSON.stringify({ type: 'content_block_delta', index: this.openBlock, delta: { type: 'text_delta', text: event.text } }));
          break;
        case 'tool_call_start': {
          out += this.ensureStarted() + this.closeBlock();
          const index = this.nextBlock++;
          this.openBlock = index;
          this.openKind = 'tool_use';
          this.toolBlocks.set(event.index, index);
          out += sseEvent('content_block_start', JSON.stringify({ type: 'content_block_start', index, content_block: { type: 'tool_use', id: event.id, name: event.name, input: {} } }));
          break;
        }
        case 'tool_call_delta': {
          const index = this.toolBlocks.get(event.index);
          if (index === undefined) break;
          out += sseEvent('content_block_delta', JSON.stringify({ type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: event.argumentsDelta } }));
          break;
        }
        case 'finish':
          this.finish = event.finishReason;
          this.stopSequence = event.stopSequence;
          break;
        case 'error':
          out += this.ensureStarted() + sseEvent('error', JSON.stringify({ type: 'error', error: { type: event.errorType, message: event.message } }));
          break;
      }
    }
    return out;
  }

  end(): string {
    if (this.ended) return '';
    this.ended = true;
    // The stop reason and usage are sent last: OpenAI reports usage after its finish chunk.
    return this.ensureStarted() + this.closeBlock()
      + sseEvent('message_delta', JSON.stringify({
        type: 'message_delta',
        delta: { stop_reason: stopReason(this.finish, this.stopSequence), stop_sequence: this.stopSequence ?? null },
        usage: toAnthropicUsage(this.promptUsage()),
      }))
      + sseEvent('message_stop', '{"type":"message_stop"}');
  }

  private ensureStarted(): string {
    if (this.started) return '';
    this.started = true;
    // Anthropic clients (LangChain's ChatAnthropic) read input_tokens from message_start: an OpenAI-compatible provider
    // reports usage only after the last token, so the estimate stands in here and message_delta carries the real count.
    const usage = toAnthropicUsage(this.promptUsage());
    return sseEvent('message_start', JSON.stringify({
      type: 'message_start',
      message: {
        id: messageId(this.id), type: 'message', role: 'assistant', model: this.model, content: [],
        stop_reason: null, stop_sequence: null, usage: { ...usage, output_tokens: 0 },
      },
    }));
  }

  /** The usage to state: the provider's once reported, else the prompt estimate (a reader keeps the latest input_tokens). */
  private promptUsage(): Usage {
    return this.usage.reported ? this.usage : { ...this.usage, inputTokens: this.promptEstimate };
  }

  private openTextBlock(): string {
    const index = this.nextBlock++;
    this.openBlock = index;
    this.openKind = 'text';
    return sseEvent('content_block_start', JSON.stringify({ type: 'content_block_start', index, content_block: { type: 'text', text: '' } }));
  }

  private closeBlock(): string {
    if (this.openBlock === null) return '';
    const index = this.openBlock;
    this.openBlock = null;
    this.openKind = null;
    return sseEvent('content_block_stop', JSON.stringify({ type: 'content_block_stop', index }));
  }
}

/** Anthropic-shaped client, Anthropic provider: each event goes on untouched while usage and output are tapped. */
class AnthropicStreamRelay implements ClientStream {
  readonly usage: Usage;
  private readonly output: OutputSample;
  streamError: string | null;
  private readonly parser: SseParser;
  private readonly events: SseEvent[];
  private readonly redactor: SecretRedactor;

  constructor(redactor: SecretRedactor) {
    this.usage = emptyUsage();
    this.output = new OutputSample();
    this.streamError = null;
    this.parser = new SseParser();
    this.events = [];
    this.redactor = redactor;
  }

  push(chunk: Buffer): string {
    this.events.length = 0;
    return this.relay(this.parser.push(chunk, this.events));
  }

  end(): string {
    this.events.length = 0;
    return this.relay(this.parser.end(this.events));
  }

  private relay(events: SseEvent[]): string {
    let out = '';
    for (const event of events) {
      const name = event.event ?? 'message';
      let data = event.data;
      if (name === 'content_block_delta') this.output.add(data);
      else if (name === 'error') {
        data = this.redactor.redact(data);
        this.tap(name, data);
      } else if (name === 'message_start' || name === 'message_delta') this.tap(name, data);
      out += sseEvent(name, data);
    }
    return out;
  }

  estimateOutput(): OutputEstimate {
    return this.output.estimate((data) => {
      const delta = asObject(asObject(tryParseJson(data)).delta);
      const piece = delta.type === 'text_delta' ? asString(delta.text) : delta.type === 'input_json_delta' ? asString(delta.partial_json) : '';
      return piece === '' ? [] : [piece];
    });
  }

  private tap(name: string, data: string): void {
    const root = asObject(tryParseJson(data));
    if (name === 'message_start') {
      mergeUsage(this.usage, anthropicUsage(asObject(root.message).usage));
    } else if (name === 'message_delta') {
      const usage = asObject(root.usage);
      if (usage.input_tokens !== undefined && usage.input_tokens !== null) mergeUsage(this.usage, anthropicUsage(usage));
      else if (typeof usage.output_tokens === 'number') mergeUsage(this.usage, { outputTokens: usage.output_tokens });
    } else {
      this.streamError = asString(asObject(root.error).message, 'upstream stream error');
    }
  }
}

export const anthropicFrontDoor: FrontDoor = {
  dialect: 'anthropic',
  errorBody: anthropicErrorBody,
  parseChat: parseAnthropicMessages,
  renderChat,
  streamEncoder: (request: ChatRequest, _body, promptEstimate) => new AnthropicStreamEncoder(request.model, promptEstimate ?? 0),
  statesPromptFirst: true,
  nativeUsage: (body: unknown) => anthropicUsage(asObject(body).usage),
  streamRelay: (_request: ChatRequest, _clientBody: Record<string, unknown>, redactor: SecretRedactor) => new AnthropicStreamRelay(redactor),
};
