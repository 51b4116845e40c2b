// Anthropic's token counting body (https://docs.anthropic.com/en/api/messages-count-tokens): the fields of a Messages
// request it takes, the model renamed to the provider's, tool ids as Claude takes them. Pure: the client's body is not
// changed.
import { withClaudeToolUseIds } from './request.js';

/** What count_tokens accepts; a Messages body's other fields (max_tokens, stream, temperature) it refuses. */
const COUNTED_FIELDS = ['messages', 'system', 'tools', 'tool_choice', 'thinking', 'mcp_servers'] as const;

export function countTokensBody(body: Record<string, unknown>, targetModel: string): Record<string, unknown> {
  const counted: Record<string, unknown> = { model: targetModel };
  for (const field of COUNTED_FIELDS) if (body[field] !== undefined) counted[field] = body[field];
  return withClaudeToolUseIds(counted);
}
