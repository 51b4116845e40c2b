// Who and what is in use: consumers (team, owner, labels, keys, a sparkline of their spend), teams, providers with
// their models, and resources with their review status and who calls them. Create and edit as the role allows.
import { useMemo, useState } from 'preact/hooks';
import {
  allPages,
  api,
  change,
  list,
  query,
  type Consumer,
  type ConsumerKey,
  type Resource,
  type Session,
  type Team,
  type UsageAnswer,
} from '../api';
import { Sparkline } from '../charts';
import { count, dateTime, hourFloor, isoHour, NO_TEAM, usd } from '../format';
import { perTarget, perUsePrices, tokenPrices, type TargetPrice } from '../prices';
import { Badge, canManageConsumers, canWrite, Empty, Notice, Show, TeamName, useLoad } from '../ui';

const DAY = 86_400_000;
type Tab = 'consumers' | 'teams' | 'providers' | 'resources';

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

function KeysPanel({ consumer, editable }: { consumer: string; editable: boolean }) {
  const keys = useLoad(() => list<ConsumerKey>(`/api/consumers/${encodeURIComponent(consumer)}/keys`), [consumer]);
  const [name, setName] = useState('');
  const [secret, setSecret] = useState<string | null>(null);
  const [copied, setCopied] = useState(false);
  const [notice, setNotice] = useState<{ tone: 'good' | 'bad'; text: string } | null>(null);
  const create = async (event: Event) => {
    event.preventDefault();
    try {
      const made = await change<{ plaintext: string }>('POST', `/api/consumers/${encodeURIComponent(consumer)}/keys`, { name });
      setSecret(made!.plaintext);
      setCopied(false);
      setName('');
      keys.reload();
    } catch (failure) {
      setNotice({ tone: 'bad', text: (failure as Error).message });
    }
  };
  const revoke = async (key: ConsumerKey) => {
    try {
      await change('POST', `/api/consumers/${encodeURIComponent(consumer)}/keys/${encodeURIComponent(key.id)}/revoke`);
      setNotice({ tone: 'good', text: `Key ${key.name} revoked.` });
      keys.reload();
    } catch (failure) {
      setNotice({ tone: 'bad', text: (failure as Error).message });
    }
  };
  return (
    <div class="subpanel">
      <h3>Keys of {consumer}</h3>
      {secret === null ? null : (
        <div class="secret" role="status">
          <p>The new key, shown this once: copy it now.</p>
          <code data-testid="new-key">{secret}</code>
          <button
            type="button"
            onClick={() => {
              void navigator.clipboard?.writeText(secret).then(() => setCopied(true));
            }}
          >
            {copied ? 'Copied' : 'Copy'}
          </button>
        </div>
      )}
      <Notice notice={notice} />
      <Show loaded={keys} what="keys">
        {(list) =>
          list.length === 0 ? (
            <Empty title="No keys">{editable ? 'Create one below.' : 'An admin or the team owner can create one.'}</Empty>
          ) : (
            <div class="table-scroll">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Name</th>
                    <th scope="col">Prefix</th>
                    <th scope="col">Created</th>
                    <th scope="col">Last used</th>
                    <th scope="col">State</th>
                    {editable ? (
                      <th scope="col">
                        <span class="sr-only">Actions</span>
                      </th>
                    ) : null}
                  </tr>
                </thead>
                <tbody>
                  {list.map((key) => (
                    <tr key={key.id}>
                      <td>{key.name}</td>
                      <td>
                        <code>{key.prefix}…</code>
                      </td>
                      <td>{dateTime(key.createdAt)}</td>
                      <td>{dateTime(key.lastUsedAt)}</td>
                      <td>{key.revokedAt !== null ? <Badge tone="bad">revoked</Badge> : <Badge tone="good">active</Badge>}</td>
                      {editable ? (
                        <td>
                          {key.revokedAt === null ? (
                            <button type="button" class="small danger" onClick={() => void revoke(key)}>
                              Revoke
                            </button>
                          ) : null}
                        </td>
                      ) : null}
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )
        }
      </Show>
      {editable ? (
        <form class="inline" onSubmit={create}>
          <label for={`key-name-${consumer}`}>New key name</label>
          <input
            id={`key-name-${consumer}`}
            required
            value={name}
            onInput={(event) => setName(event.currentTarget.value)}
            placeholder="prod"
          />
          <button type="submit">Create key</button>
        </form>
      ) : null}
    </div>
  );
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
  const [team, setTeam] = useState(existing?.team ?? (session.role === 'team-owner' ? (session.team ?? '') : ''));
  const [owner, setOwner] = useState(existing?.owner ?? '');
  const [labels, setLabels] = useState(existing === null ? '' : labelsText(existing.labels));
  const [error, setError] = useState<string | null>(null);
  const full = canWrite(session);
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

function Consumers({ session }: { session: Session }) {
  const [search, setSearch] = useState('');
  const [teamFilter, setTeamFilter] = useState('');
  const [open, setOpen] = useState<{ name: string; what: 'keys' | 'edit' } | null>(null);
  const [creating, setCreating] = useState(false);
  const [notice, setNotice] = useState<{ tone: 'good' | 'bad'; text: string } | null>(null);
  const loaded = useLoad(async () => {
    const now = Date.now();
    const start = Math.floor((now - 13 * DAY) / DAY) * DAY;
    const [consumers, teams, usage] = await Promise.all([
      allPages<Consumer>('/api/consumers', session.role === 'team-owner' ? { team: session.team ?? '' } : {}),
      list<Team>('/api/teams'),
      api<UsageAnswer>(
        `/api/usage${query({ from: isoHour(start), to: isoHour(hourFloor(now) + 3_600_000), bucket: 'day', groupBy: 'consumer' })}`,
      ),
    ]);
    const spark = new Map<string, number[]>();
    for (const item of usage.items) {
      const row = spark.get(item.group.consumer ?? '') ?? Array.from({ length: 14 }, () => 0);
      const index = Math.round((Date.parse(item.bucketStart) - start) / DAY);
      if (index >= 0 && index < 14) row[index]! += item.cost.microUsd / 1e6;
      spark.set(item.group.consumer ?? '', row);
    }
    return { consumers, teams, spark };
  }, [session.role]);
  const done = (text: string) => {
    setNotice({ tone: 'good', text });
    setCreating(false);
    setOpen(null);
    loaded.reload();
  };
  const mayCreate = canWrite(session) || session.role === 'team-owner';
  return (
    <Show loaded={loaded} what="consumers">
      {({ consumers, teams, spark }) => {
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
                <table>
                  <thead>
                    <tr>
                      <th scope="col">Consumer</th>
                      <th scope="col">Team</th>
                      <th scope="col">Owner</th>
                      <th scope="col">Labels</th>
                      <th scope="col">Spend, 14 days</th>
                      <th scope="col">
                        <span class="sr-only">Actions</span>
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    {shown.map((consumer) => {
                      const values = spark.get(consumer.name) ?? Array.from({ length: 14 }, () => 0);
                      const total = values.reduce((sum, value) => sum + value, 0);
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
                            <Sparkline values={values} label={`${consumer.name}: ${usd(Math.round(total * 1e6))} in 14 days`} />{' '}
                            <span class="muted">{usd(Math.round(total * 1e6))}</span>
                          </td>
                          <td class="actions">
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

function Teams({ session }: { session: Session }) {
  const loaded = useLoad(
    () =>
      Promise.all([
        list<Team>('/api/teams'),
        allPages<Consumer>('/api/consumers', session.role === 'team-owner' ? { team: session.team ?? '' } : {}),
      ]),
    [],
  );
  const [name, setName] = useState('');
  const [owner, setOwner] = useState('');
  const [notice, setNotice] = useState<{ tone: 'good' | 'bad'; text: string } | null>(null);
  const create = async (event: Event) => {
    event.preventDefault();
    try {
      await change('POST', '/api/teams', { name, owner });
      setNotice({ tone: 'good', text: `Team ${name} created.` });
      setName('');
      setOwner('');
      loaded.reload();
    } catch (failure) {
      setNotice({ tone: 'bad', text: (failure as Error).message });
    }
  };
  return (
    <>
      <Notice notice={notice} />
      {canWrite(session) ? (
        <form class="inline" onSubmit={create} aria-label="New team">
          <label>
            Team name
            <input required value={name} onInput={(event) => setName(event.currentTarget.value)} />
          </label>
          <label>
            Owner
            <input required value={owner} onInput={(event) => setOwner(event.currentTarget.value)} placeholder="alice@example.com" />
          </label>
          <button type="submit">Create team</button>
        </form>
      ) : null}
      <Show loaded={loaded} what="teams">
        {([teams, consumers]) =>
          teams.length === 0 ? (
            <Empty title="No teams yet">{canWrite(session) ? 'Create one above.' : 'An admin or operator creates teams.'}</Empty>
          ) : (
            <div class="table-scroll">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Team</th>
                    <th scope="col">Owner</th>
                    <th scope="col" class="num">
                      Consumers
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {teams.map((team) => (
                    <tr key={team.name}>
                      <td>{team.name}</td>
                      <td>{team.owner}</td>
                      <td class="num">{consumers.filter((one) => one.team === team.name).length}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )
        }
      </Show>
    </>
  );
}

interface ProviderView {
  name: string;
  type: string;
  baseUrl?: string;
  credentials: string[];
}
interface ModelView {
  name: string;
  targets: Array<{ provider: string; model: string }>;
  /** Each target's prices as the gateway charges them (absent from a director before they were answered). */
  prices?: TargetPrice[];
}

function Providers() {
  const loaded = useLoad(() => Promise.all([list<ProviderView>('/api/providers'), list<ModelView>('/api/models')]), []);
  return (
    <Show loaded={loaded} what="providers">
      {([providers, models]) => (
        <>
          {/* Each in a card, as a page's second-level sections are elsewhere: a heading flush under a table reads as its row. */}
          <section class="card" aria-labelledby="providers-heading">
            <h2 id="providers-heading">Providers</h2>
            {providers.length === 0 ? (
              <Empty title="No providers">Declare one in sluice.yaml or with POST /api/providers (admin).</Empty>
            ) : (
              <div class="table-scroll">
                <table>
                  <thead>
                    <tr>
                      <th scope="col">Provider</th>
                      <th scope="col">Type</th>
                      <th scope="col">Base URL</th>
                      <th scope="col">Credentials</th>
                      <th scope="col">Models routed to it</th>
                    </tr>
                  </thead>
                  <tbody>
                    {providers.map((provider) => (
                      <tr key={provider.name}>
                        <td>{provider.name}</td>
                        <td>{provider.type}</td>
                        <td class="wrap">
                          <code>{provider.baseUrl ?? '—'}</code>
                        </td>
                        <td>{provider.credentials.length === 0 ? <span class="muted">none</span> : provider.credentials.join(', ')}</td>
                        <td class="wrap">
                          {models
                            .filter((model) => model.targets.some((target) => target.provider === provider.name))
                            .map((model) => model.name)
                            .join(', ') || <span class="muted">none</span>}
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </section>
          <section class="card" aria-labelledby="models-heading">
            <h2 id="models-heading">Models</h2>
            {models.length === 0 ? (
              <Empty title="No models">Models are routes to provider models: declare them in sluice.yaml.</Empty>
            ) : (
              <div class="table-scroll">
                <table>
                  <thead>
                    <tr>
                      <th scope="col">Model</th>
                      <th scope="col">Targets, in order</th>
                      <th scope="col">Price</th>
                      <th scope="col">Per use</th>
                    </tr>
                  </thead>
                  <tbody>
                    {models.map((model) => (
                      <tr key={model.name}>
                        <td>{model.name}</td>
                        <td>{model.targets.map((target) => `${target.provider}/${target.model}`).join(' → ')}</td>
                        <td class="wrap">{perTarget(model.prices, tokenPrices)}</td>
                        <td class="wrap">{perTarget(model.prices, perUsePrices) || <span class="muted">none</span>}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </section>
        </>
      )}
    </Show>
  );
}

function Resources({ session }: { session: Session }) {
  const loaded = useLoad(async () => {
    const now = Date.now();
    const [resources, usage] = await Promise.all([
      list<Resource>('/api/resources'),
      api<UsageAnswer>(
        `/api/usage${query({ from: isoHour(hourFloor(now) + 3_600_000 - 30 * DAY), to: isoHour(hourFloor(now) + 3_600_000), bucket: 'month', groupBy: 'resource,consumer,resourceStatus' })}`,
      ),
    ]);
    // `unattributed`: calls of no declared consumer (observed traffic of undeclared callers) reached the resource.
    const rows = new Map<
      string,
      { status: string; note: string | null; calls: number; cost: number; consumers: Set<string>; unattributed: boolean }
    >();
    for (const resource of resources)
      rows.set(resource.id, {
        status: resource.status,
        note: resource.note,
        calls: 0,
        cost: 0,
        consumers: new Set(),
        unattributed: false,
      });
    for (const item of usage.items) {
      const id = item.group.resource ?? '';
      if (id === '' || id === '/') continue;
      const row = rows.get(id) ?? {
        status: item.group.resourceStatus || 'unreviewed',
        note: null,
        calls: 0,
        cost: 0,
        consumers: new Set<string>(),
        unattributed: false,
      };
      row.calls += item.calls;
      row.cost += item.cost.microUsd;
      if (item.group.consumer) row.consumers.add(item.group.consumer);
      else if (item.calls > 0) row.unattributed = true;
      rows.set(id, row);
    }
    return [...rows.entries()].sort((a, b) => a[0].localeCompare(b[0]));
  }, []);
  const [notice, setNotice] = useState<{ tone: 'good' | 'bad'; text: string } | null>(null);
  const setStatus = async (id: string, status: string) => {
    try {
      await change('PUT', `/api/resources/${encodeURIComponent(id)}`, { status });
      setNotice({ tone: 'good', text: `${id} is now ${status}.` });
      loaded.reload();
    } catch (failure) {
      setNotice({ tone: 'bad', text: (failure as Error).message });
    }
  };
  return (
    <>
      <Notice notice={notice} />
      <Show loaded={loaded} what="resources">
        {(rows) =>
          rows.length === 0 ? (
            <Empty title="No resources seen yet">Every provider/model the gateway routes to appears here after its first call.</Empty>
          ) : (
            <div class="table-scroll">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Resource</th>
                    <th scope="col">Status</th>
                    <th scope="col" class="num">
                      Calls, 30 days
                    </th>
                    <th scope="col" class="num">
                      Spend
                    </th>
                    <th scope="col">Used by</th>
                  </tr>
                </thead>
                <tbody>
                  {rows.map(([id, row]) => (
                    <tr key={id}>
                      <td>{id}</td>
                      <td>
                        {canWrite(session) ? (
                          <select
                            aria-label={`Status of ${id}`}
                            value={row.status}
                            onChange={(event) => void setStatus(id, event.currentTarget.value)}
                          >
                            {['sanctioned', 'unsanctioned', 'unreviewed'].map((status) => (
                              <option key={status} value={status}>
                                {status}
                              </option>
                            ))}
                          </select>
                        ) : (
                          <Badge tone={row.status === 'sanctioned' ? 'good' : row.status === 'unsanctioned' ? 'bad' : 'warn'}>
                            {row.status}
                          </Badge>
                        )}
                        {row.note === null ? null : <small class="muted"> {row.note}</small>}
                      </td>
                      <td class="num">{count(row.calls)}</td>
                      <td class="num">{usd(row.cost)}</td>
                      <td class="wrap">
                        {[...row.consumers].sort().join(', ')}
                        {row.unattributed ? (
                          <span class="muted">
                            {row.consumers.size > 0 ? ', ' : ''}
                            <a href="#/reconciliation">unattributed callers</a>
                          </span>
                        ) : row.consumers.size === 0 ? (
                          <span class="muted">nobody</span>
                        ) : null}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )
        }
      </Show>
    </>
  );
}

export function InventoryPage({ session }: { session: Session }) {
  const [tab, setTab] = useState<Tab>('consumers');
  const tabs = useMemo(
    () =>
      [
        ['consumers', 'Consumers'],
        ['teams', 'Teams'],
        ...(session.role === 'team-owner'
          ? []
          : [
              ['providers', 'Providers & models'],
              ['resources', 'Resources'],
            ]),
      ] as Array<[Tab, string]>,
    [session.role],
  );
  return (
    <>
      <h1>Inventory</h1>
      <div class="tabs" role="tablist" aria-label="Inventory">
        {tabs.map(([id, label]) => (
          <button
            key={id}
            type="button"
            role="tab"
            id={`tab-${id}`}
            aria-selected={tab === id}
            aria-controls={`panel-${id}`}
            onClick={() => setTab(id)}
          >
            {label}
          </button>
        ))}
      </div>
      <section role="tabpanel" id={`panel-${tab}`} aria-labelledby={`tab-${tab}`}>
        {tab === 'consumers' ? (
          <Consumers session={session} />
        ) : tab === 'teams' ? (
          <Teams session={session} />
        ) : tab === 'providers' ? (
          <Providers />
        ) : (
          <Resources session={session} />
        )}
      </section>
    </>
  );
}
