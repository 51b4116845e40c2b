// IR stream events -> the Responses API's streaming events, in the order OpenAI sends them: response.created and
// response.in_progress, then per output item output_item.added, its content part and deltas, their .done events and
// output_item.done, one item done before the next is added (parallel function calls too), and last response.completed
// (or response.incomplete) with the whole response and its usage. Every event carries its sequence_number, so the openai
// SDK's stream helpers and finalResponse() rebuild the response.
import type { ChatRequest, FinishReason, ReasoningBlock } from '../../ir/chat.js';
import type { StreamEvent } from '../../ir/stream.js';
import { emptyUsage, type Usage } from '../../ir/usage.js';
import { sseEvent } from '../../wire/sse.js';
import { mergeUsage } from '../../wire/usage.js';
import type { StreamEncoder } from './frontdoor.js';
import { itemId, responseId, responseObject, statusOf } from './openai-responses-render.js';
import type {
  ResponsesFunctionCallItem,
  ResponsesMessageItem,
  ResponsesOutputItem,
  ResponsesOutputText,
  ResponsesReasoningItem,
  ResponsesSummaryText,
} from './openai-responses-wire.js';
import { blockText, reasoningItemId, sealBlock } from './openai-responses-reasoning.js';
import { openaiStreamError } from './openai-stream-error.js';

export class ResponsesStreamEncoder implements StreamEncoder {
  private readonly request: ChatRequest;
  private id: string;
  private createdAt: number;
  private sequence: number;
  private started: boolean;
  private ended: boolean;
  private failed: boolean;
  private readonly output: ResponsesOutputItem[];
  /** The message item text is streaming into, until a tool call begins. */
  private message: ResponsesMessageItem | null;
  /** The reasoning item the model's reasoning is streaming into, until its block ends or the answer begins. */
  private thought: ResponsesReasoningItem | null;
  /** Function call items by the IR's tool call index, with their output index. */
  private readonly calls: Map<number, { item: ResponsesFunctionCallItem; outputIndex: number }>;
  /** The function call item arguments are streaming into, until the next item begins or the answer ends. */
  private call: { item: ResponsesFunctionCallItem; outputIndex: number } | null;
  private finish: FinishReason | null;
  /** Set once a refusal was sent: the response then completes, as OpenAI's refusals do. */
  private refused: boolean;
  private readonly usage: Usage;

  constructor(request: ChatRequest) {
    this.request = request;
    this.id = responseId('');
    this.createdAt = Math.floor(Date.now() / 1000);
    this.sequence = 0;
    this.started = false;
    this.ended = false;
    this.failed = false;
    this.output = [];
    this.message = null;
    this.thought = null;
    this.calls = new Map();
    this.call = null;
    this.finish = null;
    this.refused = false;
    this.usage = emptyUsage();
  }

  encode(events: readonly StreamEvent[]): string {
    let out = '';
    for (const event of events) {
      switch (event.type) {
        case 'start':
          if (!this.started) {
            if (event.id !== '') this.id = responseId(event.id);
            this.createdAt = event.created;
          }
          out += this.ensureStarted();
          break;
        case 'reasoning_text':
          if (event.text === '') break;
          out += this.ensureStarted() + this.closeMessage() + this.closeCall() + this.reasoningText(event.text);
          break;
        case 'reasoning':
          out += this.ensureStarted() + this.closeMessage() + this.closeCall() + this.reasoningBlock(event.block);
          break;
        case 'refusal':
          out += this.ensureStarted() + this.closeThought() + this.closeMessage() + this.closeCall() + this.refusal(event.text);
          break;
        case 'text':
          out += this.ensureStarted() + this.closeThought() + this.closeCall() + this.text(event.text);
          break;
        case 'tool_call_start':
          out +=
            this.ensureStarted() +
            this.closeThought() +
            this.closeMessage() +
            this.closeCall() +
            this.openCall(event.index, event.id, event.name);
          break;
        case 'tool_call_delta': {
          const call = this.calls.get(event.index);
          if (call === undefined || event.argumentsDelta === '') break;
          call.item.arguments += event.argumentsDelta;
          // A delta of a call already done (a provider that interleaves calls' deltas) cannot follow its .done events:
          // the completed response's item holds it.
          if (call !== this.call) break;
          out += this.event('response.function_call_arguments.delta', {
            item_id: call.item.id,
            output_index: call.outputIndex,
            delta: event.argumentsDelta,
          });
          break;
        }
        case 'finish':
          this.finish = event.finishReason;
          break;
        case 'usage':
          mergeUsage(this.usage, event.usage);
          break;
        case 'error': {
          const { type, code } = openaiStreamError(event.errorType);
          out += this.fail(code ?? type, event.message);
          break;
        }
      }
    }
    return out;
  }

  end(): string {
    if (this.ended || this.failed) return '';
    this.ended = true;
    const out = this.ensureStarted() + this.closeThought() + this.closeMessage() + this.closeCall();
    const finished = statusOf(this.finish, this.refused);
    const response = responseObject(this.request, this.id, this.createdAt, finished.status, this.output, this.usage);
    response.incomplete_details = finished.incomplete_details;
    return out + this.event(finished.status === 'completed' ? 'response.completed' : 'response.incomplete', { response });
  }

  /**
   * A failure once the stream has begun (the provider's error, or its stream broken off): the error event, which names
   * it by code alone (server_error, rate_limit_exceeded, upstream_unavailable, ...), then response.failed, the terminal
   * event of a response that failed, carrying the response as it stood with its error
   * (https://platform.openai.com/docs/api-reference/responses-streaming/response/failed): the SDK's finalResponse() is
   * then a failed response, not one still in progress. Nothing once the response has ended or failed.
   */
  fail(code: string, message: string): string {
    if (this.ended || this.failed) return '';
    this.failed = true;
    const out = this.ensureStarted();
    const response = responseObject(this.request, this.id, this.createdAt, 'failed', this.output, this.usage);
    response.error = { code, message };
    return out + this.event('error', { code, message, param: null }) + this.event('response.failed', { response });
  }

  private ensureStarted(): string {
    if (this.started) return '';
    this.started = true;
    const response = responseObject(this.request, this.id, this.createdAt, 'in_progress', [], null);
    return this.event('response.created', { response }) + this.event('response.in_progress', { response });
  }

  private text(delta: string): string {
    let out = '';
    let message = this.message;
    if (message === null) {
      message = { id: itemId('msg'), type: 'message', status: 'in_progress', role: 'assistant', content: [] };
      this.message = message;
      this.output.push(message);
      const outputIndex = this.output.length - 1;
      out += this.event('response.output_item.added', { output_index: outputIndex, item: message });
      const part = { type: 'output_text' as const, text: '', annotations: [], logprobs: [] };
      message.content.push(part);
      out += this.event('response.content_part.added', { item_id: message.id, output_index: outputIndex, content_index: 0, part });
    }
    // The message text streams into holds its one output_text part (a refusal has a message of its own).
    (message.content[0] as ResponsesOutputText).text += delta;
    return (
      out +
      this.event('response.output_text.delta', {
        item_id: message.id,
        output_index: this.output.indexOf(message),
        content_index: 0,
        delta,
        logprobs: [],
      })
    );
  }

  /**
   * A piece of the reasoning's text: into the open reasoning item's one summary part, the item and part added first
   * when none is open (response.output_item.added, response.reasoning_summary_part.added).
   */
  private reasoningText(delta: string): string {
    let out = '';
    let thought = this.thought;
    if (thought === null) {
      thought = { id: reasoningItemId(), type: 'reasoning', summary: [], status: 'in_progress' };
      this.thought = thought;
      this.output.push(thought);
      const outputIndex = this.output.length - 1;
      out += this.event('response.output_item.added', { output_index: outputIndex, item: thought });
      const part: ResponsesSummaryText = { type: 'summary_text', text: '' };
      out += this.event('response.reasoning_summary_part.added', {
        item_id: thought.id,
        output_index: outputIndex,
        summary_index: 0,
        part,
      });
      thought.summary.push(part);
    }
    thought.summary[0]!.text += delta;
    const at = { item_id: thought.id, output_index: this.output.indexOf(thought), summary_index: 0 };
    return out + this.event('response.reasoning_summary_text.delta', { ...at, delta });
  }

  /**
   * A signed block of Claude's, whole: the encrypted_content of the reasoning item its text streamed into, which it
   * closes; a block whose text did not stream (a redacted one) is an item of its own, added and done at once.
   */
  private reasoningBlock(block: ReasoningBlock): string {
    let out = '';
    if (this.thought === null) {
      const text = blockText(block);
      if (text !== '') out += this.reasoningText(text);
      else {
        const thought: ResponsesReasoningItem = { id: reasoningItemId(), type: 'reasoning', summary: [], status: 'in_progress' };
        this.thought = thought;
        this.output.push(thought);
        out += this.event('response.output_item.added', { output_index: this.output.length - 1, item: thought });
      }
    }
    this.thought!.encrypted_content = sealBlock(block);
    return out + this.closeThought();
  }

  /** The reasoning item streaming, done: its summary text and part, then the item. */
  private closeThought(): string {
    const thought = this.thought;
    if (thought === null) return '';
    this.thought = null;
    thought.status = 'completed';
    const outputIndex = this.output.indexOf(thought);
    let out = '';
    const part = thought.summary[0];
    if (part !== undefined) {
      const at = { item_id: thought.id, output_index: outputIndex, summary_index: 0 };
      out += this.event('response.reasoning_summary_text.done', { ...at, text: part.text });
      out += this.event('response.reasoning_summary_part.done', { ...at, part });
    }
    return out + this.event('response.output_item.done', { output_index: outputIndex, item: thought });
  }

  /** A message item holding the refusal (it comes whole, held until the answer ended), opened and closed at once. */
  private refusal(refusal: string): string {
    this.refused = true;
    const message: ResponsesMessageItem = { id: itemId('msg'), type: 'message', status: 'in_progress', role: 'assistant', content: [] };
    this.output.push(message);
    const outputIndex = this.output.length - 1;
    const at = { item_id: message.id, output_index: outputIndex, content_index: 0 };
    let out = this.event('response.output_item.added', { output_index: outputIndex, item: message });
    out += this.event('response.content_part.added', { ...at, part: { type: 'refusal', refusal: '' } });
    out += this.event('response.refusal.delta', { ...at, delta: refusal });
    out += this.event('response.refusal.done', { ...at, refusal });
    const part = { type: 'refusal' as const, refusal };
    message.content.push(part);
    message.status = 'completed';
    out += this.event('response.content_part.done', { ...at, part });
    return out + this.event('response.output_item.done', { output_index: outputIndex, item: message });
  }

  private closeMessage(): string {
    const message = this.message;
    if (message === null) return '';
    this.message = null;
    message.status = 'completed';
    const outputIndex = this.output.indexOf(message);
    const part = message.content[0] as ResponsesOutputText;
    const at = { item_id: message.id, output_index: outputIndex, content_index: 0 };
    return (
      this.event('response.output_text.done', { ...at, text: part.text, logprobs: [] }) +
      this.event('response.content_part.done', { ...at, part }) +
      this.event('response.output_item.done', { output_index: outputIndex, item: message })
    );
  }

  /** The function call streaming, done: its arguments whole, then the item. */
  private closeCall(): string {
    const call = this.call;
    if (call === null) return '';
    this.call = null;
    const { item, outputIndex } = call;
    item.status = 'completed';
    return (
      this.event('response.function_call_arguments.done', {
        item_id: item.id,
        output_index: outputIndex,
        name: item.name,
        arguments: item.arguments,
      }) + this.event('response.output_item.done', { output_index: outputIndex, item })
    );
  }

  private openCall(index: number, callId: string, name: string): string {
    const item: ResponsesFunctionCallItem = {
      id: itemId('fc'),
      type: 'function_call',
      status: 'in_progress',
      call_id: callId,
      name,
      arguments: '',
    };
    this.output.push(item);
    const outputIndex = this.output.length - 1;
    this.call = { item, outputIndex };
    this.calls.set(index, this.call);
    return this.event('response.output_item.added', { output_index: outputIndex, item });
  }

  /** One event, named in both the SSE event field and its type, numbered; the object is written as it is now. */
  private event(type: string, fields: Record<string, unknown>): string {
    return sseEvent(type, JSON.stringify({ type, ...fields, sequence_number: this.sequence++ }));
  }

  get nextSequenceNumber(): number {
    return this.sequence;
  }
}
