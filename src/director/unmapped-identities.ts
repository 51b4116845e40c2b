// identity.unmappedCertificate: discover. An identity that verifies but maps to no consumer is still refused, and is also
// reported to reconciliation as a discovered consumer (its fingerprint, peer address and identity as hints), so an admin
// sees who is knocking and can resolve it with an identity rule. Reports are batched away from the call, one per identity
// per flush, bounded: a flood of distinct certificates cannot grow memory.
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import { normalizeIp } from '../policy/discovery.js';
import type { Observation } from '../store/director-store.js';
import { identityLabel, type PresentedIdentity } from '../identity/rules.js';

const MAX_PENDING = 1000;
/** Refused calls are not calls to a provider: they are filed under this provider and model in the discovery views. */
export const UNMAPPED_PROVIDER = 'sluice';
export const UNMAPPED_MODEL = 'unmapped-identity';

export class UnmappedIdentityReports {
  private readonly pending: Map<string, Observation>;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly record: (observations: readonly Observation[]) => Promise<unknown>,
    private readonly logger: Logger,
    flushMs = 5_000,
  ) {
    this.pending = new Map();
    this.timer = setInterval(() => void this.flush(), flushMs);
    this.timer.unref();
  }

  /** Called on the request path: a map update, nothing else. */
  readonly report = (identity: PresentedIdentity, req: IncomingMessage): void => {
    const label = identityLabel(identity).slice(0, 512);
    const known = this.pending.get(label);
    if (known !== undefined) {
      known.calls = (known.calls ?? 1) + 1;
      return;
    }
    if (this.pending.size >= MAX_PENDING) return;
    const ip = req.socket.remoteAddress === undefined ? null : normalizeIp(req.socket.remoteAddress);
    this.pending.set(label, {
      observer: 'sluice-gateway',
      at: Date.now(),
      provider: UNMAPPED_PROVIDER,
      model: UNMAPPED_MODEL,
      calls: 1,
      source: {
        keyFingerprint: `${identity.kind === 'jwt' ? 'jwt' : 'x509'}:${createHash('sha256').update(label).digest('hex').slice(0, 16)}`,
        userAgent: label,
        ...(ip === null ? {} : { ip }),
      },
    });
  };

  async flush(): Promise<void> {
    if (this.pending.size === 0) return;
    const batch = [...this.pending.values()];
    this.pending.clear();
    try {
      await this.record(batch);
    } catch (error) {
      this.logger.warn({ err: (error as Error).message, identities: batch.length }, 'cannot report unmapped identities to reconciliation');
    }
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}
