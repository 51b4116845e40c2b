// Anthropic Messages request JSON -> IR, validating as it goes so errors name the offending field. What has no IR form
// (documents other than base64 PDFs and plain text, server tools and their blocks, Files API images) is left out of it:
// the body passes through to Anthropic as it is, and a translated target refuses it (translationRefusal).
import type {
  CacheBreakpoint,
  ChatMessage,
  ChatRequest,
  ContentPart,
  DocumentPart,
  ImagePart,
  Reasoning,
  ReasoningBlock,
  ReasoningEffort,
  ResponseFormat,
  TextPart,
  ToolCall,
  ToolChoice,
  ToolDefinition,
  ToolResultPart,
} from '../../ir/chat.js';
import { isClaudeSigned } from '../../ir/chat.js';
import { SluiceError } from '../../errors.js';
import { isObject, type JsonObject } from '../../wire/json.js';

function invalid(param: string, message: string): SluiceError {
  return new SluiceError('invalid_request', `${param}: ${message}`, { param });
}

export function parseAnthropicMessages(body: unknown): ChatRequest {
  if (!isObject(body)) throw invalid('body', 'expected a JSON object');
  if (typeof body.model !== 'string' || body.model === '') throw invalid('model', 'required, a non-empty string');
  const maxTokens = body.max_tokens;
  if (typeof maxTokens !== 'number' || !Number.isInteger(maxTokens) || maxTokens < 1)
    throw invalid('max_tokens', 'required, a positive integer');
  if (!Array.isArray(body.messages) || body.messages.length === 0) throw invalid('messages', 'required, a non-empty array');
  if (body.stream !== undefined && typeof body.stream !== 'boolean') throw invalid('stream', 'expected a boolean');

  const messages: ChatMessage[] = [];
  if (body.system !== undefined) messages.push({ role: 'system', content: parseSystem(body.system) });
  body.messages.forEach((raw, index) => messages.push(...parseMessage(raw, `messages[${index}]`)));

  const request: ChatRequest = { model: body.model, messages, stream: body.stream === true, maxTokens };
  if (body.temperature !== undefined) {
    if (typeof body.temperature !== 'number' || body.temperature < 0 || body.temperature > 1)
      throw invalid('temperature', 'expected a number from 0 to 1');
    request.temperature = body.temperature;
  }
  if (body.top_p !== undefined) {
    if (typeof body.top_p !== 'number' || body.top_p < 0 || body.top_p > 1) throw invalid('top_p', 'expected a number from 0 to 1');
    request.topP = body.top_p;
  }
  if (body.top_k !== undefined) {
    const topK = body.top_k;
    if (typeof topK !== 'number' || !Number.isInteger(topK) || topK < 0) throw invalid('top_k', 'expected a non-negative integer');
    request.topK = topK;
  }
  if (body.stop_sequences !== undefined) {
    if (!Array.isArray(body.stop_sequences) || !body.stop_sequences.every((item) => typeof item === 'string'))
      throw invalid('stop_sequences', 'expected an array of strings');
    request.stop = body.stop_sequences as string[];
  }
  if (body.tools !== undefined) request.tools = parseTools(body.tools);
  if (body.tool_choice !== undefined) {
    const { choice, parallel } = parseToolChoice(body.tool_choice);
    request.toolChoice = choice;
    if (parallel === false) request.parallelToolCalls = false;
  }
  if (isObject(body.metadata) && typeof body.metadata.user_id === 'string') request.user = body.metadata.user_id;
  // Only for admission's estimate: the body passes through as it came, and Anthropic answers a value it does not take.
  if (body.inference_geo === 'us') request.inferenceGeo = 'us';
  if (body.speed === 'fast') request.serviceTier = 'fast';
  if (body.thinking !== undefined && body.thinking !== null) {
    const reasoning = parseThinking(body.thinking, body.output_config);
    if (reasoning !== null) request.reasoning = reasoning;
    // Thinking on, Claude gives its thinking (summarized) unless told display "omitted": other providers' reasoning is
    // asked for (Gemini's thoughts) and given as thinking blocks then too.
    if (reasoning !== null && reasoning.effort !== 'none' && isObject(body.thinking) && body.thinking.display !== 'omitted')
      request.reasoningSummary = true;
  }
  const format = isObject(body.output_config) ? body.output_config.format : undefined;
  if (format !== undefined && format !== null) request.responseFormat = parseOutputFormat(format, 'output_config.format');
  else if (body.output_format !== undefined && body.output_format !== null)
    request.responseFormat = parseOutputFormat(body.output_format, 'output_format');
  return request;
}

/**
 * Structured outputs (`output_config.format`, formerly the beta's `output_format`:
 * https://platform.claude.com/docs/en/build-with-claude/structured-outputs) -> the IR's JSON schema answer format, which
 * a translated target is held to its own way (OpenAI's response_format, Gemini's responseJsonSchema, a forced tool for
 * Claude on Bedrock). Named `response`, as OpenAI requires a name and Anthropic takes none. Not strict: OpenAI's strict
 * mode refuses schemas Claude takes (an optional property).
 */
function parseOutputFormat(raw: unknown, at: string): ResponseFormat {
  if (!isObject(raw) || raw.type !== 'json_schema' || !isObject(raw.schema))
    throw invalid(at, 'expected {type: "json_schema", schema: a JSON Schema object}');
  return { type: 'json_schema', name: 'response', schema: raw.schema };
}

/** Claude's effort levels in OpenAI's: max, above xhigh, has no OpenAI level of its own. */
const CLAUDE_EFFORT: Record<string, ReasoningEffort> = { low: 'low', medium: 'medium', high: 'high', xhigh: 'xhigh', max: 'xhigh' };

/**
 * `thinking` (https://platform.claude.com/docs/en/build-with-claude/extended-thinking, /adaptive-thinking) -> the IR's
 * reasoning: a budget (kept, and its nearest level), adaptive (the level of output_config.effort, Claude's default
 * high without it), or disabled (none). Null for a type Sluice does not know: passed through to Anthropic as it is.
 */
function parseThinking(raw: unknown, outputConfig: unknown): Reasoning | null {
  if (!isObject(raw) || typeof raw.type !== 'string')
    throw invalid('thinking', 'expected {type: "enabled" | "adaptive" | "disabled", ...}');
  switch (raw.type) {
    case 'enabled': {
      const budget = raw.budget_tokens;
      if (typeof budget !== 'number' || !Number.isInteger(budget) || budget < 1)
        throw invalid('thinking.budget_tokens', 'required, a positive integer');
      return { effort: budget < 4096 ? 'low' : budget < 16384 ? 'medium' : budget < 32768 ? 'high' : 'xhigh', budgetTokens: budget };
    }
    case 'adaptive': {
      const effort = isObject(outputConfig) ? outputConfig.effort : undefined;
      return { effort: (typeof effort === 'string' ? CLAUDE_EFFORT[effort] : undefined) ?? 'high' };
    }
    case 'disabled':
      return { effort: 'none' };
    default:
      return null;
  }
}

function parseSystem(raw: unknown, at = 'system'): TextPart[] {
  if (typeof raw === 'string') return [{ type: 'text', text: raw }];
  if (Array.isArray(raw)) {
    return raw.map((block, i) => {
      if (!isObject(block) || block.type !== 'text' || typeof block.text !== 'string')
        throw invalid(`${at}[${i}]`, 'expected {type: "text", text: string}');
      return cached<TextPart>({ type: 'text', text: block.text }, block);
    });
  }
  throw invalid(at, 'expected a string or an array of text blocks');
}

/**
 * One Anthropic message may become several IR messages: tool results are their own IR messages. A system message inside
 * the conversation (https://platform.claude.com/docs/en/build-with-claude/mid-conversation-system-messages, which
 * Claude Code sends to newer models) stays where it is, as an IR system message.
 */
function parseMessage(raw: unknown, at: string): ChatMessage[] {
  if (!isObject(raw)) throw invalid(at, 'expected an object');
  if (raw.role === 'system') return [{ role: 'system', content: parseSystem(raw.content, `${at}.content`) }];
  if (raw.role !== 'user' && raw.role !== 'assistant')
    throw invalid(`${at}.role`, `expected "user", "assistant" or "system"; got ${JSON.stringify(raw.role)}`);
  const blocks: unknown[] =
    typeof raw.content === 'string' ? [{ type: 'text', text: raw.content }] : Array.isArray(raw.content) ? raw.content : [];
  if (typeof raw.content !== 'string' && !Array.isArray(raw.content))
    throw invalid(`${at}.content`, 'expected a string or an array of content blocks');

  if (raw.role === 'assistant') {
    const content: TextPart[] = [];
    const toolCalls: ToolCall[] = [];
    let reasoning: ReasoningBlock[] | undefined;
    let reasoningText: string | undefined;
    blocks.forEach((block, i) => {
      const blockAt = `${at}.content[${i}]`;
      if (!isObject(block)) throw invalid(blockAt, 'expected an object');
      if (block.type === 'text')
        content.push(cached<TextPart>({ type: 'text', text: requireString(block.text, `${blockAt}.text`) }, block));
      else if (block.type === 'tool_use') {
        toolCalls.push({
          id: requireString(block.id, `${blockAt}.id`),
          name: requireString(block.name, `${blockAt}.name`),
          arguments: JSON.stringify(block.input ?? {}),
        });
      } else if (block.type === 'redacted_thinking' || (block.type === 'thinking' && isClaudeSigned(block))) {
        // Claude's signed thinking, carried back as it came: Claude (on Bedrock, on Vertex) requires it at the head of a
        // tool-calling turn while thinking, and checks its signature. Other providers are not sent it. A thinking block
        // without a signature (another provider's reasoning, as Sluice gave it) is left out: Claude would refuse it.
        (reasoning ??= []).push(block);
      } else if (block.type === 'thinking' && typeof block.thinking === 'string') {
        // Unsigned: kept as text alone, for the compatible servers that take a tool-calling turn's reasoning back.
        reasoningText = (reasoningText ?? '') + block.thinking;
      } else if (typeof block.type !== 'string') throw invalid(`${blockAt}.type`, 'required, a string');
      // Other blocks (server_tool_use and its results) are kept only on Anthropic-to-Anthropic pass-through, refused
      // elsewhere.
    });
    const message: Extract<ChatMessage, { role: 'assistant' }> = { role: 'assistant', content, toolCalls };
    if (reasoning !== undefined) message.reasoning = reasoning;
    if (reasoningText !== undefined) message.reasoningText = reasoningText;
    return [message];
  }

  const out: ChatMessage[] = [];
  const parts: ContentPart[] = [];
  blocks.forEach((block, i) => {
    const blockAt = `${at}.content[${i}]`;
    if (!isObject(block)) throw invalid(blockAt, 'expected an object');
    if (block.type === 'text') parts.push(cached<TextPart>({ type: 'text', text: requireString(block.text, `${blockAt}.text`) }, block));
    else if (block.type === 'image') {
      const image = parseImage(block, blockAt);
      if (image !== null) parts.push(cached(image, block));
    } else if (block.type === 'document') {
      const document = parseDocument(block, blockAt);
      if (document !== null) parts.push(cached(document, block));
    } else if (block.type === 'tool_result') {
      const toolCallId = requireString(block.tool_use_id, `${blockAt}.tool_use_id`);
      const content: ToolResultPart[] =
        typeof block.content === 'string'
          ? [{ type: 'text', text: block.content }]
          : Array.isArray(block.content)
            ? block.content.flatMap((item, j): ToolResultPart[] => {
                const itemAt = `${blockAt}.content[${j}]`;
                if (!isObject(item) || typeof item.type !== 'string') throw invalid(itemAt, 'expected a content block');
                if (item.type === 'text') return [{ type: 'text', text: requireString(item.text, `${itemAt}.text`) }];
                const image = item.type === 'image' ? parseImage(item, itemAt) : null;
                return image === null ? [] : [image];
              })
            : [];
      out.push(
        cached<ChatMessage & { role: 'tool' }>(
          { role: 'tool', toolCallId, content, ...(block.is_error === true && { isError: true }) },
          block,
        ),
      );
    } else if (typeof block.type !== 'string') throw invalid(`${blockAt}.type`, 'required, a string');
    // Other blocks (search_result, ...) mean something only to Anthropic: passed through there, refused by
    // translationRefusal elsewhere.
  });
  if (parts.length > 0) out.push({ role: 'user', content: parts });
  if (blocks.length === 0) throw invalid(`${at}.content`, 'must not be empty');
  return out;
}

/** Null for an image by a source only Anthropic resolves (a Files API file_id): refused by translationRefusal. */
function parseImage(block: JsonObject, at: string): ImagePart | null {
  const source = block.source;
  if (isObject(source) && source.type === 'base64') {
    return {
      type: 'image',
      source: {
        kind: 'base64',
        mediaType: requireString(source.media_type, `${at}.source.media_type`),
        data: requireString(source.data, `${at}.source.data`),
      },
    };
  }
  if (isObject(source) && source.type === 'url')
    return { type: 'image', source: { kind: 'url', url: requireString(source.url, `${at}.source.url`) } };
  if (isObject(source) && typeof source.type === 'string') return null;
  throw invalid(`${at}.source`, 'expected {type: "base64", media_type, data} or {type: "url", url}');
}

/**
 * A document carried in the request (a base64 PDF, plain text) -> IR; null for one only Anthropic reads (by URL, a Files
 * API file_id, custom content, base64 of another type): refused by translationRefusal.
 */
function parseDocument(block: JsonObject, at: string): DocumentPart | null {
  const source = block.source;
  if (!isObject(source) || typeof source.type !== 'string') throw invalid(`${at}.source`, 'required, an object with a type');
  const name = typeof block.title === 'string' && block.title !== '' ? { name: block.title } : {};
  if (source.type === 'base64' && source.media_type === 'application/pdf')
    return { type: 'document', source: { kind: 'pdf', data: requireString(source.data, `${at}.source.data`) }, ...name };
  if (source.type === 'text')
    return { type: 'document', source: { kind: 'text', text: requireString(source.data, `${at}.source.data`) }, ...name };
  return null;
}

/** Custom tools -> IR; Anthropic's own tools (web_search_..., bash_..., text_editor_...) are left out, for translationRefusal. */
function parseTools(raw: unknown): ToolDefinition[] {
  if (!Array.isArray(raw)) throw invalid('tools', 'expected an array');
  const tools: ToolDefinition[] = [];
  raw.forEach((tool, i) => {
    if (isObject(tool) && typeof tool.type === 'string' && tool.type !== 'custom') return;
    if (!isObject(tool) || typeof tool.name !== 'string' || tool.name === '') throw invalid(`tools[${i}].name`, 'required, a string');
    if (!isObject(tool.input_schema)) throw invalid(`tools[${i}].input_schema`, 'required, a JSON Schema object');
    const definition: ToolDefinition = { name: tool.name, parameters: tool.input_schema };
    if (typeof tool.description === 'string') definition.description = tool.description;
    if (tool.strict === true) definition.strict = true;
    tools.push(cached(definition, tool));
  });
  return tools;
}

function parseToolChoice(raw: unknown): { choice: ToolChoice; parallel: boolean | undefined } {
  if (!isObject(raw)) throw invalid('tool_choice', 'expected an object');
  const parallel = raw.disable_parallel_tool_use === true ? false : undefined;
  switch (raw.type) {
    case 'auto':
      return { choice: 'auto', parallel };
    case 'any':
      return { choice: 'required', parallel };
    case 'none':
      return { choice: 'none', parallel };
    case 'tool':
      return { choice: { name: requireString(raw.name, 'tool_choice.name') }, parallel };
    default:
      throw invalid('tool_choice.type', 'expected "auto", "any", "none" or "tool"');
  }
}

/**
 * `item` with the prompt-cache breakpoint `block` sets (`cache_control: {type: "ephemeral", ttl?: "5m" | "1h"}`:
 * https://platform.claude.com/docs/en/build-with-claude/prompt-caching), for a translated Claude to cache the prompt
 * where the client asked; `item` itself without one.
 */
function cached<T extends { cache?: CacheBreakpoint }>(item: T, block: JsonObject): T {
  const control = block.cache_control;
  if (!isObject(control) || control.type !== 'ephemeral') return item;
  item.cache = control.ttl === '5m' || control.ttl === '1h' ? { ttl: control.ttl } : {};
  return item;
}

function requireString(value: unknown, at: string): string {
  if (typeof value !== 'string') throw invalid(at, 'required, a string');
  return value;
}

/** What translationRefusal needs to know of a target's provider: its name and its features (providers/provider.ts). */
export interface TranslatedProvider {
  readonly name: string;
  readonly features: ReadonlySet<string>;
}

const USER_BLOCKS = ['text', 'image', 'document', 'tool_result'];
/** Reasoning blocks go back to Claude wherever it is served, and are left out for other providers (which could not check them). */
const ASSISTANT_BLOCKS = ['text', 'tool_use', 'thinking', 'redacted_thinking'];

/**
 * Why a body cannot go to a provider that does not speak Anthropic's API (Sluice translates it): the first field with no
 * translation, as a 400 naming it; null when it translates. Called only for a translated target, on a body
 * parseAnthropicMessages accepted.
 */
export function translationRefusal(body: JsonObject, provider: TranslatedProvider): SluiceError | null {
  const refuse = (param: string, what: string) =>
    new SluiceError(
      'unsupported_by_provider',
      `${param}: ${what} The model's provider (${provider.name}) is reached by translation; use a model served by Anthropic.`,
      { param },
    );
  const messages = body.messages as JsonObject[];
  for (let i = 0; i < messages.length; i++) {
    const content = messages[i]!.content;
    if (!Array.isArray(content)) continue;
    const known = messages[i]!.role === 'assistant' ? ASSISTANT_BLOCKS : USER_BLOCKS;
    for (let j = 0; j < content.length; j++) {
      const block = content[j] as JsonObject;
      const at = `messages[${i}].content[${j}]`;
      if (!known.includes(block.type as string)) return refuse(`${at}.type`, `${JSON.stringify(block.type)} blocks are not translated.`);
      const refusal =
        block.type === 'tool_result' && Array.isArray(block.content)
          ? unknownItem(block.content, `${at}.content`)
          : block.type === 'document'
            ? documentRefusal(block, at, provider)
            : imageRefusal(block, at);
      if (refusal !== null) return refuse(refusal.param, refusal.what);
    }
  }
  if (Array.isArray(body.tools)) {
    for (let i = 0; i < body.tools.length; i++) {
      const type = (body.tools[i] as JsonObject).type;
      if (typeof type === 'string' && type !== 'custom')
        return refuse(`tools[${i}].type`, `${JSON.stringify(type)} is a tool Anthropic defines; only custom tools are translated.`);
    }
  }
  return null;
}

function unknownItem(items: unknown[], at: string): { param: string; what: string } | null {
  for (let k = 0; k < items.length; k++) {
    const item = items[k] as JsonObject;
    if (item.type !== 'text' && item.type !== 'image')
      return { param: `${at}[${k}].type`, what: `${JSON.stringify(item.type)} blocks are not translated.` };
    const refusal = imageRefusal(item, `${at}[${k}]`);
    if (refusal !== null) return refusal;
  }
  return null;
}

function imageRefusal(block: JsonObject, at: string): { param: string; what: string } | null {
  if (block.type !== 'image') return null;
  const type = (block.source as JsonObject).type;
  return type === 'base64' || type === 'url'
    ? null
    : { param: `${at}.source.type`, what: `images by ${JSON.stringify(type)} source are not translated.` };
}

const DOCUMENTS_TRANSLATED =
  'send the PDF itself as {type: "base64", media_type: "application/pdf", data}, or plain text as {type: "text", media_type: "text/plain", data}.';

/** Documents translate as base64 PDFs, and as plain text to a provider with an equivalent; nothing only Claude does. */
function documentRefusal(block: JsonObject, at: string, provider: TranslatedProvider): { param: string; what: string } | null {
  const source = block.source as JsonObject;
  if (source.type === 'base64' && source.media_type !== 'application/pdf')
    return {
      param: `${at}.source.media_type`,
      what: `documents of type ${JSON.stringify(source.media_type)} are not translated; only PDFs are.`,
    };
  if (source.type === 'text' && !provider.features.has('text_documents'))
    return {
      param: `${at}.source.type`,
      what: `plain-text documents have no equivalent at ${provider.name}, which takes PDF documents only; send the text as a text block.`,
    };
  if (source.type !== 'base64' && source.type !== 'text')
    return {
      param: `${at}.source.type`,
      what: `documents by ${JSON.stringify(source.type)} source are not translated; ${DOCUMENTS_TRANSLATED}`,
    };
  if (isObject(block.citations) && block.citations.enabled === true)
    return { param: `${at}.citations`, what: 'citations are answered by Claude only and are not translated.' };
  if (block.context !== undefined && block.context !== null)
    return { param: `${at}.context`, what: "a document's context is not translated; put it in a text block." };
  return null;
}

/** The request fields whose IR name is not Anthropic's. */
const ANTHROPIC_FIELDS: Readonly<Record<string, string>> = { stop: 'stop_sequences' };

/** A translated target's refusal of a field, naming it as the client sent it (stop_sequences, not the IR's stop). */
export function inClientTerms(refusal: SluiceError): SluiceError {
  const field = refusal.param === null ? undefined : ANTHROPIC_FIELDS[refusal.param];
  if (field === undefined) return refusal;
  return new SluiceError(refusal.code, `${field}: ${refusal.message}`, { param: field });
}
