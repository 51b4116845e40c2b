// OpenAI chat.completion.chunk SSE stream -> IR stream events, fed bytes in any split.
import type { StreamEvent } from '../../ir/stream.js';
import { asArray, asNumber, asObject, asString, tryParseJson } from '../../wire/json.js';
import type { SseEvent } from '../../wire/sse.js';
import { SseStreamDecoder } from '../shared/sse-decoder.js';
import { openaiFinishReason, openaiUsage } from './response.js';

export class OpenAIStreamDecoder extends SseStreamDecoder {
  private started: boolean;
  /** OpenAI indexes tool calls itself; the IR index is the order they began in. */
  private readonly toolIndex: Map<number, number>;

  constructor() {
    super();
    this.started = false;
    this.toolIndex = new Map();
  }

  protected decode(events: readonly SseEvent[]): StreamEvent[] {
    const out: StreamEvent[] = [];
    for (const event of events) {
      if (event.data === '[DONE]') continue;
      const parsed = tryParseJson(event.data);
      const root = asObject(parsed);
      if (root.error !== undefined) {
        const error = asObject(root.error);
        out.push({
          type: 'error',
          message: asString(error.message, 'upstream stream error'),
          errorType: asString(error.type, 'api_error'),
        });
        continue;
      }
      if (!this.started) {
        this.started = true;
        out.push({
          type: 'start',
          id: asString(root.id),
          model: asString(root.model),
          created: asNumber(root.created) ?? Math.floor(Date.now() / 1000),
        });
      }
      const choice = asObject(asArray(root.choices)[0]);
      const delta = asObject(choice.delta);
      const content = delta.content;
      if (typeof content === 'string' && content.length > 0) out.push({ type: 'text', text: content });
      for (const raw of asArray(delta.tool_calls)) {
        const call = asObject(raw);
        const upstreamIndex = asNumber(call.index) ?? 0;
        const fn = asObject(call.function);
        let index = this.toolIndex.get(upstreamIndex);
        if (index === undefined) {
          index = this.toolIndex.size;
          this.toolIndex.set(upstreamIndex, index);
          out.push({ type: 'tool_call_start', index, id: asString(call.id), name: asString(fn.name) });
        }
        const args = asString(fn.arguments);
        if (args.length > 0) out.push({ type: 'tool_call_delta', index, argumentsDelta: args });
      }
      if (choice.finish_reason !== undefined && choice.finish_reason !== null) {
        out.push({ type: 'finish', finishReason: openaiFinishReason(choice.finish_reason) });
      }
      if (root.usage !== undefined && root.usage !== null) {
        const usage = openaiUsage(root.usage);
        if (usage.reported) out.push({ type: 'usage', usage });
      }
    }
    return out;
  }
}
