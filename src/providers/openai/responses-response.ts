// A Responses API answer (the response object) -> IR, and its usage (reasoning tokens are part of output_tokens).
// Reference: https://platform.openai.com/docs/api-reference/responses/object
import type { ChatResponse, FinishReason, ToolCall } from '../../ir/chat.js';
import type { Usage } from '../../ir/usage.js';
import { asArray, asNumber, asObject, asString, tryParseJson } from '../../wire/json.js';
import { asTokenCount } from '../../wire/usage.js';
import { serviceTierText, usageObjectText } from '../../wire/usage-scan.js';
import { promptUsage, withReasoningTokens, withServiceTier } from './response.js';

/** A Responses usage object to IR usage; `reported` false when it is missing. */
export function responsesUsage(value: unknown): Usage {
  const usage = asObject(value);
  const output = asTokenCount(usage.output_tokens);
  const result = promptUsage(asTokenCount(usage.input_tokens), output, asObject(usage.input_tokens_details));
  // Of the output, what the model spent reasoning (ResponseUsage.output_tokens_details.reasoning_tokens,
  // platform.openai.com/docs/api-reference/responses/object): part of output_tokens, as in Chat Completions.
  return withReasoningTokens(result, usage.output_tokens_details, output);
}

/**
 * A response object's usage: its usage object's tokens, and the built-in tool calls among its output items, which OpenAI
 * bills per call beside the tokens: web searches (a `web_search_call` that opened or searched a page is not one) and
 * file searches (each `file_search_call`).
 */
export function responseObjectUsage(response: Record<string, unknown>): Usage {
  const usage = responsesUsage(response.usage);
  let searches = 0;
  let fileSearches = 0;
  for (const raw of asArray(response.output)) {
    const item = asObject(raw);
    if (item.type === 'file_search_call') fileSearches++;
    if (item.type !== 'web_search_call') continue;
    const action = asObject(item.action).type;
    if (action === undefined || action === 'search') searches++;
  }
  if (searches > 0) usage.webSearches = searches;
  if (fileSearches > 0) usage.fileSearches = fileSearches;
  return withServiceTier(usage, response.service_tier);
}

/**
 * The usage of a whole response passed through: its usage object found and parsed alone where it can be; the whole
 * answer parsed only when it holds calls of built-in tools billed per call, counted from the output items.
 */
export function responsesAnswerUsage(text: string): Usage | null {
  // A "web_search_call" inside a string of the answer is escaped (\"), so this finds item types and nothing written.
  if (text.includes('"web_search_call"') || text.includes('"file_search_call"')) {
    const whole = tryParseJson(text);
    if (whole !== undefined) return responseObjectUsage(asObject(whole));
  }
  const found = usageObjectText(text);
  if (found !== null) {
    const usage = responsesUsage(tryParseJson(found));
    if (usage.reported) return withServiceTier(usage, serviceTierText(text));
  }
  const json = tryParseJson(text);
  return json === undefined ? null : responseObjectUsage(asObject(json));
}

/** A response object to the IR: its message text and function calls. */
export function responsesChatResponse(body: unknown): ChatResponse {
  const root = asObject(body);
  let text = '';
  const toolCalls: ToolCall[] = [];
  for (const raw of asArray(root.output)) {
    const item = asObject(raw);
    if (item.type === 'message') {
      for (const part of asArray(item.content)) if (asObject(part).type === 'output_text') text += asString(asObject(part).text);
    } else if (item.type === 'function_call') {
      toolCalls.push({ id: asString(item.call_id), name: asString(item.name), arguments: asString(item.arguments) });
    }
  }
  return {
    id: asString(root.id),
    model: asString(root.model),
    created: asNumber(root.created_at) ?? Math.floor(Date.now() / 1000),
    text,
    toolCalls,
    finishReason: responsesFinishReason(root, toolCalls.length > 0),
    usage: responsesUsage(root.usage),
  };
}

export function responsesFinishReason(root: Record<string, unknown>, calledTools: boolean): FinishReason {
  if (root.status === 'incomplete') return asObject(root.incomplete_details).reason === 'content_filter' ? 'content_filter' : 'length';
  if (root.status === 'failed') return 'error';
  return calledTools ? 'tool_calls' : 'stop';
}

/** How far into a whole response the scan for its id goes: OpenAI writes `id` first; a few fields at most precede it. */
const ID_SCAN_CHARS = 4_096;
const QUOTE = 0x22;

/**
 * The top-level `id` of a whole response, found by a scan of its first characters (strings skipped, depth counted)
 * rather than a parse of the whole answer, which may be megabytes; null when it is not there.
 */
export function responsesAnswerId(text: string): string | null {
  const end = Math.min(text.length, ID_SCAN_CHARS);
  let depth = 0;
  for (let at = 0; at < end; at++) {
    const char = text.charCodeAt(at);
    if (char === QUOTE) {
      const close = stringEnd(text, at, end);
      if (close === -1) return null;
      if (depth === 1 && close === at + 3 && text.startsWith('"id"', at)) {
        let value = close + 1;
        while (isSpace(text.charCodeAt(value))) value++;
        if (text.charCodeAt(value) === 0x3a /* : */) {
          value++;
          while (isSpace(text.charCodeAt(value))) value++;
          if (text.charCodeAt(value) !== QUOTE) return null;
          const valueEnd = stringEnd(text, value, end);
          if (valueEnd === -1) return null;
          const id = tryParseJson(text.slice(value, valueEnd + 1));
          return typeof id === 'string' && id !== '' ? id : null;
        }
      }
      at = close;
    } else if (char === 0x7b /* { */ || char === 0x5b /* [ */) depth++;
    else if (char === 0x7d /* } */ || char === 0x5d /* ] */) depth--;
  }
  return null;
}

/** The index of the quote closing the string that opens at `open`, before `end`; -1 if none. */
function stringEnd(text: string, open: number, end: number): number {
  for (let at = open + 1; at < end; at++) {
    const char = text.charCodeAt(at);
    if (char === 0x5c /* \ */) at++;
    else if (char === QUOTE) return at;
  }
  return -1;
}

function isSpace(char: number): boolean {
  return char === 0x20 || char === 0x0a || char === 0x0d || char === 0x09;
}
