// The reconciliation queue: callers and models Sluice saw but nobody declared. Assign a discovery to a consumer, create
// one for it, ignore it, or write a rule from its hints (previewing which pending discoveries the rule would resolve).
import { useState } from 'preact/hooks';
import { allPages, change, list, type Consumer, type Discovered, type DiscoveredResource, type Session, type Team } from '../api';
import { count, dateTime, NO_TEAM } from '../format';
import { Badge, Empty, may, Notice, Show, SortHeader, sortRows, useLoad, useSorting } from '../ui';

interface RuleDraft {
  cidr: string;
  keyFingerprint: string;
  userAgent: string;
  consumer: string;
  note: string;
}

function ipv4(text: string): number | null {
  const parts = text.split('.');
  if (parts.length !== 4 || parts.some((part) => !/^\d{1,3}$/.test(part) || Number(part) > 255)) return null;
  return parts.reduce((value, part) => value * 256 + Number(part), 0);
}

/** The preview of a rule, as the director matches it: every condition given holds for one of the discovery's hints. */
function ruleMatches(draft: RuleDraft, discovered: Discovered): boolean | null {
  const conditions: boolean[] = [];
  if (draft.cidr !== '') {
    const [network, bits] = draft.cidr.split('/');
    const base = ipv4(network ?? '');
    const prefix = bits === undefined ? 32 : Number(bits);
    // IPv6 networks are matched by the director; the preview covers IPv4 only.
    if (base === null || !Number.isInteger(prefix) || prefix < 0 || prefix > 32) return null;
    const size = 2 ** (32 - prefix);
    conditions.push(
      discovered.hints.ips.some((ip) => {
        const value = ipv4(ip);
        return value !== null && Math.floor(value / size) === Math.floor(base / size);
      }),
    );
  }
  if (draft.keyFingerprint !== '') conditions.push(discovered.hints.keyFingerprints.includes(draft.keyFingerprint.toLowerCase()));
  if (draft.userAgent !== '') conditions.push(discovered.hints.userAgents.some((agent) => agent.startsWith(draft.userAgent)));
  return conditions.length > 0 && conditions.every(Boolean);
}

function Hints({ discovered }: { discovered: Discovered }) {
  const rows: Array<[string, string[]]> = [
    ['Key', discovered.hints.keyFingerprints],
    ['IP', discovered.hints.ips],
    ['User agent', discovered.hints.userAgents],
    ['Host', discovered.hints.hosts],
    ['Seen by', discovered.hints.observers],
  ];
  return (
    <dl class="hints">
      {rows
        .filter(([, values]) => values.length > 0)
        .map(([label, values]) => [
          <dt key={`${label}-t`}>{label}</dt>,
          // Each value whole (an IP, a user agent read split at its hyphen is another one); the list wraps between them.
          <dd key={`${label}-d`}>
            {values.map((value, index) => (
              <span key={value} class="hint">
                {value}
                {index < values.length - 1 ? ', ' : ''}
              </span>
            ))}
          </dd>,
        ])}
    </dl>
  );
}

function Resolve({
  discovered,
  consumers,
  teams,
  pending,
  onDone,
}: {
  discovered: Discovered;
  consumers: Consumer[];
  teams: Team[];
  pending: Discovered[];
  onDone: (text: string, tone?: 'good' | 'bad') => void;
}) {
  const [mode, setMode] = useState<'assign' | 'create' | 'rule'>('assign');
  const [consumer, setConsumer] = useState(consumers[0]?.name ?? '');
  const [name, setName] = useState('');
  const [team, setTeam] = useState('');
  const [owner, setOwner] = useState('');
  const [draft, setDraft] = useState<RuleDraft>({
    cidr: '',
    keyFingerprint: discovered.hints.keyFingerprints[0] ?? '',
    userAgent: discovered.hints.keyFingerprints.length === 0 ? (discovered.hints.userAgents[0] ?? '') : '',
    consumer: consumers[0]?.name ?? '',
    note: '',
  });
  const id = discovered.id;
  const act = async (body: unknown, text: string) => {
    try {
      await change('POST', `/api/reconciliation/consumers/${id}/resolve`, body);
      onDone(text);
    } catch (failure) {
      onDone((failure as Error).message, 'bad');
    }
  };
  const saveRule = async (event: Event) => {
    event.preventDefault();
    const match = Object.fromEntries(
      Object.entries({ cidr: draft.cidr, keyFingerprint: draft.keyFingerprint, userAgent: draft.userAgent }).filter(
        ([, value]) => value !== '',
      ),
    );
    try {
      const made = await change<{ resolved: Discovered[] }>('POST', '/api/reconciliation/rules', {
        match,
        consumer: draft.consumer,
        ...(draft.note === '' ? {} : { note: draft.note }),
      });
      onDone(`Rule saved: ${made!.resolved.length} discover${made!.resolved.length === 1 ? 'y' : 'ies'} resolved to ${draft.consumer}.`);
    } catch (failure) {
      onDone((failure as Error).message, 'bad');
    }
  };
  const preview = pending.map((one) => ({ one, matches: ruleMatches(draft, one) }));
  const uncheckable = preview.some((entry) => entry.matches === null);
  const would = preview.filter((entry) => entry.matches === true).map((entry) => entry.one);
  return (
    <div class="subpanel">
      <div class="segmented" role="group" aria-label={`Resolve discovery ${id}`}>
        <button type="button" aria-pressed={mode === 'assign'} onClick={() => setMode('assign')}>
          Assign
        </button>
        <button type="button" aria-pressed={mode === 'create'} onClick={() => setMode('create')}>
          Create consumer
        </button>
        <button type="button" aria-pressed={mode === 'rule'} onClick={() => setMode('rule')}>
          Rule from hints
        </button>
        <button type="button" class="danger" onClick={() => void act({ ignore: true }, `Discovery ${id} ignored.`)}>
          Ignore
        </button>
      </div>
      {mode === 'assign' ? (
        <form
          class="inline"
          onSubmit={(event) => {
            event.preventDefault();
            void act({ consumer }, `Discovery ${id} assigned to ${consumer}; its past usage moved with it.`);
          }}
        >
          <label>
            Consumer
            <select value={consumer} onChange={(event) => setConsumer(event.currentTarget.value)} required>
              {consumers.map((one) => (
                <option key={one.name} value={one.name}>
                  {one.name}
                  {one.team === null ? '' : ` (${one.team})`}
                </option>
              ))}
            </select>
          </label>
          <button type="submit" disabled={consumer === ''}>
            Assign
          </button>
        </form>
      ) : mode === 'create' ? (
        <form
          class="inline"
          onSubmit={(event) => {
            event.preventDefault();
            void act(
              { create: { name, ...(team === '' ? {} : { team }), ...(owner === '' ? {} : { owner }) } },
              `Consumer ${name} created for discovery ${id}.`,
            );
          }}
        >
          <label>
            Name
            <input required value={name} onInput={(event) => setName(event.currentTarget.value)} />
          </label>
          <label>
            Team
            <select value={team} onChange={(event) => setTeam(event.currentTarget.value)}>
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
            <input value={owner} onInput={(event) => setOwner(event.currentTarget.value)} />
          </label>
          <button type="submit">Create and assign</button>
        </form>
      ) : (
        <form class="editor" onSubmit={saveRule}>
          <div class="fields">
            <label>
              Network (CIDR)
              <input
                value={draft.cidr}
                placeholder={discovered.hints.ips[0] === undefined ? '10.1.0.0/16' : `${discovered.hints.ips[0]}/32`}
                onInput={(event) => setDraft({ ...draft, cidr: event.currentTarget.value })}
              />
            </label>
            <label>
              Key fingerprint
              <input value={draft.keyFingerprint} onInput={(event) => setDraft({ ...draft, keyFingerprint: event.currentTarget.value })} />
            </label>
            <label>
              User agent prefix
              <input value={draft.userAgent} onInput={(event) => setDraft({ ...draft, userAgent: event.currentTarget.value })} />
            </label>
            <label>
              Consumer
              <select value={draft.consumer} onChange={(event) => setDraft({ ...draft, consumer: event.currentTarget.value })}>
                {consumers.map((one) => (
                  <option key={one.name} value={one.name}>
                    {one.name}
                  </option>
                ))}
              </select>
            </label>
            <label>
              Note
              <input value={draft.note} onInput={(event) => setDraft({ ...draft, note: event.currentTarget.value })} />
            </label>
          </div>
          <p class="preview" role="status" data-testid="rule-preview">
            {uncheckable
              ? 'The preview checks IPv4 networks only; the director matches IPv6 too.'
              : would.length === 0
                ? 'This rule would resolve no pending discovery now (it still applies to future traffic).'
                : `This rule would resolve ${would.length} pending discover${would.length === 1 ? 'y' : 'ies'}: ${would.map((one) => `#${one.id}`).join(', ')}.`}
          </p>
          <button type="submit" disabled={draft.consumer === ''}>
            Save rule
          </button>
        </form>
      )}
    </div>
  );
}

/** A discovery's value in a column, as it sorts: its number, its identity, when it was last seen, or its calls. */
function discoveredValue(one: Discovered, column: string): number | string {
  if (column === 'identity') return `${one.identity.kind} ${one.identity.value}`;
  if (column === 'seen') return Date.parse(one.lastSeenAt);
  return one[column as 'id' | 'calls'];
}

/** A discovered resource's value in a column, as it sorts: its id, when it was first or last seen, or its calls. */
function resourceValue(resource: DiscoveredResource, column: string): number | string {
  if (column === 'first') return Date.parse(resource.firstSeenAt);
  if (column === 'last') return Date.parse(resource.lastSeenAt);
  return column === 'calls' ? resource.calls : resource.id;
}

export function ReconciliationPage({ session }: { session: Session }) {
  const sorting = useSorting();
  const resourceSorting = useSorting();
  const [status, setStatus] = useState<'pending' | 'resolved' | 'ignored'>('pending');
  const [open, setOpen] = useState<number | null>(null);
  const [notice, setNotice] = useState<{ tone: 'good' | 'bad'; text: string } | null>(null);
  const writer = may(session, 'POST /api/reconciliation/consumers/{id}/resolve');
  const loaded = useLoad(
    () =>
      Promise.all([
        allPages<Discovered>('/api/reconciliation/consumers', { status }),
        status === 'pending' ? Promise.resolve(null) : allPages<Discovered>('/api/reconciliation/consumers', { status: 'pending' }),
        writer ? allPages<Consumer>('/api/consumers') : Promise.resolve([] as Consumer[]),
        writer ? list<Team>('/api/teams') : Promise.resolve([] as Team[]),
        list<DiscoveredResource>('/api/reconciliation/resources'),
      ]),
    [status, writer],
  );
  const done = (text: string, tone: 'good' | 'bad' = 'good') => {
    setNotice({ tone, text });
    if (tone === 'good') {
      setOpen(null);
      loaded.reload();
    }
  };
  const resolveResource = async (id: string, verdict: 'sanctioned' | 'unsanctioned') => {
    try {
      await change('POST', `/api/reconciliation/resources/${encodeURIComponent(id)}/resolve`, { status: verdict });
      done(`${id} marked ${verdict}.`);
    } catch (failure) {
      done((failure as Error).message, 'bad');
    }
  };
  return (
    <>
      <h1>Reconciliation</h1>
      <Notice notice={notice} />
      <section class="card">
        <div class="card-head">
          <h2>Discovered consumers</h2>
          <label class="compact">
            Show
            <select value={status} onChange={(event) => setStatus(event.currentTarget.value as typeof status)}>
              <option value="pending">pending</option>
              <option value="resolved">resolved</option>
              <option value="ignored">ignored</option>
            </select>
          </label>
        </div>
        <Show loaded={loaded} what="discoveries">
          {([items, pendingOther, consumers, teams]) =>
            items.length === 0 ? (
              <Empty title={status === 'pending' ? 'Nothing waiting' : `No ${status} discoveries`}>
                {status === 'pending'
                  ? 'Callers Sluice has no consumer for appear here when an observer reports them (POST /api/reconciliation/observations).'
                  : 'Pick another status above.'}
              </Empty>
            ) : (
              <div class="table-scroll">
                <table data-testid="discoveries">
                  <thead>
                    <tr>
                      {/* Numbered in the order discovered: the first click puts the first discovered first. */}
                      <SortHeader sorting={sorting} column="id">
                        #
                      </SortHeader>
                      <SortHeader sorting={sorting} column="identity">
                        Identity
                      </SortHeader>
                      <th scope="col">Hints</th>
                      {/* By when last seen, the latest first. */}
                      <SortHeader sorting={sorting} column="seen" descendingFirst>
                        Seen
                      </SortHeader>
                      <SortHeader sorting={sorting} column="calls" numeric>
                        Calls
                      </SortHeader>
                      <th scope="col">Status</th>
                      {writer && status !== 'ignored' ? (
                        <th scope="col">
                          <span class="sr-only">Actions</span>
                        </th>
                      ) : null}
                    </tr>
                  </thead>
                  <tbody>
                    {sortRows(items, sorting, discoveredValue).map((one) => [
                      <tr key={one.id}>
                        <td>{one.id}</td>
                        <td class="wrap">
                          <span class="muted">{one.identity.kind}</span> {one.identity.value}
                        </td>
                        <td>
                          <Hints discovered={one} />
                        </td>
                        <td>
                          <small>
                            {dateTime(one.firstSeenAt)}
                            <br />
                            to {dateTime(one.lastSeenAt)}
                          </small>
                        </td>
                        <td class="num">{count(one.calls)}</td>
                        <td>
                          {one.status === 'resolved' ? (
                            <>→ {one.consumer}</>
                          ) : (
                            <Badge tone={one.status === 'pending' ? 'warn' : 'neutral'}>{one.status}</Badge>
                          )}
                        </td>
                        {writer && status !== 'ignored' ? (
                          <td>
                            <button
                              type="button"
                              class="small"
                              aria-expanded={open === one.id}
                              onClick={() => setOpen(open === one.id ? null : one.id)}
                            >
                              {status === 'pending' ? 'Resolve' : 'Re-assign'}
                            </button>
                          </td>
                        ) : null}
                      </tr>,
                      open === one.id ? (
                        <tr key={`${one.id}-panel`} class="panel-row">
                          <td colSpan={7}>
                            <Resolve
                              discovered={one}
                              consumers={consumers}
                              teams={teams}
                              pending={status === 'pending' ? items : (pendingOther ?? [])}
                              onDone={done}
                            />
                          </td>
                        </tr>
                      ) : null,
                    ])}
                  </tbody>
                </table>
              </div>
            )
          }
        </Show>
      </section>
      <section class="card">
        <h2>Discovered resources</h2>
        <Show loaded={loaded} what="resources">
          {([, , , , resources]) =>
            resources.length === 0 ? (
              <Empty title="Every model in use has been reviewed">Models called without a status appear here.</Empty>
            ) : (
              <div class="table-scroll">
                <table data-testid="discovered-resources">
                  <thead>
                    <tr>
                      <SortHeader sorting={resourceSorting} column="id">
                        Resource
                      </SortHeader>
                      <SortHeader sorting={resourceSorting} column="first" descendingFirst>
                        First seen
                      </SortHeader>
                      <SortHeader sorting={resourceSorting} column="last" descendingFirst>
                        Last seen
                      </SortHeader>
                      <SortHeader sorting={resourceSorting} column="calls" numeric>
                        Calls
                      </SortHeader>
                      {writer ? (
                        <th scope="col">
                          <span class="sr-only">Actions</span>
                        </th>
                      ) : null}
                    </tr>
                  </thead>
                  <tbody>
                    {sortRows(resources, resourceSorting, resourceValue).map((resource) => (
                      <tr key={resource.id}>
                        <td>{resource.id}</td>
                        <td>{dateTime(resource.firstSeenAt)}</td>
                        <td>{dateTime(resource.lastSeenAt)}</td>
                        <td class="num">{count(resource.calls)}</td>
                        {writer ? (
                          <td class="actions">
                            <button type="button" class="small" onClick={() => void resolveResource(resource.id, 'sanctioned')}>
                              Sanction
                            </button>
                            <button type="button" class="small danger" onClick={() => void resolveResource(resource.id, 'unsanctioned')}>
                              Unsanction
                            </button>
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
      </section>
    </>
  );
}
