// Chargeback per team for a month, with its CSV, and the cost drivers that moved most against the previous period.
import { useState } from 'preact/hooks';
import { api, download, query, type ChargebackLine, type Money, type Session } from '../api';
import { count, groupName, monthLabel, monthName, monthStart, nanoOf, teamName } from '../format';
import { Empty, GroupName, heldToTeam, Notice, Show, SortHeader, sortRows, TeamName, Usd, useLoad, useSorting } from '../ui';

interface Chargeback {
  period: string;
  items: ChargebackLine[];
  total: Omit<ChargebackLine, 'team'>;
}
interface Driver {
  group: Record<string, string>;
  current: Money;
  previous: Money;
  delta: Money;
  currentCalls: number;
  previousCalls: number;
}
interface Drivers {
  items: Driver[];
}

/**
 * The chargeback's columns, in order: what each header says and sorts by. Unpriced: served calls of a model without a
 * price, whose cost is in no figure here, so the table says how many.
 */
const CHARGEBACK_COLUMNS = [
  ['team', 'Team'],
  ['calls', 'Calls'],
  ['inputTokens', 'Input tokens'],
  ['outputTokens', 'Output tokens'],
  ['unpricedCalls', 'Unpriced'],
  ['refusedCalls', 'Refused'],
  ['failedCalls', 'Failed'],
  ['cacheWriteTokens', 'Cache writes'],
  ['cacheWrite1hTokens', '1-hour writes'],
  ['cost', 'Cost'],
  ['saved', 'Saved'],
] as const;

/** A chargeback line's value in a column, as it sorts: a team by its shown name, money by nano-USD. */
function chargebackValue(line: ChargebackLine, column: string): number | string {
  if (column === 'team') return teamName(line.team);
  if (column === 'cost' || column === 'saved') return nanoOf(line[column]);
  return line[column as 'calls'];
}

/** A cost driver's value in a column, as it sorts: its group by its shown name, money by nano-USD. */
function driverValue(groupBy: string) {
  return (driver: Driver, column: string): number | string => {
    if (column === 'group') return groupBy === 'team' ? teamName(driver.group.team) : groupName(driver.group[groupBy]);
    return nanoOf(driver[column as 'previous' | 'current' | 'delta']);
  };
}

export function ReportsPage({ session }: { session: Session }) {
  const sorting = useSorting();
  const driverSorting = useSorting();
  const now = Date.now();
  const months = Array.from({ length: 6 }, (_value, index) => monthName(monthStart(now, -index)));
  const [period, setPeriod] = useState(months[0]!);
  // A team-owner's drivers are of its one team: by consumer or model, never by team.
  const [groupBy, setGroupBy] = useState(heldToTeam(session) ? 'consumer' : 'team');
  const [notice, setNotice] = useState<{ tone: 'good' | 'bad'; text: string } | null>(null);
  const chargeback = useLoad(() => api<Chargeback>(`/api/reports/chargeback${query({ period })}`), [period]);
  const drivers = useLoad(() => api<Drivers>(`/api/usage/top-drivers${query({ groupBy, limit: 10 })}`), [groupBy]);
  const save = async () => {
    try {
      const blob = await download(`/api/reports/chargeback${query({ period, format: 'csv' })}`);
      const url = URL.createObjectURL(blob);
      const link = document.createElement('a');
      link.href = url;
      link.download = `sluice-chargeback-${period}.csv`;
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
      setNotice({ tone: 'good', text: `Downloaded sluice-chargeback-${period}.csv.` });
    } catch (failure) {
      setNotice({ tone: 'bad', text: (failure as Error).message });
    }
  };
  return (
    <>
      <h1>Reports</h1>
      <Notice notice={notice} />
      <section class="card">
        <div class="card-head">
          <h2>Chargeback by team</h2>
          <div class="toolbar">
            <label class="compact">
              Month
              <select value={period} onChange={(event) => setPeriod(event.currentTarget.value)}>
                {months.map((month) => (
                  <option key={month} value={month}>
                    {monthLabel(month)}
                  </option>
                ))}
              </select>
            </label>
            <button type="button" onClick={() => void save()}>
              Download CSV
            </button>
          </div>
        </div>
        <Show loaded={chargeback} what="the chargeback">
          {(report) =>
            report.items.length === 0 ? (
              <Empty title={`No usage in ${monthLabel(report.period)}`}>
                Pick another month; teams appear once their consumers make calls.
              </Empty>
            ) : (
              <div class="table-scroll">
                <table data-testid="chargeback">
                  <thead>
                    <tr>
                      {CHARGEBACK_COLUMNS.map(([column, label]) => (
                        <SortHeader key={column} sorting={sorting} column={column} numeric={column !== 'team'}>
                          {label}
                        </SortHeader>
                      ))}
                    </tr>
                  </thead>
                  <tbody>
                    {sortRows(report.items, sorting, chargebackValue).map((line) => (
                      <tr key={line.team}>
                        <td>
                          <TeamName team={line.team} />
                        </td>
                        <td class="num">{count(line.calls)}</td>
                        <td class="num">{count(line.inputTokens)}</td>
                        <td class="num">{count(line.outputTokens)}</td>
                        <td class="num">{count(line.unpricedCalls)}</td>
                        <td class="num">{count(line.refusedCalls)}</td>
                        <td class="num">{count(line.failedCalls)}</td>
                        <td class="num">{count(line.cacheWriteTokens)}</td>
                        <td class="num">{count(line.cacheWrite1hTokens)}</td>
                        <td class="num">
                          <Usd nano={nanoOf(line.cost)} />
                        </td>
                        <td class="num">
                          <Usd nano={nanoOf(line.saved)} />
                        </td>
                      </tr>
                    ))}
                  </tbody>
                  <tfoot>
                    <tr>
                      <th scope="row">Total</th>
                      <td class="num">{count(report.total.calls)}</td>
                      <td class="num">{count(report.total.inputTokens)}</td>
                      <td class="num">{count(report.total.outputTokens)}</td>
                      <td class="num">{count(report.total.unpricedCalls)}</td>
                      <td class="num">{count(report.total.refusedCalls)}</td>
                      <td class="num">{count(report.total.failedCalls)}</td>
                      <td class="num">{count(report.total.cacheWriteTokens)}</td>
                      <td class="num">{count(report.total.cacheWrite1hTokens)}</td>
                      <td class="num">
                        <Usd nano={nanoOf(report.total.cost)} />
                      </td>
                      <td class="num">
                        <Usd nano={nanoOf(report.total.saved)} />
                      </td>
                    </tr>
                  </tfoot>
                </table>
              </div>
            )
          }
        </Show>
      </section>
      <section class="card">
        <div class="card-head">
          <h2>Top cost drivers, last 30 days against the 30 before</h2>
          <label class="compact">
            By
            <select value={groupBy} onChange={(event) => setGroupBy(event.currentTarget.value)}>
              {(heldToTeam(session) ? ['consumer', 'model'] : ['team', 'consumer', 'model', 'provider']).map((option) => (
                <option key={option} value={option}>
                  {option}
                </option>
              ))}
            </select>
          </label>
        </div>
        <Show loaded={drivers} what="cost drivers">
          {(answer) =>
            answer.items.length === 0 ? (
              <Empty title="No spend in either period" />
            ) : (
              <div class="table-scroll">
                <table data-testid="drivers">
                  <thead>
                    <tr>
                      <SortHeader sorting={driverSorting} column="group">
                        {groupBy}
                      </SortHeader>
                      <SortHeader sorting={driverSorting} column="previous" numeric>
                        Previous
                      </SortHeader>
                      <SortHeader sorting={driverSorting} column="current" numeric>
                        Current
                      </SortHeader>
                      <SortHeader sorting={driverSorting} column="delta" numeric>
                        Change
                      </SortHeader>
                    </tr>
                  </thead>
                  <tbody>
                    {sortRows(answer.items, driverSorting, driverValue(groupBy)).map((item) => (
                      <tr key={JSON.stringify(item.group)}>
                        <td>{groupBy === 'team' ? <TeamName team={item.group.team} /> : <GroupName value={item.group[groupBy]} />}</td>
                        <td class="num">
                          <Usd nano={nanoOf(item.previous)} />
                        </td>
                        <td class="num">
                          <Usd nano={nanoOf(item.current)} />
                        </td>
                        {/* A rise in red, a fall in green; no change is neither (it read as a fall). */}
                        <td class={`num ${nanoOf(item.delta) > 0 ? 'up' : nanoOf(item.delta) < 0 ? 'down' : ''}`}>
                          {nanoOf(item.delta) > 0 ? '+' : ''}
                          <Usd nano={nanoOf(item.delta)} />
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )
          }
        </Show>
      </section>
    </>
  );
}
