// Gemini 3's thought signatures ride in the tool-call ids Sluice makes: a client that knows only ids gives them back.
// Gemini puts a signature beside a turn's first functionCall and refuses a history that drops it
// (https://ai.google.dev/gemini-api/docs/thought-signatures); the ids carry it as base64url, so they stay [A-Za-z0-9_-].

const MARK = '__sig_';

/** The tool-call id for Gemini's call `base`, with the signature of its part when it has one. */
export function callIdWithSignature(base: string, signature: unknown): string {
  if (typeof signature !== 'string' || signature === '') return base;
  return `${base}${MARK}${Buffer.from(signature, 'base64').toString('base64url')}`;
}

/** The signature (standard base64, as Gemini sent it) a tool-call id carries, or undefined. */
export function signatureOf(id: string): string | undefined {
  const at = id.indexOf(MARK);
  return at === -1 ? undefined : Buffer.from(id.slice(at + MARK.length), 'base64url').toString('base64');
}
