// `sluice compliance assess|export`: run an assessment now, or print an OSCAL document (component definition, assessment
// results, POA&M) as JSON or YAML, over /api/compliance.
import { AdminClient, apiPath } from '../admin-client.js';
import { dispatchVerb, expectPositionals, parseCommand, SHARED_HELP, UsageError, type AdminCommand } from '../args.js';
import { printJson, printTable, printUsage } from '../table.js';

/** The OpenAPI document's Assessment. */
interface AssessmentView {
  uuid: string;
  satisfied: number;
  notSatisfied: number;
  findings: Array<{ objectiveId: string; controlId: string; title: string; satisfied: boolean; description: string }>;
  poamItems: Array<{ uuid: string; objectiveId: string; status: string }>;
}

const DOCUMENTS = {
  'component-definition': '/api/compliance/component-definition',
  'assessment-results': '/api/compliance/assessment-results',
  poam: '/api/compliance/poam',
} as const;
type DocumentName = keyof typeof DOCUMENTS;

const USAGE = `Usage: sluice compliance <subcommand> [options]

  assess [--format F]        assess now: seal the ledger's and audit log's hash chains, run every check, keep the
                             result, update the POA&M; prints each finding, or with --format the OSCAL assessment
                             results of this assessment
  export [DOCUMENT] [--format F]
                             print an OSCAL 1.2.1 document: component-definition, assessment-results (the latest;
                             the default) or poam

  --format F   json (the default for export) or yaml
${SHARED_HELP}`;

function format(value: string | undefined): 'json' | 'yaml' | undefined {
  if (value === undefined || value === 'json' || value === 'yaml') return value;
  throw new UsageError(`--format must be json or yaml, got "${value}"`, USAGE);
}

async function assess(args: string[]): Promise<number> {
  const { values, positionals } = parseCommand(args, { format: { type: 'string' } }, USAGE);
  if (values.help) return printUsage(USAGE);
  expectPositionals(positionals, [], USAGE);
  const wanted = format(values.format);
  const client = AdminClient.fromFlags(values);
  const assessment = await client.request<AssessmentView>('POST', '/api/compliance/assessments');
  if (wanted !== undefined) {
    process.stdout.write(await client.text(`${apiPath`/api/compliance/assessment-results/${assessment.uuid}`}?format=${wanted}`));
    return 0;
  }
  if (values.json) {
    printJson(assessment);
    return 0;
  }
  printTable(
    ['CONTROL', 'OBJECTIVE', 'STATE', 'FINDING'],
    assessment.findings.map((f) => [f.controlId.toUpperCase(), f.objectiveId, f.satisfied ? 'satisfied' : 'NOT SATISFIED', f.description]),
    'findings',
  );
  const open = assessment.poamItems.filter((item) => item.status === 'open').length;
  const closed = assessment.poamItems.length - open;
  process.stdout.write(
    `\nassessment ${assessment.uuid}: ${assessment.satisfied} objectives satisfied, ${assessment.notSatisfied} not; ` +
      `POA&M items open or still open: ${open}, closed now: ${closed}\n`,
  );
  return 0;
}

async function exportDocument(args: string[]): Promise<number> {
  const { values, positionals } = parseCommand(args, { format: { type: 'string' } }, USAGE);
  if (values.help) return printUsage(USAGE);
  if (positionals.length > 1) throw new UsageError(`unexpected argument "${positionals[1]}"`, USAGE);
  const name = positionals[0] ?? 'assessment-results';
  if (!Object.hasOwn(DOCUMENTS, name))
    throw new UsageError(`unknown document "${name}" (expected ${Object.keys(DOCUMENTS).join(', ')})`, USAGE);
  const wanted = format(values.format) ?? 'json';
  const text = await AdminClient.fromFlags(values).text(`${DOCUMENTS[name as DocumentName]}?format=${wanted}`);
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  return 0;
}

export const complianceCommand: AdminCommand = {
  usage: USAGE,
  run: (args) => dispatchVerb('compliance', USAGE, { assess, export: exportDocument }, args),
};
