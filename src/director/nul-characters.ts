// Text with a NUL character (U+0000) is refused before any route reads it: PostgreSQL's text and JSON columns cannot
// hold one (its driver fails with an error the director could only answer with a 500) and SQLite would keep it, so the
// two stores would disagree. Refusing it here, for every path, query and JSON body, answers the same 400 on both,
// naming where the character was.
import type { Context } from 'hono';
import { ApiError, type Issue } from './errors.js';

const NUL = '\u0000';
const MESSAGE = 'contains a NUL character (U+0000), which no field may hold';

/** Where in a parsed JSON value a string (or an object's key) holds a NUL, by dotted path as validation issues name it. */
function nulPaths(value: unknown, path: string, found: string[]): void {
  if (typeof value === 'string') {
    if (value.includes(NUL)) found.push(path || '(body)');
  } else if (Array.isArray(value)) {
    value.forEach((item, i) => nulPaths(item, path === '' ? String(i) : `${path}.${i}`, found));
  } else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      const at = path === '' ? key : `${path}.${key}`;
      if (key.includes(NUL)) found.push(at);
      nulPaths(item, at, found);
    }
  }
}

function isJson(c: Context): boolean {
  return /^application\/([a-z0-9.+-]*\+)?json\b/i.test(c.req.header('content-type') ?? '');
}

/** Throws a 400 naming each place (the path, a query parameter, a body field) that holds a NUL character. */
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
    const found: string[] = [];
    nulPaths(body, '', found);
    issues.push(...found.map((path) => ({ path, message: MESSAGE })));
  }
  if (issues.length > 0) {
    throw new ApiError(400, 'invalid_request', `Invalid request: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, issues);
  }
}
