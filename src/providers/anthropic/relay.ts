// The Anthropic-to-Anthropic pass-through of a streamed answer: each event goes on untouched (an error event redacted)
// while usage and output are tapped.
import { emptyUsage, type Usage } from '../../ir/usage.js';
import type { ClientStream, Redactor } from '../../wire/exchange.js';
import { asObject, asString, tryParseJson } from '../../wire/json.js';
import { OutputSample, type OutputEstimate } from '../../wire/output-sample.js';
import { SseParser, sseEvent, type SseEvent } from '../../wire/sse.js';
import { mergeUsage } from '../../wire/usage.js';
import { AnthropicStreamUsage } from './stream-usage.js';

export class AnthropicStreamRelay implements ClientStream {
  readonly usage: Usage;
  private readonly output: OutputSample;
  streamError: string | null;
  finished: boolean;
  private readonly parser: SseParser;
  private readonly events: SseEvent[];
  private readonly redactor: Redactor;
  private readonly tally: AnthropicStreamUsage;

  constructor(redactor: Redactor) {
    this.usage = emptyUsage();
    this.output = new OutputSample();
    this.streamError = null;
    this.finished = false;
    this.parser = new SseParser();
    this.events = [];
    this.redactor = redactor;
    this.tally = new AnthropicStreamUsage();
  }

  push(chunk: Buffer): string {
    this.events.length = 0;
    return this.relay(this.parser.push(chunk, this.events));
  }

  end(): string {
    this.events.length = 0;
    // The event the body ended in without its closing blank line: relayed when its JSON is whole, dropped (as SSE drops
    // an unfinished event) when the body was cut part way through it, where the client's SDK would choke on it in place
    // of the error event that ends a stream cut short.
    const events = this.parser.end(this.events).filter((event) => tryParseJson(event.data) !== undefined);
    return this.relay(events);
  }

  private relay(events: SseEvent[]): string {
    let out = '';
    for (const event of events) {
      const name = event.event ?? 'message';
      let data = event.data;
      if (name === 'content_block_delta') this.output.add(data);
      else if (name === 'error') {
        data = this.redactor.redact(data);
        this.streamError = asString(asObject(asObject(tryParseJson(data)).error).message, 'upstream stream error');
      } else if (name === 'message_start') {
        mergeUsage(this.usage, this.tally.start(asObject(tryParseJson(data)).message));
      } else if (name === 'message_stop') {
        this.finished = true;
      } else if (name === 'message_delta') {
        // Its stop_reason ends the answer; message_stop only closes the stream.
        this.finished = true;
        const part = this.tally.delta(tryParseJson(data));
        if (part !== null) mergeUsage(this.usage, part);
      }
      out += sseEvent(name, data);
    }
    return out;
  }

  estimateOutput(): OutputEstimate {
    return this.output.estimate((data) => {
      const delta = asObject(asObject(tryParseJson(data)).delta);
      const piece =
        delta.type === 'text_delta' ? asString(delta.text) : delta.type === 'input_json_delta' ? asString(delta.partial_json) : '';
      return piece === '' ? [] : [piece];
    });
  }
}
