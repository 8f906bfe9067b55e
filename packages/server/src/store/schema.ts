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
  data_keys: DataKeysTable;
  app_values: AppValuesTable;
  env_values: EnvValuesTable;
  env_value_versions: EnvValueVersionsTable;
  resource_definitions: ResourceDefinitionsTable;
  resources: ResourcesTable;
  routes: RoutesTable;
  route_hosts: RouteHostsTable;
  teams: TeamsTable;
  team_members: TeamMembersTable;
  login_failures: LoginFailuresTable;
  audit_chain: AuditChainTable;
  role_grants: RoleGrantsTable;
  runtime_targets: RuntimeTargetsTable;
  events: EventsTable;
  event_cursor: EventCursorTable;
  webhooks: WebhooksTable;
  webhook_deliveries: WebhookDeliveriesTable;
  artifacts: ArtifactsTable;
  rules: RulesTable;
  policies: PoliciesTable;
  resource_states: ResourceStatesTable;
  retired_resource_secrets: RetiredResourceSecretsTable;
  profiles: ProfilesTable;
  templates: TemplatesTable;
  sso_sign_ins: SsoSignInsTable;
  oidc_identities: OidcIdentitiesTable;
}

export interface UsersTable {
  id: string;
  username: string;
  created_at: string;
  /** `user` (may have a password) or `service` (a service account: tokens only). */
  kind: Generated<string>;
  /** scrypt hash (`scrypt$N$r$p$salt$hash`, base64); null: no password login. */
  password_hash: Generated<string | null>;
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
  /** A narrower scope than the user's roles, e.g. `app:shop:viewer`; null: the user's roles. */
  scope: Generated<string | null>;
}

export interface AppsTable {
  id: string;
  name: string;
  created_by: string;
  created_at: string;
  /**
   * Random, set by the database when the row is inserted (0010): an app id deleted and created again is a new
   * incarnation, whose audit trail starts afresh.
   */
  incarnation: Generated<string>;
}

export interface EnvTypesTable {
  id: string;
  description: string;
  created_by: string;
  created_at: string;
  /** 1: deploying to (and changing) its environments needs the `deployer` role on the type. */
  restricted: Generated<number>;
  /** The stability window (seconds) of deployments to its environments; null: the platform default. */
  min_ready_seconds: number | null;
  /** 1: deployments into its environments wait for approval (0016). */
  requires_approval: Generated<number>;
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
  /** When an ephemeral environment is deleted by the janitor; null for environments that stay. */
  expires_at: Generated<string | null>;
  /** The runtime target the environment's workloads run on; null until its first deployment. */
  runtime_target: Generated<string | null>;
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
  /** Position in the hash chain (1, 2, …), the previous entry's hash and this entry's (hex SHA-256). */
  seq: Generated<number | null>;
  prev_hash: Generated<string | null>;
  hash: Generated<string | null>;
  /** The incarnation of the app (apps.incarnation) the entry is about; null for entries about no app. */
  app_incarnation: Generated<string | null>;
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
  /** The environment's values version this deployment runs with (null: no values yet). */
  values_version: Generated<number | null>;
  /** The build artifact it deploys (0015), if one. */
  artifact_id: Generated<number | string | null>;
  /**
   * JSON: the artifact each workload of its set came from, `{"api": "3", "worker": null}` (0036); null before it
   * starts when it builds its set then, and on deployments from before (see domain/deployments/provenance.ts).
   */
  workload_artifacts: Generated<string | null>;
  /** The commit of that artifact. */
  commit: Generated<string | null>;
  /** When that commit was made (0023): the artifact's commit time, or `pave deploy --commit-time`. */
  commit_time: Generated<string | null>;
  /** Who approved or rejected it, when it awaited approval (0016). */
  approved_by: Generated<string | null>;
  /** Their comment. */
  approval_comment: Generated<string | null>;
  /** When they decided. */
  decided_at: Generated<string | null>;
  /** JSON: the denying policies an org admin overrode for it, `[{id, reason, by}]` (0017); null: none. */
  policy_overrides: Generated<string | null>;
  /**
   * DORA facts, kept up to date as deployments start and finish (0024; see domain/deployments/facts.ts):
   * 1 when it is a failed change (it failed, or it succeeded and a rollback came within 24 h).
   */
  failed_change: Generated<number>;
  /** Seconds from its commit to its success (deploys with a commit time); null otherwise. */
  lead_seconds: Generated<number | null>;
  /** For a failed change: seconds until its environment's next success; null while there is none. */
  restore_seconds: Generated<number | null>;
  /**
   * JSON: what its run has changed so far, kept so a run resumed after a crash knows it (0028; RunProgress in
   * domain/deployments/phases/phase.ts); null until a run changes something.
   */
  progress: Generated<string | null>;
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

export interface DataKeysTable {
  id: Generated<number>;
  /** `app:<app>` or `env:<app>/<env>`. */
  scope: string;
  /** The master key version that wrapped it. */
  master_version: number;
  /** base64(iv | tag | AES-256-GCM(data key)) under the master key. */
  wrapped: string;
  created_at: string;
}

export interface AppValuesTable {
  app_id: string;
  key: string;
  secret: number;
  /** Plain text, or for a secret the ciphertext (`pave:<data key id>:…`). */
  value: string;
  /** A secret's keyed fingerprint; null for plain values. */
  fp: string | null;
  updated_by: string;
  updated_at: string;
}

export interface EnvValuesTable {
  app_id: string;
  env_id: string;
  key: string;
  secret: number;
  /** As in app_values; NULL hides the app-level value in this environment. */
  value: string | null;
  fp: string | null;
  updated_by: string;
  updated_at: string;
}

export interface EnvValueVersionsTable {
  app_id: string;
  env_id: string;
  version: number;
  /** JSON: the effective values, by key: { secret, value (ciphertext for secrets), source, updatedBy, updatedAt }. */
  content: string;
  actor: string;
  reason: string;
  /** JSON: ValueChange[] (never a secret's value). */
  changes: string;
  created_at: string;
}

export interface ResourceDefinitionsTable {
  id: string;
  type: string;
  driver: string;
  input_values: string;
  input_secrets: string;
  secrets_fp: string;
  secret_names: string;
  criteria: string;
  updated_by: string;
  updated_at: string;
}

export interface ResourcesTable {
  app_id: string;
  env_id: string;
  address: string;
  type: string;
  class: string;
  res_id: string;
  definition_id: string;
  driver: string;
  driver_id: string;
  inputs_fp: string;
  params: string;
  output_values: string;
  output_secrets: string;
  secret_names: string;
  created_at: string;
  updated_at: string;
  /**
   * The driver inputs the resource was last created or updated with (0011): canonical JSON of its
   * ResourceInputs without `cloneFrom`, sealed with the environment's data key. Null for resources
   * provisioned before 0011 and not deployed since.
   */
  inputs: Generated<string | null>;
}

export interface RoutesTable {
  host: string;
  path: string;
  app_id: string;
  env_id: string;
  workload: string;
  host_port: number;
}

/** The environment a route host belongs to: only its routes may use any path of that host. */
export interface RouteHostsTable {
  host: string;
  app_id: string;
  env_id: string;
  claimed_at: string;
}

export interface TeamsTable {
  id: string;
  created_by: string;
  created_at: string;
  /** The OIDC group whose members are this team's members at each SSO sign-in; null: managed by hand. */
  oidc_group: Generated<string | null>;
}

export interface TeamMembersTable {
  team_id: string;
  user_id: string;
  added_at: string;
}

export interface LoginFailuresTable {
  id: Generated<number>;
  /** `user:<name>` or `client:<address>`. */
  key: string;
  at: string;
}

/** One row (id 1): the head of the audit hash chain. */
export interface AuditChainTable {
  id: number;
  seq: number;
  last_hash: string;
  /** The first entry hashed with the audit key (HMAC); earlier ones use the unkeyed hash. Null: not keyed yet. */
  keyed_from: Generated<number | null>;
  /** HMAC under the audit key of `keyed_from` (see auditKeyCheck): names the key and pins where keying began. */
  key_check: Generated<string | null>;
}

export interface RoleGrantsTable {
  id: Generated<number>;
  subject_kind: string;
  subject_id: string;
  role: string;
  scope_kind: string;
  scope_id: string;
  created_by: string;
  created_at: string;
}

export interface RuntimeTargetsTable {
  id: string;
  type: string;
  config: string;
  criteria: string;
  updated_by: string;
  updated_at: string;
}

/** The event outbox: one row per change Pave makes, written in the change's transaction. */
export interface EventsTable {
  /** Monotonic, committed in order (taken from event_cursor): the cursor of readers. */
  id: number | string;
  type: string;
  time: string;
  actor: string;
  app_id: string | null;
  /** The incarnation of the app (apps.incarnation) the event is about; null for events about no app. */
  app_incarnation: string | null;
  env_id: string | null;
  /** JSON text: the event's data (see EVENT_DATA in @pave/core). Never holds a secret value. */
  data: string;
}

/** One row (id 1): the last event id handed out. */
export interface EventCursorTable {
  id: number;
  last_id: number | string;
}

/** A webhook: where events are sent, its cursor in the outbox and the lease of the replica sending them. */
export interface WebhooksTable {
  id: string;
  name: string;
  /** The URL as the API shows it: a password in it `***`, credential-like query values `[redacted]`. */
  url: string;
  /**
   * The whole URL, credentials included, encrypted with the secret box (the signing secret's scope); the
   * dispatcher sends to it. Null for a row stored before URLs were sealed, whose `url` is still the whole URL
   * until the dispatcher seals it at start.
   */
  sealed_url: Generated<string | null>;
  /** The app whose events it receives (of incarnation `app_incarnation`); null: every event. */
  app_id: string | null;
  app_incarnation: string | null;
  /** JSON text: the event types it receives; null: every type. */
  events: string | null;
  /** The signing secret (`whsec_…`), encrypted with the secret box. */
  secret: string;
  /** The secret the last rotation replaced, encrypted like `secret`; null when it was not kept. */
  previous_secret: Generated<string | null>;
  /** Until when (ISO 8601) deliveries are signed with `previous_secret` as well; null with no overlap. */
  previous_secret_until: Generated<string | null>;
  enabled: number;
  disabled_reason: string | null;
  consecutive_failures: number;
  /** The last event delivered or given up on (0: none yet). */
  last_event_id: number | string;
  lease_owner: string | null;
  lease_until: string | null;
  /**
   * Set when its app is deleted: the last event of the deletion. It delivers up to there, then the janitor
   * removes it; meanwhile the API no longer shows it.
   */
  retire_after_event_id: Generated<number | string | null>;
  created_at: string;
  created_by: string;
}

/** One event sent (or to send) to one webhook; `id` is the `webhook-id` header on every attempt. */
export interface WebhookDeliveriesTable {
  id: string;
  webhook_id: string;
  event_id: number | string | null;
  event_type: string;
  /** The exact body sent. */
  payload: string;
  status: string;
  attempts: number;
  created_at: string;
  next_attempt_at: string | null;
  last_status_code: number | null;
  last_error: string | null;
  /** JSON text: the attempts, oldest first (WebhookAttempt in @pave/core). */
  attempt_log: string;
}

/** A build artifact CI pushed (0015): the Score workloads of one commit and the image built for them. */
export interface ArtifactsTable {
  id: Generated<number>;
  app_id: string;
  /** The incarnation of the app (apps.incarnation) it was pushed to. */
  app_incarnation: string | null;
  /** JSON: workload name -> WorkloadSource, as a deployment stores them (the image already applied). */
  workloads: string;
  image: string | null;
  commit: string;
  branch: string | null;
  commit_time: string | null;
  created_at: string;
  created_by: string;
}

/** An automation rule (0015): deploy the artifacts of branches matching `branch` to an environment. */
export interface RulesTable {
  id: Generated<number>;
  app_id: string;
  env_id: string;
  /** A glob matched against the artifact's branch. */
  branch: string;
  /** Only artifacts with this workload; null: any. */
  workload: string | null;
  /** The user whose roles the rule deploys with, checked at every push. */
  created_by_id: string;
  created_by: string;
  created_at: string;
}

/** A policy (0017): a CEL rule, promotion gate or freeze every matching deployment is checked against. */
export interface PoliciesTable {
  id: string;
  description: string | null;
  /** JSON: the criteria list (empty: everywhere). */
  criteria: string;
  severity: string;
  message: string;
  /** rule, promotionGate or freeze. */
  kind: string;
  /** JSON: `{rule, each}`, the promotion gate or the freeze. */
  spec: string;
  created_at: string;
  created_by: string;
  updated_at: string;
  updated_by: string;
}

/** A resource's state kept by the control plane (Terraform's http backend), 0018. */
export interface ResourceStatesTable {
  app_id: string;
  env_id: string;
  address: string;
  /** The state, sealed with the environment's data key; null: none written yet (or deleted). */
  state: string | null;
  /** The id of the lock a run holds; null: unlocked. */
  lock_id: string | null;
  /** The holder's lock info as it sent it (JSON: who, operation, when; no secrets). */
  lock_info: string | null;
  locked_at: string | null;
  updated_at: string;
}

/**
 * The secret outputs a resource had before they were replaced or it was deleted (0032): sealed as its record
 * held them, to mask them in its environment's logs.
 */
export interface RetiredResourceSecretsTable {
  app_id: string;
  env_id: string;
  address: string;
  output_secrets: string;
  retired_at: string;
}

/** A workload profile (0019): JSON columns hold the criteria, patches and extra objects as applied. */
export interface ProfilesTable {
  id: string;
  description: string | null;
  criteria: string;
  patches: string;
  objects: string;
  /** 1 when created, one more on each change. */
  version: number;
  created_at: string;
  created_by: string;
  updated_at: string;
  updated_by: string;
}

/** One version of a template (0021): `content` is the template as applied, canonical JSON. */
export interface TemplatesTable {
  id: string;
  version: number;
  content: string;
  created_at: string;
  created_by: string;
}

/** An SSO sign-in under way: started at /auth/sso/start, finished (once) at /auth/sso/callback. */
export interface SsoSignInsTable {
  state_hash: string;
  /** The secret box's ciphertext of the sign-in's nonce, PKCE verifier and return (JSON), with state_hash. */
  sealed: string;
  callback_url: string;
  created_at: string;
  expires_at: string;
}

/** Which Pave user an OIDC provider's subject is. */
export interface OidcIdentitiesTable {
  issuer: string;
  subject: string;
  user_id: string;
  created_at: string;
  last_sign_in_at: string;
}
