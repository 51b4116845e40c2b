// The inventory's resources (provider/model) with their review status and who called them in the last 30 days.
import { useState } from 'preact/hooks';
import { api, change, list, query, type Resource, type Session, type UsageAnswer } from '../../api';
import { count, hourFloor, isoHour, nanoOf, UNATTRIBUTED } from '../../format';
import { Badge, Empty, may, Notice, Show, SortHeader, sortRows, Usd, useLoad, useSorting } from '../../ui';

const DAY = 86_400_000;

interface ResourceRow {
  status: string;
  note: string | null;
  calls: number;
  cost: number;
  consumers: Set<string>;
  unattributed: boolean;
}

/** A resource's value in a column, as it sorts: its id, its review status, its calls or its spend in nano-USD. */
function resourceValue([id, row]: [string, ResourceRow], column: string): number | string {
  if (column === 'status') return row.status;
  if (column === 'calls' || column === 'cost') return row[column];
  return id;
}

export function Resources({ session }: { session: Session }) {
  const sorting = useSorting();
  const loaded = useLoad(async () => {
    const now = Date.now();
    const [resources, usage] = await Promise.all([
      list<Resource>('/api/resources'),
      api<UsageAnswer>(
        `/api/usage${query({ from: isoHour(hourFloor(now) + 3_600_000 - 30 * DAY), to: isoHour(hourFloor(now) + 3_600_000), bucket: 'month', groupBy: 'resource,consumer,resourceStatus' })}`,
      ),
    ]);
    // `unattributed`: calls of no declared consumer (observed traffic of undeclared callers) reached the resource.
    const rows = new Map<string, ResourceRow>();
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
      row.cost += nanoOf(item.cost);
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
              <table data-testid="resources">
                <thead>
                  <tr>
                    <SortHeader sorting={sorting} column="id">
                      Resource
                    </SortHeader>
                    <SortHeader sorting={sorting} column="status">
                      Status
                    </SortHeader>
                    <SortHeader sorting={sorting} column="calls" numeric>
                      Calls, 30 days
                    </SortHeader>
                    <SortHeader sorting={sorting} column="cost" numeric>
                      Spend
                    </SortHeader>
                    <th scope="col">Used by</th>
                  </tr>
                </thead>
                <tbody>
                  {sortRows(rows, sorting, resourceValue).map(([id, row]) => (
                    <tr key={id}>
                      <td>{id}</td>
                      <td>
                        {may(session, 'PUT /api/resources/{id}') ? (
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
                      <td class="num">
                        <Usd nano={row.cost} />
                      </td>
                      <td class="wrap">
                        {[...row.consumers].sort().join(', ')}
                        {row.unattributed ? (
                          <span class="muted">
                            {row.consumers.size > 0 ? ', ' : ''}
                            <a href="#/reconciliation">{UNATTRIBUTED}</a>
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
