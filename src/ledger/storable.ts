// Text every ledger store accepts: no NUL (PostgreSQL refuses it in text), no lone UTF-16 surrogate (not encodable as
// UTF-8), and a length the rollups' keys can index. A client chooses some of these strings (the requested model), so one
// such string once cost a whole batch of other calls' records.

/**
 * Characters kept of a ledger string. The rollups' primary key holds five of them (consumer, team, requested model,
 * provider, provider model); PostgreSQL indexes at most 2,704 bytes a row, and the client-chosen one at this cap takes
 * at most 1,536 of them.
 */
export const MAX_LEDGER_TEXT = 512;

// String.prototype.isWellFormed and toWellFormed: ES2024, in Node 20; this project's lib is ES2023.
declare global {
  interface String {
    isWellFormed(): boolean;
    toWellFormed(): string;
  }
}

/** The string unchanged (the usual case: three native scans, no allocation) or a storable copy. */
export function storableText(value: string): string {
  if (value.length <= MAX_LEDGER_TEXT && !value.includes('\u0000') && value.isWellFormed()) return value;
  let text = value.length > MAX_LEDGER_TEXT ? value.slice(0, MAX_LEDGER_TEXT) : value;
  // A cut through a surrogate pair leaves a lone high surrogate, which toWellFormed replaces like any other.
  text = text.toWellFormed();
  return text.includes('\u0000') ? text.replaceAll('\u0000', '\uFFFD') : text;
}
