// Reading the audit log in a chosen order (newest first unless asked otherwise); writing happens only inside a change
// (change.ts), and nothing ever rewrites it.
import type { AuditFilter, AuditRecord } from '../admin-store.js';
import type { Page } from '../records.js';
import { AUDIT_SORTS, SORT_ORDERS, type AuditSort, type SortOrder } from '../../schemas/listing-order.js';
import type { Reader } from './change.js';
import { decodeSortedCursor, orderBy, pageLimit, rowsAfter, rowsAfterParameters, toSortedPage, type SortKey } from './cursor.js';
import type { AuditRow } from './rows.js';

const optionalText = (condition: string) => `(CAST(? AS TEXT) IS NULL OR ${condition})`;

/** Each order's key; a record's id breaks ties (records of one millisecond, one actor, one action) in the same direction. */
const SORT_KEYS: Record<AuditSort, SortKey> = {
  time: { sql: 'at', type: 'number', nullable: false },
  actor: { sql: 'actor', type: 'string', nullable: false },
  action: { sql: 'action', type: 'string', nullable: false },
};

/** Before every record's time: `since` when none is given (a plain bound, so both databases can seek the time's index). */
const EARLIEST = -Number.MAX_SAFE_INTEGER;

export type AuditStatement = `auditList:${AuditSort}:${SortOrder}${'' | ':after'}`;

function listStatement(key: SortKey, order: SortOrder, after: string | null): string {
  return `SELECT id, at, actor, action, entity_type, entity_id, before_json, after_json, ${key.sql} AS sort_key FROM audit_log
      WHERE ${optionalText('entity_type = ?')} AND ${optionalText('entity_id = ?')} AND ${optionalText('actor = ?')}
        AND ${optionalText('action = ?')} AND at >= ?${after === null ? '' : ` AND ${after}`}
      ORDER BY ${orderBy(key, order)} LIMIT ?`;
}

export function auditStatements(): Record<AuditStatement, string> {
  const statements = {} as Record<AuditStatement, string>;
  for (const sort of AUDIT_SORTS)
    for (const order of SORT_ORDERS) {
      statements[`auditList:${sort}:${order}`] = listStatement(SORT_KEYS[sort], order, null);
      statements[`auditList:${sort}:${order}:after`] = listStatement(SORT_KEYS[sort], order, rowsAfter(SORT_KEYS[sort], order, false));
    }
  return statements;
}

export async function listAudit(read: Reader, filter: AuditFilter): Promise<Page<AuditRecord>> {
  const limit = pageLimit(filter.limit);
  const sort = filter.sort ?? 'time';
  const order = filter.order ?? 'desc';
  const key = SORT_KEYS[sort];
  const entityType = filter.entityType ?? null;
  const entityId = filter.entityId ?? null;
  const actor = filter.actor ?? null;
  const action = filter.action ?? null;
  const since = filter.since ?? null;
  const listing = { name: `audit:${sort}:${order}`, filters: [entityType, entityId, actor, action, since] };
  const position = decodeSortedCursor(filter.cursor, listing, key);
  const rows = await read.session.all<AuditRow & { sort_key: number | string }>(
    `auditList:${sort}:${order}${position === null ? '' : ':after'}`,
    [
      entityType,
      entityType,
      entityId,
      entityId,
      actor,
      actor,
      action,
      action,
      since ?? EARLIEST,
      ...(position === null ? [] : rowsAfterParameters(position)),
      limit + 1,
    ],
  );
  return toSortedPage(rows, limit, (row) => read.json.audit(row), listing, key);
}
