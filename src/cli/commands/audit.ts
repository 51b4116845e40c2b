// `sluice audit`: the director's change log (who changed what, when, and which fields), newest first or in the order
// asked for, over /api/audit.
import { AUDIT_ACTIONS, AUDIT_ENTITY_TYPES } from '../../schemas/audit.js';
import { AUDIT_SORTS, SORT_ORDERS } from '../../schemas/listing-order.js';
import { AdminClient } from '../admin-client.js';
import { expectPositionals, parseCommand, parseInteger, SHARED_HELP, type AdminCommand } from '../args.js';
import { printJson, printTable, printUsage, time } from '../table.js';

interface AuditRecord {
  id: number;
  at: string;
  actor: string;
  action: string;
  entityType: string;
  entityId: string;
  before: unknown;
  after: unknown;
}

/** The API gives at most this many a page; a larger --limit is read page by page. */
const PAGE_MAX = 1000;
const DEFAULT_LIMIT = 50;

const USAGE = `Usage: sluice audit [options]

The audit log, newest first unless --sort and --order say otherwise (${DEFAULT_LIMIT} records unless --limit does).

  --entity-type T   ${AUDIT_ENTITY_TYPES.join(', ')}
  --entity-id I     one entity's records (a name, a key id, provider/model)
  --actor A         one actor's changes (bootstrap-token, sluice.yaml, admin-token:NAME#ID)
  --action A        one kind of change: ${AUDIT_ACTIONS.join(', ')}
  --since ISO       records at or after this time
  --sort S          ${AUDIT_SORTS.join(', ')} (default time)
  --order O         ${SORT_ORDERS.join(', ')} (default desc: the newest first)
  --limit N         how many records (default ${DEFAULT_LIMIT})
${SHARED_HELP}`;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The top-level fields that differ between before and after: what an update changed, at a glance. */
function changedFields(record: AuditRecord): string {
  // A create or a delete changes the whole entity; naming every field would say nothing.
  if (!isRecord(record.before) || !isRecord(record.after)) return '';
  let before = record.before;
  let after = record.after;
  // Budgets, templates and rate limits are stored as { name, definition, ... }: what changed is inside the definition.
  if (isRecord(before.definition) && isRecord(after.definition)) [before, after] = [before.definition, after.definition];
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  // Times the store stamps on every change say nothing about what the change was.
  for (const stamp of ['updatedAt', 'createdAt']) keys.delete(stamp);
  return [...keys].filter((key) => JSON.stringify(before[key]) !== JSON.stringify(after[key])).join(',');
}

async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseCommand(
    args,
    {
      'entity-type': { type: 'string' },
      'entity-id': { type: 'string' },
      actor: { type: 'string' },
      action: { type: 'string' },
      since: { type: 'string' },
      sort: { type: 'string' },
      order: { type: 'string' },
      limit: { type: 'string' },
    },
    USAGE,
  );
  if (values.help) return printUsage(USAGE);
  expectPositionals(positionals, [], USAGE);
  const wanted = parseInteger('--limit', values.limit, 1, 100_000, USAGE) ?? DEFAULT_LIMIT;
  const query = new URLSearchParams();
  // The API checks the values (an entity type it knows, an ISO time) and names the field when one is wrong.
  if (values['entity-type'] !== undefined) query.set('entityType', values['entity-type']);
  if (values['entity-id'] !== undefined) query.set('entityId', values['entity-id']);
  if (values.actor !== undefined) query.set('actor', values.actor);
  if (values.action !== undefined) query.set('action', values.action);
  if (values.since !== undefined) query.set('since', values.since);
  if (values.sort !== undefined) query.set('sort', values.sort);
  if (values.order !== undefined) query.set('order', values.order);
  const client = AdminClient.fromFlags(values);
  const items: AuditRecord[] = [];
  let cursor: string | null = null;
  do {
    const page = new URLSearchParams(query);
    page.set('limit', String(Math.min(PAGE_MAX, wanted - items.length)));
    if (cursor !== null) page.set('cursor', cursor);
    const answer: { items: AuditRecord[]; nextCursor: string | null } = await client.request('GET', `/api/audit?${page}`);
    items.push(...answer.items);
    cursor = answer.nextCursor;
  } while (cursor !== null && items.length < wanted);
  if (values.json) printJson({ items, nextCursor: cursor });
  else
    printTable(
      ['AT', 'ACTOR', 'ACTION', 'TYPE', 'ENTITY', 'CHANGED'],
      items.map((r) => [time(r.at), r.actor, r.action, r.entityType, r.entityId, changedFields(r)]),
      'audit records',
    );
  return 0;
}

export const auditCommand: AdminCommand = { usage: USAGE, run };
