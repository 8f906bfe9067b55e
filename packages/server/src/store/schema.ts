import type { Generated } from 'kysely';

/** Tables of the state store, the same in SQLite and PostgreSQL. Timestamps are RFC 3339 UTC strings. */
export interface Database {
  users: UsersTable;
  tokens: TokensTable;
  apps: AppsTable;
  env_types: EnvTypesTable;
  environments: EnvironmentsTable;
  audit_entries: AuditEntriesTable;
  deployment_sets: DeploymentSetsTable;
  deployments: DeploymentsTable;
  deployment_journal: DeploymentJournalTable;
  port_allocations: PortAllocationsTable;
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
  /** The set the environment runs: that of its last successful deployment. */
  current_set_id: Generated<string | null>;
  current_deployment_id: Generated<number | null>;
  /** The replica that may run this environment's deployments, until `lease_until`. */
  lease_owner: Generated<string | null>;
  lease_until: Generated<string | null>;
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

export interface DeploymentSetsTable {
  /** SHA-256 of `content`, which is canonical JSON (sorted keys). */
  id: string;
  content: string;
  created_at: string;
}

export interface DeploymentsTable {
  id: Generated<number>;
  app_id: string;
  env_id: string;
  kind: string;
  /** JSON: what was asked (workloads to upsert, to remove, the source deployment or environment, options). */
  request: string;
  set_id: string | null;
  previous_set_id: string | null;
  actor: string;
  message: string;
  status: string;
  reason: string | null;
  rolled_back: Generated<number>;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
}

export interface DeploymentJournalTable {
  id: Generated<number>;
  deployment_id: number;
  at: string;
  step: string;
  workload: string | null;
  status: string;
  message: string;
}

export interface PortAllocationsTable {
  app_id: string;
  env_id: string;
  workload: string;
  port_name: string;
  host_port: number;
}
