// `sluice usage` (usage and cost per bucket and group, or the top cost drivers) and `sluice report` (chargeback per team
// for a month, as a table, JSON or the API's CSV, and the month-end forecast), over /api/usage, /api/forecast and
// /api/reports/chargeback.
import { AdminClient } from '../admin-client.js';
import { dispatchVerb, expectPositionals, parseCommand, SHARED_HELP, type AdminCommand } from '../args.js';
import { printJson, printTable, printUsage } from '../table.js';

interface Money {
  microUsd: number;
  usd: string;
}
interface UsageItem {
  bucketStart: string;
  group: Record<string, string>;
  calls: number;
  inputTokens: number;
  outputTokens: number;
  cachedInputTokens: number;
  cost: Money;
  unpricedCalls: number;
  refusedCalls: number;
  failedCalls: number;
  cacheWriteTokens: number;
  cacheWrite1hTokens: number;
  saved: Money;
}
interface DriverItem {
  group: Record<string, string>;
  current: Money;
  previous: Money;
  delta: Money;
  currentCalls: number;
  previousCalls: number;
  currentUnpricedCalls: number;
  previousUnpricedCalls: number;
}
interface ChargebackLine {
  team: string;
  calls: number;
  inputTokens: number;
  outputTokens: number;
  totalTokens: number;
  cost: Money;
  unpricedCalls: number;
  refusedCalls: number;
  failedCalls: number;
  cacheWriteTokens: number;
  cacheWrite1hTokens: number;
  saved: Money;
}
interface ForecastLine {
  actualToDate: Money;
  forecast: Money;
  low: Money;
  /** Null when there is too little history (none, or one day) to bound the month by. */
  high: Money | null;
}
interface ForecastBody {
  month: string;
  overall: (ForecastLine & { method: string }) | null;
  teams: Array<ForecastLine & { team: string }>;
}

const USAGE_USAGE = `Usage: sluice usage [options]
       sluice usage drivers [options]

  (no subcommand)   usage and cost per bucket and group
      --from ISO --to ISO          the period (default: the last 30 days, from the start of the first day or month)
      --bucket hour|day|month      (default day)
      --group-by DIMS              comma list of consumer, team, model, provider, resource, status, resourceStatus
      --team T --consumer C --model M --provider P --resource P/M   filters
  drivers           the groups whose cost changed most against the previous period of the same length
      --from ISO --to ISO --previous-from ISO --previous-to ISO --group-by DIMS --limit N (default 10) and the filters
${SHARED_HELP}`;

const FILTERS = {
  team: { type: 'string' },
  consumer: { type: 'string' },
  model: { type: 'string' },
  provider: { type: 'string' },
  resource: { type: 'string' },
  from: { type: 'string' },
  to: { type: 'string' },
  'group-by': { type: 'string' },
} as const;

/** The flags given, as the API's query parameters. */
function query(values: Record<string, unknown>, names: Record<string, string>): URLSearchParams {
  const params = new URLSearchParams();
  for (const [flag, param] of Object.entries(names)) {
    const value = values[flag];
    if (typeof value === 'string') params.set(param, value);
  }
  return params;
}

const FILTER_PARAMS = {
  team: 'team',
  consumer: 'consumer',
  model: 'model',
  provider: 'provider',
  resource: 'resource',
  from: 'from',
  to: 'to',
  'group-by': 'groupBy',
};
/**
 * Last, so the earlier columns keep their places for scripts that cut them (as the chargeback CSV's): tokens written to
 * prompt caches (in INPUT, priced above it), of them to the 1-hour cache, and what the response cache saved.
 */
const CACHE_COLUMNS = ['CACHE WRITE', 'CACHE WRITE 1H', 'SAVED USD'] as const;
const cacheCells = (figures: { cacheWriteTokens: number; cacheWrite1hTokens: number; saved: Money }) => [
  figures.cacheWriteTokens,
  figures.cacheWrite1hTokens,
  figures.saved.usd,
];

/**
 * A group's empty value named as the chargeback and the console name it: a call of no team, or of no consumer, model
 * or provider (observed traffic not yet reconciled). Never "-", which a name may be.
 */
const NO_VALUE = (dimension: string) => (dimension === 'team' ? '(no team)' : '(unattributed)');
const groupText = (group: Record<string, string>) =>
  Object.entries(group)
    .map(([k, v]) => `${k}=${v === '' ? NO_VALUE(k) : v}`)
    .join(' ') || 'all';

async function usage(args: string[]): Promise<number> {
  const { values, positionals } = parseCommand(args, { ...FILTERS, bucket: { type: 'string' } }, USAGE_USAGE);
  if (values.help) return printUsage(USAGE_USAGE);
  expectPositionals(positionals, [], USAGE_USAGE);
  const params = query(values, { ...FILTER_PARAMS, bucket: 'bucket' });
  const answer = await AdminClient.fromFlags(values).request<{ from: string; to: string; bucket: string; items: UsageItem[] }>(
    'GET',
    `/api/usage?${params}`,
  );
  if (values.json) printJson(answer);
  else {
    printTable(
      ['BUCKET', 'GROUP', 'CALLS', 'INPUT', 'OUTPUT', 'COST USD', 'UNPRICED', 'REFUSED', 'FAILED', ...CACHE_COLUMNS],
      answer.items.map((item) => [
        item.bucketStart.slice(0, answer.bucket === 'hour' ? 16 : answer.bucket === 'day' ? 10 : 7),
        groupText(item.group),
        item.calls,
        item.inputTokens,
        item.outputTokens,
        item.cost.usd,
        item.unpricedCalls,
        item.refusedCalls,
        item.failedCalls,
        ...cacheCells(item),
      ]),
      `usage from ${answer.from} to ${answer.to}`,
    );
  }
  return 0;
}

async function drivers(args: string[]): Promise<number> {
  const { values, positionals } = parseCommand(
    args,
    {
      ...FILTERS,
      'previous-from': { type: 'string' },
      'previous-to': { type: 'string' },
      limit: { type: 'string' },
    },
    USAGE_USAGE,
  );
  if (values.help) return printUsage(USAGE_USAGE);
  expectPositionals(positionals, [], USAGE_USAGE);
  const params = query(values, { ...FILTER_PARAMS, 'previous-from': 'previousFrom', 'previous-to': 'previousTo', limit: 'limit' });
  const answer = await AdminClient.fromFlags(values).request<{
    current: { from: string; to: string };
    previous: { from: string; to: string };
    items: DriverItem[];
  }>('GET', `/api/usage/top-drivers?${params}`);
  if (values.json) printJson(answer);
  else {
    printTable(
      // The calls with no price last, so the earlier columns keep their places: a cost that fell because calls moved to a
      // model without a price is not a saving.
      ['GROUP', 'CURRENT USD', 'PREVIOUS USD', 'CHANGE USD', 'CALLS', 'PREVIOUS CALLS', 'UNPRICED', 'PREVIOUS UNPRICED'],
      answer.items.map((item) => [
        groupText(item.group),
        item.current.usd,
        item.previous.usd,
        item.delta.usd,
        item.currentCalls,
        item.previousCalls,
        item.currentUnpricedCalls,
        item.previousUnpricedCalls,
      ]),
      'cost drivers',
    );
  }
  return 0;
}

export const usageCommand: AdminCommand = {
  usage: USAGE_USAGE,
  // No subcommand is the usage table itself; `drivers` is the one other view.
  run: (args) => (args[0] === 'drivers' ? drivers(args.slice(1)) : usage(args)),
};

const REPORT_USAGE = `Usage: sluice report <subcommand> [options]

  chargeback [--period YYYY-MM] [--team T] [--csv]   cost per team for a month (default this month); --csv prints the API's CSV
  forecast [--month YYYY-MM] [--team T]             month-end spend, overall and per team, with an 80% range
${SHARED_HELP}`;

async function chargeback(args: string[]): Promise<number> {
  const { values, positionals } = parseCommand(
    args,
    { period: { type: 'string' }, team: { type: 'string' }, csv: { type: 'boolean' } },
    REPORT_USAGE,
  );
  if (values.help) return printUsage(REPORT_USAGE);
  expectPositionals(positionals, [], REPORT_USAGE);
  const params = query(values, { period: 'period', team: 'team' });
  const client = AdminClient.fromFlags(values);
  if (values.csv) {
    params.set('format', 'csv');
    process.stdout.write(await client.text(`/api/reports/chargeback?${params}`));
    return 0;
  }
  const answer = await client.request<{ period: string; items: ChargebackLine[]; total: Omit<ChargebackLine, 'team'> }>(
    'GET',
    `/api/reports/chargeback?${params}`,
  );
  if (values.json) printJson(answer);
  else {
    const line = (team: string, l: Omit<ChargebackLine, 'team'>) => [
      team,
      l.calls,
      l.inputTokens,
      l.outputTokens,
      l.totalTokens,
      l.cost.usd,
      l.unpricedCalls,
      l.refusedCalls,
      l.failedCalls,
      ...cacheCells(l),
    ];
    printTable(
      ['TEAM', 'CALLS', 'INPUT', 'OUTPUT', 'TOTAL TOKENS', 'COST USD', 'UNPRICED', 'REFUSED', 'FAILED', ...CACHE_COLUMNS],
      [
        ...answer.items.map((l) => line(l.team === '' ? '(no team)' : l.team, l)),
        ...(answer.items.length > 0 ? [line('TOTAL', answer.total)] : []),
      ],
      `chargeback for ${answer.period}`,
    );
  }
  return 0;
}

async function forecast(args: string[]): Promise<number> {
  const { values, positionals } = parseCommand(args, { month: { type: 'string' }, team: { type: 'string' } }, REPORT_USAGE);
  if (values.help) return printUsage(REPORT_USAGE);
  expectPositionals(positionals, [], REPORT_USAGE);
  const answer = await AdminClient.fromFlags(values).request<ForecastBody>(
    'GET',
    `/api/forecast?${query(values, { month: 'month', team: 'team' })}`,
  );
  if (values.json) printJson(answer);
  else {
    // A high end the API cannot bound (no history, or one day) is unknown, not a figure.
    const line = (name: string, f: ForecastLine) => [name, f.actualToDate.usd, f.forecast.usd, f.low.usd, f.high?.usd ?? 'unknown'];
    const rows = answer.teams.map((t) => line(t.team === '' ? '(no team)' : t.team, t));
    // With --team the API's `overall` is that team's own forecast, the same as its row: not everyone's.
    if (answer.overall !== null && values.team === undefined) rows.push(line('OVERALL', answer.overall));
    printTable(['TEAM', 'TO DATE USD', 'FORECAST USD', 'LOW USD', 'HIGH USD'], rows, `forecast for ${answer.month}`);
    if (answer.overall !== null) process.stdout.write(`method: ${answer.overall.method}\n`);
  }
  return 0;
}

export const reportCommand: AdminCommand = {
  usage: REPORT_USAGE,
  run: (args) => dispatchVerb('report', REPORT_USAGE, { chargeback, forecast }, args),
};
