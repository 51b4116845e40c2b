// The tool-call ids Sluice hands clients for Gemini's function calls, and Gemini's own id read back out of them.
// Gemini may give each functionCall an id and matches each functionResponse to its call by it ("If populated, the client
// to execute the functionCall and return the response with the matching id": https://ai.google.dev/api/caching#FunctionCall);
// without it parallel calls to one function are told apart by order only. A client knows only the id Sluice gave it, so
// that id carries Gemini's, marked so that an id Gemini never gave (another provider's, or one Sluice made up for a call
// Gemini gave none) is never sent to it as one. Gemini's id is opaque, so it rides as hex: the id stays [A-Za-z0-9_-],
// which Anthropic requires of tool_use ids, and holds no '_' that could be read as the start of the signature's mark.
import { callIdWithSignature } from './thought-signature.js';

const GEMINI_ID = 'gcid_';
const HEX = /^(?:[0-9a-f]{2})+$/;

/** The tool-call id for Gemini's call: its own `id` when it gave one, else `fallback`, with the part's signature. */
export function toolCallIdFor(geminiId: string, fallback: string, signature: unknown): string {
  const base = geminiId === '' ? fallback : `${GEMINI_ID}${Buffer.from(geminiId, 'utf8').toString('hex')}`;
  return callIdWithSignature(base, signature);
}

/** The id Gemini gave the call a tool-call id stands for, or undefined when it gave none. */
export function geminiIdOf(toolCallId: string): string | undefined {
  if (!toolCallId.startsWith(GEMINI_ID)) return undefined;
  const end = toolCallId.indexOf('_', GEMINI_ID.length);
  const hex = toolCallId.slice(GEMINI_ID.length, end === -1 ? undefined : end);
  return HEX.test(hex) ? Buffer.from(hex, 'hex').toString('utf8') : undefined;
}
