// The audit log, newest first (or by who or what, as the API sorts it) and filterable; each change's before and after
// shown as the fields that changed.
import { useEffect, useRef, useState } from 'preact/hooks';
// The kinds of entity the log records: the one list the store, the admin API and the CLI use too.
import { AUDIT_ACTIONS, AUDIT_ENTITY_TYPES } from '../../../src/schemas/audit';
import { api, query, type AuditRecord } from '../api';
import { dateTime } from '../format';
import { Badge, Empty, listingSorting, SortHeader } from '../ui';

/** What the footer says of the order shown: [descending, ascending]. */
const ORDER_TEXT: Record<string, [string, string]> = {
  time: ['Newest first', 'Oldest first'],
  actor: ['By actor, Z to A', 'By actor, A to Z'],
  action: ['By action, Z to A', 'By action, A to Z'],
};

type Flat = Map<string, string>;

/** Nested values as `path: value` lines, so a diff can compare field by field. */
function flatten(value: unknown, prefix = '', out: Flat = new Map()): Flat {
  if (value === null || value === undefined) {
    if (prefix !== '') out.set(prefix, value === null ? 'null' : '');
    return out;
  }
  if (Array.isArray(value)) {
    if (value.length === 0) out.set(prefix, '[]');
    else if (value.every((item) => typeof item !== 'object' || item === null)) out.set(prefix, value.map(String).join(', '));
    else value.forEach((item, index) => flatten(item, `${prefix}[${index}]`, out));
    return out;
  }
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 0 && prefix !== '') out.set(prefix, '{}');
    for (const [key, inner] of entries) flatten(inner, prefix === '' ? key : `${prefix}.${key}`, out);
    return out;
  }
  // Times are stored as epoch milliseconds (createdAt, updatedAt, expiresAt, ...): shown as UTC times.
  const time = typeof value === 'number' && /At$/.test(prefix) && value > 1e12 ? dateTime(new Date(value).toISOString()) : null;
  out.set(prefix === '' ? 'value' : prefix, time ?? String(value));
  return out;
}

/** An empty object on one side and its fields on the other is the same change as the fields alone. */
function redundant(key: string, was: string | undefined, is: string | undefined, old: Flat, now: Flat): boolean {
  const children = (side: Flat) => [...side.keys()].some((other) => other.startsWith(`${key}.`) || other.startsWith(`${key}[`));
  return (
    (was === '{}' && is === undefined && children(now)) ||
    (is === '{}' && was === undefined && children(old)) ||
    (was === '[]' && is === undefined && children(now)) ||
    (is === '[]' && was === undefined && children(old))
  );
}

export function Diff({ before, after }: { before: unknown; after: unknown }) {
  const old = flatten(before);
  const now = flatten(after);
  const keys = [...new Set([...old.keys(), ...now.keys()])].sort();
  const rows = keys
    .map((key) => ({ key, was: old.get(key), is: now.get(key) }))
    .filter((row) => row.was !== row.is && !redundant(row.key, row.was, row.is, old, now));
  const unchanged = keys.length - rows.length;
  if (rows.length === 0) return <p class="muted">No field changed.</p>;
  return (
    <table class="diff">
      <thead>
        <tr>
          <th scope="col">Field</th>
          <th scope="col">Before</th>
          <th scope="col">After</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((row) => (
          <tr key={row.key}>
            <th scope="row">
              <code>{row.key}</code>
            </th>
            <td class={row.was === undefined ? 'muted' : 'removed'}>{row.was === undefined ? '(absent)' : row.was}</td>
            <td class={row.is === undefined ? 'muted' : 'added'}>{row.is === undefined ? '(removed)' : row.is}</td>
          </tr>
        ))}
      </tbody>
      {unchanged > 0 ? (
        <caption class="muted">
          {unchanged} other field{unchanged === 1 ? '' : 's'} unchanged
        </caption>
      ) : null}
    </table>
  );
}

/** A filter of the log: one of `choices`, or any. */
function AnyOf({
  label,
  value,
  choices,
  choose,
}: {
  label: string;
  value: string;
  choices: readonly string[];
  choose: (value: string) => void;
}) {
  return (
    <label>
      {label}
      <select value={value} onChange={(event) => choose(event.currentTarget.value)}>
        <option value="">any</option>
        {choices.map((choice) => (
          <option key={choice} value={choice}>
            {choice}
          </option>
        ))}
      </select>
    </label>
  );
}

export function AuditPage() {
  const [entityType, setEntityType] = useState('');
  const [actor, setActor] = useState('');
  const [action, setAction] = useState('');
  const [applied, setApplied] = useState({ entityType: '', actor: '', action: '' });
  // Sorted by the API, as the log is paged: a header asks for it again in the new order, the filters applied kept.
  const [order, setOrder] = useState({ sort: 'time', descending: true });
  const sorting = listingSorting(order.sort, order.descending, (sort, descending) => setOrder({ sort, descending }));
  const [rows, setRows] = useState<AuditRecord[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [open, setOpen] = useState<number | null>(null);
  const [loading, setLoading] = useState(true);
  // Only the latest load's answer is shown: an earlier one landing after it would be another order's rows.
  const latest = useRef(0);
  const load = async (after: string | null) => {
    const ticket = ++latest.current;
    setLoading(true);
    try {
      const page = await api<{ items: AuditRecord[]; nextCursor: string | null }>(
        `/api/audit${query({ ...applied, sort: order.sort, order: order.descending ? 'desc' : 'asc', limit: 50, cursor: after ?? undefined })}`,
      );
      if (ticket !== latest.current) return;
      setRows((previous) => (after === null ? page.items : [...previous, ...page.items]));
      setCursor(page.nextCursor);
      setError(null);
    } catch (failure) {
      if (ticket === latest.current) setError((failure as Error).message);
    } finally {
      if (ticket === latest.current) setLoading(false);
    }
  };
  useEffect(() => {
    void load(null);
  }, [applied, order]);
  return (
    <>
      <h1>Audit log</h1>
      <form
        class="toolbar"
        onSubmit={(event) => {
          event.preventDefault();
          setApplied({ entityType, actor, action });
        }}
        aria-label="Filter the audit log"
      >
        <AnyOf label="Entity" value={entityType} choices={AUDIT_ENTITY_TYPES} choose={setEntityType} />
        <label>
          Actor
          <input value={actor} onInput={(event) => setActor(event.currentTarget.value)} placeholder="bootstrap-token" />
        </label>
        <AnyOf label="Action" value={action} choices={AUDIT_ACTIONS} choose={setAction} />
        <button type="submit">Apply</button>
      </form>
      {error === null ? null : (
        <p class="error" role="alert">
          Could not load the audit log: {error}
        </p>
      )}
      {rows.length === 0 && !loading && error === null ? (
        <Empty title="No changes recorded">Every change to teams, consumers, keys, budgets and the rest is recorded here.</Empty>
      ) : (
        <div class="table-scroll">
          {/* Busy while a page of rows loads: until then the rows shown (none, or the filter's before) are not the answer. */}
          <table data-testid="audit" aria-busy={loading ? 'true' : undefined}>
            <thead>
              <tr>
                <SortHeader sorting={sorting} column="time" descendingFirst>
                  When
                </SortHeader>
                <SortHeader sorting={sorting} column="actor">
                  Who
                </SortHeader>
                <SortHeader sorting={sorting} column="action">
                  What
                </SortHeader>
                <th scope="col">Entity</th>
                <th scope="col">
                  <span class="sr-only">Changes</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {rows.map((row) => [
                <tr key={row.id}>
                  <td>{dateTime(row.at)}</td>
                  <td class="wrap">{row.actor}</td>
                  <td>
                    <Badge tone={row.action === 'delete' ? 'bad' : row.action === 'create' ? 'good' : 'neutral'}>{row.action}</Badge>
                  </td>
                  <td>
                    {row.entityType} <strong>{row.entityId}</strong>
                  </td>
                  <td>
                    <button
                      type="button"
                      class="small"
                      aria-expanded={open === row.id}
                      onClick={() => setOpen(open === row.id ? null : row.id)}
                    >
                      {open === row.id ? 'Hide changes' : 'Changes'}
                    </button>
                  </td>
                </tr>,
                open === row.id ? (
                  <tr key={`${row.id}-diff`} class="panel-row">
                    <td colSpan={5}>
                      <Diff before={row.before} after={row.after} />
                    </td>
                  </tr>
                ) : null,
              ])}
            </tbody>
          </table>
        </div>
      )}
      <div class="row-between">
        <span class="muted">{ORDER_TEXT[order.sort]?.[order.descending ? 0 : 1]}</span>
        {cursor === null ? null : (
          <button type="button" disabled={loading} onClick={() => void load(cursor)}>
            Show more
          </button>
        )}
      </div>
    </>
  );
}
