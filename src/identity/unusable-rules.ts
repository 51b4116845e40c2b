// Stored identity rules that map no one: made before their values were checked where rules are made (a SPIFFE id that
// breaks the SPIFFE ID standard, a subject not in RFC 4514 form), or on a JWT field without an issuer once more than one
// issuer is configured. The gateway leaves them out of its rules (rules.ts); an operator hears of each once per process,
// when a snapshot first holds it, not at every rebuild, and finds them in the director API's list (`valid: false`).
import type { Logger } from 'pino';
import type { IdentityRules } from './rules.js';

export class UnusableRuleWarnings {
  /** The rules (and why) already warned of: a rule is warned of again only for another reason. */
  private readonly warned = new Set<string>();

  constructor(private readonly logger: Pick<Logger, 'warn'>) {}

  /** Warns of each unusable rule of the snapshot's rules this process has not warned of; the value is no secret. */
  warn(rules: IdentityRules): void {
    for (const { rule, problem } of rules.unusable) {
      const key = `${rule.id}\u0000${problem}`;
      if (this.warned.has(key)) continue;
      this.warned.add(key);
      this.logger.warn(
        { rule: rule.id, field: rule.field, match: rule.match, value: rule.value, issuer: rule.issuer, consumer: rule.consumer },
        `identity rule ${rule.id} (${rule.field} ${rule.match} for consumer "${rule.consumer}") maps no one: ${problem}; fix it with a new rule and DELETE /api/identity-rules/${rule.id}`,
      );
    }
  }
}
