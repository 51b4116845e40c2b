// The state of AI use at a glance: this month's spend, calls and tokens against last month's, the month-end forecast,
// spend per day stacked by team or model, top consumers and models, budgets nearest exhaustion, unsanctioned traffic
// in the last 24 hours, and the discoveries waiting for someone.
import { useMemo, useState } from 'preact/hooks';
import {
  api,
  hasBurnDown,
  list,
  query,
  type Budget,
  type BurnDown,
  type Discovered,
  type Forecast,
  type Session,
  type Stored,
  type UsageAnswer,
  type UsageItem,
} from '../api';
import { OTHER_COLOR, seriesColor, StackedBars } from '../charts';
import { burnAmount, count, day, groupName, hourFloor, isoHour, monthLabel, monthName, monthStart, nanoOf, teamName, usd } from '../format';
import { Badge, Bar, Empty, GroupName, may, Show, Stat, transactionsOf, Usd, useLoad } from '../ui';

const DAY = 86_400_000;
const HOUR = 3_600_000;

function totals(items: UsageItem[]) {
  return items.reduce(
    (sum, item) => ({
      calls: sum.calls + item.calls,
      tokens: sum.tokens + item.inputTokens + item.outputTokens,
      cost: sum.cost + nanoOf(item.cost),
      refused: sum.refused + item.refusedCalls,
      failed: sum.failed + item.failedCalls,
      cacheWrites: sum.cacheWrites + item.cacheWriteTokens,
      cacheWrites1h: sum.cacheWrites1h + item.cacheWrite1hTokens,
      saved: sum.saved + nanoOf(item.saved),
    }),
    { calls: 0, tokens: 0, cost: 0, refused: 0, failed: 0, cacheWrites: 0, cacheWrites1h: 0, saved: 0 },
  );
}

async function loadOverview(session: Session) {
  const now = Date.now();
  const to = hourFloor(now) + HOUR;
  const thisMonth = monthStart(now);
  const lastMonth = monthStart(now, -1);
  // Last month up to the same moment of the month, for a like-for-like comparison.
  const lastMonthSamePoint = Math.min(thisMonth, hourFloor(lastMonth + (to - thisMonth)));
  const usage = (params: Record<string, string | undefined>) => api<UsageAnswer>(`/api/usage${query(params)}`);
  // What the role may not read is not asked for (a team-owner's token reads neither budgets nor discoveries).
  const readsBudgets = may(session, 'GET /api/budgets');
  const readsDiscoveries = may(session, 'GET /api/reconciliation/consumers');
  const [month, previous, previousWhole, byConsumer, byModel, recent, forecast, budgets, pending] = await Promise.all([
    usage({ from: isoHour(thisMonth), to: isoHour(to), bucket: 'month' }),
    usage({ from: isoHour(lastMonth), to: isoHour(lastMonthSamePoint), bucket: 'month' }),
    usage({ from: isoHour(lastMonth), to: isoHour(thisMonth), bucket: 'month' }),
    usage({ from: isoHour(thisMonth), to: isoHour(to), bucket: 'month', groupBy: 'consumer' }),
    usage({ from: isoHour(thisMonth), to: isoHour(to), bucket: 'month', groupBy: 'model' }),
    usage({ from: isoHour(hourFloor(now - DAY) + HOUR), to: isoHour(to), bucket: 'day', groupBy: 'resource,resourceStatus' }),
    api<Forecast>(`/api/forecast${query({ month: monthName(now) })}`),
    readsBudgets ? list<Stored<Budget>>('/api/budgets').catch(() => [] as Stored<Budget>[]) : Promise.resolve(null),
    readsDiscoveries ? api<{ items: Discovered[] }>('/api/reconciliation/consumers?status=pending&limit=1000') : Promise.resolve(null),
  ]);
  const burnDowns = (
    await Promise.all(
      (budgets ?? [])
        .filter((budget) => hasBurnDown(budget.window))
        .map((budget) =>
          api<BurnDown>(`/api/budgets/${encodeURIComponent(budget.name)}/burn-down`).then(
            (burn) => ({ burn, budget }),
            () => null,
          ),
        ),
    )
  )
    .filter((entry): entry is { burn: BurnDown; budget: Stored<Budget> } => entry !== null)
    .sort((a, b) => b.burn.usedPercent - a.burn.usedPercent);
  const unsanctioned = recent.items.filter((item) => item.group.resourceStatus === 'unsanctioned');
  return {
    from: thisMonth,
    to,
    month,
    previous,
    previousWhole,
    byConsumer,
    byModel,
    unsanctioned,
    forecast,
    burnDowns: budgets === null ? null : burnDowns,
    pending,
  };
}

function SpendChart({ by }: { by: 'team' | 'model' }) {
  const now = Date.now();
  const end = hourFloor(now) + HOUR;
  const start = Math.floor((now - 29 * DAY) / DAY) * DAY;
  const loaded = useLoad(
    () => api<UsageAnswer>(`/api/usage${query({ from: isoHour(start), to: isoHour(end), bucket: 'day', groupBy: by })}`),
    [by],
  );
  return (
    <Show loaded={loaded} what="spend per day">
      {(answer) => <SpendBars answer={answer} start={start} by={by} />}
    </Show>
  );
}

function SpendBars({ answer, start, by }: { answer: UsageAnswer; start: number; by: string }) {
  const chart = useMemo(() => {
    const days = Array.from({ length: 30 }, (_value, index) => start + index * DAY);
    // A row of no team is its own series, named as every page names it; a model is always asked for.
    const seriesName = (item: UsageItem) => (by === 'team' ? teamName(item.group.team) : groupName(item.group[by]));
    const byGroup = new Map<string, { cost: number; unpriced: number }>();
    for (const item of answer.items) {
      const group = byGroup.get(seriesName(item)) ?? { cost: 0, unpriced: 0 };
      group.cost += nanoOf(item.cost);
      group.unpriced += item.unpricedCalls;
      byGroup.set(seriesName(item), group);
    }
    // Drawn: the six that cost most, and "other" only when the rest cost something. A group that cost nothing is left
    // out when its calls were refused or failed (it spent nothing), and named "unpriced" when they were served by a model
    // without a price (its spend is not known; the chargeback's Unpriced column counts the same calls).
    const ranked = [...byGroup.entries()].filter(([, group]) => group.cost > 0).sort((a, b) => b[1].cost - a[1].cost);
    const shown = ranked.slice(0, 6).map(([name]) => name);
    const rest = ranked.slice(6);
    const unpricedOnly = [...byGroup.entries()]
      .filter(([, group]) => group.cost === 0 && group.unpriced > 0)
      .map(([name]) => name)
      .sort();
    const names = rest.length > 0 ? [...shown, 'other'] : shown;
    const values = new Map([...names, ...unpricedOnly].map((name) => [name, days.map(() => 0)]));
    const unpricedCalls = (name: string) =>
      name === 'other' ? rest.reduce((sum, [, group]) => sum + group.unpriced, 0) : byGroup.get(name)!.unpriced;
    for (const item of answer.items) {
      const name = seriesName(item);
      const index = Math.round((Date.parse(item.bucketStart) - start) / DAY);
      const row = values.get(shown.includes(name) || unpricedOnly.includes(name) ? name : 'other');
      if (row !== undefined && index >= 0 && index < days.length) row[index]! += nanoOf(item.cost) / 1e9;
    }
    return {
      x: days.map((ms) => ms / 1000),
      unpriced: unpricedOnly.reduce((sum, name) => sum + byGroup.get(name)!.unpriced, 0),
      series: [
        ...names.map((name, index) => ({
          label: name,
          color: name === 'other' ? OTHER_COLOR : seriesColor(index),
          values: values.get(name)!,
          unpricedCalls: unpricedCalls(name),
        })),
        ...unpricedOnly.map((name) => ({ label: name, color: OTHER_COLOR, values: values.get(name)!, unpricedCalls: unpricedCalls(name) })),
      ],
    };
  }, [answer, start, by]);
  if (answer.items.every((item) => nanoOf(item.cost) === 0)) {
    return chart.unpriced > 0 ? (
      <Empty title="No priced spend in the last 30 days">
        {count(chart.unpriced)} served call{chart.unpriced === 1 ? ' was' : 's were'} to models without a price (
        {chart.series.map((one) => one.label).join(', ')}): give those models a price to see their spend here.
      </Empty>
    ) : (
      <Empty title="No spend in the last 30 days">
        Send calls through the gateway (or run <code>sluice demo</code>) and they appear here within the hour.
      </Empty>
    );
  }
  return <StackedBars x={chart.x} series={chart.series} title={`Spend per day by ${by}, last 30 days`} />;
}

/**
 * A row's spend: its cost, or "unpriced" when every call it was charged for was to a model without a price (its spend is
 * not known, not $0.00); the Unpriced column counts those calls, as the chargeback's does.
 */
function TopSpend({ item }: { item: UsageItem }) {
  if (nanoOf(item.cost) === 0 && item.unpricedCalls > 0) return <span class="muted">unpriced</span>;
  return <Usd nano={nanoOf(item.cost)} />;
}

function TopTable({ title, items, dimension }: { title: string; items: UsageItem[]; dimension: string }) {
  // By spend; among rows of equal spend (rows of unpriced calls only among them), by calls.
  const ranked = [...items].sort((a, b) => nanoOf(b.cost) - nanoOf(a.cost) || b.calls - a.calls).slice(0, 5);
  return (
    <section class="card" aria-labelledby={`top-${dimension}`}>
      <h2 id={`top-${dimension}`}>{title}</h2>
      {ranked.length === 0 ? (
        <Empty title="No calls this month yet" />
      ) : (
        <div class="table-scroll">
          <table>
            <thead>
              <tr>
                <th scope="col">{dimension}</th>
                <th scope="col" class="num">
                  Calls
                </th>
                {/* Served calls of a model without a price: their cost is in no figure here, so say how many. */}
                <th scope="col" class="num">
                  Unpriced
                </th>
                <th scope="col" class="num">
                  Spend
                </th>
                <th scope="col" class="num">
                  Cache writes
                </th>
                <th scope="col" class="num">
                  Saved
                </th>
              </tr>
            </thead>
            <tbody>
              {ranked.map((item) => (
                <tr key={item.group[dimension]}>
                  <td class="name">
                    {/* A name leads to its calls in the ledger, unattributed traffic to the ledger's calls of no consumer. */}
                    {item.group[dimension] ? (
                      <a href={transactionsOf({ [dimension]: item.group[dimension] })}>{item.group[dimension]}</a>
                    ) : dimension === 'consumer' ? (
                      <a href={transactionsOf({ unattributed: 'true' })}>
                        <GroupName value={item.group[dimension]} />
                      </a>
                    ) : (
                      <GroupName value={item.group[dimension]} />
                    )}
                  </td>
                  <td class="num">{count(item.calls)}</td>
                  <td class="num">{count(item.unpricedCalls)}</td>
                  <td class="num">
                    <TopSpend item={item} />
                  </td>
                  <td class="num">{count(item.cacheWriteTokens)}</td>
                  <td class="num">
                    <Usd nano={nanoOf(item.saved)} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

export function OverviewPage({ session }: { session: Session }) {
  const [by, setBy] = useState<'team' | 'model'>('team');
  const loaded = useLoad(() => loadOverview(session), [session]);
  return (
    <>
      <h1>Overview</h1>
      <Show loaded={loaded} what="the overview">
        {(data) => {
          const month = totals(data.month.items);
          const previous = totals(data.previous.items);
          const previousWhole = totals(data.previousWhole.items);
          // Whole percents. A fall that rounds to none is 0%: Math.round(-0.2) is -0, which Intl (and toFixed) write "-0".
          const change = previous.cost === 0 ? null : Math.round(((month.cost - previous.cost) / previous.cost) * 100) || 0;
          // A team-owner's forecast is its team's: the API answers no overall figure for it, only its team's line. Before
          // any spend the API still answers one (method "no-history", every figure 0): $0.00 between $0.00 and $0.00 says
          // nothing, so it is shown as none.
          const answered =
            session.team !== null ? (data.forecast.teams.find((line) => line.team === session.team) ?? null) : data.forecast.overall;
          const overall = answered === null || (answered.method === 'no-history' && nanoOf(answered.forecast) === 0) ? null : answered;
          return (
            <>
              <p class="muted" data-testid="overview-period">
                {monthLabel(monthName(data.from))} to date: {day(new Date(data.from).toISOString())} –{' '}
                {day(new Date(data.to - 1).toISOString())} (UTC)
                {session.team === null ? '' : ` · team ${session.team}`}
              </p>
              <div class="stats">
                <Stat
                  label="Spend this month"
                  testId="overview-spend"
                  value={usd(month.cost)}
                  detail={
                    change === null
                      ? 'no spend last month by this day'
                      : `${change > 0 ? '+' : ''}${count(change)}% against last month by this day (${usd(previous.cost)})`
                  }
                />
                <Stat
                  label="Calls this month"
                  testId="overview-calls"
                  value={count(month.calls)}
                  detail={`${count(month.refused)} refused, ${count(month.failed)} failed`}
                />
                <Stat
                  label="Tokens this month"
                  testId="overview-tokens"
                  value={count(month.tokens)}
                  detail={
                    // Cache writes are input tokens priced above the input price: why cost per token can exceed list.
                    <>
                      input + output; <span data-testid="overview-cache-writes">{count(month.cacheWrites)}</span> written to prompt caches (
                      {count(month.cacheWrites1h)} for 1 hour)
                    </>
                  }
                />
                <Stat
                  label="Saved by the response cache"
                  testId="overview-saved"
                  value={usd(month.saved)}
                  detail="what its answers would have cost, not in spend"
                />
                <Stat
                  label="Month-end forecast"
                  testId="overview-forecast"
                  value={overall === null ? '—' : usd(nanoOf(overall.forecast))}
                  detail={
                    overall === null
                      ? 'no spend to project yet'
                      : overall.high === null
                        ? `range unknown: too little history to measure it; last month ${usd(previousWhole.cost)}`
                        : `80% range ${usd(nanoOf(overall.low))} – ${usd(nanoOf(overall.high))}; last month ${usd(previousWhole.cost)}`
                  }
                />
                {data.pending === null ? null : (
                  <Stat
                    label="Pending discoveries"
                    testId="overview-pending"
                    value={count(data.pending.items.length)}
                    detail={<a href="#/reconciliation">Review the queue</a>}
                  />
                )}
              </div>
              <section class="card">
                <div class="card-head">
                  <h2>Spend per day, last 30 days</h2>
                  <div class="segmented" role="group" aria-label="Stack by">
                    {(['team', 'model'] as const).map((option) => (
                      <button key={option} type="button" aria-pressed={by === option} onClick={() => setBy(option)}>
                        By {option}
                      </button>
                    ))}
                  </div>
                </div>
                <SpendChart by={by} />
              </section>
              <div class="grid-2">
                <TopTable title="Top consumers this month" items={data.byConsumer.items} dimension="consumer" />
                <TopTable title="Top models this month" items={data.byModel.items} dimension="model" />
              </div>
              <div class="grid-2">
                {data.burnDowns === null ? null : (
                  <section class="card">
                    <h2>Budgets nearest exhaustion</h2>
                    {data.burnDowns.length === 0 ? (
                      <Empty title="No budgets to show">
                        Create one under <a href="#/budgets">Budgets &amp; templates</a> to see how fast it burns.
                      </Empty>
                    ) : (
                      <ul class="plain">
                        {data.burnDowns.slice(0, 5).map(({ burn, budget }) => (
                          <li key={burn.budget} class="budget-line">
                            <div class="row-between">
                              <span>
                                {burn.budget} {budget.mode === 'monitor' ? <Badge tone="neutral">monitor</Badge> : null}
                              </span>
                              <span class="muted">
                                {burnAmount(burn, 'used')} of {burnAmount(burn, 'limit')}
                              </span>
                            </div>
                            <Bar percent={burn.usedPercent} label={`${burn.budget}: ${burn.usedPercent}% used`} />
                            <small class="muted">
                              {burn.exhausted
                                ? 'Exhausted'
                                : burn.exhaustsAt === null
                                  ? 'Not projected to run out this window'
                                  : `Projected to run out ${day(burn.exhaustsAt)}`}
                            </small>
                          </li>
                        ))}
                      </ul>
                    )}
                  </section>
                )}
                <section class="card">
                  <h2>Unsanctioned traffic, last 24 hours</h2>
                  {data.unsanctioned.length === 0 ? (
                    <Empty title="None">No calls reached an unsanctioned model in the last 24 hours.</Empty>
                  ) : (
                    <div class="table-scroll">
                      <table data-testid="unsanctioned">
                        <thead>
                          <tr>
                            <th scope="col">Resource</th>
                            <th scope="col" class="num">
                              Calls
                            </th>
                            <th scope="col" class="num">
                              Spend
                            </th>
                          </tr>
                        </thead>
                        <tbody>
                          {Object.values(
                            data.unsanctioned.reduce<Record<string, { resource: string; calls: number; cost: number }>>((sum, item) => {
                              const resource = item.group.resource ?? '';
                              const entry = sum[resource] ?? { resource, calls: 0, cost: 0 };
                              entry.calls += item.calls;
                              entry.cost += nanoOf(item.cost);
                              sum[resource] = entry;
                              return sum;
                            }, {}),
                          ).map((entry) => (
                            <tr key={entry.resource}>
                              <td>
                                <Badge tone="bad">unsanctioned</Badge> {entry.resource}
                              </td>
                              <td class="num">{count(entry.calls)}</td>
                              <td class="num">
                                <Usd nano={entry.cost} />
                              </td>
                            </tr>
                          ))}
                        </tbody>
                      </table>
                    </div>
                  )}
                </section>
              </div>
            </>
          );
        }}
      </Show>
    </>
  );
}
