// OpenAI Responses API request JSON -> IR, validating as it goes so errors name the offending field. What only a
// provider that keeps state or runs OpenAI's built-in tools can do (previous_response_id, store, item references, web
// search, ...) is left out of the IR: the body passes through to OpenAI and Azure OpenAI as it is, and a translated
// target refuses it (translationRefusal).
import type {
  ChatMessage,
  ChatRequest,
  ContentPart,
  ResponseFormat,
  TextPart,
  ToolChoice,
  ToolDefinition,
  ToolCall,
  ToolResultPart,
} from '../../ir/chat.js';
import { SluiceError } from '../../errors.js';
import { asServiceTier } from '../../ir/usage.js';
import { isObject, type JsonObject } from '../../wire/json.js';
import { parseEffort, unknownEffort } from './openai-chat-parse.js';
import { pdfFileData, untranslatableFile } from './openai-file-data.js';
import { unsealBlock } from './openai-responses-reasoning.js';

function invalid(param: string, message: string): SluiceError {
  return new SluiceError('invalid_request', `${param}: ${message}`, { param });
}

function optionalNumber(body: JsonObject, field: string, min: number, max: number): number | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) throw invalid(field, 'expected a number');
  if (value < min || value > max) throw invalid(field, `expected a number from ${min} to ${max}, got ${value}`);
  return value;
}

/** What translationRefusal needs to know of a target's provider: its name and its features (providers/provider.ts). */
export interface TranslatedProvider {
  readonly name: string;
  readonly features: ReadonlySet<string>;
}

/** Fields that ask the provider to keep or fetch state, which only OpenAI and Azure OpenAI do. */
const STATEFUL_FIELDS = ['previous_response_id', 'conversation', 'prompt'] as const;

export function parseOpenAIResponses(body: unknown): ChatRequest {
  if (!isObject(body)) throw invalid('body', 'expected a JSON object');
  const model = body.model;
  if (typeof model !== 'string' || model.length === 0) throw invalid('model', 'required, a non-empty string');
  const stream = body.stream;
  if (stream !== undefined && stream !== null && typeof stream !== 'boolean') throw invalid('stream', 'expected a boolean');
  if (body.background !== undefined && body.background !== null && typeof body.background !== 'boolean')
    throw invalid('background', 'expected a boolean');
  // Served only where responses.background is meter, and only by OpenAI and Azure OpenAI: the gateway checks before
  // anything is sent (stored-responses/background.ts), translationRefusal for the other targets.
  const stateful = STATEFUL_FIELDS.some((field) => body[field] !== undefined && body[field] !== null);
  if (body.input === undefined || body.input === null) {
    if (!stateful) throw invalid('input', 'required, a string or an array of input items');
  }
  const messages: ChatMessage[] = [];
  if (body.instructions !== undefined && body.instructions !== null) {
    if (typeof body.instructions !== 'string') throw invalid('instructions', 'expected a string');
    messages.push({ role: 'system', content: [{ type: 'text', text: body.instructions }] });
  }
  if (typeof body.input === 'string') messages.push({ role: 'user', content: [{ type: 'text', text: body.input }] });
  else if (Array.isArray(body.input)) parseItems(body.input, messages);
  else if (body.input !== undefined && body.input !== null) throw invalid('input', 'expected a string or an array of input items');

  const request: ChatRequest = { model, messages, stream: stream === true };
  const maxTokens = body.max_output_tokens;
  if (maxTokens !== undefined && maxTokens !== null) {
    if (typeof maxTokens !== 'number' || !Number.isInteger(maxTokens) || maxTokens < 1)
      throw invalid('max_output_tokens', 'expected a positive integer');
    request.maxTokens = maxTokens;
  }
  const temperature = optionalNumber(body, 'temperature', 0, 2);
  if (temperature !== undefined) request.temperature = temperature;
  const topP = optionalNumber(body, 'top_p', 0, 1);
  if (topP !== undefined) request.topP = topP;
  if (body.tools !== undefined && body.tools !== null) {
    const tools = parseTools(body.tools);
    if (tools.length > 0) request.tools = tools;
  }
  if (body.tool_choice !== undefined && body.tool_choice !== null) {
    const choice = parseToolChoice(body.tool_choice);
    if (choice !== null) request.toolChoice = choice;
  }
  if (body.parallel_tool_calls !== undefined && body.parallel_tool_calls !== null) {
    if (typeof body.parallel_tool_calls !== 'boolean') throw invalid('parallel_tool_calls', 'expected a boolean');
    request.parallelToolCalls = body.parallel_tool_calls;
  }
  if (body.text !== undefined && body.text !== null) {
    if (!isObject(body.text)) throw invalid('text', 'expected an object');
    if (body.text.format !== undefined && body.text.format !== null) request.responseFormat = parseFormat(body.text.format);
  }
  if (body.reasoning !== undefined && body.reasoning !== null) {
    if (!isObject(body.reasoning)) throw invalid('reasoning', 'expected an object');
    const effort =
      body.reasoning.effort === undefined || body.reasoning.effort === null ? null : parseEffort(body.reasoning.effort, 'reasoning.effort');
    if (effort !== null) request.reasoning = { effort };
    // summary: auto, concise or detailed; the model's reasoning is given as it comes, whichever is asked.
    if (typeof body.reasoning.summary === 'string') request.reasoningSummary = true;
  }
  if (body.store !== undefined && body.store !== null && typeof body.store !== 'boolean') throw invalid('store', 'expected a boolean');
  if (typeof body.user === 'string') request.user = body.user;
  else if (typeof body.safety_identifier === 'string') request.user = body.safety_identifier;
  const tier = asServiceTier(body.service_tier);
  if (tier !== undefined) request.serviceTier = tier;
  return request;
}

/**
 * An input item's type, which is optional in two kinds of item: a message (`{role, content}`) and an item reference
 * (`{id}` alone, an item OpenAI keeps).
 */
function itemType(item: JsonObject): unknown {
  if (item.type !== undefined && item.type !== null) return item.type;
  return (item.role === undefined || item.role === null) && typeof item.id === 'string' ? 'item_reference' : 'message';
}

/** Input items -> IR messages; consecutive assistant text and function calls make one assistant turn, as in chat. */
function parseItems(items: unknown[], messages: ChatMessage[]): void {
  items.forEach((raw, index) => {
    const at = `input[${index}]`;
    if (!isObject(raw)) throw invalid(at, 'expected an object');
    const type = itemType(raw);
    if (type === 'message') return void parseMessageItem(raw, at, messages);
    if (type === 'function_call') {
      if (typeof raw.call_id !== 'string' || raw.call_id === '') throw invalid(`${at}.call_id`, 'required, a string');
      if (typeof raw.name !== 'string' || raw.name === '') throw invalid(`${at}.name`, 'required, a string');
      if (typeof raw.arguments !== 'string') throw invalid(`${at}.arguments`, 'required, a JSON string');
      assistantTurn(messages).toolCalls.push({ id: raw.call_id, name: raw.name, arguments: raw.arguments } satisfies ToolCall);
      return;
    }
    if (type === 'function_call_output') {
      if (typeof raw.call_id !== 'string' || raw.call_id === '') throw invalid(`${at}.call_id`, 'required, a string');
      messages.push({ role: 'tool', toolCallId: raw.call_id, content: parseOutput(raw.output, `${at}.output`) });
      return;
    }
    if (type === 'reasoning') {
      // Claude's signed thinking, handed back: it goes to Claude at the head of the turn it answered. Any other reasoning
      // (a summary alone) is not the conversation, and is left out.
      const block = unsealBlock(raw.encrypted_content);
      if (block !== null) (assistantTurn(messages).reasoning ??= []).push(block);
      return;
    }
    if (typeof type !== 'string') throw invalid(`${at}.type`, 'expected a string');
    // Other item types (item_reference, built-in tool calls) mean something only to OpenAI: passed through there,
    // refused by translationRefusal elsewhere.
  });
}

/** The assistant turn function calls join: the last message when it is an assistant's, else a new one. */
function assistantTurn(messages: ChatMessage[]): Extract<ChatMessage, { role: 'assistant' }> {
  const last = messages.at(-1);
  if (last !== undefined && last.role === 'assistant') return last;
  const turn: Extract<ChatMessage, { role: 'assistant' }> = { role: 'assistant', content: [], toolCalls: [] };
  messages.push(turn);
  return turn;
}

function parseMessageItem(raw: JsonObject, at: string, messages: ChatMessage[]): void {
  switch (raw.role) {
    case 'system':
    case 'developer':
      messages.push({ role: 'system', content: textParts(raw.content, `${at}.content`) });
      return;
    case 'user':
      messages.push({ role: 'user', content: userParts(raw.content, `${at}.content`) });
      return;
    case 'assistant': {
      const content = textParts(raw.content, `${at}.content`);
      const last = messages.at(-1);
      // A new assistant message after function calls of the same turn starts a new turn, as in chat.
      if (last !== undefined && last.role === 'assistant' && last.toolCalls.length === 0) last.content.push(...content);
      else messages.push({ role: 'assistant', content, toolCalls: [] });
      return;
    }
    default:
      throw invalid(`${at}.role`, `expected one of user, assistant, system, developer; got ${JSON.stringify(raw.role)}`);
  }
}

/** Text content: a string, or parts of input_text / output_text (refusals are kept as text). */
function textParts(raw: unknown, at: string): TextPart[] {
  if (typeof raw === 'string') return [{ type: 'text', text: raw }];
  if (!Array.isArray(raw)) throw invalid(at, 'expected a string or an array of content parts');
  const parts: TextPart[] = [];
  raw.forEach((part, i) => {
    if (!isObject(part)) throw invalid(`${at}[${i}]`, 'expected an object');
    if ((part.type === 'input_text' || part.type === 'output_text') && typeof part.text === 'string')
      parts.push({ type: 'text', text: part.text });
    else if (part.type === 'refusal' && typeof part.refusal === 'string') parts.push({ type: 'text', text: part.refusal });
    else if (part.type === 'input_text' || part.type === 'output_text') throw invalid(`${at}[${i}].text`, 'required, a string');
  });
  return parts;
}

const DATA_URL = /^data:([^;,]+);base64,(.*)$/s;

/**
 * User content: text parts, input_image and input_file with a PDF in file_data; other files (by file_id or file_url,
 * other types) and input_audio are left to translationRefusal.
 */
function userParts(raw: unknown, at: string): ContentPart[] {
  if (typeof raw === 'string') return [{ type: 'text', text: raw }];
  if (!Array.isArray(raw)) throw invalid(at, 'expected a string or an array of content parts');
  const parts: ContentPart[] = [];
  raw.forEach((part, i) => {
    const partAt = `${at}[${i}]`;
    if (!isObject(part)) throw invalid(partAt, 'expected an object');
    if (part.type === 'input_text' || part.type === 'output_text') {
      if (typeof part.text !== 'string') throw invalid(`${partAt}.text`, 'required, a string');
      parts.push({ type: 'text', text: part.text });
    } else if (part.type === 'input_image' && typeof part.image_url === 'string') {
      const data = DATA_URL.exec(part.image_url);
      if (data !== null) parts.push({ type: 'image', source: { kind: 'base64', mediaType: data[1]!, data: data[2]! } });
      else
        parts.push({
          type: 'image',
          source:
            typeof part.detail === 'string'
              ? { kind: 'url', url: part.image_url, detail: part.detail }
              : { kind: 'url', url: part.image_url },
        });
    } else if (part.type === 'input_file') {
      const data = pdfFileData(part.file_data);
      if (data !== null)
        parts.push({
          type: 'document',
          source: { kind: 'pdf', data },
          ...(typeof part.filename === 'string' && part.filename !== '' && { name: part.filename }),
        });
    } else if (typeof part.type !== 'string') throw invalid(`${partAt}.type`, 'required, a string');
  });
  return parts;
}

/** A function call's output: a string, or content parts of which text and images are kept (files: translationRefusal). */
function parseOutput(raw: unknown, at: string): ToolResultPart[] {
  if (typeof raw === 'string') return [{ type: 'text', text: raw }];
  if (Array.isArray(raw)) return userParts(raw, at).filter((part): part is ToolResultPart => part.type !== 'document');
  throw invalid(at, 'required, a string or an array of content parts');
}

/** Function tools -> IR; other tool types (web_search, file_search, mcp, ...) are OpenAI's own and left out. */
function parseTools(raw: unknown): ToolDefinition[] {
  if (!Array.isArray(raw)) throw invalid('tools', 'expected an array');
  const tools: ToolDefinition[] = [];
  raw.forEach((tool, i) => {
    if (!isObject(tool) || typeof tool.type !== 'string') throw invalid(`tools[${i}].type`, 'required, a string');
    if (tool.type !== 'function') return;
    if (typeof tool.name !== 'string' || tool.name === '') throw invalid(`tools[${i}].name`, 'required, a non-empty string');
    if (tool.parameters !== undefined && tool.parameters !== null && !isObject(tool.parameters))
      throw invalid(`tools[${i}].parameters`, 'expected a JSON Schema object');
    const definition: ToolDefinition = {
      name: tool.name,
      parameters: isObject(tool.parameters) ? tool.parameters : { type: 'object', properties: {} },
    };
    if (typeof tool.description === 'string') definition.description = tool.description;
    if (tool.strict === true) definition.strict = true;
    tools.push(definition);
  });
  return tools;
}

/** Null for a choice only OpenAI understands (a built-in tool, allowed_tools): refused by translationRefusal. */
function parseToolChoice(raw: unknown): ToolChoice | null {
  if (raw === 'auto' || raw === 'none' || raw === 'required') return raw;
  if (isObject(raw) && raw.type === 'function') {
    if (typeof raw.name !== 'string' || raw.name === '') throw invalid('tool_choice.name', 'required, a string');
    return { name: raw.name };
  }
  if (isObject(raw) && typeof raw.type === 'string') return null;
  throw invalid('tool_choice', 'expected "auto", "none", "required" or {type: "function", name}');
}

function parseFormat(raw: unknown): ResponseFormat {
  if (!isObject(raw)) throw invalid('text.format', 'expected an object');
  if (raw.type === 'text' || raw.type === 'json_object') return { type: raw.type };
  if (raw.type === 'json_schema') {
    if (typeof raw.name !== 'string' || raw.name === '') throw invalid('text.format.name', 'required, a string');
    if (!isObject(raw.schema)) throw invalid('text.format.schema', 'required, a JSON Schema object');
    const format: ResponseFormat = { type: 'json_schema', name: raw.name, schema: raw.schema };
    if (typeof raw.strict === 'boolean') format.strict = raw.strict;
    if (typeof raw.description === 'string') format.description = raw.description;
    return format;
  }
  throw invalid('text.format.type', `expected "text", "json_object" or "json_schema"; got ${JSON.stringify(raw.type)}`);
}

const MESSAGE_PARTS = ['input_text', 'output_text', 'input_image', 'input_file', 'refusal'];
/** Files in a function's output have no translation: the APIs Sluice translates to take documents in user turns. */
const OUTPUT_PARTS = ['input_text', 'output_text', 'input_image', 'refusal'];

/**
 * Why a body cannot go to a provider that does not speak the Responses API (Sluice translates it): the first field that
 * needs state kept by the provider or a tool only OpenAI runs, as a 400 naming it; null when it translates. Called only
 * for a translated target, on a body parseOpenAIResponses accepted.
 */
export function translationRefusal(body: JsonObject, provider: TranslatedProvider): SluiceError | null {
  // Only what needs responses kept is told to send the whole conversation; the rest, where it works.
  const refuse = (param: string, what: string, stateful = false) =>
    new SluiceError(
      'unsupported_by_provider',
      `${param}: ${what} The model's provider (${provider.name}) is reached by translation${stateful ? ' and keeps no responses; send the whole conversation in input, or' : ';'} use a model served by OpenAI or Azure OpenAI.`,
      { param },
    );
  for (const field of STATEFUL_FIELDS) {
    if (body[field] !== undefined && body[field] !== null)
      return refuse(field, `${field} needs the provider to keep earlier responses.`, true);
  }
  if (body.store === true) return refuse('store', 'store: true asks the provider to keep the response.', true);
  if (body.background === true)
    return refuse('background', 'background: true asks the provider to run the response after the call returns and keep it.', true);
  if (Array.isArray(body.input)) {
    for (let i = 0; i < body.input.length; i++) {
      const item = body.input[i] as JsonObject;
      const type = itemType(item);
      if (type !== 'message' && type !== 'function_call' && type !== 'function_call_output' && type !== 'reasoning')
        return refuse(`input[${i}].type`, `input items of type ${JSON.stringify(type)} are not translated.`, type === 'item_reference');
      if (type === 'reasoning') continue;
      const content = type === 'function_call_output' ? item.output : item.content;
      if (!Array.isArray(content)) continue;
      for (let j = 0; j < content.length; j++) {
        const part = content[j] as JsonObject;
        const at = type === 'function_call_output' ? `input[${i}].output[${j}]` : `input[${i}].content[${j}]`;
        if (part.type === 'input_image' && typeof part.image_url !== 'string')
          return refuse(`${at}.image_url`, 'images by file_id are kept by OpenAI; send image_url.');
        const known = type === 'function_call_output' ? OUTPUT_PARTS : MESSAGE_PARTS;
        if (!known.includes(String(part.type)))
          return refuse(`${at}.type`, `content parts of type ${JSON.stringify(part.type)} are not translated.`);
        const file = part.type === 'input_file' ? untranslatableFile(part) : null;
        if (file !== null) return refuse(`${at}.${file.field}`, file.what);
      }
    }
  }
  if (Array.isArray(body.tools)) {
    for (let i = 0; i < body.tools.length; i++) {
      const type = (body.tools[i] as JsonObject).type;
      if (type !== 'function')
        return refuse(`tools[${i}].type`, `${JSON.stringify(type)} is a tool OpenAI runs itself; only function tools are translated.`);
    }
  }
  if (isObject(body.tool_choice) && body.tool_choice.type !== 'function')
    return refuse('tool_choice', `a tool_choice of type ${JSON.stringify(body.tool_choice.type)} is not translated.`);
  const effort = isObject(body.reasoning) ? unknownEffort(body.reasoning.effort) : null;
  if (effort !== null) return refuse('reasoning.effort', `reasoning effort ${JSON.stringify(effort)} is not translated.`);
  const format = isObject(body.text) && isObject(body.text.format) ? body.text.format.type : undefined;
  const feature = format === 'json_schema' ? 'json_schema' : format === 'json_object' ? 'json_mode' : null;
  if (feature !== null && !provider.features.has(feature))
    return new SluiceError(
      'unsupported_by_provider',
      `text.format: provider ${provider.name} has no ${String(format)} output; describe the JSON in the instructions or use a function tool.`,
      { param: 'text.format' },
    );
  return null;
}
