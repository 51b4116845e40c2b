// Tool call ids as Anthropic's Messages API and Bedrock's Converse take them: letters, digits, `_` and `-` only
// (`tool_use.id: String should match pattern '^[a-zA-Z0-9_-]+$'`). OpenAI takes any string, and OpenAI-compatible
// servers mint ids such as `functions.get_weather:0` (Kimi) that a conversation carries to Claude when it moves there.
import { createHash } from 'node:crypto';

const TAKEN = /^[a-zA-Z0-9_-]+$/;
const NOT_TAKEN = /[^a-zA-Z0-9_-]/g;

/**
 * `id` as Claude takes it: as it is when it can be, else with the characters it refuses made `_` and a digest of the
 * whole id added, so that a call and its result (the same id) still pair up and two ids never become one.
 */
export function claudeToolUseId(id: string): string {
  if (TAKEN.test(id)) return id;
  return `${id.replace(NOT_TAKEN, '_')}_${createHash('sha256').update(id).digest('hex').slice(0, 8)}`;
}
