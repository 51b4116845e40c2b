// The provider-run search tools a client's chat body gives the model, read per API shape: the provider bills each use
// beside the tokens, and admission reserves the uses the call may make (src/gateway/pipeline/admit.ts).
import type { SearchTools } from '../../ir/chat.js';
import { isObject, type JsonObject } from '../../wire/json.js';
import type { Dialect } from '../../wire/exchange.js';

/**
 * The search tools in a body the front door of `dialect` accepted; undefined when it has none (a body without `tools`
 * costs one property read). Chat Completions has no such tool: its search models search on every call and are priced
 * per call (Pricing.request), which admission reserves with the tokens.
 */
export function searchToolsOf(dialect: Dialect, body: JsonObject): SearchTools | undefined {
  const tools = body.tools;
  if (!Array.isArray(tools) || tools.length === 0 || dialect === 'openai') return undefined;
  return dialect === 'anthropic' ? anthropicSearchTools(tools) : responsesSearchTools(tools, body.max_tool_calls);
}

/**
 * Anthropic's web search tool (`web_search_20250305` and later versions), each with its `max_uses` or none. Its web
 * fetch tool is not billed per use.
 */
function anthropicSearchTools(tools: readonly unknown[]): SearchTools | undefined {
  let webSearches: number | null | undefined;
  for (const tool of tools) {
    if (!isObject(tool) || typeof tool.type !== 'string' || !tool.type.startsWith('web_search_')) continue;
    const bound = useCount(tool.max_uses);
    // Two such tools may each search up to their own bound; one without a bound leaves the call unbounded.
    webSearches = webSearches === undefined ? bound : webSearches === null || bound === null ? null : webSearches + bound;
  }
  return webSearches === undefined ? undefined : { webSearches };
}

/**
 * The Responses API's `web_search` (and `web_search_preview`, with their dated versions) and `file_search` tools, bounded
 * together by the body's `max_tool_calls`: each is reserved up to it, as either may make every call.
 */
function responsesSearchTools(tools: readonly unknown[], maxToolCalls: unknown): SearchTools | undefined {
  let web = false;
  let file = false;
  for (const tool of tools) {
    if (!isObject(tool) || typeof tool.type !== 'string') continue;
    if (tool.type.startsWith('web_search')) web = true;
    else if (tool.type === 'file_search') file = true;
  }
  if (!web && !file) return undefined;
  const bound = useCount(maxToolCalls);
  const found: SearchTools = {};
  if (web) found.webSearches = bound;
  if (file) found.fileSearches = bound;
  return found;
}

/** A bound the client set on a tool's uses: a positive integer, else none (the provider refuses a bad one anyway). */
function useCount(value: unknown): number | null {
  return typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : null;
}
