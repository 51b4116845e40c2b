// The inventory's consumers: team, owner, labels, a sparkline of their spend over 14 days and their keys; created and
// edited as the role allows.
import { useState } from 'preact/hooks';
import { allPages, api, change, list, query, type Consumer, type Session, type Team, type UsageAnswer } from '../../api';
import { Sparkline } from '../../charts';
import { count, hourFloor, isoHour, nanoOf, NO_TEAM, teamName, usd } from '../../format';
import {
  canManageConsumers,
  Empty,
  heldToTeam,
  may,
  transactionsOf,
  Notice,
  Show,
  SortHeader,
  sortRows,
  TeamName,
  Usd,
  useLoad,
  useSorting,
} from '../../ui';
import { KeysPanel } from './keys';

const DAY = 86_400_000;

function labelsText(labels: Record<string, string>): string {
  return Object.entries(labels)
    .map(([key, value]) => `${key}=${value}`)
    .join(', ');
}

function parseLabels(text: string): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const part of text
    .split(',')
    .map((one) => one.trim())
    .filter((one) => one !== '')) {
    const [key, ...rest] = part.split('=');
    labels[key!.trim()] = rest.join('=').trim();
  }
  return labels;
}

function ConsumerForm({
  session,
  teams,
  existing,
  onDone,
}: {
  session: Session;
  teams: Team[];
  existing: Consumer | null;
  onDone: (text: string) => void;
}) {
  const [name, setName] = useState(existing?.name ?? '');
  const [team, setTeam] = useState(existing?.team ?? session.team ?? '');
  const [owner, setOwner] = useState(existing?.owner ?? '');
  const [labels, setLabels] = useState(existing === null ? '' : labelsText(existing.labels));
  const [error, setError] = useState<string | null>(null);
  // A token held to its team sets neither a consumer's team nor its labels (the API keeps its consumers in its team).
  const full = !heldToTeam(session);
  const submit = async (event: Event) => {
    event.preventDefault();
    setError(null);
    try {
      if (existing === null) {
        await change('POST', '/api/consumers', {
          name,
          team: team === '' ? null : team,
          owner: owner === '' ? null : owner,
          ...(full ? { labels: parseLabels(labels) } : {}),
        });
        onDone(`Consumer ${name} created.`);
      } else {
        await change('PATCH', `/api/consumers/${encodeURIComponent(existing.name)}`, {
          owner: owner === '' ? null : owner,
          ...(full ? { team: team === '' ? null : team, labels: parseLabels(labels) } : {}),
        });
        onDone(`Consumer ${existing.name} saved.`);
      }
    } catch (failure) {
      setError((failure as Error).message);
    }
  };
  return (
    <form class="editor" onSubmit={submit} aria-label={existing === null ? 'New consumer' : `Edit ${existing.name}`}>
      <div class="fields">
        <label>
          Name
          <input required disabled={existing !== null} value={name} onInput={(event) => setName(event.currentTarget.value)} />
        </label>
        <label>
          Team
          <select value={team} disabled={!full} onChange={(event) => setTeam(event.currentTarget.value)}>
            <option value="">{NO_TEAM}</option>
            {teams.map((one) => (
              <option key={one.name} value={one.name}>
                {one.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Owner
          <input value={owner} onInput={(event) => setOwner(event.currentTarget.value)} placeholder="alice@example.com" />
        </label>
        {full ? (
          <label>
            Labels
            <input value={labels} onInput={(event) => setLabels(event.currentTarget.value)} placeholder="tier=batch, env=prod" />
          </label>
        ) : null}
      </div>
      {error === null ? null : (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <button type="submit">{existing === null ? 'Create consumer' : 'Save'}</button>
    </form>
  );
}

/** A consumer's value in a column, as it sorts: names as shown (no owner last), spend by its 14 days' total. */
function consumerValue(spend: Map<string, number>) {
  return (consumer: Consumer, column: string): number | string | null => {
    if (column === 'team') return teamName(consumer.team);
    if (column === 'owner') return consumer.owner;
    if (column === 'spend') return spend.get(consumer.name) ?? 0;
    return consumer.name;
  };
}

export function Consumers({ session }: { session: Session }) {
  const sorting = useSorting();
  const [search, setSearch] = useState('');
  const [teamFilter, setTeamFilter] = useState('');
  const [open, setOpen] = useState<{ name: string; what: 'keys' | 'edit' } | null>(null);
  const [creating, setCreating] = useState(false);
  const [notice, setNotice] = useState<{ tone: 'good' | 'bad'; text: string } | null>(null);
  const loaded = useLoad(async () => {
    const now = Date.now();
    const start = Math.floor((now - 13 * DAY) / DAY) * DAY;
    const [consumers, teams, usage] = await Promise.all([
      allPages<Consumer>('/api/consumers', session.team === null ? {} : { team: session.team }),
      list<Team>('/api/teams'),
      api<UsageAnswer>(
        `/api/usage${query({ from: isoHour(start), to: isoHour(hourFloor(now) + 3_600_000), bucket: 'day', groupBy: 'consumer' })}`,
      ),
    ]);
    const spark = new Map<string, number[]>();
    // Each consumer's spend in the 14 days, in nano-USD: what its sparkline sums up, and what the column sorts by.
    const spend = new Map<string, number>();
    for (const item of usage.items) {
      const name = item.group.consumer ?? '';
      const row = spark.get(name) ?? Array.from({ length: 14 }, () => 0);
      const index = Math.round((Date.parse(item.bucketStart) - start) / DAY);
      if (index >= 0 && index < 14) {
        row[index]! += nanoOf(item.cost) / 1e9;
        spend.set(name, (spend.get(name) ?? 0) + nanoOf(item.cost));
      }
      spark.set(name, row);
    }
    return { consumers, teams, spark, spend };
  }, [session.role]);
  const done = (text: string) => {
    setNotice({ tone: 'good', text });
    setCreating(false);
    setOpen(null);
    loaded.reload();
  };
  const mayCreate = may(session, 'POST /api/consumers');
  return (
    <Show loaded={loaded} what="consumers">
      {({ consumers, teams, spark, spend }) => {
        const shown = consumers.filter(
          (consumer) =>
            (teamFilter === '' || consumer.team === teamFilter) &&
            (search === '' ||
              `${consumer.name} ${consumer.owner ?? ''} ${labelsText(consumer.labels)}`.toLowerCase().includes(search.toLowerCase())),
        );
        return (
          <>
            <div class="toolbar">
              <label>
                Search
                <input
                  type="search"
                  value={search}
                  onInput={(event) => setSearch(event.currentTarget.value)}
                  placeholder="name, owner or label"
                />
              </label>
              <label>
                Team
                <select value={teamFilter} onChange={(event) => setTeamFilter(event.currentTarget.value)}>
                  <option value="">All teams</option>
                  {teams.map((team) => (
                    <option key={team.name} value={team.name}>
                      {team.name}
                    </option>
                  ))}
                </select>
              </label>
              {mayCreate ? (
                <button type="button" onClick={() => setCreating(!creating)} aria-expanded={creating}>
                  New consumer
                </button>
              ) : null}
            </div>
            <Notice notice={notice} />
            {creating ? <ConsumerForm session={session} teams={teams} existing={null} onDone={done} /> : null}
            {shown.length === 0 ? (
              <Empty title={consumers.length === 0 ? 'No consumers yet' : 'No consumer matches'}>
                {consumers.length === 0
                  ? 'Create one with "New consumer", declare them in sluice.yaml, or resolve a discovery.'
                  : 'Clear the search or the team filter.'}
              </Empty>
            ) : (
              <div class="table-scroll">
                <table data-testid="consumers">
                  <thead>
                    <tr>
                      <SortHeader sorting={sorting} column="name">
                        Consumer
                      </SortHeader>
                      <SortHeader sorting={sorting} column="team">
                        Team
                      </SortHeader>
                      <SortHeader sorting={sorting} column="owner">
                        Owner
                      </SortHeader>
                      <th scope="col">Labels</th>
                      <SortHeader sorting={sorting} column="spend" descendingFirst>
                        Spend, 14 days
                      </SortHeader>
                      <th scope="col">
                        <span class="sr-only">Actions</span>
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    {sortRows(shown, sorting, consumerValue(spend)).map((consumer) => {
                      const values = spark.get(consumer.name) ?? Array.from({ length: 14 }, () => 0);
                      const total = spend.get(consumer.name) ?? 0;
                      const editable = canManageConsumers(session, consumer.team);
                      return [
                        <tr key={consumer.name}>
                          <td>
                            <strong>{consumer.name}</strong>
                          </td>
                          <td>
                            <TeamName team={consumer.team} />
                          </td>
                          <td>{consumer.owner ?? <span class="muted">none</span>}</td>
                          <td>
                            {Object.keys(consumer.labels).length === 0 ? (
                              <span class="muted">none</span>
                            ) : (
                              Object.entries(consumer.labels).map(([key, value]) => (
                                <span key={key} class="tag">
                                  {key}={value}
                                </span>
                              ))
                            )}
                          </td>
                          <td class="spark-cell">
                            <Sparkline values={values} label={`${consumer.name}: ${usd(total)} in 14 days`} />{' '}
                            <span class="muted">
                              <Usd nano={total} />
                            </span>
                          </td>
                          <td class="actions">
                            <a
                              class="small-link"
                              href={transactionsOf({ consumer: consumer.name })}
                              aria-label={`Transactions of ${consumer.name}`}
                            >
                              Transactions
                            </a>{' '}
                            <button
                              type="button"
                              class="small"
                              aria-expanded={open?.name === consumer.name && open.what === 'keys'}
                              onClick={() =>
                                setOpen(open?.name === consumer.name && open.what === 'keys' ? null : { name: consumer.name, what: 'keys' })
                              }
                            >
                              Keys
                            </button>
                            {editable ? (
                              <button
                                type="button"
                                class="small"
                                aria-expanded={open?.name === consumer.name && open.what === 'edit'}
                                onClick={() =>
                                  setOpen(
                                    open?.name === consumer.name && open.what === 'edit' ? null : { name: consumer.name, what: 'edit' },
                                  )
                                }
                              >
                                Edit
                              </button>
                            ) : null}
                          </td>
                        </tr>,
                        open?.name === consumer.name ? (
                          <tr key={`${consumer.name}-panel`} class="panel-row">
                            <td colSpan={6}>
                              {open.what === 'keys' ? (
                                <KeysPanel consumer={consumer.name} editable={editable} />
                              ) : (
                                <ConsumerForm session={session} teams={teams} existing={consumer} onDone={done} />
                              )}
                            </td>
                          </tr>
                        ) : null,
                      ];
                    })}
                  </tbody>
                </table>
              </div>
            )}
            <p class="muted">
              {count(shown.length)} of {count(consumers.length)} consumers.
            </p>
          </>
        );
      }}
    </Show>
  );
}
