// Anthropic Messages request JSON -> IR, validating as it goes so errors name the offending field.
import type { ChatMessage, ChatRequest, ContentPart, ImagePart, TextPart, ToolCall, ToolChoice, ToolDefinition } from '../../ir/chat.js';
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
  return request;
}

function parseSystem(raw: unknown): TextPart[] {
  if (typeof raw === 'string') return [{ type: 'text', text: raw }];
  if (Array.isArray(raw)) {
    return raw.map((block, i) => {
      if (!isObject(block) || block.type !== 'text' || typeof block.text !== 'string')
        throw invalid(`system[${i}]`, 'expected {type: "text", text: string}');
      return { type: 'text', text: block.text };
    });
  }
  throw invalid('system', 'expected a string or an array of text blocks');
}

/** One Anthropic message may become several IR messages: tool results are their own IR messages. */
function parseMessage(raw: unknown, at: string): ChatMessage[] {
  if (!isObject(raw)) throw invalid(at, 'expected an object');
  if (raw.role !== 'user' && raw.role !== 'assistant')
    throw invalid(`${at}.role`, `expected "user" or "assistant"; got ${JSON.stringify(raw.role)}`);
  const blocks: unknown[] =
    typeof raw.content === 'string' ? [{ type: 'text', text: raw.content }] : Array.isArray(raw.content) ? raw.content : [];
  if (typeof raw.content !== 'string' && !Array.isArray(raw.content))
    throw invalid(`${at}.content`, 'expected a string or an array of content blocks');

  if (raw.role === 'assistant') {
    const content: TextPart[] = [];
    const toolCalls: ToolCall[] = [];
    blocks.forEach((block, i) => {
      const blockAt = `${at}.content[${i}]`;
      if (!isObject(block)) throw invalid(blockAt, 'expected an object');
      if (block.type === 'text') content.push({ type: 'text', text: requireString(block.text, `${blockAt}.text`) });
      else if (block.type === 'tool_use') {
        toolCalls.push({
          id: requireString(block.id, `${blockAt}.id`),
          name: requireString(block.name, `${blockAt}.name`),
          arguments: JSON.stringify(block.input ?? {}),
        });
      } else if (block.type === 'thinking' || block.type === 'redacted_thinking') {
        // Reasoning blocks have no IR form; they are kept only on Anthropic-to-Anthropic pass-through.
      } else throw invalid(`${blockAt}.type`, `expected "text" or "tool_use" in an assistant message; got ${JSON.stringify(block.type)}`);
    });
    return [{ role: 'assistant', content, toolCalls }];
  }

  const out: ChatMessage[] = [];
  const parts: ContentPart[] = [];
  blocks.forEach((block, i) => {
    const blockAt = `${at}.content[${i}]`;
    if (!isObject(block)) throw invalid(blockAt, 'expected an object');
    if (block.type === 'text') parts.push({ type: 'text', text: requireString(block.text, `${blockAt}.text`) });
    else if (block.type === 'image') parts.push(parseImage(block, blockAt));
    else if (block.type === 'tool_result') {
      const toolCallId = requireString(block.tool_use_id, `${blockAt}.tool_use_id`);
      const content: ContentPart[] =
        typeof block.content === 'string'
          ? [{ type: 'text', text: block.content }]
          : Array.isArray(block.content)
            ? block.content.map((item, j): ContentPart => {
                const itemAt = `${blockAt}.content[${j}]`;
                if (isObject(item) && item.type === 'text') return { type: 'text', text: requireString(item.text, `${itemAt}.text`) };
                if (isObject(item) && item.type === 'image') return parseImage(item, itemAt);
                throw invalid(itemAt, 'expected a text or image block');
              })
            : [];
      out.push({ role: 'tool', toolCallId, content, ...(block.is_error === true && { isError: true }) });
    } else
      throw invalid(`${blockAt}.type`, `expected "text", "image" or "tool_result" in a user message; got ${JSON.stringify(block.type)}`);
  });
  if (parts.length > 0) out.push({ role: 'user', content: parts });
  if (out.length === 0) throw invalid(`${at}.content`, 'must not be empty');
  return out;
}

function parseImage(block: JsonObject, at: string): ImagePart {
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
  throw invalid(`${at}.source`, 'expected {type: "base64", media_type, data} or {type: "url", url}');
}

function parseTools(raw: unknown): ToolDefinition[] {
  if (!Array.isArray(raw)) throw invalid('tools', 'expected an array');
  return raw.map((tool, i) => {
    if (!isObject(tool) || typeof tool.name !== 'string' || tool.name === '') throw invalid(`tools[${i}].name`, 'required, a string');
    if (!isObject(tool.input_schema)) throw invalid(`tools[${i}].input_schema`, 'required, a JSON Schema object');
    const definition: ToolDefinition = { name: tool.name, parameters: tool.input_schema };
    if (typeof tool.description === 'string') definition.description = tool.description;
    return definition;
  });
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

function requireString(value: unknown, at: string): string {
  if (typeof value !== 'string') throw invalid(at, 'required, a string');
  return value;
}
