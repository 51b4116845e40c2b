// Gemini streamGenerateContent?alt=sse -> IR stream events: each SSE event is a whole GenerateContentResponse.
import type { StreamEvent } from '../../ir/stream.js';
import { asArray, asObject, asString, tryParseJson } from '../../wire/json.js';
import type { SseEvent } from '../../wire/sse.js';
import { SseStreamDecoder } from '../shared/sse-decoder.js';
import { geminiFinishFault } from '../../wire/answer-fault.js';
import { geminiAnswerUsage, geminiFinishReason, geminiUsage, promptBlocked } from './response.js';
import { toolCallIdFor } from './call-id.js';

export class GeminiStreamDecoder extends SseStreamDecoder {
  private started: boolean;
  private toolCalls: number;

  constructor() {
    super();
    this.started = false;
    this.toolCalls = 0;
  }

  protected decode(events: readonly SseEvent[]): StreamEvent[] {
    const out: StreamEvent[] = [];
    for (const event of events) {
      const root = asObject(tryParseJson(event.data));
      if (root.error !== undefined) {
        const error = asObject(root.error);
        out.push({
          type: 'error',
          message: asString(error.message, 'Gemini stream error'),
          errorType: asString(error.status, 'api_error'),
        });
        continue;
      }
      if (!this.started) {
        this.started = true;
        out.push({
          type: 'start',
          id: asString(root.responseId),
          model: asString(root.modelVersion),
          created: Math.floor(Date.now() / 1000),
        });
      }
      const candidate = asObject(asArray(root.candidates)[0]);
      for (const raw of asArray(asObject(candidate.content).parts)) {
        const part = asObject(raw);
        if (typeof part.text === 'string' && part.text !== '')
          out.push({ type: part.thought === true ? 'reasoning_text' : 'text', text: part.text });
        else if (part.functionCall !== undefined) {
          // Gemini sends each function call whole, in one part.
          const call = asObject(part.functionCall);
          const index = this.toolCalls++;
          out.push({
            type: 'tool_call_start',
            index,
            id: toolCallIdFor(asString(call.id), `call_${index}_${asString(root.responseId)}`, part.thoughtSignature),
            name: asString(call.name),
          });
          out.push({ type: 'tool_call_delta', index, argumentsDelta: JSON.stringify(call.args ?? {}) });
        }
      }
      const fault = geminiFinishFault(candidate.finishReason);
      if (fault !== null) {
        // No answer to end quietly: the stream fails as one whose upstream sent an error event.
        out.push({ type: 'error', message: fault, errorType: 'api_error' });
      } else if (typeof candidate.finishReason === 'string') {
        out.push({ type: 'finish', finishReason: this.toolCalls > 0 ? 'tool_calls' : geminiFinishReason(candidate.finishReason) });
      } else if (promptBlocked(root)) out.push({ type: 'finish', finishReason: 'content_filter' });
      if (root.usageMetadata !== undefined) {
        // Grounding with Google Search states its queries with the answer's last chunks (a discovered native call).
        const usage = candidate.groundingMetadata === undefined ? geminiUsage(root.usageMetadata) : geminiAnswerUsage(root);
        if (usage.reported) out.push({ type: 'usage', usage });
      }
    }
    return out;
  }
}
