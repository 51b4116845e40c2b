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
