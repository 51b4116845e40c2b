// Finish reasons that say an answer holds nothing usable though it came with a 200: the model's tool calling (or its
// answer) failed. Passed on as a stop, a client gets an empty finished answer and an agent loop ends as if the model had
// finished; each is a failed attempt instead (retried, then the next target), as an error status is. Read here, where
// both the providers' decoders and the judging of a stream's opening (stream-opening.ts) reach them.
import { asArray, asObject, tryParseJson } from './json.js';

/**
 * Gemini's (and Gemini on Vertex's) finish reasons of a candidate the model's tool calling or answer failed, with what
 * each says. The FinishReason enum of Google's SDKs (googleapis/js-genai and python-genai src types; kotlin-genai's
 * reference for MALFORMED_RESPONSE and MISSING_THOUGHT_SIGNATURE); https://ai.google.dev/api/generate-content#FinishReason.
 */
const GEMINI_FAULTS: Readonly<Record<string, string>> = {
  MALFORMED_FUNCTION_CALL: 'produced a function call it could not form',
  UNEXPECTED_TOOL_CALL: 'produced a tool call that is invalid',
  TOO_MANY_TOOL_CALLS: 'called too many tools in a row and was stopped',
  MALFORMED_RESPONSE: 'produced an answer it could not form',
  MISSING_THOUGHT_SIGNATURE: 'was sent a conversation missing a thought signature it requires',
};

/** Only a text naming one of GEMINI_FAULTS (quoted, as a finishReason value) is parsed for it. */
const GEMINI_FAULT_NAMED =
  /"(?:MALFORMED_FUNCTION_CALL|UNEXPECTED_TOOL_CALL|TOO_MANY_TOOL_CALLS|MALFORMED_RESPONSE|MISSING_THOUGHT_SIGNATURE)"/;

/**
 * Byte markers of GEMINI_FAULTS' names, for a stream's first chunk to be judged without parsing: one that holds none of
 * them holds no such finish reason.
 */
export const GEMINI_FAULT_MARKERS: readonly Buffer[] = ['MALFORMED_', '_TOOL_CALL', 'THOUGHT_SIGNATURE'].map((marker) =>
  Buffer.from(marker),
);

/**
 * Of GEMINI_FAULTS, those the same request cannot escape: the conversation the client sent is what the model refused
 * (Gemini 3 requires each earlier function call's thoughtSignature back: https://ai.google.dev/gemini-api/docs/thought-signatures),
 * so another try at the same target would fail the same way; the next target is tried at once.
 */
const GEMINI_REQUEST_FAULTS: ReadonlySet<string> = new Set(['MISSING_THOUGHT_SIGNATURE']);

/** Why a Gemini candidate ending with this finish reason holds no answer, or null for one that does. */
export function geminiFinishFault(finishReason: unknown): string | null {
  if (typeof finishReason !== 'string' || !Object.hasOwn(GEMINI_FAULTS, finishReason)) return null;
  return `the model ${GEMINI_FAULTS[finishReason]} (finishReason ${finishReason})`;
}

/** An answer that holds none: the finish (or stop) reason that says so, and what it means. */
export interface AnswerFault {
  reason: string;
  message: string;
  /**
   * Whether another try of the same request at the same target may answer (a model's slip); false when the request
   * itself is what failed, and only another target can answer it.
   */
  retryable: boolean;
}

/**
 * A Gemini answer (a whole GenerateContentResponse, or one event of a stream, each of which is one) that is a failure
 * despite its 200, else null (ChatExchange.answerFault). Parses only a text that names such a finish reason.
 */
export function geminiFaultOf(text: string): AnswerFault | null {
  if (!GEMINI_FAULT_NAMED.test(text)) return null;
  const reason = asObject(asArray(asObject(tryParseJson(text)).candidates)[0]).finishReason;
  const message = geminiFinishFault(reason);
  return message === null ? null : { reason: reason as string, message, retryable: !GEMINI_REQUEST_FAULTS.has(reason as string) };
}
/**
 * Why a Converse answer holds nothing usable, or null: the model wrote a tool call or an answer it could not form
 * (stopReason malformed_tool_use, malformed_model_output:
 * https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_MessageStopEvent.html).
 */
export function converseStopFault(stopReason: unknown): string | null {
  return stopReason === 'malformed_tool_use' || stopReason === 'malformed_model_output'
    ? `the model produced ${stopReason === 'malformed_tool_use' ? 'a tool call' : 'an answer'} it could not form (stopReason ${stopReason})`
    : null;
}

/**
 * A whole Converse answer, or ConverseStream's messageStop event, that is a failure despite its 200, else null
 * (ChatExchange.answerFault). Parses only a text that names one.
 */
export function converseFaultOf(text: string): AnswerFault | null {
  if (!text.includes('malformed_')) return null;
  const reason = asObject(tryParseJson(text)).stopReason;
  const message = converseStopFault(reason);
  return message === null ? null : { reason: reason as string, message, retryable: true };
}
