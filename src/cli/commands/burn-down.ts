// `sluice budgets burn-down NAME`: a budget's usage so far in its window and when it is projected to run out, over
// GET /api/budgets/{name}/burn-down.
import { AdminClient, apiPath } from '../admin-client.js';
import { expectPositionals, parseCommand } from '../args.js';
import { printFields, printJson, printUsage, time } from '../table.js';

/** The OpenAPI document's BudgetBurnDown. */
interface BurnDownView {
  budget: string;
  measure: string;
  unit: 'tokens' | 'requests' | 'microUsd';
  window: { kind: string; start: string; end: string };
  limit: number;
  used: number;
  remaining: number;
  usedPercent: number;
  exhausted: boolean;
  projectedAtEnd: number;
  exhaustsAt: string | null;
  horizon: string;
  method: string;
  usd: { limit: string; used: string; remaining: string; projectedAtEnd: string } | null;
  unpricedCalls: number | null;
}

/** The line `sluice budgets --help` shows for this verb. */
export const BURN_DOWN_USAGE_LINE = `  burn-down NAME
                usage so far in the budget's current window, and when it is projected to run out`;

export async function burnDown(args: string[], usage: string): Promise<number> {
  const { values, positionals } = parseCommand(args, {}, usage);
  if (values.help) return printUsage(usage);
  const [name] = expectPositionals(positionals, ['NAME'], usage);
  const view = await AdminClient.fromFlags(values).request<BurnDownView>('GET', apiPath`/api/budgets/${name!}/burn-down`);
  if (values.json) {
    printJson(view);
    return 0;
  }
  // Money as the API's exact USD decimals; counts with their unit.
  const amount = (key: 'limit' | 'used' | 'remaining' | 'projectedAtEnd') =>
    view.usd === null ? `${view[key]} ${view.unit}` : `$${view.usd[key]}`;
  const rolling = view.method === 'rolling-recent-rate';
  // The API's kind is `rolling:24h`; `sluice budgets list` writes it `rolling 24h`.
  const kind = view.window.kind.replace(/^rolling:/, 'rolling ');
  let runsOut: string;
  if (view.exhausted) runsOut = 'exhausted now';
  else if (view.exhaustsAt !== null) runsOut = time(view.exhaustsAt)!;
  else runsOut = rolling ? `not before ${time(view.horizon)} at the recent rate` : 'not before the window ends';
  printFields([
    ['budget', view.budget],
    ['measure', view.measure],
    // A rolling window has no fixed end: the API gives the part read so far, up to now.
    ['window', `${kind}, ${time(view.window.start)} to ${rolling ? 'now' : time(view.window.end)}`],
    ['limit', amount('limit')],
    ['used', `${amount('used')} (${view.usedPercent}%)`],
    // A cost budget cannot count what has no price: said, never a silent 0.
    ...(view.unpricedCalls !== null && view.unpricedCalls > 0
      ? [['not counted', `${view.unpricedCalls} calls with no price (give their model pricing)`] as [string, string]]
      : []),
    ['remaining', amount('remaining')],
    [rolling ? `projected by ${time(view.horizon)}` : 'projected at window end', amount('projectedAtEnd')],
    ['runs out', runsOut],
    ['method', view.method],
  ]);
  return 0;
}
