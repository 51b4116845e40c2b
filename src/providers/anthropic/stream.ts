// Anthropic Messages SSE stream -> IR stream events, fed bytes in any split.
import type { StreamEvent } from '../../ir/stream.js';
import type { Usage } from '../../ir/usage.js';
import { asNumber, asObject, asString, tryParseJson } from '../shared/json.js';
import type { SseEvent } from '../shared/sse.js';
import { SseStreamDecoder } from '../shared/sse-decoder.js';
import { anthropicFinishReason } from './response.js';

export class AnthropicStreamDecoder extends SseStreamDecoder {
  /** Content block index -> IR tool call index, for blocks that are tool_use. */
  private readonly toolBlocks: Map<number, number>;
  /** Cache figures from message_start, kept to complete the usage reported in message_delta. */
  private cacheRead: number;
  private cacheWrite: number;
  private input: number;

  constructor() {
    super();
    this.toolBlocks = new Map();
    this.cacheRead = 0;
    this.cacheWrite = 0;
    this.input = 0;
  }

  protected decode(events: readonly SseEvent[]): StreamEvent[] {
    const out: StreamEvent[] = [];
    for (const event of events) {
      const data = asObject(tryParseJson(event.data));
      switch (data.type) {
        case 'message_start': {
          const message = asObject(data.message);
          out.push({ type: 'start', id: asString(message.id), model: asString(message.model), created: Math.floor(Date.now() / 1000) });
          const usage = asObject(message.usage);
          this.cacheRead = asNumber(usage.cache_read_input_tokens) ?? 0;
          this.cacheWrite = asNumber(usage.cache_creation_input_tokens) ?? 0;
          this.input = (asNumber(usage.input_tokens) ?? 0) + this.cacheRead + this.cacheWrite;
          out.push({ type: 'usage', usage: { inputTokens: this.input, cachedInputTokens: this.cacheRead, cacheWriteTokens: this.cacheWrite } });
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
          }
          break;
        }
        case 'content_block_delta': {
          const delta = asObject(data.delta);
          if (delta.type === 'text_delta') {
            const text = asString(delta.text);
            if (text !== '') out.push({ type: 'text', text });
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
          const usage = asObject(data.usage);
          const part: Partial<Usage> = {};
          const output = asNumber(usage.output_tokens);
          if (output !== undefined) part.outputTokens = output;
          // Newer API versions repeat the input figures in message_delta; they win over message_start's.
          const input = asNumber(usage.input_tokens);
          if (input !== undefined) {
            const cacheRead = asNumber(usage.cache_read_input_tokens) ?? this.cacheRead;
            const cacheWrite = asNumber(usage.cache_creation_input_tokens) ?? this.cacheWrite;
            part.inputTokens = input + cacheRead + cacheWrite;
            part.cachedInputTokens = cacheRead;
            part.cacheWriteTokens = cacheWrite;
          }
          if (Object.keys(part).length > 0) out.push({ type: 'usage', usage: part });
          break;
        }
        case 'error': {
          const error = asObject(data.error);
          out.push({ type: 'error', message: asString(error.message, 'upstream stream error'), errorType: asString(error.type, 'api_error') });
          break;
        }
        default:
          // ping, content_block_stop, message_stop: nothing for the IR.
          break;
      }
    }
    return out;
  }
}
