// Rows as the catalogue's SELECTs return them, and their translation into the store's entities (snake_case to the API's shape).
import type { ResourceStatus } from '../../config/governance-schema.js';
import type {
  AdminRole,
  AdminToken,
  AuditAction,
  AuditEntityType,
  AuditRecord,
  Consumer,
  ConsumerKey,
  JsonValue,
  Resource,
  StoredDefinition,
  Team,
  Webhook,
  ProviderSettings,
  StoredProvider,
} from '../director-store.js';
import type { CredentialField } from '../../config/schema.js';
import type { Dialect } from '../dialect.js';
import type { SqlValue } from './session.js';

export interface TeamRow {
  name: string;
  owner: string;
  created_at: number;
}
export interface ConsumerRow {
  name: string;
  team: string | null;
  owner: string | null;
  labels: unknown;
  models: unknown;
  created_at: number;
  updated_at: number;
}
export interface KeyRow {
  id: string;
  consumer: string;
  prefix: string;
  name: string;
  created_at: number;
  expires_at: number | null;
  revoked_at: number | null;
  last_used_at: number | null;
}
export interface KeyMatchRow extends ConsumerRow {
  key_id: string;
}
export interface ActiveKeyRow {
  id: string;
  consumer: string;
  hash: string;
  name: string;
  expires_at: number | null;
}
export interface TokenRow {
  id: string;
  name: string;
  role: AdminRole;
  team: string | null;
  prefix: string;
  created_at: number;
  revoked_at: number | null;
}
export interface DocumentRow {
  name: string;
  definition: unknown;
  created_at: number;
  updated_at: number;
}
export interface ProviderRow {
  name: string;
  settings: unknown;
  credential_fields: unknown;
  credentials: string | null;
  created_at: number;
  updated_at: number;
}
export interface ResourceRow {
  id: string;
  status: ResourceStatus;
  note: string | null;
}
export interface WebhookRow {
  id: string;
  url: string;
  secret: string;
  created_at: number;
}
export interface AuditRow {
  id: number;
  at: number;
  actor: string;
  action: AuditAction;
  entity_type: AuditEntityType;
  entity_id: string;
  before_json: unknown;
  after_json: unknown;
}
export interface CountRow {
  count: number;
}
export interface VersionRow {
  config_version: number;
}

/** JSON in and out of a column: always bound as text (each database casts it to its column type). */
export class JsonColumns {
  private readonly parsed: boolean;

  constructor(dialect: Dialect) {
    this.parsed = dialect.parsesJson;
  }

  encode(value: unknown): SqlValue {
    return value === null || value === undefined ? null : JSON.stringify(value);
  }

  decode(value: unknown): JsonValue | null {
    if (value === null || value === undefined) return null;
    if (this.parsed) return value as JsonValue;
    return JSON.parse(String(value)) as JsonValue;
  }

  team(row: TeamRow): Team {
    return { name: row.name, owner: row.owner, createdAt: row.created_at };
  }

  consumer(row: ConsumerRow): Consumer {
    return {
      name: row.name,
      team: row.team,
      owner: row.owner,
      labels: (this.decode(row.labels) ?? {}) as Record<string, string>,
      models: this.decode(row.models) as string[] | null,
      createdAt: row.created_at,
      updatedAt: row.updated_at,
    };
  }

  document<T>(row: DocumentRow): StoredDefinition<T> {
    return { name: row.name, definition: this.decode(row.definition) as T, createdAt: row.created_at, updatedAt: row.updated_at };
  }

  provider(row: ProviderRow): StoredProvider {
    return {
      name: row.name,
      settings: this.decode(row.settings) as unknown as ProviderSettings,
      credentials:
        row.credentials === null
          ? null
          : { fields: (this.decode(row.credential_fields) ?? []) as CredentialField[], sealed: row.credentials },
      createdAt: row.created_at,
      updatedAt: row.updated_at,
    };
  }

  audit(row: AuditRow): AuditRecord {
    return {
      id: row.id,
      at: row.at,
      actor: row.actor,
      action: row.action,
      entityType: row.entity_type,
      entityId: row.entity_id,
      before: this.decode(row.before_json),
      after: this.decode(row.after_json),
    };
  }
}

export function consumerKey(row: KeyRow): ConsumerKey {
  return {
    id: row.id,
    consumer: row.consumer,
    prefix: row.prefix,
    name: row.name,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    revokedAt: row.revoked_at,
    lastUsedAt: row.last_used_at,
  };
}

export function adminToken(row: TokenRow): AdminToken {
  return {
    id: row.id,
    name: row.name,
    role: row.role,
    team: row.team,
    prefix: row.prefix,
    createdAt: row.created_at,
    revokedAt: row.revoked_at,
  };
}

export function resource(row: ResourceRow): Resource {
  return { id: row.id, status: row.status, note: row.note };
}

export function webhook(row: WebhookRow): Webhook {
  return { id: row.id, url: row.url, secret: row.secret, createdAt: row.created_at };
}
