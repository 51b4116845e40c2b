// Narrowing helpers for JSON from the wire, where nothing can be assumed about shapes.

export type JsonObject = Record<string, unknown>;

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function asObject(value: unknown): JsonObject {
  return isObject(value) ? value : {};
}

export function asString(value: unknown, fallback = ''): string {
  return typeof value === 'string' ? value : fallback;
}

export function asNumber(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

export function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/** Parses JSON, returning undefined rather than throwing: upstream bodies are untrusted. */
export function tryParseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * Whether JSON text (valid: JSON.parse took it) repeats a key in one of its objects. JSON.parse keeps the last of them;
 * other parsers keep the first or refuse the text (RFC 8259 4: names SHOULD be unique, and their behaviour otherwise
 * is unpredictable), so what a repeated key names cannot be known to be what the recipient reads.
 */
export function repeatsKey(text: string): boolean {
  // Per open container: its keys so far (null for an array), and whether the next string in it is a key.
  const open: Array<{ keys: Set<string> | null; keyNext: boolean }> = [];
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    const top = open.at(-1);
    if (c === '{') open.push({ keys: new Set(), keyNext: true });
    else if (c === '[') open.push({ keys: null, keyNext: false });
    else if (c === '}' || c === ']') open.pop();
    else if (c === ',' && top !== undefined) top.keyNext = top.keys !== null;
    else if (c === '"') {
      let end = i + 1;
      while (text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
      if (top !== undefined && top.keys !== null && top.keyNext) {
        const key = JSON.parse(text.slice(i, end + 1)) as string;
        if (top.keys.has(key)) return true;
        top.keys.add(key);
        top.keyNext = false;
      }
      i = end;
    }
  }
  return false;
}
