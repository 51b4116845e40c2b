// Reading the audit log, newest first; writing happens only inside a change (change.ts), and nothing ever rewrites it.
import type { AuditFilter, AuditRecord } from '../admin-store.js';
import type { Page } from '../records.js';
import type { Reader } from './change.js';
import { decodeCursor, pageLimit, toPage } from './cursor.js';
import type { AuditRow } from './rows.js';

export async function listAudit(read: Reader, filter: AuditFilter): Promise<Page<AuditRecord>> {
  const limit = pageLimit(filter.limit);
  const entityType = filter.entityType ?? null;
  const entityId = filter.entityId ?? null;
  const actor = filter.actor ?? null;
  const since = filter.since ?? null;
  const listing = { name: 'audit', filters: [entityType, entityId, actor, since] };
  const before = decodeCursor(filter.cursor, listing, 'number');
  const rows = await read.session.all<AuditRow>('auditList', [
    entityType,
    entityType,
    entityId,
    entityId,
    actor,
    actor,
    since,
    since,
    before,
    before,
    limit + 1,
  ]);
  return toPage(
    rows,
    limit,
    listing,
    (row) => read.json.audit(row),
    (record) => record.id,
  );
}
