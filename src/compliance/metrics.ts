// Compliance on the admin port's /metrics: one gauge per control (1 satisfied, 0 not), so an alert can fire the moment a
// control fails, plus when the last assessment ended and how many POA&M items are open.
import { Gauge, type Registry } from 'prom-client';
import type { Finding } from './assessment.js';

export class ComplianceGauges {
  private readonly satisfied: Gauge<'control'>;
  private readonly lastAssessment: Gauge;
  private readonly openItems: Gauge;

  constructor(registry: Registry) {
    this.satisfied = new Gauge({
      name: 'sluice_compliance_control_satisfied',
      help: 'Whether the last assessment found every assessed objective of the control satisfied (1) or not (0)',
      labelNames: ['control'],
      registers: [registry],
    });
    this.lastAssessment = new Gauge({
      name: 'sluice_compliance_last_assessment_timestamp_seconds',
      help: 'When the last compliance assessment ended (Unix seconds)',
      registers: [registry],
    });
    this.openItems = new Gauge({
      name: 'sluice_compliance_poam_open_items',
      help: 'Plan of action and milestones items open: objectives not satisfied since their first finding',
      registers: [registry],
    });
  }

  /** Labels are the mapping's control ids: a bounded set. */
  record(findings: readonly Finding[], endedAt: number, openItems: number): void {
    const controls = new Map<string, boolean>();
    for (const finding of findings) controls.set(finding.controlId, (controls.get(finding.controlId) ?? true) && finding.satisfied);
    for (const [control, satisfied] of controls) this.satisfied.set({ control }, satisfied ? 1 : 0);
    this.lastAssessment.set(endedAt / 1000);
    this.openItems.set(openItems);
  }
}
