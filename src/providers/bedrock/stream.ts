// Bedrock ConverseStream (AWS event-stream frames) -> IR stream events, fed bytes in any split.
import type { StreamDecoder, StreamEvent } from '../../ir/stream.js';
import { AwsEventStreamParser, type AwsEvent } from '../../wire/aws-event-stream.js';
import { asNumber, asObject, asString, tryParseJson } from '../../wire/json.js';
import { reasoningBlock } from './reasoning.js';
import { converseStopFault } from '../../wire/answer-fault.js';
import { bedrockFinishReason, bedrockStopSequence, bedrockUsage } from './response.js';

export class BedrockStreamDecoder implements StreamDecoder {
  private readonly parser: AwsEventStreamParser;
  private readonly events: AwsEvent[];
  /** Content block index -> IR tool call index, for blocks that are toolUse. */
  private readonly toolBlocks: Map<number, number>;
  /**
   * Content block index -> the reasoningContent it has given so far (text in pieces, then its signature; or encrypted),
   * handed on whole at the block's end, as the signature comes last.
   */
  private readonly reasoningBlocks: Map<number, { text: string; signature?: string; redactedContent?: string }>;
  private readonly id: string;
  /** The stop sequences the request was sent (bedrockStopSequence). */
  private readonly stops: readonly string[];

  constructor(id: string, stops: readonly string[] = []) {
    this.parser = new AwsEventStreamParser();
    this.events = [];
    this.toolBlocks = new Map();
    this.reasoningBlocks = new Map();
    this.id = id;
    this.stops = stops;
  }

  push(chunk: Buffer): StreamEvent[] {
    this.events.length = 0;
    return this.decode(this.parser.push(chunk, this.events));
  }

  end(): StreamEvent[] {
    if (this.parser.pendingBytes > 0) {
      return [{ type: 'error', message: 'The Bedrock stream ended inside a message.', errorType: 'api_error' }];
    }
    return [];
  }

  private decode(events: readonly AwsEvent[]): StreamEvent[] {
    const out: StreamEvent[] = [];
    for (const event of events) {
      const data = asObject(tryParseJson(event.body));
      if (event.messageType !== 'event') {
        out.push({
          type: 'error',
          message: asString(data.message, event.type || 'Bedrock stream error'),
          errorType: event.type || 'api_error',
        });
        continue;
      }
      switch (event.type) {
        case 'messageStart':
          out.push({ type: 'start', id: this.id, model: '', created: Math.floor(Date.now() / 1000) });
          break;
        case 'contentBlockStart': {
          const use = asObject(asObject(data.start).toolUse);
          if (use.toolUseId !== undefined) {
            const index = this.toolBlocks.size;
            this.toolBlocks.set(asNumber(data.contentBlockIndex) ?? 0, index);
            out.push({ type: 'tool_call_start', index, id: asString(use.toolUseId), name: asString(use.name) });
          }
          break;
        }
        case 'contentBlockDelta': {
          const delta = asObject(data.delta);
          if (typeof delta.text === 'string' && delta.text !== '') out.push({ type: 'text', text: delta.text });
          else if (delta.reasoningContent !== undefined) {
            const text = this.addReasoning(asNumber(data.contentBlockIndex) ?? 0, delta.reasoningContent);
            if (text !== '') out.push({ type: 'reasoning_text', text });
          } else if (delta.toolUse !== undefined) {
            const index = this.toolBlocks.get(asNumber(data.contentBlockIndex) ?? 0);
            const input = asString(asObject(delta.toolUse).input);
            if (index !== undefined && input !== '') out.push({ type: 'tool_call_delta', index, argumentsDelta: input });
          }
          break;
        }
        case 'messageStop': {
          const malformed = converseStopFault(data.stopReason);
          if (malformed !== null) {
            // No answer to end quietly: the stream fails as one whose upstream sent an error event.
            out.push({ type: 'error', message: malformed, errorType: 'api_error' });
            break;
          }
          const finish: StreamEvent = { type: 'finish', finishReason: bedrockFinishReason(data.stopReason) };
          const stopSequence = bedrockStopSequence(data, this.stops);
          if (stopSequence !== undefined) finish.stopSequence = stopSequence;
          out.push(finish);
          break;
        }
        case 'metadata': {
          const usage = bedrockUsage(data.usage);
          if (usage.reported) out.push({ type: 'usage', usage });
          break;
        }
        case 'contentBlockStop': {
          const index = asNumber(data.contentBlockIndex) ?? 0;
          const pieces = this.reasoningBlocks.get(index);
          if (pieces !== undefined) {
            this.reasoningBlocks.delete(index);
            const block = reasoningBlock(
              pieces.redactedContent !== undefined
                ? { redactedContent: pieces.redactedContent }
                : { reasoningText: { text: pieces.text, signature: pieces.signature } },
            );
            if (block !== null) out.push({ type: 'reasoning', block });
          }
          break;
        }
        default:
          break;
      }
    }
    return out;
  }

  /**
   * One ReasoningContentBlockDelta: a piece of text, the signature, or the encrypted content (one of them each). Returns
   * its piece of text ('' for none).
   */
  private addReasoning(index: number, value: unknown): string {
    const delta = asObject(value);
    let pieces = this.reasoningBlocks.get(index);
    if (pieces === undefined) this.reasoningBlocks.set(index, (pieces = { text: '' }));
    if (typeof delta.signature === 'string') pieces.signature = delta.signature;
    if (typeof delta.redactedContent === 'string') pieces.redactedContent = delta.redactedContent;
    if (typeof delta.text !== 'string') return '';
    pieces.text += delta.text;
    return delta.text;
  }
}
