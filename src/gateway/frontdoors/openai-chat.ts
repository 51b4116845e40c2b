// The OpenAI Chat Completions front door: POST /v1/chat/completions, answers and streams in OpenAI's exact shapes.
import type { ChatRequest, ChatResponse, FinishReason } from '../../ir/chat.js';
import type { StreamEvent } from '../../ir/stream.js';
import { emptyUsage, type Usage } from '../../ir/usage.js';
import { openaiErrorBody } from '../../errors.js';
import type { ChatExchange, Redactor } from '../../wire/exchange.js';
import { asArray, asObject, isObject } from '../../wire/json.js';
import { sseData } from '../../wire/sse.js';
import { mergeUsage } from '../../wire/usage.js';
import { answerChat, type FrontDoor, type StreamEncoder } from './frontdoor.js';
import { parseOpenAIChat, translationRefusal } from './openai-chat-parse.js';
import { openaiStreamError } from './openai-stream-error.js';
import type { OpenAIChatChunk, OpenAIChatCompletion, OpenAIFinishReason, OpenAIUsage } from './openai-wire.js';
import { TranslatingStream } from './translating-stream.js';

const FINISH: Record<FinishReason, OpenAIFinishReason> = {
  stop: 'stop',
  length: 'length',
  tool_calls: 'tool_calls',
  content_filter: 'content_filter',
  error: 'stop',
};

function toOpenAIUsage(usage: Usage): OpenAIUsage {
  const out: OpenAIUsage = {
    prompt_tokens: usage.inputTokens,
    completion_tokens: usage.outputTokens,
    total_tokens: usage.inputTokens + usage.outputTokens,
    prompt_tokens_details: { cached_tokens: usage.cachedInputTokens },
  };
  // Only where the provider states them apart (Gemini); completion_tokens includes them, as OpenAI's does.
  if (usage.reasoningTokens !== undefined) out.completion_tokens_details = { reasoning_tokens: usage.reasoningTokens };
  return out;
}

function chatId(id: string): string {
  return id.startsWith('chatcmpl-') ? id : `chatcmpl-${id}`;
}

/**
 * A refusal (the model declining a structured answer) goes as OpenAI answers one: in message.refusal, with content null
 * and finish_reason stop, which the openai SDK's parse helpers read as such (a content_filter finish makes them throw).
 */
function renderChat(response: ChatResponse, requestedModel: string): string {
  const refusal = response.refusal ?? null;
  const reasoning = reasoningText(response);
  const completion: OpenAIChatCompletion = {
    id: chatId(response.id),
    object: 'chat.completion',
    created: response.created,
    model: requestedModel,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: response.text === '' && (response.toolCalls.length > 0 || refusal !== null) ? null : response.text,
          ...(response.toolCalls.length > 0 && {
            tool_calls: response.toolCalls.map((call) => ({
              id: call.id,
              type: 'function' as const,
              function: { name: call.name, arguments: call.arguments },
            })),
          }),
          refusal,
          ...(reasoning !== '' && { reasoning_content: reasoning }),
          ...(response.reasoning !== undefined && { thinking_blocks: response.reasoning }),
        },
        finish_reason: refusal !== null ? 'stop' : FINISH[response.finishReason],
        logprobs: null,
      },
    ],
    usage: toOpenAIUsage(response.usage),
  };
  return JSON.stringify(completion);
}

/**
 * The answer's reasoning as text, for reasoning_content: the provider's (Gemini's thought summaries, a compatible
 * server's reasoning_content) or Claude's thinking blocks' text; '' for none.
 */
function reasoningText(response: ChatResponse): string {
  if (response.reasoningText !== undefined) return response.reasoningText;
  let text = '';
  for (const block of response.reasoning ?? []) if (typeof block.thinking === 'string') text += block.thinking;
  return text;
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
  /** Set once the stream is closed: by its end, or by an error, after which nothing more is sent. */
  private ended: boolean;
  private readonly usage: Usage;
  /** Claude's thinking blocks so far (none without thinking). */
  private thinkingBlocks: Array<Record<string, unknown>> | null;
  /** Set once a refusal was sent: the answer then finishes as OpenAI's refusals do, with stop. */
  private refused: boolean;

  constructor(model: string, includeUsage: boolean) {
    this.thinkingBlocks = null;
    this.model = model;
    this.includeUsage = includeUsage;
    this.id = `chatcmpl-${crypto.randomUUID()}`;
    this.created = Math.floor(Date.now() / 1000);
    this.started = false;
    this.ended = false;
    this.usage = emptyUsage();
    this.refused = false;
  }

  encode(events: readonly StreamEvent[]): string {
    let out = '';
    for (const event of events) {
      if (this.ended) break;
      switch (event.type) {
        case 'start':
          if (event.id !== '') this.id = chatId(event.id);
          this.created = event.created;
          out += this.ensureStarted();
          break;
        case 'text':
          out += this.ensureStarted() + this.chunk({ content: event.text }, null);
          break;
        case 'refusal':
          this.refused = true;
          out += this.ensureStarted() + this.chunk({ refusal: event.text }, null);
          break;
        case 'tool_call_start':
          out +=
            this.ensureStarted() +
            this.chunk(
              {
                tool_calls: [{ index: event.index, id: event.id, type: 'function', function: { name: event.name, arguments: '' } }],
              },
              null,
            );
          break;
        case 'tool_call_delta':
          out += this.chunk({ tool_calls: [{ index: event.index, function: { arguments: event.argumentsDelta } }] }, null);
          break;
        case 'finish':
          out += this.ensureStarted() + this.chunk({}, this.refused ? 'stop' : FINISH[event.finishReason]);
          break;
        case 'reasoning_text':
          out += this.ensureStarted() + this.chunk({ reasoning_content: event.text }, null);
          break;
        case 'reasoning':
          (this.thinkingBlocks ??= []).push(event.block);
          out += this.ensureStarted() + this.chunk({ thinking_blocks: [...this.thinkingBlocks] }, null);
          break;
        case 'usage':
          mergeUsage(this.usage, event.usage);
          break;
        case 'error':
          {
            const { type, code } = openaiStreamError(event.errorType);
            out += sseData(JSON.stringify({ error: { message: event.message, type, param: null, code } }));
          }
          // The stream ends at an error, as Sluice's own in-band errors end it: no usage chunk or [DONE] after it that a
          // client reading to [DONE] could take for a finished answer.
          this.ended = true;
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
        id: this.id,
        object: 'chat.completion.chunk',
        created: this.created,
        model: this.model,
        choices: [],
        usage: toOpenAIUsage(this.usage),
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

/** A refusal in a completion or a stream chunk: the content filter's finish, or a refusal message (structured outputs). */
function isModelRefusal(answer: unknown): boolean {
  for (const choice of asArray(asObject(answer).choices)) {
    const { finish_reason: finish, message, delta } = asObject(choice);
    if (finish === 'content_filter') return true;
    if (typeof asObject(message).refusal === 'string' || typeof asObject(delta).refusal === 'string') return true;
  }
  return false;
}

export const openaiChatFrontDoor: FrontDoor = {
  dialect: 'openai',
  errorBody: openaiErrorBody,
  errorEvent: (error) => sseData(openaiErrorBody(error)),
  parseChat: parseOpenAIChat,
  translationRefusal,
  isModelRefusal,
  answer: (exchange: ChatExchange, text: string, request: ChatRequest) => answerChat(exchange, text, request.model, renderChat),
  stream: (exchange: ChatExchange, request: ChatRequest, clientBody: Record<string, unknown>, redactor: Redactor) =>
    exchange.passThrough !== null
      ? exchange.passThrough.relay(redactor)
      : new TranslatingStream(exchange.streamDecoder(), new OpenAIStreamEncoder(request.model, wantsUsage(clientBody)), redactor),
  renderModel: (id: string, created: number) => JSON.stringify(openaiModel(id, created)),
  renderModels: (ids: readonly string[], created: number) =>
    JSON.stringify({ object: 'list', data: ids.map((id) => openaiModel(id, created)) }),
};

function openaiModel(id: string, created: number) {
  return { id, object: 'model', created, owned_by: 'sluice' };
}
