// The Anthropic Messages front door: POST /v1/messages, answers and streams in Anthropic's exact shapes.
import type { ChatRequest, ChatResponse, FinishReason } from '../../ir/chat.js';
import type { StreamEvent } from '../../ir/stream.js';
import { emptyUsage, type Usage } from '../../ir/usage.js';
import { anthropicErrorBody, anthropicTypeOfStatus } from '../../errors.js';
import type { ChatExchange, Redactor } from '../../wire/exchange.js';
import { asObject, tryParseJson } from '../../wire/json.js';
import { sseEvent } from '../../wire/sse.js';
import { errorKindStatus } from '../../wire/stream-opening.js';
import { mergeUsage } from '../../wire/usage.js';
import { inClientTerms, parseAnthropicMessages, translationRefusal } from './anthropic-messages-parse.js';
import type { AnthropicResponse, AnthropicStopReason, AnthropicUsage } from './anthropic-wire.js';
import { answerChat, type FrontDoor, type StreamEncoder } from './frontdoor.js';
import { TranslatingStream } from './translating-stream.js';

function stopReason(finish: FinishReason | null, stopSequence: string | null | undefined): AnthropicStopReason {
  switch (finish) {
    case 'length':
      return 'max_tokens';
    case 'tool_calls':
      return 'tool_use';
    case 'content_filter':
      return 'refusal';
    default:
      return stopSequence !== undefined ? 'stop_sequence' : 'end_turn';
  }
}

/** Anthropic's error types: https://docs.anthropic.com/en/api/errors */
const ANTHROPIC_ERROR_TYPES: ReadonlySet<string> = new Set([
  'invalid_request_error',
  'authentication_error',
  'permission_error',
  'not_found_error',
  'request_too_large',
  'rate_limit_error',
  'api_error',
  'timeout_error',
  'overloaded_error',
]);

/**
 * The type of an error a provider reported inside a stream, as Anthropic would name an error of its kind: a translated
 * provider's own name (Bedrock's throttlingException, Gemini's UNAVAILABLE, OpenAI's server_error) means nothing to an
 * Anthropic client, which reads rate_limit_error or overloaded_error to decide whether to wait and try again.
 */
function anthropicErrorType(kind: string): string {
  if (ANTHROPIC_ERROR_TYPES.has(kind)) return kind;
  const status = errorKindStatus(kind);
  const byStatus = anthropicTypeOfStatus(status);
  if (byStatus !== undefined) return byStatus;
  switch (status) {
    case 400:
      return 'invalid_request_error';
    case 503:
    case 529:
      return 'overloaded_error';
    case 504:
      return 'timeout_error';
    default:
      return 'api_error';
  }
}

function messageId(id: string): string {
  return id.startsWith('msg_') ? id : `msg_${id || crypto.randomUUID().replaceAll('-', '')}`;
}

/**
 * IR usage counts the whole prompt; Anthropic's input_tokens leaves out cache reads and writes. The writes' split by
 * lifetime is stated when the provider stated one (Bedrock's cacheDetails): a client that bills 1-hour writes at their
 * own rate needs it, and a split Sluice did not read is not made up.
 */
function toAnthropicUsage(usage: Usage): AnthropicUsage {
  const anthropic: AnthropicUsage = {
    input_tokens: Math.max(0, usage.inputTokens - usage.cachedInputTokens - usage.cacheWriteTokens),
    output_tokens: usage.outputTokens,
    cache_read_input_tokens: usage.cachedInputTokens,
    cache_creation_input_tokens: usage.cacheWriteTokens,
  };
  if (usage.cacheWrite1hTokens !== undefined) {
    anthropic.cache_creation = {
      ephemeral_5m_input_tokens: Math.max(0, usage.cacheWriteTokens - usage.cacheWrite1hTokens),
      ephemeral_1h_input_tokens: usage.cacheWrite1hTokens,
    };
  }
  return anthropic;
}

function renderChat(response: ChatResponse, requestedModel: string): string {
  return renderMessage(response, requestedModel, false);
}

/** For a client that asked for thinking: other providers' reasoning too, as a thinking block. */
function renderChatThinking(response: ChatResponse, requestedModel: string): string {
  return renderMessage(response, requestedModel, true);
}

/** Whether the client asked to see the model's thinking (thinking on, not display "omitted"). */
function showsThinking(request: ChatRequest): boolean {
  return request.reasoningSummary === true;
}

function renderMessage(response: ChatResponse, requestedModel: string, thinking: boolean): string {
  // Claude's signed thinking (from Claude on Bedrock or Vertex) comes first, as Claude's own answers give it, for the
  // client to carry back: Claude requires it at the head of a tool-calling turn while thinking. Another provider's
  // reasoning (Gemini's thoughts, a compatible server's reasoning_content), where the client asked for thinking, comes
  // as a thinking block with an empty signature, as no one signed it (left out when carried back to Claude).
  const content: AnthropicResponse['content'] = response.reasoning === undefined ? [] : [...response.reasoning];
  if (thinking && response.reasoning === undefined && response.reasoningText !== undefined && response.reasoningText !== '')
    content.push({ type: 'thinking', thinking: response.reasoningText, signature: '' });
  // A refusal is text in Anthropic's API, told apart by stop_reason refusal.
  const text = response.refusal ?? response.text;
  if (text !== '') content.push({ type: 'text', text });
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
  /** Set once the stream is closed: by its end, or by an error event, after which Anthropic sends nothing more. */
  private ended: boolean;
  private nextBlock: number;
  private openBlock: number | null;
  private openKind: 'text' | 'tool_use' | 'thinking' | null;
  /** IR tool call index -> content block index. */
  private readonly toolBlocks: Map<number, number>;
  private finish: FinishReason | null;
  private stopSequence: string | null | undefined;
  private readonly usage: Usage;
  /** The prompt's tokens as Sluice's tokenizer counts them, for message_start when the provider reports them only at the end. */
  private readonly promptEstimate: number;
  /** Whether the client asked to see the thinking: the reasoning is then streamed as it comes, as thinking_delta. */
  private readonly showsThinking: boolean;

  constructor(model: string, promptEstimate: number, showsThinking: boolean) {
    this.model = model;
    this.promptEstimate = promptEstimate;
    this.showsThinking = showsThinking;
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
      if (this.ended) break;
      switch (event.type) {
        case 'start':
          this.id = event.id;
          break;
        case 'usage':
          mergeUsage(this.usage, event.usage);
          break;
        case 'text':
        case 'refusal':
          out += this.ensureStarted();
          if (this.openKind !== 'text') out += this.closeBlock() + this.openStreamedBlock('text');
          out += this.delta({ type: 'text_delta', text: event.text });
          break;
        case 'tool_call_start': {
          out += this.ensureStarted() + this.closeBlock();
          const index = this.nextBlock++;
          this.openBlock = index;
          this.openKind = 'tool_use';
          this.toolBlocks.set(event.index, index);
          out += sseEvent(
            'content_block_start',
            JSON.stringify({
              type: 'content_block_start',
              index,
              content_block: { type: 'tool_use', id: event.id, name: event.name, input: {} },
            }),
          );
          break;
        }
        case 'tool_call_delta': {
          const index = this.toolBlocks.get(event.index);
          if (index === undefined) break;
          out += sseEvent(
            'content_block_delta',
            JSON.stringify({ type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: event.argumentsDelta } }),
          );
          break;
        }
        case 'reasoning_text':
          if (!this.showsThinking) break;
          out += this.ensureStarted();
          if (this.openKind !== 'thinking') out += this.closeBlock() + this.openStreamedBlock('thinking');
          out += this.delta({ type: 'thinking_delta', thinking: event.text });
          break;
        case 'reasoning':
          // Claude's thinking already streamed as it came: its signature ends the block, as Claude's own streams end it.
          if (this.openKind === 'thinking' && event.block.type === 'thinking') {
            if (typeof event.block.signature === 'string') out += this.delta({ type: 'signature_delta', signature: event.block.signature });
            out += this.closeBlock();
          } else out += this.ensureStarted() + this.closeBlock() + this.reasoningBlock(event.block);
          break;
        case 'finish':
          this.finish = event.finishReason;
          this.stopSequence = event.stopSequence;
          break;
        case 'error':
          out +=
            this.ensureStarted() +
            sseEvent(
              'error',
              JSON.stringify({ type: 'error', error: { type: anthropicErrorType(event.errorType), message: event.message } }),
            );
          // The stream ends at an error, as Anthropic's own do: no stop reason after it to read as a finished answer.
          this.ended = true;
          break;
      }
    }
    return out;
  }

  end(): string {
    if (this.ended) return '';
    this.ended = true;
    // The stop reason and usage are sent last: OpenAI reports usage after its finish chunk.
    return (
      this.ensureStarted() +
      this.closeBlock() +
      sseEvent(
        'message_delta',
        JSON.stringify({
          type: 'message_delta',
          delta: { stop_reason: stopReason(this.finish, this.stopSequence), stop_sequence: this.stopSequence ?? null },
          usage: toAnthropicUsage(this.promptUsage()),
        }),
      ) +
      sseEvent('message_stop', '{"type":"message_stop"}')
    );
  }

  private ensureStarted(): string {
    if (this.started) return '';
    this.started = true;
    // Anthropic clients (LangChain's ChatAnthropic) read input_tokens from message_start: an OpenAI-compatible provider
    // reports usage only after the last token, so the estimate stands in here and message_delta carries the real count.
    const usage = toAnthropicUsage(this.promptUsage());
    return sseEvent(
      'message_start',
      JSON.stringify({
        type: 'message_start',
        message: {
          id: messageId(this.id),
          type: 'message',
          role: 'assistant',
          model: this.model,
          content: [],
          stop_reason: null,
          stop_sequence: null,
          usage: { ...usage, output_tokens: 0 },
        },
      }),
    );
  }

  /** The usage to state: the provider's once reported, else the prompt estimate (a reader keeps the latest input_tokens). */
  private promptUsage(): Usage {
    return this.usage.reported ? this.usage : { ...this.usage, inputTokens: this.promptEstimate };
  }

  /**
   * One of Claude's signed thinking blocks, whole (decoders give it once its signature has come), as Anthropic streams
   * one: a thinking block's text in a thinking_delta and its signature in a signature_delta; a redacted_thinking block
   * whole in its content_block_start. The Anthropic SDK's finalMessage() then holds it as Claude gave it.
   */
  private reasoningBlock(block: Record<string, unknown>): string {
    const index = this.nextBlock++;
    const at = (type: string, body: Record<string, unknown>) => sseEvent(type, JSON.stringify({ type, index, ...body }));
    if (block.type !== 'thinking') return at('content_block_start', { content_block: block }) + at('content_block_stop', {});
    let out = at('content_block_start', { content_block: { type: 'thinking', thinking: '', signature: '' } });
    if (typeof block.thinking === 'string' && block.thinking !== '')
      out += at('content_block_delta', { delta: { type: 'thinking_delta', thinking: block.thinking } });
    if (typeof block.signature === 'string')
      out += at('content_block_delta', { delta: { type: 'signature_delta', signature: block.signature } });
    return out + at('content_block_stop', {});
  }

  /**
   * Opens a block whose content streams in deltas: text, or thinking as it comes (its signature last where Claude signed
   * it, none for another provider's).
   */
  private openStreamedBlock(kind: 'text' | 'thinking'): string {
    const index = this.nextBlock++;
    this.openBlock = index;
    this.openKind = kind;
    const block = kind === 'text' ? { type: 'text', text: '' } : { type: 'thinking', thinking: '', signature: '' };
    return sseEvent('content_block_start', JSON.stringify({ type: 'content_block_start', index, content_block: block }));
  }

  private delta(delta: Record<string, unknown>): string {
    return sseEvent('content_block_delta', JSON.stringify({ type: 'content_block_delta', index: this.openBlock, delta }));
  }

  private closeBlock(): string {
    if (this.openBlock === null) return '';
    const index = this.openBlock;
    this.openBlock = null;
    this.openKind = null;
    return sseEvent('content_block_stop', JSON.stringify({ type: 'content_block_stop', index }));
  }
}

/** A refusal in a message or a stream's message_delta: Claude's stop_reason refusal. */
function isModelRefusal(answer: unknown): boolean {
  const message = asObject(answer);
  return message.stop_reason === 'refusal' || asObject(message.delta).stop_reason === 'refusal';
}

export const anthropicFrontDoor: FrontDoor = {
  dialect: 'anthropic',
  errorBody: anthropicErrorBody,
  errorEvent: (error) => sseEvent('error', anthropicErrorBody(error)),
  parseChat: parseAnthropicMessages,
  translationRefusal,
  inClientTerms,
  isModelRefusal,
  answer: (exchange: ChatExchange, text: string, request: ChatRequest) =>
    answerChat(exchange, text, request.model, showsThinking(request) ? renderChatThinking : renderChat),
  stream: (
    exchange: ChatExchange,
    request: ChatRequest,
    _clientBody: Record<string, unknown>,
    redactor: Redactor,
    promptEstimate?: number,
  ) =>
    exchange.passThrough !== null
      ? exchange.passThrough.relay(redactor)
      : new TranslatingStream(
          exchange.streamDecoder(),
          new AnthropicStreamEncoder(request.model, promptEstimate ?? 0, showsThinking(request)),
          redactor,
        ),
  statesPromptFirst: true,
  renderModel: (id: string, created: number) => JSON.stringify(anthropicModel(id, created)),
  renderModels: (ids: readonly string[], created: number) =>
    JSON.stringify({
      data: ids.map((id) => anthropicModel(id, created)),
      has_more: false,
      first_id: ids[0] ?? null,
      last_id: ids.at(-1) ?? null,
    }),
};

function anthropicModel(id: string, created: number) {
  return { type: 'model', id, display_name: id, created_at: new Date(created * 1000).toISOString() };
}
