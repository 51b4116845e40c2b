// CA-7: continuous monitoring runs: assessments come on schedule, none further apart than their interval allows.
import { iso, outcome, type Check } from '../check.js';

/** A scheduled run may start this much later than its interval (a busy machine, a restart) before it counts as missed. */
const LATENESS = 1.5;

export const assessmentCadence: Check = {
  id: 'assessment-cadence',
  title: 'Assessments run continuously, on schedule',
  description:
    'Compares the time since the previous assessment with compliance.intervalMinutes (allowing half an interval ' +
    'of lateness); not satisfied when the schedule is turned off (intervalMinutes: 0) or the previous assessment is ' +
    'older. The first assessment has no previous one and is satisfied when the schedule is on. The gauge ' +
    'sluice_compliance_last_assessment_timestamp_seconds lets an alert catch a schedule that stopped altogether.',
  method: 'TEST',
  async run({ settings, previous, now }) {
    const problems: string[] = [];
    if (settings.intervalMinutes === 0) problems.push('the assessment schedule is turned off (compliance.intervalMinutes: 0)');
    const ageMinutes = previous === null ? 0 : (now - previous.endedAt) / 60_000;
    if (previous !== null && settings.intervalMinutes > 0 && ageMinutes > settings.intervalMinutes * LATENESS) {
      problems.push(
        `the previous assessment (${previous.uuid}, ${iso(previous.endedAt)}) is ${Math.round(ageMinutes)} minutes old, more than the ${settings.intervalMinutes}-minute interval allows`,
      );
    }
    return outcome(
      problems,
      previous === null
        ? `First assessment; the schedule runs every ${settings.intervalMinutes} minutes.`
        : `The previous assessment ended ${Math.round(ageMinutes)} minutes ago, within the ${settings.intervalMinutes}-minute interval.`,
      `Continuous monitoring lapsed: ${problems.join('; ')}.`,
      { intervalMinutes: settings.intervalMinutes, minutesSincePreviousAssessment: Math.round(ageMinutes) },
    );
  },
};
