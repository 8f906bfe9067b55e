import type { Generated } from 'kysely';

/** Tables of the state store, the same in SQLite and PostgreSQL. Timestamps are RFC 3339 UTC strings. */
export interface Database {
  users: UsersTable;
  tokens: TokensTable;
  apps: AppsTable;
  env_types: EnvTypesTable;
  environments: EnvironmentsTable;
  audit_entries: AuditEntriesTable;
}

export interface UsersTable {
  id: string;
  username: string;
  created_at: string;
}

export interface TokensTable {
  id: string;
  user_id: string;
  name: string;
  /** SHA-256 of the token, hex; the token itself is never stored. */
  token_hash: string;
  prefix: string;
  created_at: string;
  expires_at: string | null;
  revoked_at: string | null;
  last_used_at: string | null;
}

export interface AppsTable {
  id: string;
  name: string;
  created_by: string;
  created_at: string;
}

export interface EnvTypesTable {
  id: string;
  description: string;
  created_by: string;
  created_at: string;
}

export interface EnvironmentsTable {
  app_id: string;
  id: string;
  type: string;
  created_by: string;
  created_at: string;
}

export interface AuditEntriesTable {
  id: Generated<number>;
  at: string;
  actor: string;
  action: string;
  target: string;
  app_id: string | null;
  request_id: string;
  /** JSON text: what changed. Never holds a secret value. */
  summary: string;
}
