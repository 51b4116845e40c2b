// Anthropic Messages SSE stream -> IR stream events, fed bytes in any split.
import type { StreamEvent } from '../../ir/stream.js';
import { asNumber, asObject, asString, tryParseJson } from '../../wire/json.js';
import type { SseEvent } from '../../wire/sse.js';
import { SseStreamDecoder } from '../shared/sse-decoder.js';
import { anthropicFinishReason } from './response.js';
import { AnthropicStreamUsage } from './stream-usage.js';

export class AnthropicStreamDecoder extends SseStreamDecoder {
  /** Content block index -> IR tool call index, for blocks that are tool_use. */
  private readonly toolBlocks: Map<number, number>;
  private readonly usage: AnthropicStreamUsage;
  /** Content block index -> the thinking block it is building, for blocks that are thinking (none without thinking). */
  private readonly thinkingBlocks: Map<number, { type: string; thinking?: string; signature?: string; data?: string }>;

  constructor() {
    super();
    this.toolBlocks = new Map();
    this.usage = new AnthropicStreamUsage();
    this.thinkingBlocks = new Map();
  }

  protected decode(events: readonly SseEvent[]): StreamEvent[] {
    const out: StreamEvent[] = [];
    for (const event of events) {
      const data = asObject(tryParseJson(event.data));
      switch (data.type) {
        case 'message_start': {
          const message = asObject(data.message);
          out.push({ type: 'start', id: asString(message.id), model: asString(message.model), created: Math.floor(Date.now() / 1000) });
          out.push({ type: 'usage', usage: this.usage.start(message) });
          break;
        }
        case 'content_block_start': {
          const block = asObject(data.content_block);
          const index = asNumber(data.index) ?? 0;
          if (block.type === 'tool_use') {
            const toolIndex = this.toolBlocks.size;
            this.toolBlocks.set(index, toolIndex);
            out.push({ type: 'tool_call_start', index: toolIndex, id: asString(block.id), name: asString(block.name) });
          } else if (block.type === 'text' && asString(block.text) !== '') {
            out.push({ type: 'text', text: asString(block.text) });
          } else if (block.type === 'thinking') {
            this.thinkingBlocks.set(index, { type: 'thinking', thinking: asString(block.thinking), signature: asString(block.signature) });
          } else if (block.type === 'redacted_thinking') {
            this.thinkingBlocks.set(index, { type: 'redacted_thinking', data: asString(block.data) });
          }
          break;
        }
        case 'content_block_delta': {
          const delta = asObject(data.delta);
          if (delta.type === 'text_delta') {
            const text = asString(delta.text);
            if (text !== '') out.push({ type: 'text', text });
          } else if (delta.type === 'thinking_delta' || delta.type === 'signature_delta') {
            // The thinking is not the answer: its text given apart as it comes, the block whole once signed.
            const thinking = this.thinkingBlocks.get(asNumber(data.index) ?? 0);
            if (thinking === undefined) break;
            if (delta.type === 'thinking_delta') {
              const text = asString(delta.thinking);
              thinking.thinking = (thinking.thinking ?? '') + text;
              if (text !== '') out.push({ type: 'reasoning_text', text });
            } else thinking.signature = asString(delta.signature);
          } else if (delta.type === 'input_json_delta') {
            const toolIndex = this.toolBlocks.get(asNumber(data.index) ?? 0);
            const partial = asString(delta.partial_json);
            if (toolIndex !== undefined && partial !== '') out.push({ type: 'tool_call_delta', index: toolIndex, argumentsDelta: partial });
          }
          break;
        }
        case 'message_delta': {
          const delta = asObject(data.delta);
          if (delta.stop_reason !== undefined && delta.stop_reason !== null) {
            const finish: StreamEvent = { type: 'finish', finishReason: anthropicFinishReason(delta.stop_reason) };
            if (typeof delta.stop_sequence === 'string') finish.stopSequence = delta.stop_sequence;
            out.push(finish);
          }
          const usage = this.usage.delta(data);
          if (usage !== null) out.push({ type: 'usage', usage });
          break;
        }
        case 'error': {
          const error = asObject(data.error);
          out.push({
            type: 'error',
            message: asString(error.message, 'upstream stream error'),
            errorType: asString(error.type, 'api_error'),
          });
          break;
        }
        case 'content_block_stop': {
          const index = asNumber(data.index) ?? 0;
          const thinking = this.thinkingBlocks.get(index);
          if (thinking !== undefined) {
            this.thinkingBlocks.delete(index);
            out.push({ type: 'reasoning', block: thinking });
          }
          break;
        }
        default:
          // ping, message_stop: nothing for the IR.
          break;
      }
    }
    return out;
  }
}
