// Text with a NUL character (U+0000) is refused before any route reads it: PostgreSQL's text and JSON columns cannot
// hold one (its driver fails with an error the director could only answer with a 500) and SQLite would keep it, so the
// two stores would disagree. Refusing it here, for every path, query and JSON body, answers the same 400 on both,
// naming where the character was. Text with an unpaired UTF-16 surrogate (JSON's "\ud800" alone) is refused with it:
// it is not Unicode text, PostgreSQL's JSON columns refuse it (another 500) where SQLite would keep it. The same walk
// refuses a body nested deeper than any request of the API is: every later reader (validation, the audit log's JSON)
// recurses, and would overflow the stack on one nested 100,000 deep.
import type { Context } from 'hono';
import { ApiError, type Issue } from './errors.js';

const NUL = '\u0000';
const MESSAGE = 'contains a NUL character (U+0000), which no field may hold';
/** A surrogate code point alone; in a `u` pattern a well-formed pair is one astral character and does not match. */
const UNPAIRED = /\p{Cs}/u;
const UNPAIRED_MESSAGE = 'contains an unpaired UTF-16 surrogate (\\ud800 to \\udfff alone), which is not text';

/** What is wrong with a string of a body (a value or a key), or null. */
function textProblem(text: string): string | null {
  if (text.includes(NUL)) return MESSAGE;
  return UNPAIRED.test(text) ? UNPAIRED_MESSAGE : null;
}

/** Deeper than any body of the API (an apply document's model pricing is 5 levels down), shallower than a stack. */
export const MAX_BODY_DEPTH = 32;
const TOO_DEEP = `nested more than ${MAX_BODY_DEPTH} levels deep, deeper than any field of the API`;

/**
 * Where in a parsed JSON value a string (or an object's key) holds a NUL or an unpaired surrogate, or nesting goes past
 * MAX_BODY_DEPTH, by dotted path as validation issues name it. Iterative: the value may be nested far deeper than the
 * stack is.
 */
function bodyIssues(body: unknown): Issue[] {
  const issues: Issue[] = [];
  const pending: Array<{ value: unknown; path: string; depth: number }> = [{ value: body, path: '', depth: 0 }];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const { value, path, depth } = next;
    if (typeof value === 'string') {
      const problem = textProblem(value);
      if (problem !== null) issues.push({ path: path || '(body)', message: problem });
    } else if (value !== null && typeof value === 'object') {
      if (depth === MAX_BODY_DEPTH) {
        issues.push({ path: path || '(body)', message: TOO_DEEP });
        continue;
      }
      for (const [key, item] of Object.entries(value)) {
        const at = path === '' ? key : `${path}.${key}`;
        const problem = textProblem(key);
        if (problem !== null) issues.push({ path: at, message: problem });
        pending.push({ value: item, path: at, depth: depth + 1 });
      }
    }
  }
  // In the body's order, as the recursive walk named them.
  return issues.reverse();
}

function isJson(c: Context): boolean {
  return /^application\/([a-z0-9.+-]*\+)?json\b/i.test(c.req.header('content-type') ?? '');
}

/**
 * Throws a 400 naming each place (the path, a query parameter, a body field) that holds a NUL character, each body field
 * that holds an unpaired surrogate (a URL cannot: its decoding makes one U+FFFD), and where a body is nested too deep.
 */
export async function refuseNulCharacters(c: Context): Promise<void> {
  const issues: Issue[] = [];
  const url = new URL(c.req.url);
  if (url.pathname.includes(NUL) || /%00/i.test(url.pathname)) issues.push({ path: '(path)', message: MESSAGE });
  for (const [name, value] of url.searchParams) {
    if (name.includes(NUL) || value.includes(NUL)) issues.push({ path: name, message: MESSAGE });
  }
  if (c.req.method !== 'GET' && c.req.method !== 'HEAD' && isJson(c)) {
    let body: unknown;
    try {
      // Hono keeps the parsed body: the route's validator reads this same value.
      body = await c.req.json();
    } catch {
      // Not JSON: the route's validator answers that (invalid_json).
      body = undefined;
    }
    issues.push(...bodyIssues(body));
  }
  if (issues.length > 0) {
    throw new ApiError(400, 'invalid_request', `Invalid request: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, issues);
  }
}
