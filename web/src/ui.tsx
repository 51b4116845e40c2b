// Small pieces every page uses: loading data with its error, empty states that say what to do, status badges.
import type { ComponentChildren } from 'preact';
import { useCallback, useEffect, useState } from 'preact/hooks';
import type { Role, Session } from './api';
import { exactUsd, groupName, teamName, usd } from './format';

export interface Loaded<T> {
  data: T | null;
  error: string | null;
  loading: boolean;
  reload: () => void;
}

/** Runs `load` now and whenever `deps` change; `reload` runs it again (after a change). */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): Loaded<T> {
  const [state, setState] = useState<{ data: T | null; error: string | null; loading: boolean }>({
    data: null,
    error: null,
    loading: true,
  });
  const [round, setRound] = useState(0);
  useEffect(() => {
    let live = true;
    setState((previous) => ({ ...previous, loading: true }));
    load().then(
      (data) => live && setState({ data, error: null, loading: false }),
      (error: Error) => live && setState({ data: null, error: error.message, loading: false }),
    );
    return () => {
      live = false;
    };
  }, [...deps, round]);
  const reload = useCallback(() => setRound((value) => value + 1), []);
  return { ...state, reload };
}

export function Show<T>({ loaded, children, what }: { loaded: Loaded<T>; what: string; children: (data: T) => ComponentChildren }) {
  if (loaded.error !== null)
    return (
      <p class="error" role="alert">
        Could not load {what}: {loaded.error}
      </p>
    );
  if (loaded.data === null)
    return (
      <p class="muted" aria-busy="true">
        Loading {what}…
      </p>
    );
  return <>{children(loaded.data)}</>;
}

export function Empty({ title, children }: { title: string; children?: ComponentChildren }) {
  return (
    <div class="empty">
      <strong>{title}</strong>
      {children === undefined ? null : <p>{children}</p>}
    </div>
  );
}

export function Badge({ tone, children }: { tone: 'good' | 'bad' | 'warn' | 'neutral'; children: ComponentChildren }) {
  return <span class={`badge ${tone}`}>{children}</span>;
}

export function Stat({ label, value, detail, testId }: { label: string; value: string; detail?: ComponentChildren; testId?: string }) {
  return (
    <div class="stat">
      <div class="stat-label">{label}</div>
      <div class="stat-value" data-testid={testId}>
        {value}
      </div>
      {detail === undefined ? null : <div class="stat-detail">{detail}</div>}
    </div>
  );
}

export function Bar({ percent, label }: { percent: number; label: string }) {
  const clamped = Math.max(0, Math.min(100, percent));
  const tone = percent >= 100 ? 'bad' : percent >= 80 ? 'warn' : 'good';
  return (
    <div class="bar" role="meter" aria-valuemin={0} aria-valuemax={100} aria-valuenow={Math.round(clamped)} aria-label={label}>
      <div class={`bar-fill ${tone}`} style={{ width: `${clamped}%` }} />
    </div>
  );
}

/**
 * Whether the signed-in role may call an operation (`METHOD /path/{param}` as the API documents it), as /api/session
 * answers from the API's own route x role table: the console neither requests nor offers what the API would refuse.
 */
export function may(session: Session, operation: string): boolean {
  return session.operations.includes(operation);
}

/** A token held to one team (a team-owner's): the API narrows what it reads and changes to that team. */
export function heldToTeam(session: Session): boolean {
  return session.team !== null;
}

/** Whether the role may edit a consumer of this team (and its keys): a team-owner only its own team's. */
export function canManageConsumers(session: Session, team: string | null): boolean {
  return may(session, 'PATCH /api/consumers/{name}') && (!heldToTeam(session) || (team !== null && team === session.team));
}

export function roleLabel(role: Role): string {
  return { admin: 'Admin', operator: 'Operator', viewer: 'Viewer', 'team-owner': 'Team owner' }[role];
}

/** A team's name in a table or a detail, its absence in the muted tone of a placeholder. */
export function TeamName({ team }: { team: string | null | undefined }) {
  return team === null || team === undefined || team === '' ? <span class="muted">{teamName(team)}</span> : <>{team}</>;
}

/**
 * An amount of integer nano-USD in a table or a detail, as usd() shows it; where that rounds (below a cent, past two
 * significant digits; past the cent above), its exact figure in the tooltip, as a sheet would hold it.
 */
export function Usd({ nano }: { nano: number }) {
  const shown = usd(nano);
  const exact = exactUsd(nano);
  return shown === exact ? <>{shown}</> : <span title={exact}>{shown}</span>;
}

/** A usage group's consumer (model, provider), its absence ("unattributed") in the muted tone of a placeholder. */
export function GroupName({ value }: { value: string | null | undefined }) {
  return value === null || value === undefined || value === '' ? <span class="muted">{groupName(value)}</span> : <>{value}</>;
}

/** The query of the location's hash (`#/transactions?consumer=checkout`): a page's filters, kept in its address. */
export function routeParams(): URLSearchParams {
  const hash = window.location.hash;
  const at = hash.indexOf('?');
  return new URLSearchParams(at === -1 ? '' : hash.slice(at + 1));
}

/** The address of the ledger filtered to a consumer (or a model, a team): where a name leads. */
export function transactionsOf(filter: Record<string, string>): string {
  return `#/transactions?${new URLSearchParams(filter).toString()}`;
}

/** A table's order, set from its column headers: none (the API's order) until one is chosen. */
export interface Sorting {
  key: string | null;
  descending: boolean;
  toggle: (key: string, descendingFirst: boolean) => void;
}

export function useSorting(): Sorting {
  const [order, setOrder] = useState<{ key: string | null; descending: boolean }>({ key: null, descending: false });
  const toggle = useCallback(
    // A column's first click puts what its reader looks for first (a figure's largest, a name's A); the next turns it around.
    (key: string, descendingFirst: boolean) =>
      setOrder((current) => (current.key === key ? { key, descending: !current.descending } : { key, descending: descendingFirst })),
    [],
  );
  return { ...order, toggle };
}

/**
 * The order of a table the API sorts (a listing paged from the server, of which one page sorted alone would misstate the
 * whole): the headers show `key` as chosen, and a click asks `choose` for the listing in the new order.
 */
export function listingSorting(key: string, descending: boolean, choose: (key: string, descending: boolean) => void): Sorting {
  return { key, descending, toggle: (column, descendingFirst) => choose(column, column === key ? !descending : descendingFirst) };
}

/**
 * The rows in the chosen order (a stable sort: rows of equal value keep the API's order). A row whose value is null
 * (an unpriced model's price, an untracked budget's use) has none to order by: it stays last either way.
 */
export function sortRows<T>(rows: T[], sorting: Sorting, value: (row: T, key: string) => number | string | null): T[] {
  const key = sorting.key;
  if (key === null) return rows;
  const direction = sorting.descending ? -1 : 1;
  return [...rows].sort((a, b) => {
    const left = value(a, key);
    const right = value(b, key);
    if (left === null || right === null) return left === right ? 0 : left === null ? 1 : -1;
    const order = typeof left === 'number' && typeof right === 'number' ? left - right : String(left).localeCompare(String(right));
    return order * direction;
  });
}

/**
 * A column header that sorts its table: a button (so the keyboard reaches it), its order announced with aria-sort. A
 * numeric column is right-aligned and sorts largest first; `descendingFirst` sets the first order apart from the
 * alignment (the latest time first in a left-aligned column, the soonest exhaustion first), `class` the header's class.
 */
export function SortHeader({
  sorting,
  column,
  numeric = false,
  descendingFirst = numeric,
  class: className = numeric ? 'num' : undefined,
  children,
}: {
  sorting: Sorting;
  column: string;
  numeric?: boolean;
  descendingFirst?: boolean;
  class?: string;
  children: ComponentChildren;
}) {
  const active = sorting.key === column;
  return (
    <th scope="col" class={className} aria-sort={active ? (sorting.descending ? 'descending' : 'ascending') : undefined}>
      <button type="button" class="sort" onClick={() => sorting.toggle(column, descendingFirst)}>
        {children}
        <span aria-hidden="true" class="sort-mark">
          {active ? (sorting.descending ? ' ▼' : ' ▲') : ''}
        </span>
      </button>
    </th>
  );
}

/** A message after a change: what happened, or why it did not. */
export function Notice({ notice }: { notice: { tone: 'good' | 'bad'; text: string } | null }) {
  if (notice === null) return null;
  return (
    <p class={notice.tone === 'good' ? 'notice' : 'error'} role={notice.tone === 'good' ? 'status' : 'alert'}>
      {notice.text}
    </p>
  );
}
