// The `compliance` section of sluice.yaml: how often Sluice assesses itself against its NIST SP 800-53 controls, the
// thresholds its checks hold the live state to, and how often the ledger and audit log are sealed into their hash chains.
import { z } from 'zod';

export const complianceSchema = z
  .object({
    /** Minutes between scheduled assessments; 0 turns the schedule off (assessments on demand still run). */
    intervalMinutes: z
      .number()
      .int()
      .min(0)
      .max(7 * 24 * 60)
      .default(60),
    /** The traffic each assessment examines: the last this many hours of the ledger. */
    periodHours: z
      .number()
      .int()
      .positive()
      .max(24 * 90)
      .default(24),
    /** Consumer keys and admin tokens older than this are due for rotation (IA-5). */
    rotationDays: z.number().int().positive().default(90),
    /** Unrevoked admin-role tokens beyond this many are more full-power credentials than least privilege allows (AC-6). */
    maxAdminTokens: z.number().int().min(0).default(3),
    /** A discovered consumer left pending longer than this is an unreviewed inventory item (CM-8). */
    pendingDiscoveryMaxAgeDays: z.number().int().positive().default(7),
    /** Seconds between seals of the ledger's and the audit log's new rows into their hash chains (AU-9); 0 turns sealing off. */
    sealIntervalSeconds: z
      .number()
      .int()
      .min(0)
      .max(24 * 3600)
      .default(60),
    /**
     * Sealed rows an assessment rehashes beyond the blocks sealed since the previous one: a rotation through the older
     * blocks, resumed where the previous assessment left it, so each row is rehashed again every so many assessments
     * (every block's link and anchors are checked every time). 0: every row, every assessment.
     */
    verifyRowsPerAssessment: z.number().int().min(0).default(2_000_000),
    /**
     * Sluice's listeners speak plain HTTP. `proxy` declares that a TLS-terminating proxy or load balancer is the only way to
     * reach them; without it, a listener bound to a non-loopback address is named as plaintext (SC-8).
     */
    listenerTls: z.enum(['none', 'proxy']).default('none'),
  })
  .strict();

export type ComplianceConfig = z.infer<typeof complianceSchema>;

export const COMPLIANCE_DEFAULTS: ComplianceConfig = complianceSchema.parse({});
