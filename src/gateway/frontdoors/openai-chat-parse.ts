// OpenAI Chat Completions request JSON -> IR, validating as it goes so errors name the offending field. What has no IR
// form (files other than PDFs in file_data, audio content parts, custom tools, n > 1, logprobs, audio answers, web
// search) is left out of it: the body passes through to OpenAI-shaped providers as it is, and a translated target
// refuses it (translationRefusal).
import {
  REASONING_EFFORTS,
  type ChatMessage,
  type ChatRequest,
  type ContentPart,
  type ReasoningEffort,
  type ResponseFormat,
  type TextPart,
  type ToolCall,
  type ToolChoice,
  type ToolDefinition,
} from '../../ir/chat.js';
import { SluiceError } from '../../errors.js';
import { asServiceTier } from '../../ir/usage.js';
import { isObject, type JsonObject } from '../../wire/json.js';
import { pdfFileData, untranslatableFile } from './openai-file-data.js';

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

function optionalInteger(body: JsonObject, field: string): number | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) throw invalid(field, 'expected a positive integer');
  return value;
}

/** OpenAI's own limit on `n`. */
const MAX_CHOICES = 128;

export function parseOpenAIChat(body: unknown): ChatRequest {
  if (!isObject(body)) throw invalid('body', 'expected a JSON object');
  const model = body.model;
  if (typeof model !== 'string' || model.length === 0) throw invalid('model', 'required, a non-empty string');
  const rawMessages = body.messages;
  if (!Array.isArray(rawMessages) || rawMessages.length === 0) throw invalid('messages', 'required, a non-empty array');
  const stream = body.stream;
  if (stream !== undefined && stream !== null && typeof stream !== 'boolean') throw invalid('stream', 'expected a boolean');

  const request: ChatRequest = { model, messages: rawMessages.map(parseMessage), stream: stream === true };
  const maxTokens = optionalInteger(body, 'max_completion_tokens') ?? optionalInteger(body, 'max_tokens');
  if (maxTokens !== undefined) request.maxTokens = maxTokens;
  // Each answer may be max_tokens long, so admission reserves that many times its output.
  const choices = optionalInteger(body, 'n');
  if (choices !== undefined) {
    if (choices > MAX_CHOICES) throw invalid('n', `expected a positive integer up to ${MAX_CHOICES}, got ${choices}`);
    if (choices > 1) request.choices = choices;
  }
  const temperature = optionalNumber(body, 'temperature', 0, 2);
  if (temperature !== undefined) request.temperature = temperature;
  const topP = optionalNumber(body, 'top_p', 0, 1);
  if (topP !== undefined) request.topP = topP;
  const stop = parseStop(body.stop);
  if (stop !== undefined) request.stop = stop;
  if (body.tools !== undefined && body.tools !== null) request.tools = parseTools(body.tools);
  if (body.tool_choice !== undefined && body.tool_choice !== null) {
    const choice = parseToolChoice(body.tool_choice);
    if (choice !== null) request.toolChoice = choice;
  }
  if (body.parallel_tool_calls !== undefined && body.parallel_tool_calls !== null) {
    if (typeof body.parallel_tool_calls !== 'boolean') throw invalid('parallel_tool_calls', 'expected a boolean');
    request.parallelToolCalls = body.parallel_tool_calls;
  }
  if (body.response_format !== undefined && body.response_format !== null)
    request.responseFormat = parseResponseFormat(body.response_format);
  if (body.stream_options !== undefined && body.stream_options !== null && !isObject(body.stream_options)) {
    throw invalid('stream_options', 'expected an object');
  }
  if (body.reasoning_effort !== undefined && body.reasoning_effort !== null) {
    const effort = parseEffort(body.reasoning_effort, 'reasoning_effort');
    if (effort !== null) request.reasoning = { effort };
    // A client asking for reasoning gets it as reasoning_content: asked of providers that give it only on request (Gemini).
    if (effort !== null && effort !== 'none') request.reasoningSummary = true;
  }
  if (typeof body.user === 'string') request.user = body.user;
  const tier = asServiceTier(body.service_tier);
  if (tier !== undefined) request.serviceTier = tier;
  return request;
}

/**
 * OpenAI's reasoning levels (Chat Completions' reasoning_effort, the Responses API's reasoning.effort); null for a level
 * Sluice does not know, which OpenAI may (passed through there, refused by translationRefusal elsewhere).
 */
export function parseEffort(raw: unknown, param: string): ReasoningEffort | null {
  if (typeof raw !== 'string') throw invalid(param, `expected one of ${REASONING_EFFORTS.map((effort) => `"${effort}"`).join(', ')}`);
  return (REASONING_EFFORTS as readonly string[]).includes(raw) ? (raw as ReasoningEffort) : null;
}

/** A reasoning level the translation has no mapping for, or null. */
export function unknownEffort(raw: unknown): string | null {
  return typeof raw === 'string' && !(REASONING_EFFORTS as readonly string[]).includes(raw) ? raw : null;
}

function parseMessage(raw: unknown, index: number): ChatMessage {
  const at = `messages[${index}]`;
  if (!isObject(raw)) throw invalid(at, 'expected an object');
  switch (raw.role) {
    case 'system':
    case 'developer':
      return { role: 'system', content: parseTextContent(raw.content, `${at}.content`) };
    case 'user':
      return { role: 'user', content: parseUserContent(raw.content, `${at}.content`) };
    case 'assistant': {
      const content = raw.content === null || raw.content === undefined ? [] : parseTextContent(raw.content, `${at}.content`, true);
      const toolCalls = raw.tool_calls === undefined || raw.tool_calls === null ? [] : parseToolCalls(raw.tool_calls, `${at}.tool_calls`);
      if (content.length === 0 && toolCalls.length === 0 && raw.content === undefined)
        throw invalid(`${at}.content`, 'required unless tool_calls is given');
      if (raw.thinking_blocks === undefined || raw.thinking_blocks === null) return { role: 'assistant', content, toolCalls };
      return { role: 'assistant', content, toolCalls, reasoning: parseThinkingBlocks(raw.thinking_blocks, `${at}.thinking_blocks`) };
    }
    case 'tool': {
      if (typeof raw.tool_call_id !== 'string' || raw.tool_call_id === '') throw invalid(`${at}.tool_call_id`, 'required, a string');
      return { role: 'tool', toolCallId: raw.tool_call_id, content: parseTextContent(raw.content, `${at}.content`) };
    }
    default:
      throw invalid(`${at}.role`, `expected one of system, developer, user, assistant, tool; got ${JSON.stringify(raw.role)}`);
  }
}

/**
 * The signed thinking blocks Sluice gave with a Claude answer (thinking_blocks), carried back by the client: kept as
 * they are, for Claude checks their signatures.
 */
function parseThinkingBlocks(raw: unknown, at: string): Array<Record<string, unknown>> {
  if (!Array.isArray(raw)) throw invalid(at, 'expected an array of thinking blocks, as Sluice gave them');
  return raw.map((block, i) => {
    if (!isObject(block) || (block.type !== 'thinking' && block.type !== 'redacted_thinking'))
      throw invalid(`${at}[${i}]`, 'expected {type: "thinking", thinking, signature} or {type: "redacted_thinking", data}');
    return block;
  });
}

/** Text content; `refusals`: an assistant's refusal parts are what it said, kept as text. */
function parseTextContent(raw: unknown, at: string, refusals = false): TextPart[] {
  if (typeof raw === 'string') return [{ type: 'text', text: raw }];
  if (!Array.isArray(raw)) throw invalid(at, 'expected a string or an array of text parts');
  return raw.map((part, i) => {
    if (refusals && isObject(part) && part.type === 'refusal' && typeof part.refusal === 'string')
      return { type: 'text', text: part.refusal };
    if (!isObject(part) || part.type !== 'text' || typeof part.text !== 'string')
      throw invalid(
        `${at}[${i}]`,
        refusals ? 'expected {type: "text", text} or {type: "refusal", refusal}' : 'expected {type: "text", text: string}',
      );
    return { type: 'text', text: part.text };
  });
}

const DATA_URL = /^data:([^;,]+);base64,(.*)$/s;

function parseUserContent(raw: unknown, at: string): ContentPart[] {
  if (typeof raw === 'string') return [{ type: 'text', text: raw }];
  if (!Array.isArray(raw) || raw.length === 0) throw invalid(at, 'expected a string or a non-empty array of content parts');
  const parts: ContentPart[] = [];
  raw.forEach((part, i) => {
    const partAt = `${at}[${i}]`;
    if (!isObject(part)) throw invalid(partAt, 'expected an object');
    if (part.type === 'text') {
      if (typeof part.text !== 'string') throw invalid(`${partAt}.text`, 'required, a string');
      parts.push({ type: 'text', text: part.text });
    } else if (part.type === 'image_url') {
      const image = part.image_url;
      if (!isObject(image) || typeof image.url !== 'string') throw invalid(`${partAt}.image_url.url`, 'required, a string');
      const data = DATA_URL.exec(image.url);
      if (data !== null) parts.push({ type: 'image', source: { kind: 'base64', mediaType: data[1]!, data: data[2]! } });
      else
        parts.push({
          type: 'image',
          source:
            typeof image.detail === 'string' ? { kind: 'url', url: image.url, detail: image.detail } : { kind: 'url', url: image.url },
        });
    } else if (part.type === 'file') {
      const file = part.file;
      if (!isObject(file)) throw invalid(`${partAt}.file`, 'required, an object');
      const data = pdfFileData(file.file_data);
      if (data !== null)
        parts.push({
          type: 'document',
          source: { kind: 'pdf', data },
          ...(typeof file.filename === 'string' && file.filename !== '' && { name: file.filename }),
        });
    } else if (typeof part.type !== 'string') throw invalid(`${partAt}.type`, 'required, a string');
    // Other parts (input_audio) and files by file_id mean something only to an OpenAI-shaped provider: passed through
    // there, refused by translationRefusal elsewhere.
  });
  return parts;
}

function parseToolCalls(raw: unknown, at: string): ToolCall[] {
  if (!Array.isArray(raw)) throw invalid(at, 'expected an array');
  return raw.map((call, i) => {
    const fn = isObject(call) ? call.function : undefined;
    if (!isObject(call) || typeof call.id !== 'string' || !isObject(fn) || typeof fn.name !== 'string') {
      throw invalid(`${at}[${i}]`, 'expected {id, type: "function", function: {name, arguments}}');
    }
    return { id: call.id, name: fn.name, arguments: typeof fn.arguments === 'string' ? fn.arguments : '{}' };
  });
}

/** Function tools -> IR; other tool types (custom) are left out, for translationRefusal. */
function parseTools(raw: unknown): ToolDefinition[] {
  if (!Array.isArray(raw)) throw invalid('tools', 'expected an array');
  const tools: ToolDefinition[] = [];
  raw.forEach((tool, i) => {
    if (isObject(tool) && typeof tool.type === 'string' && tool.type !== 'function') return;
    const fn = isObject(tool) ? tool.function : undefined;
    if (!isObject(tool) || tool.type !== 'function' || !isObject(fn) || typeof fn.name !== 'string' || fn.name === '') {
      throw invalid(`tools[${i}]`, 'expected {type: "function", function: {name, description?, parameters?}}');
    }
    if (fn.parameters !== undefined && !isObject(fn.parameters))
      throw invalid(`tools[${i}].function.parameters`, 'expected a JSON Schema object');
    const definition: ToolDefinition = {
      name: fn.name,
      parameters: (fn.parameters as JsonObject | undefined) ?? { type: 'object', properties: {} },
    };
    if (typeof fn.description === 'string') definition.description = fn.description;
    if (fn.strict === true) definition.strict = true;
    tools.push(definition);
  });
  return tools;
}

/** Null for a choice only OpenAI understands (allowed_tools, a custom tool): refused by translationRefusal. */
function parseToolChoice(raw: unknown): ToolChoice | null {
  if (raw === 'auto' || raw === 'none' || raw === 'required') return raw;
  if (isObject(raw) && raw.type === 'function' && isObject(raw.function) && typeof raw.function.name === 'string') {
    return { name: raw.function.name };
  }
  if (isObject(raw) && typeof raw.type === 'string' && raw.type !== 'function') return null;
  throw invalid('tool_choice', 'expected "auto", "none", "required" or {type: "function", function: {name}}');
}

function parseStop(raw: unknown): string[] | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw === 'string') return [raw];
  if (Array.isArray(raw) && raw.every((item) => typeof item === 'string')) return raw as string[];
  throw invalid('stop', 'expected a string or an array of strings');
}

function parseResponseFormat(raw: unknown): ResponseFormat {
  if (!isObject(raw)) throw invalid('response_format', 'expected an object');
  if (raw.type === 'text' || raw.type === 'json_object') return { type: raw.type };
  if (raw.type === 'json_schema') {
    const spec = raw.json_schema;
    if (!isObject(spec) || typeof spec.name !== 'string') throw invalid('response_format.json_schema.name', 'required, a string');
    const format: ResponseFormat = { type: 'json_schema', name: spec.name, schema: isObject(spec.schema) ? spec.schema : {} };
    if (typeof spec.strict === 'boolean') format.strict = spec.strict;
    if (typeof spec.description === 'string') format.description = spec.description;
    return format;
  }
  throw invalid('response_format.type', `expected "text", "json_object" or "json_schema"; got ${JSON.stringify(raw.type)}`);
}

/** What translationRefusal needs to know of a target's provider. */
export interface TranslatedProvider {
  readonly name: string;
}

const USER_PARTS = ['text', 'image_url', 'file'];
const ASSISTANT_PARTS = ['text', 'refusal'];

/**
 * Why a body cannot go to a provider that does not speak OpenAI's API (Sluice translates it): the first field with no
 * translation, as a 400 naming it; null when it translates. Called only for a translated target, on a body
 * parseOpenAIChat accepted.
 */
export function translationRefusal(body: JsonObject, provider: TranslatedProvider): SluiceError | null {
  const refuse = (param: string, what: string) =>
    new SluiceError(
      'unsupported_by_provider',
      `${param}: ${what} The model's provider (${provider.name}) is reached by translation; use a model served by OpenAI or Azure OpenAI.`,
      { param },
    );
  if (typeof body.n === 'number' && body.n > 1) return refuse('n', 'several choices (n > 1) are not translated.');
  // Asked-for output no translated provider gives back: answering without it would hand the client `logprobs: null` or
  // text where it reads token probabilities or audio.
  if (body.logprobs === true) return refuse('logprobs', 'token log probabilities are not translated.');
  if (Array.isArray(body.modalities) && body.modalities.includes('audio'))
    return refuse('modalities', 'audio answers (modalities "audio") are not translated.');
  // A web search asked for (OpenAI's search models take it): no translated provider is sent one, and an answer that never
  // searched would pass for one that did.
  if (isObject(body.web_search_options)) return refuse('web_search_options', 'web search (web_search_options) is not translated.');
  const messages = body.messages as unknown[];
  for (let i = 0; i < messages.length; i++) {
    const message = messages[i] as JsonObject;
    if (!Array.isArray(message.content)) continue;
    const known = message.role === 'assistant' ? ASSISTANT_PARTS : USER_PARTS;
    for (let j = 0; j < message.content.length; j++) {
      const part = message.content[j] as JsonObject;
      if (!known.includes(part.type as string))
        return refuse(`messages[${i}].content[${j}].type`, `content parts of type ${JSON.stringify(part.type)} are not translated.`);
      const file = part.type === 'file' ? untranslatableFile(part.file as JsonObject) : null;
      if (file !== null) return refuse(`messages[${i}].content[${j}].file.${file.field}`, file.what);
    }
  }
  if (Array.isArray(body.tools)) {
    for (let i = 0; i < body.tools.length; i++) {
      const type = (body.tools[i] as JsonObject).type;
      if (type !== 'function')
        return refuse(`tools[${i}].type`, `tools of type ${JSON.stringify(type)} are not translated; only function tools are.`);
    }
  }
  const effort = unknownEffort(body.reasoning_effort);
  if (effort !== null)
    return refuse(
      'reasoning_effort',
      `reasoning_effort ${JSON.stringify(effort)} is not translated; use one of ${REASONING_EFFORTS.join(', ')}.`,
    );
  if (isObject(body.tool_choice) && body.tool_choice.type !== 'function')
    return refuse('tool_choice', `a tool_choice of type ${JSON.stringify(body.tool_choice.type)} is not translated.`);
  return null;
}
