// Tool call ids as each provider takes them. Anthropic's Messages API and Bedrock's Converse take letters, digits, `_`
// and `-` only (`tool_use.id: String should match pattern '^[a-zA-Z0-9_-]+$'`), Bedrock at most 64 of them (ToolUseBlock
// and ToolResultBlock toolUseId: "Maximum length of 64",
// https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ToolUseBlock.html). OpenAI takes any string of at
// most 40 characters ("Invalid 'messages[2].tool_calls[0].id': string too long. Expected a string with maximum length
// 40", code string_above_max_length). A conversation carries one provider's ids to another when it moves there (a
// routing fallback, a client switching models): OpenAI-compatible servers mint ids such as `functions.get_weather:0`
// (Kimi), and the ids Sluice hands out for Gemini's calls carry Gemini's id and thought signature, hundreds of characters.
import { createHash } from 'node:crypto';

const TAKEN = /^[a-zA-Z0-9_-]+$/;
const NOT_TAKEN = /[^a-zA-Z0-9_-]/g;

/** OpenAI's longest tool call id (Chat Completions' tool_calls[].id and tool_call_id). */
export const OPENAI_TOOL_CALL_ID_MAX = 40;
/** The Responses API's longest call_id ("Invalid 'input[95].call_id': string too long. Expected ... maximum length 64"). */
export const RESPONSES_CALL_ID_MAX = 64;
/** Bedrock Converse's longest toolUseId. */
export const BEDROCK_TOOL_USE_ID_MAX = 64;

function digest(id: string): string {
  return createHash('sha256').update(id).digest('hex').slice(0, 12);
}

/** Whether Claude takes `id` as it is. */
export function claudeTakesToolUseId(id: string): boolean {
  return TAKEN.test(id);
}

/**
 * `id` as Claude takes it: as it is when it can be, else with the characters it refuses made `_` and a digest of the
 * whole id added, so that a call and its result (the same id) still pair up and two ids never become one.
 */
export function claudeToolUseId(id: string): string {
  if (TAKEN.test(id)) return id;
  return `${id.replace(NOT_TAKEN, '_')}_${digest(id).slice(0, 8)}`;
}

/**
 * `id` in at most `max` characters: as it is when it fits, else its start and a digest of the whole id, so that a call
 * and its result still pair up and two ids never become one. The digest is [0-9a-f], so an id Claude takes stays one.
 */
export function toolCallIdWithin(id: string, max: number): string {
  if (id.length <= max) return id;
  const mark = digest(id);
  return `${id.slice(0, max - mark.length - 1)}_${mark}`;
}
