// Finds the `"usage": {...}` object in a JSON answer without parsing the whole answer, for pass-through responses
// whose bytes go to the client untouched and whose only figure Sluice needs is the usage.
// Written by hand: no JSON library extracts one member by name without building the whole document.

/** The JSON text of the last top-level-looking `"usage"` object, or null when there is none to be found cheaply. */
export function usageObjectText(json: string): string | null {
  const key = json.lastIndexOf('"usage"');
  if (key === -1) return null;
  let at = key + 7;
  while (at < json.length && (json[at] === ' ' || json[at] === ':' || json[at] === '\n' || json[at] === '\r' || json[at] === '\t')) at++;
  if (json[at] !== '{') return null;
  let depth = 0;
  let inString = false;
  for (let i = at; i < json.length; i++) {
    const char = json.charCodeAt(i);
    if (inString) {
      if (char === 92 /* \ */) i++;
      else if (char === 34 /* " */) inString = false;
    } else if (char === 34) inString = true;
    else if (char === 123 /* { */) depth++;
    else if (char === 125 /* } */ && --depth === 0) return json.slice(at, i + 1);
  }
  return null;
}

const SERVICE_TIER = '"service_tier"';

/**
 * The `service_tier` an answer names in json[from, to) (its last, the top-level field in OpenAI's answers), found
 * without parsing the answer; null when there is none. A "service_tier" written inside a string is escaped (\"), so
 * only a member's name matches.
 */
export function serviceTierText(json: string, from = 0, to = json.length): string | null {
  // Searched in the window alone (a slice of a flat string is a view, not a copy): lastIndexOf from `to` ran on to the
  // text's start whenever the name was missing, as from most answers, and the relay's window is one event of a read that
  // can hold the whole stream. A backward search goes character by character: a 2 KB read cost some 2 µs per stream.
  const found = json.slice(from, to).lastIndexOf(SERVICE_TIER);
  if (found === -1) return null;
  let at = from + found + SERVICE_TIER.length;
  while (at < to && (json[at] === ' ' || json[at] === ':' || json[at] === '\n' || json[at] === '\r' || json[at] === '\t')) at++;
  if (json[at] !== '"') return null;
  const close = json.indexOf('"', at + 1);
  return close === -1 || close >= to ? null : json.slice(at + 1, close);
}
