// The ledger, one call per row, filterable, sorted by the API (time, cost, latency, tokens) and paged by keyset ("Show
// more"); a call's detail page.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, query, type Session, type Transaction } from '../api';
import { count, dateTime, ms, nanoOf, teamName, UNATTRIBUTED } from '../format';
import { Badge, Empty, heldToTeam, listingSorting, Show, SortHeader, TeamName, transactionsOf, Usd, useLoad } from '../ui';

interface Filters {
  consumer: string;
  team: string;
  model: string;
  provider: string;
  outcome: string;
  /** 'true': only calls of no consumer (observed traffic reconciliation has not attributed); '' every call. */
  unattributed: string;
  from: string;
  to: string;
  /** The API's order, kept in the address with the filters: '' the default (time, newest first). */
  sort: string;
  order: string;
}
const NO_FILTERS: Filters = {
  consumer: '',
  team: '',
  model: '',
  provider: '',
  outcome: '',
  unattributed: '',
  from: '',
  to: '',
  sort: '',
  order: '',
};

/** What the footer says of the order shown: [descending, ascending]. */
const ORDER_TEXT: Record<string, [string, string]> = {
  time: ['newest first', 'oldest first'],
  cost: ['most expensive first, calls of no cost last', 'cheapest first, calls of no cost last'],
  latency: ['slowest first, observed calls last', 'fastest first, observed calls last'],
  total_tokens: ['most tokens first', 'fewest tokens first'],
};

function outcomeBadge(transaction: Transaction) {
  const tone = transaction.outcome === 'served' ? 'good' : transaction.outcome === 'refused' ? 'warn' : 'bad';
  return (
    <Badge tone={tone}>
      {transaction.outcome} {transaction.status}
    </Badge>
  );
}

/**
 * What a call cost. A refused or failed call has no cost and is not "unpriced": the ledger's unpriced calls are served
 * calls of a model without a price, and a FinOps reader takes "unpriced" for spend the reports leave out.
 */
function costText(transaction: Transaction) {
  if (transaction.cost !== null) return <Usd nano={nanoOf(transaction.cost)} />;
  return transaction.outcome === 'served' ? <span class="muted">unpriced</span> : <span class="muted">—</span>;
}

/** A datetime-local value (taken as UTC) to an ISO time the API accepts. */
function isoOf(local: string): string | undefined {
  return local === '' ? undefined : `${local.length === 16 ? `${local}:00` : local}Z`;
}

/** The filters a page's address holds (`#/transactions?consumer=checkout`), so a link, a bookmark and Back keep them. */
function filtersOf(params: URLSearchParams): Filters {
  const filters = { ...NO_FILTERS };
  for (const name of Object.keys(NO_FILTERS) as Array<keyof Filters>) filters[name] = params.get(name) ?? '';
  return filters;
}

/** Applies filters by putting them in the address: the page follows it (and Back returns to the filters before). */
function navigateTo(filters: Filters): void {
  const set = Object.entries(filters).filter(([, value]) => value !== '');
  window.location.hash = `#/transactions${set.length === 0 ? '' : `?${new URLSearchParams(set).toString()}`}`;
}

/** The list's address as last shown (its filters): where a transaction's "← Transactions" returns. */
let listAddress = '#/transactions';

export function TransactionsPage({ session, params }: { session: Session; params: URLSearchParams }) {
  const addressed = params.toString();
  listAddress = `#/transactions${addressed === '' ? '' : `?${addressed}`}`;
  const [draft, setDraft] = useState<Filters>(() => filtersOf(params));
  const [filters, setFilters] = useState<Filters>(() => filtersOf(params));
  useEffect(() => {
    const next = filtersOf(new URLSearchParams(addressed));
    setDraft(next);
    setFilters((current) => (JSON.stringify(current) === JSON.stringify(next) ? current : next));
  }, [addressed]);
  const [rows, setRows] = useState<Transaction[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  // Only the latest load's answer is shown: an earlier one landing after it would be another filter's rows.
  const latest = useRef(0);
  const load = async (after: string | null) => {
    const ticket = ++latest.current;
    setLoading(true);
    try {
      const page = await api<{ items: Transaction[]; nextCursor: string | null }>(
        `/api/transactions${query({
          consumer: filters.consumer,
          team: filters.team,
          model: filters.model,
          provider: filters.provider,
          outcome: filters.outcome,
          unattributed: filters.unattributed,
          from: isoOf(filters.from),
          to: isoOf(filters.to),
          sort: filters.sort,
          order: filters.order,
          limit: 50,
          cursor: after ?? undefined,
        })}`,
      );
      if (ticket !== latest.current) return;
      setRows((previous) => (after === null ? page.items : [...previous, ...page.items]));
      setCursor(page.nextCursor);
      setError(null);
    } catch (failure) {
      if (ticket !== latest.current) return;
      // A refused new filter leaves no rows: the previous filter's, under its error, would read as its answer. A
      // refused "Show more" keeps the rows already shown, which are this filter's.
      if (after === null) {
        setRows([]);
        setCursor(null);
      }
      setError((failure as Error).message);
    } finally {
      if (ticket === latest.current) setLoading(false);
    }
  };
  useEffect(() => {
    void load(null);
  }, [filters]);
  // The whole ledger sorted by the API, not the rows shown: a header asks for the listing again, filters kept.
  const sortedBy = filters.sort === '' ? 'time' : filters.sort;
  const descending = filters.order !== 'asc';
  const sorting = listingSorting(sortedBy, descending, (sort, inDescending) =>
    navigateTo({ ...filters, sort: sort === 'time' ? '' : sort, order: inDescending ? '' : 'asc' }),
  );
  const field = (name: keyof Filters, label: string, type = 'text', disabled = false) => (
    <label>
      {label}
      <input
        type={type}
        value={draft[name]}
        disabled={disabled}
        onInput={(event) => setDraft({ ...draft, [name]: event.currentTarget.value })}
      />
    </label>
  );
  // Calls of no consumer have no consumer to name: the field is emptied and set aside while the box is ticked.
  const unattributed = draft.unattributed === 'true';
  return (
    <>
      <h1>Transactions</h1>
      <form
        class="toolbar"
        onSubmit={(event) => {
          event.preventDefault();
          // The same filters again (a refresh) change no address: load them here.
          if (JSON.stringify(draft) === JSON.stringify(filters)) void load(null);
          else navigateTo(draft);
        }}
        aria-label="Filter transactions"
      >
        {field('consumer', 'Consumer', 'text', unattributed)}
        {heldToTeam(session) ? null : field('team', 'Team')}
        {field('model', 'Model')}
        {field('provider', 'Provider')}
        <label>
          Outcome
          <select value={draft.outcome} onChange={(event) => setDraft({ ...draft, outcome: event.currentTarget.value })}>
            <option value="">any</option>
            <option value="served">served</option>
            <option value="refused">refused</option>
            <option value="failed">failed</option>
          </select>
        </label>
        {/* A team-owner's ledger is its team's: calls of no consumer are of no team, so it has none to list. */}
        {heldToTeam(session) ? null : (
          <label class="compact check">
            <input
              type="checkbox"
              checked={unattributed}
              onChange={(event) =>
                setDraft({
                  ...draft,
                  unattributed: event.currentTarget.checked ? 'true' : '',
                  consumer: event.currentTarget.checked ? '' : draft.consumer,
                })
              }
            />
            Unattributed only
          </label>
        )}
        {field('from', 'From (UTC)', 'datetime-local')}
        {field('to', 'To (UTC)', 'datetime-local')}
        <button type="submit">Apply</button>
        <button
          type="button"
          class="secondary"
          onClick={() => {
            // The filters go, the order stays.
            const cleared = { ...NO_FILTERS, sort: filters.sort, order: filters.order };
            setDraft(cleared);
            navigateTo(cleared);
          }}
        >
          Clear
        </button>
      </form>
      {error === null ? null : (
        <p class="error" role="alert">
          Could not load transactions: {error}
        </p>
      )}
      {rows.length === 0 && error !== null ? null : rows.length === 0 && !loading ? (
        <Empty title="No transactions match">
          Calls through the gateway and traffic reported by observers are listed here; widen the filters.
        </Empty>
      ) : (
        <div class="table-scroll">
          {/* Busy while a page of rows loads: until then the rows shown (none, or the filter's before) are not the answer. */}
          <table data-testid="transactions" aria-busy={loading ? 'true' : undefined}>
            <thead>
              <tr>
                <SortHeader sorting={sorting} column="time" descendingFirst>
                  Time
                </SortHeader>
                <th scope="col">Consumer</th>
                <th scope="col">Model</th>
                <th scope="col">Provider</th>
                <SortHeader sorting={sorting} column="total_tokens" numeric>
                  Tokens in / out
                </SortHeader>
                <SortHeader sorting={sorting} column="cost" numeric>
                  Cost
                </SortHeader>
                <SortHeader sorting={sorting} column="latency" numeric>
                  Latency
                </SortHeader>
                <th scope="col">Outcome</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((row) => (
                <tr key={row.id}>
                  <td>
                    <a href={`#/transactions/${row.id}`}>{dateTime(row.startedAt)}</a>
                  </td>
                  <td>
                    {row.consumer === null ? <span class="muted">{UNATTRIBUTED}</span> : row.consumer}
                    <small class="muted">
                      {' '}
                      {row.consumer === null && row.discoveredConsumer !== null ? `discovery #${row.discoveredConsumer} · ` : ''}
                      {teamName(row.team)}
                    </small>
                  </td>
                  <td>
                    {row.requestedModel ?? '—'}
                    {row.violations.length > 0 ? (
                      <>
                        {' '}
                        <Badge tone="bad">violation</Badge>
                      </>
                    ) : null}
                  </td>
                  <td>{row.provider ?? '—'}</td>
                  <td class="num">
                    {count(row.inputTokens)} / {count(row.outputTokens)}
                  </td>
                  <td class="num">{costText(row)}</td>
                  <td class="num">{row.operation === 'observed' ? <span class="muted">observed</span> : ms(row.latencyMs)}</td>
                  <td>{outcomeBadge(row)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {/* Any order but time's reads every call of the period for each page: on a large ledger, a period reads fewer. */}
      {sortedBy !== 'time' && filters.from === '' && filters.to === '' ? (
        <p class="muted" data-testid="whole-ledger-sort">
          Sorted over every call in the ledger: a period (From, To) is quicker on a large one.
        </p>
      ) : null}
      <div class="row-between">
        {rows.length === 0 && error !== null ? (
          <span />
        ) : (
          <span class="muted">
            {count(rows.length)} shown, {ORDER_TEXT[sortedBy]?.[descending ? 0 : 1] ?? 'newest first'}
          </span>
        )}
        {cursor === null ? null : (
          <button type="button" disabled={loading} onClick={() => void load(cursor)}>
            Show more
          </button>
        )}
      </div>
    </>
  );
}

export function TransactionDetailPage({ id }: { id: string }) {
  const loaded = useLoad(() => api<Transaction>(`/api/transactions/${encodeURIComponent(id)}`), [id]);
  return (
    <>
      <p>
        <a href={listAddress}>← Transactions</a>
      </p>
      <Show loaded={loaded} what={`transaction ${id}`}>
        {(row) => {
          const facts: Array<[string, preact.ComponentChildren]> = [
            ['Request id', <code>{row.requestId}</code>],
            ['Time', dateTime(row.startedAt)],
            [
              'Consumer',
              row.consumer !== null ? (
                <a href={transactionsOf({ consumer: row.consumer })} title={`Every transaction of ${row.consumer}`}>
                  {row.consumer}
                </a>
              ) : row.discoveredConsumer === null ? (
                UNATTRIBUTED
              ) : (
                <>
                  {UNATTRIBUTED} (<a href="#/reconciliation">discovery #{row.discoveredConsumer}</a>)
                </>
              ),
            ],
            ['Team', <TeamName team={row.team} />],
            ['API', `${row.api} (${row.operation}${row.stream ? ', streamed' : ''})`],
            ['Model asked for', row.requestedModel ?? '—'],
            ['Served by', row.provider === null ? '—' : `${row.provider}/${row.providerModel ?? ''}`],
            ['Downgraded to', row.servedModel ?? 'no'],
            [
              'Status',
              <>
                {outcomeBadge(row)} {row.errorClass === null ? null : <code>{row.errorClass}</code>}
              </>,
            ],
            ['Input tokens', `${count(row.inputTokens)}${row.cachedInputTokens > 0 ? ` (${count(row.cachedInputTokens)} cached)` : ''}`],
            // Where the provider wrote to its prompt cache: how much, and of that how much to the 1-hour cache, billed apart.
            ...(row.cacheWriteTokens > 0
              ? [
                  [
                    'Cache writes',
                    `${count(row.cacheWriteTokens)} (${count(row.cacheWrite1hTokens)} 1-hour, ${count(row.cacheWriteTokens - row.cacheWrite1hTokens)} 5-minute)`,
                  ] satisfies [string, preact.ComponentChildren],
                ]
              : []),
            // Reasoning is part of the output and priced with it; shown where the provider stated the split.
            [
              'Output tokens',
              `${count(row.outputTokens)}${row.reasoningTokens === null ? '' : ` (${count(row.reasoningTokens)} reasoning)`}`,
            ],
            ['Tokens counted by', row.tokensEstimated ? 'Sluice (the provider reported none)' : 'the provider'],
            ['Cost', costText(row)],
            // A $0.00 call answered from the response cache is a saving, not a free call: say what it would have cost.
            ...(nanoOf(row.saved) > 0
              ? [
                  [
                    'Saved',
                    <>
                      <Usd nano={nanoOf(row.saved)} /> (answered from the response cache)
                    </>,
                  ] satisfies [string, preact.ComponentChildren],
                ]
              : []),
            // What the cost holds beside the tokens: searches billed per search, a tier priced above or below standard.
            ...(row.webSearches > 0 ? [['Web searches', count(row.webSearches)] satisfies [string, preact.ComponentChildren]] : []),
            ...(row.fileSearches > 0 ? [['File searches', count(row.fileSearches)] satisfies [string, preact.ComponentChildren]] : []),
            ...(row.serviceTier !== null
              ? [['Service tier', `${row.serviceTier} (priced as such)`] satisfies [string, preact.ComponentChildren]]
              : []),
            ['Latency', row.operation === 'observed' ? 'observed, not proxied' : ms(row.latencyMs)],
            ['Time to first token', row.timeToFirstTokenMs === null ? '—' : ms(row.timeToFirstTokenMs)],
            ['Attempts', row.attempts > 1 ? `${row.attempts} (retries or fallbacks)` : String(row.attempts)],
            ['Calls', count(row.calls)],
          ];
          return (
            <>
              <h1>Transaction {row.id}</h1>
              {row.violations.length === 0 ? null : (
                <div class="violation" role="note" data-testid="violations">
                  <strong>Policy violations (monitor mode: served anyway)</strong>
                  <ul>
                    {row.violations.map((violation) => (
                      <li key={violation}>
                        {violation.startsWith('resource:') ? `unsanctioned model ${violation.slice(9)}` : `budget ${violation} exceeded`}
                      </li>
                    ))}
                  </ul>
                </div>
              )}
              <dl class="facts">
                {facts.map(([label, value]) => [<dt key={`${label}-t`}>{label}</dt>, <dd key={`${label}-d`}>{value}</dd>])}
              </dl>
            </>
          );
        }}
      </Show>
    </>
  );
}
