// Whether an identity rule's value can ever match what a caller presents. A certificate identifies a caller only by a
// valid SPIFFE id (spiffe-id.ts: any other is taken as no identity) and by its subject in RFC 4514 form (how Sluice and
// Envoy write subjects); a rule whose exact value, prefix or pattern no such value can have would sit in the list
// mapping no one, so it is refused where it is made. A JWT's sub, team or group can be any text: any value can match.
import { distinguishedNameProblem, withUnicodeCharacters } from './distinguished-name.js';
import type { IdentityField, IdentityMatch } from './rules.js';
import { callerSpiffeIdProblem } from './spiffe-id.js';

const SCHEME = 'spiffe://';
/** Like rules.ts: a prefix ending with a letter or digit stops at a separator of its field. */
const WORD_END = /[\p{L}\p{N}]$/u;

interface ValueForm {
  /** Why a whole value is not of the form, or null. */
  problem: (value: string) => string | null;
  /** What a prefix rule requires after a prefix ending with a letter or digit (rules.ts' SEPARATORS). */
  separators: string;
  /**
   * Text that, put after a prefix or in place of a wildcard, completes a value whenever any text does: the value's
   * form is checked character by character, so a short word of each kind the form has is enough.
   */
  fillers: readonly string[];
  /** What a completed value must not have to be complete (its separator and a filler), per separator. */
  continuation: string;
  described: string;
}

const FORMS: Partial<Record<IdentityField, ValueForm>> = {
  spiffe: {
    problem: callerSpiffeIdProblem,
    separators: '/',
    fillers: ['', 'x', 'x/x'],
    continuation: 'x',
    described: 'a SPIFFE id a caller can present (spiffe://trust-domain/path, SPIFFE ID standard section 2)',
  },
  subject: {
    problem: distinguishedNameProblem,
    separators: ',+',
    fillers: ['', 'x', 'CN=x', 'x=x', '1=x', ','],
    continuation: 'CN=x',
    described: 'a subject in RFC 4514 form (CN=checkout,O=Acme: no spaces after , or around =)',
  },
};

/** Why no value a caller presents can be matched by this rule; null when one can (or the field takes any text). */
export function ruleValueProblem(field: IdentityField, match: IdentityMatch, value: string): string | null {
  const form = FORMS[field];
  if (form === undefined) return null;
  // Subjects reach rules with their letters beyond ASCII as letters, never as escaped UTF-8 bytes (peer.ts).
  if (field === 'subject' && withUnicodeCharacters(value) !== value) {
    return `${match === 'exact' ? '' : `${match} of `}${form.described}: write letters beyond ASCII as letters (Renée, not Ren\\C3\\A9e)`;
  }
  if (match === 'exact') {
    const problem = form.problem(value);
    return problem === null ? null : `not ${form.described}: ${problem}`;
  }
  const candidates = match === 'prefix' ? prefixCompletions(field, form, value) : patternCompletions(form, value);
  // A pattern with more wildcards than are worth trying is taken, as it was before this check.
  if (candidates === null || candidates.some((candidate) => form.problem(candidate) === null)) return null;
  const reason = match === 'prefix' ? 'no such value starts with this prefix' : 'no such value matches this pattern';
  return `${match} of ${form.described}: ${reason}${field === 'spiffe' && match === 'prefix' && WORD_END.test(value) ? ' (a prefix ending with a letter or digit stops at a /)' : ''}`;
}

function prefixCompletions(field: IdentityField, form: ValueForm, prefix: string): string[] {
  // A prefix of the scheme itself (`spiffe:`) is a prefix of every id.
  if (field === 'spiffe' && prefix.length < SCHEME.length && SCHEME.startsWith(prefix))
    return WORD_END.test(prefix) ? [] : [`${SCHEME}x/x`];
  if (WORD_END.test(prefix)) return [prefix, ...[...form.separators].map((separator) => `${prefix}${separator}${form.continuation}`)];
  return form.fillers.map((filler) => `${prefix}${filler}`);
}

/**
 * The pattern with its wildcards filled in every combination of fillers (`*` is one or more characters other than `/`,
 * `**` any text); null for a pattern of more than 4 wildcards (over a thousand combinations).
 */
function patternCompletions(form: ValueForm, pattern: string): string[] | null {
  const parts = pattern.split(/(\*\*|\*)/);
  if (parts.length > 9) return null;
  let completed = [''];
  for (let index = 0; index < parts.length; index++) {
    const part = parts[index]!;
    const options =
      index % 2 === 0 ? [part] : form.fillers.filter((filler) => (part === '**' ? true : filler !== '' && !filler.includes('/')));
    completed = completed.flatMap((start) => options.map((option) => `${start}${option}`));
  }
  return completed;
}
