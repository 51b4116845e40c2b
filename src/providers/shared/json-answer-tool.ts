// Structured output (OpenAI's response_format / the Responses API's text.format: json_schema or json_object) for the
// providers that have no such option but can be made to use a tool: Anthropic's Messages API (direct and on Vertex)
// and Bedrock's Converse. The well-established translation, which works on every Claude model on every platform: one
// extra tool whose input schema is the wanted JSON's schema, and the model made to use it; on the way back, that tool's
// input is the answer's text and the answer ends as a plain one (finish reason stop, no tool call). Each provider puts
// the tool and the choice in its own wire (request.ts); the mapping back is here, shared, on the IR.
import type { ChatRequest, ChatResponse, FinishReason } from '../../ir/chat.js';
import type { StreamDecoder, StreamEvent } from '../../ir/stream.js';
import type { ChatExchange } from '../../wire/exchange.js';

/** The tool that carries a structured answer, as the provider's request must offer it. */
export interface JsonAnswerTool {
  /** Its name under Anthropic's and Bedrock's rules (^[a-zA-Z0-9_-]{1,64}$), clashing with none of the client's tools. */
  name: string;
  description: string;
  /** JSON Schema of the answer: the client's, or any object for json_object. */
  schema: Record<string, unknown>;
  /**
   * 'force': the model must use this tool (no tools of the client's, or the client's tool_choice "none": the answer must
   * be the JSON). 'any': the client offered tools of its own and left the choice to the model; the model must use one
   * tool, the JSON tool or one of the client's (see jsonAnswerTool).
   */
  mode: 'force' | 'any';
  /** The client asked for its schema to be kept exactly (json_schema's `strict`). */
  strict: boolean;
}

const NAME_LIMIT = 64;

/**
 * The JSON answer tool a request needs, or null (no structured output asked for, or a turn that must call one of the
 * client's tools). When the client also sends tools of its own, OpenAI's meaning is "call my tools, or answer in this
 * format": the JSON tool is offered beside the client's and the model must use one of them (Anthropic's tool_choice
 * "any", Converse's toolChoice any) — a client tool call comes back as a tool call, the JSON tool as the answer. This
 * keeps tool-using apps that parse their final answer working, where refusing would break them (and their fallback
 * from a GPT target). tool_choice "required" or naming a client tool forces a client tool call on this turn, so the
 * JSON tool is left out (the format applies to a later turn's answer); tool_choice "none" forbids the client's tools,
 * so the JSON tool is forced (the client's tools stay defined: tool calls in the history need them).
 */
export function jsonAnswerTool(request: ChatRequest): JsonAnswerTool | null {
  const format = request.responseFormat;
  if (format === undefined || format.type === 'text') return null;
  const tools = request.tools ?? [];
  const choice = request.toolChoice;
  if (tools.length > 0 && (choice === 'required' || typeof choice === 'object')) return null;
  const taken = new Set(tools.map((tool) => tool.name));
  const mode = tools.length === 0 || choice === 'none' ? 'force' : 'any';
  if (format.type === 'json_object') {
    return {
      name: freeName('json_response', taken),
      description: 'Give the answer as a JSON object.',
      schema: { type: 'object' },
      mode,
      strict: false,
    };
  }
  return {
    name: freeName(toolName(format.name), taken),
    description: format.description ?? `Give the answer as JSON matching the ${format.name} schema.`,
    schema: format.schema,
    mode,
    strict: format.strict === true,
  };
}

/** A name under the providers' tool name rules: other characters become '_', at most 64 of them, never empty. */
function toolName(name: string): string {
  const clean = name.replace(/[^a-zA-Z0-9_-]/g, '_').slice(0, NAME_LIMIT);
  return clean === '' ? 'json_response' : clean;
}

/** `name`, or with a suffix (kept within the limit) when a client tool already has it. */
function freeName(base: string, taken: ReadonlySet<string>): string {
  let name = base;
  for (let n = 0; taken.has(name); n++) {
    const suffix = n === 0 ? '_answer' : `_answer${n}`;
    name = base.slice(0, NAME_LIMIT - suffix.length) + suffix;
  }
  return name;
}

/** The exchange with answers and streams read back through the JSON tool: its input becomes the answer's text. */
export function withJsonAnswer(exchange: ChatExchange, tool: JsonAnswerTool): ChatExchange {
  return {
    ...exchange,
    response: (body: unknown) => jsonAnswerResponse(exchange.response(body), tool),
    streamDecoder: () => new JsonAnswerStreamDecoder(exchange.streamDecoder(), tool),
  };
}

/**
 * The answer with the JSON tool's call as its text. A forced tool's answer has no text of its own (Claude writes none
 * before a tool it is made to use); should any come, it is dropped, as it would break the JSON. In 'any' mode text
 * stays (it may go with a call of the client's tools). A second JSON tool call is dropped: one answer. An answer
 * without the JSON tool's call is the model's text as it is (max_tokens first), or, when the model declined (Claude's
 * stop_reason refusal, a Bedrock guardrail), its refusal: what OpenAI answers a structured output it declines, which
 * clients read apart from the JSON they parse.
 */
export function jsonAnswerResponse(response: ChatResponse, tool: JsonAnswerTool): ChatResponse {
  const answer = response.toolCalls.find((call) => call.name === tool.name);
  if (answer === undefined) {
    return response.finishReason === 'content_filter' && response.toolCalls.length === 0 && response.text !== ''
      ? { ...response, text: '', refusal: response.text }
      : response;
  }
  const toolCalls = response.toolCalls.filter((call) => call.name !== tool.name);
  return {
    ...response,
    text: tool.mode === 'force' ? answer.arguments : response.text + answer.arguments,
    toolCalls,
    finishReason: answerFinish(response.finishReason, toolCalls.length),
  };
}

/** The model stopped to use a tool: when that was only the JSON tool, the answer simply ended. */
function answerFinish(reason: FinishReason, clientCalls: number): FinishReason {
  return reason === 'tool_calls' && clientCalls === 0 ? 'stop' : reason;
}

/**
 * Wraps a provider's stream decoder: the JSON tool's argument deltas become text events, the client's tool calls keep
 * coming (renumbered from 0 without the JSON tool), and a finish for tool use with no client tool call is a stop.
 * Text before any tool call is held until the stream shows what it is (Claude, made to use a tool, writes none before
 * one): with the tool forced, dropped when the JSON tool is called (it would break the JSON, as in jsonAnswerResponse),
 * otherwise passed on before the tool call; and when the answer ends with no tool call, passed on before the finish as
 * the whole answer, a refusal event when the model declined (as in jsonAnswerResponse).
 */
export class JsonAnswerStreamDecoder implements StreamDecoder {
  private readonly inner: StreamDecoder;
  private readonly tool: JsonAnswerTool;
  /** The provider's index of the JSON tool's call; -1 until it starts. */
  private answerIndex: number;
  /** The provider's index of each client tool call -> the index the client sees. */
  private readonly clientCalls: Map<number, number>;
  /** Text of a forced tool's answer before the tool call starts, held until the stream shows whether it comes. */
  private heldText: string;

  constructor(inner: StreamDecoder, tool: JsonAnswerTool) {
    this.inner = inner;
    this.tool = tool;
    this.answerIndex = -1;
    this.clientCalls = new Map();
    this.heldText = '';
  }

  push(chunk: Buffer): StreamEvent[] {
    return this.map(this.inner.push(chunk));
  }

  end(): StreamEvent[] {
    const out = this.map(this.inner.end());
    // A stream that ended with no finish: what was held is still the model's answer.
    this.releaseHeldText(out);
    return out;
  }

  private releaseHeldText(out: StreamEvent[]): void {
    if (this.heldText !== '') out.push({ type: 'text', text: this.heldText });
    this.heldText = '';
  }

  private map(events: StreamEvent[]): StreamEvent[] {
    const out: StreamEvent[] = [];
    for (const event of events) {
      switch (event.type) {
        case 'text':
          if (this.answerIndex === -1 && this.clientCalls.size === 0) this.heldText += event.text;
          else if (this.tool.mode === 'any') out.push(event);
          break;
        case 'tool_call_start':
          if (event.name === this.tool.name) {
            if (this.answerIndex === -1) this.answerIndex = event.index;
            if (this.tool.mode === 'any') this.releaseHeldText(out);
            this.heldText = '';
          } else {
            this.releaseHeldText(out);
            const index = this.clientCalls.size;
            this.clientCalls.set(event.index, index);
            out.push({ ...event, index });
          }
          break;
        case 'tool_call_delta': {
          if (event.index === this.answerIndex) {
            out.push({ type: 'text', text: event.argumentsDelta });
            break;
          }
          const index = this.clientCalls.get(event.index);
          // Not a client call: a second JSON tool call, dropped.
          if (index !== undefined) out.push({ ...event, index });
          break;
        }
        case 'finish':
          if (event.finishReason === 'content_filter' && this.answerIndex === -1 && this.clientCalls.size === 0 && this.heldText !== '') {
            out.push({ type: 'refusal', text: this.heldText });
            this.heldText = '';
          }
          this.releaseHeldText(out);
          out.push({ ...event, finishReason: answerFinish(event.finishReason, this.clientCalls.size) });
          break;
        case 'error':
          this.releaseHeldText(out);
          out.push(event);
          break;
        default:
          out.push(event);
      }
    }
    return out;
  }
}
