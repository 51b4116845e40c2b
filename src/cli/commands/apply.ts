// `sluice apply -f FILE [--dry-run]`: makes the director match a declarative YAML file (GitOps), all or nothing. The file
// is checked here first (the schema the director uses, so nothing is sent for a bad file), then sent whole to
// POST /api/apply, which checks every reference and applies it in one transaction; nothing is ever deleted, and a second
// apply of the same file changes nothing.
import { readFileSync } from 'node:fs';
import { describeIssue } from '../../config/issue-messages.js';
import { ConfigError, formatIssues, parseYamlWithEnv } from '../../config/load.js';
import { applyDocumentSchema, type ApplyDocument, type ApplyOutcome } from '../../schemas/apply-document.js';
import { AdminClient, ApiFailure } from '../admin-client.js';
import { expectPositionals, parseCommand, SHARED_HELP, UsageError, type AdminCommand } from '../args.js';
import { printJson, printUsage } from '../table.js';

const USAGE = `Usage: sluice apply -f FILE [--dry-run]

Creates or updates what FILE declares, in this order: teams, models, consumers, budgets, budgetTemplates,
rateLimits, resources. Entities that already match are left alone; nothing is deleted. \${ENV} is replaced as in sluice.yaml.
All or nothing: the director checks every entity and every name it refers to before changing anything, and applies
the whole file in one transaction, or nothing of it. With --dry-run it checks the same and changes nothing; each line
says what would be done. "-f -" reads the file from stdin.

  teams:           [{ name, owner }]
  models:          [{ name, targets, pricing, retry }]             as in sluice.yaml (providers: the API or sluice.yaml)
  consumers:       [{ name, team, owner, labels, models }]     (keys are made with \`sluice keys create\`)
  budgets, budgetTemplates, rateLimits:                       as in sluice.yaml
  resources:       { provider/model: sanctioned | unsanctioned | unreviewed }
${SHARED_HELP}`;

/** Reads, interpolates and validates the file; every problem names the file and the path in it (ConfigError, exit 2). */
export function readApplyFile(text: string, source: string, env: NodeJS.ProcessEnv = process.env): ApplyDocument {
  const raw = parseYamlWithEnv(text, source, env);
  const consumers = (raw as { consumers?: unknown }).consumers;
  if (Array.isArray(consumers)) {
    consumers.forEach((entry, i) => {
      if (entry !== null && typeof entry === 'object' && 'keys' in entry) {
        throw new ConfigError(
          `${source}: consumers[${i}].keys: apply does not take keys; make them with \`sluice keys create ${String((entry as { name?: unknown }).name ?? 'CONSUMER')} --name N\``,
        );
      }
    });
  }
  const result = applyDocumentSchema.safeParse(raw, { error: describeIssue });
  if (!result.success) throw new ConfigError(formatIssues(result.error.issues, source));
  return result.data;
}

/** The API's dotted path (`budgets.0.resources.model`) as the file's (`budgets[0].resources.model`); a resource id stays whole. */
function filePath(path: string): string {
  if (path.startsWith('resources.')) return path;
  return path
    .split('.')
    .map((part, i) => (/^\d+$/.test(part) ? `[${part}]` : i === 0 ? part : `.${part}`))
    .join('');
}

/** A refusal from the director: nothing was applied; each problem named by its path in the file. */
function refused(error: unknown, source: string): unknown {
  if (!(error instanceof ApiFailure)) return error;
  const issues = error.issues.map((issue) => ({ path: filePath(issue.path), message: issue.message }));
  const message =
    issues.length > 0
      ? `${source}: nothing was applied; the director found ${issues.length === 1 ? 'a problem' : `${issues.length} problems`}:`
      : `${source}: nothing was applied: ${error.message}`;
  return new ApiFailure(message, error.status, error.code, issues);
}

function line(outcome: ApplyOutcome): string {
  const fields = outcome.changed.length > 0 ? ` (${outcome.changed.join(', ')})` : '';
  return `${outcome.kind} ${outcome.name}: ${outcome.action}${fields}\n`;
}

function summary(outcomes: readonly ApplyOutcome[], source: string, dryRun: boolean): string {
  const count = (...actions: Array<ApplyOutcome['action']>) => outcomes.filter((o) => actions.includes(o.action)).length;
  const [created, updated, unchanged] = [count('created', 'would create'), count('updated', 'would update'), count('unchanged')];
  if (outcomes.length === 0) return `${source} declares nothing\n`;
  if (created + updated === 0) return `${source}: nothing to change; all ${unchanged} already match\n`;
  if (dryRun)
    return `dry run of ${source}: ${created} would be created, ${updated} would be updated, ${unchanged} unchanged; nothing was changed\n`;
  return `${source}: ${created} created, ${updated} updated, ${unchanged} unchanged\n`;
}

async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseCommand(args, { file: { type: 'string', short: 'f' }, 'dry-run': { type: 'boolean' } }, USAGE);
  if (values.help) return printUsage(USAGE);
  expectPositionals(positionals, [], USAGE);
  if (values.file === undefined) throw new UsageError('sluice apply: name the file with -f FILE', USAGE);
  const source = values.file === '-' ? 'stdin' : values.file;
  let text: string;
  try {
    text = readFileSync(values.file === '-' ? 0 : values.file, 'utf8');
  } catch (error) {
    throw new ConfigError(`${source}: cannot read the file (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
  const document = readApplyFile(text, source);
  const dryRun = values['dry-run'] === true;
  let answer: { dryRun: boolean; results: ApplyOutcome[] };
  try {
    answer = await AdminClient.fromFlags(values).request('POST', '/api/apply', { ...document, dryRun });
  } catch (error) {
    if (values.json && error instanceof ApiFailure) printJson({ file: source, dryRun, complete: false, results: [] });
    throw refused(error, source);
  }
  const results = answer.results.map((outcome) => ({ ...outcome, path: filePath(outcome.path) }));
  if (values.json) printJson({ file: source, dryRun, complete: true, results });
  else process.stdout.write(results.map(line).join('') + summary(results, source, dryRun));
  return 0;
}

export const applyCommand: AdminCommand = { usage: USAGE, run };
