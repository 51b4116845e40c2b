// OpenAI chat.completion.chunk SSE stream -> IR stream events, fed bytes in any split.
import type { StreamEvent } from '../../ir/stream.js';
import { asArray, asNumber, asObject, asString, tryParseJson } from '../../wire/json.js';
import type { SseEvent } from '../../wire/sse.js';
import { streamErrorKind } from '../../wire/stream-opening.js';
import { SseStreamDecoder } from '../shared/sse-decoder.js';
import { compatibleReasoning, openaiFinishReason, openaiUsage, withServiceTier, withToolCalls } from './response.js';

export class OpenAIStreamDecoder extends SseStreamDecoder {
  private started: boolean;
  /** The tool call each upstream index names now; the IR index is the order calls began in. */
  private readonly toolIndex: Map<number, { index: number; id: string }>;
  /** Tool calls begun so far. */
  private toolCalls: number;
  /** The call a delta without an index continues. */
  private lastCall: { index: number; id: string } | null;
  /** Whether the model declined (delta.refusal): the answer then ends as a refusal, whatever finish_reason says. */
  private refused: boolean;

  constructor() {
    super();
    this.started = false;
    this.toolIndex = new Map();
    this.toolCalls = 0;
    this.lastCall = null;
    this.refused = false;
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
          // OpenAI's rate limits name what ran out in type ("tokens", "requests") and the kind in code; compatible
          // servers (vLLM) put the HTTP status in code.
          errorType: streamErrorKind([error.type, error.code]) ?? 'api_error',
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
      const reasoning = compatibleReasoning(delta);
      if (reasoning !== '') out.push({ type: 'reasoning_text', text: reasoning });
      const content = delta.content;
      if (typeof content === 'string' && content.length > 0) out.push({ type: 'text', text: content });
      if (typeof delta.refusal === 'string' && delta.refusal.length > 0) {
        this.refused = true;
        out.push({ type: 'refusal', text: delta.refusal });
      }
      for (const raw of asArray(delta.tool_calls)) {
        const call = asObject(raw);
        const upstreamIndex = asNumber(call.index);
        const id = asString(call.id);
        const fn = asObject(call.function);
        let current = upstreamIndex === undefined ? this.lastCall : this.toolIndex.get(upstreamIndex);
        // A new id is a new call even at an index already used, or with none: OpenAI-compatible servers (Ollama) give
        // every parallel call index 0, older ones no index; continuing deltas carry no id, or the same one.
        if (current === undefined || current === null || (id !== '' && id !== current.id)) {
          current = { index: this.toolCalls++, id };
          if (upstreamIndex !== undefined) this.toolIndex.set(upstreamIndex, current);
          out.push({ type: 'tool_call_start', index: current.index, id, name: asString(fn.name) });
        }
        this.lastCall = current;
        const args = asString(fn.arguments);
        if (args.length > 0) out.push({ type: 'tool_call_delta', index: current.index, argumentsDelta: args });
      }
      if (choice.finish_reason !== undefined && choice.finish_reason !== null) {
        const finish = withToolCalls(openaiFinishReason(choice.finish_reason), this.toolCalls);
        out.push({ type: 'finish', finishReason: this.refused ? 'content_filter' : finish });
      }
      if (root.usage !== undefined && root.usage !== null) {
        const usage = withServiceTier(openaiUsage(root.usage), root.service_tier);
        if (usage.reported) out.push({ type: 'usage', usage });
      }
    }
    return out;
  }
}
