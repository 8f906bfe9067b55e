import {
  ConflictError,
  NotAllowedError,
  NotFoundError,
  NUMERIC_ID_PATTERN,
  PolicyDeniedError,
  decide,
  type AccessTarget,
  type Approval,
  type ApprovalPage,
  type ApproveBody,
  type Deployment,
  type DeploymentDetail,
  type DeploymentKind,
  type Permission,
  type RejectBody,
  type SetDiff,
  SYSTEM_ACTORS,
} from '@pave/core';
import type { Selectable } from 'kysely';
import type { Executor, Store } from '../../store/index.ts';
import type { DeploymentsTable } from '../../store/schema.ts';
import {
  actorSeesApp,
  appsActorSees,
  decideFor,
  environmentAccess,
  loadGrants,
  type AccessCheck,
} from '../access.ts';
import { appNotFound } from '../apps.ts';
import { recordAudit } from '../audit.ts';
import { now, type Actor, type RequestContext } from '../context.ts';
import { recordEvent } from '../events.ts';
import { checkDeploymentPolicies } from '../policies.ts';
import { latestValuesVersion, valuesContent, type ValuesContent } from '../values.ts';
import { cancelQueued } from './cancel.ts';
import { diffSets } from './diff.ts';
import { getDeployment, journal, toDeployment, valuesVersionOf, type DeploymentRequest } from './records.ts';
import { applyPatch, currentWorkloads } from './service.ts';
import { loadSet } from './sets.ts';
import { workloadArtifactsOf } from './provenance.ts';
import { canonicalJson } from '../canonical-json.ts';

/*
 * Four-eyes approvals. A deployment, rollback or promotion into an environment whose type requires approval
 * is recorded `awaiting-approval` and never runs until someone else who holds deployment.approve on the type
 * approves it (it becomes `queued`). A rejection, the approval TTL running out (the janitor) or a newer
 * deployment of the same environment end it without running it. Every change is audited, with an
 * `approval.*` event in the same transaction.
 */

/** How long a deployment may await approval by default (`pave up --approval-ttl`): 24 hours. */
export const DEFAULT_APPROVAL_TTL_MS = 24 * 3_600_000;

// The TTL of this process: `pave up --approval-ttl` sets it once at start-up (see setApprovalTtlMs).
let approvalTtl = DEFAULT_APPROVAL_TTL_MS;

/**
 * Sets how long deployments await approval before the janitor expires them; the `expiresAt` of requests
 * made from now on. Called once when the server starts.
 */
export function setApprovalTtlMs(ms: number): void {
  approvalTtl = ms;
}

/** How long deployments await approval before they expire (DEFAULT_APPROVAL_TTL_MS unless set). */
export function approvalTtlMs(): number {
  return approvalTtl;
}

function expiryOf(createdAt: string): string {
  return new Date(Date.parse(createdAt) + approvalTtl).toISOString();
}

/** Whether deployments into `app`/`env` await approval: its type requires it. False for no such environment. */
export async function approvalRequired(db: Executor, app: string, env: string): Promise<boolean> {
  const row = await db
    .selectFrom('environments')
    .innerJoin('env_types', 'env_types.id', 'environments.type')
    .select('env_types.requires_approval as requiresApproval')
    .where('environments.app_id', '=', app)
    .where('environments.id', '=', env)
    .executeTakeFirst();
  return Number(row?.requiresApproval ?? 0) === 1;
}

/** Records the `approval.requested` event of a deployment just inserted as awaiting approval (inside `tx`). */
export async function requestApproval(
  tx: Executor,
  context: RequestContext,
  deployment: Deployment,
): Promise<void> {
  await recordEvent(tx, context, {
    type: 'approval.requested',
    app: deployment.appId,
    env: deployment.envId,
    data: {
      deploymentId: deployment.id,
      kind: deployment.kind,
      requestedBy: deployment.actor,
      expiresAt: expiryOf(deployment.createdAt),
    },
  });
}

/**
 * Supersedes every deployment of the same environment older than `newer` still awaiting approval: they end
 * `superseded` (audited, `approval.superseded`) and never run; only the newest request can be approved.
 * Inside the transaction that inserts `newer`.
 */
export async function supersedePending(
  tx: Executor,
  context: RequestContext,
  newer: Deployment,
): Promise<void> {
  const reason = `superseded by deployment ${newer.id}`;
  const rows = await tx
    .updateTable('deployments')
    .set({ status: 'superseded', reason, finished_at: now(), decided_at: now() })
    .where('app_id', '=', newer.appId)
    .where('env_id', '=', newer.envId)
    .where('status', '=', 'awaiting-approval')
    .where('id', '<', Number(newer.id))
    .returning(['id', 'kind', 'actor'])
    .execute();
  for (const row of rows) {
    const id = String(row.id);
    await journal(tx, Number(row.id), { step: 'approval', status: 'info', message: reason });
    await recordAudit(tx, context, {
      action: 'deployment.supersede',
      target: `apps/${newer.appId}/envs/${newer.envId}/deployments/${id}`,
      appId: newer.appId,
      summary: { id, supersededBy: newer.id },
    });
    await recordEvent(tx, context, {
      type: 'approval.superseded',
      app: newer.appId,
      env: newer.envId,
      data: {
        deploymentId: id,
        kind: row.kind as DeploymentKind,
        requestedBy: row.actor,
        supersededBy: newer.id,
      },
    });
  }
}

interface PendingRow {
  deployment: Selectable<DeploymentsTable>;
  envType: string;
  restricted: boolean;
}

async function deploymentWithType(db: Executor, id: string): Promise<PendingRow | undefined> {
  if (!NUMERIC_ID_PATTERN.test(id)) return undefined;
  const row = await db
    .selectFrom('deployments')
    .innerJoin('environments', (join) =>
      join
        .onRef('environments.app_id', '=', 'deployments.app_id')
        .onRef('environments.id', '=', 'deployments.env_id'),
    )
    .innerJoin('env_types', 'env_types.id', 'environments.type')
    .selectAll('deployments')
    .select(['env_types.id as envType', 'env_types.restricted as typeRestricted'])
    .where('deployments.id', '=', Number(id))
    .executeTakeFirst();
  if (!row) return undefined;
  const { envType, typeRestricted, ...deployment } = row;
  return { deployment, envType, restricted: Number(typeRestricted) === 1 };
}

function deploymentNotFound(id: string): NotFoundError {
  return new NotFoundError(`deployment ${id} not found`, [
    { path: 'path.id', message: '`pave approvals list` shows the deployments awaiting approval' },
  ]);
}

/**
 * The check of `POST /approvals/{id}/approve|reject` (a route's `config.access`): deployment.approve on the
 * deployment's environment type. NotFoundError when there is no such deployment or the caller may not see
 * its app; NotAllowedError (403) when the caller is one of its requesters (requestersOf), whatever their roles.
 */
export async function approvalAccess(db: Executor, actor: Actor, id: string): Promise<AccessCheck[]> {
  const pending = await deploymentWithType(db, id);
  if (!pending || !actorSeesApp(actor, pending.deployment.app_id)) throw deploymentNotFound(id);
  const own = (await requestersOf(db, pending.deployment)).find(
    (requester) => requester.username === actor.username,
  );
  if (own) {
    throw new NotAllowedError(`${own.how}: someone else must approve or reject it (four eyes)`, [
      { path: 'path.id', message: 'the requesters of a deployment may not decide it, whatever their role' },
    ]);
  }
  const target: AccessTarget = {
    app: pending.deployment.app_id,
    envType: pending.envType,
    restricted: pending.restricted,
  };
  return [{ permission: 'deployment.approve', target }];
}

/** Someone who asked for a deployment, and so may not decide it. */
interface Requester {
  /** Their user id; undefined when they no longer exist. */
  userId: string | undefined;
  username: string;
  /** How they asked for it, said to them: `you asked for deployment 7 yourself`. */
  how: string;
  /**
   * It runs with their authority, so they must still be allowed to ask for it (requesterRefusal). Not so for
   * the pusher of an artifact someone deployed by hand: what runs is theirs, but whoever deployed it chose to.
   */
  authority: boolean;
}

/**
 * Who asked for a deployment: the user named as its actor or, for a deployment a rule queued (actor
 * `rule:<id>`), the user whose roles the rule deploys with; and the users who pushed the artifacts whose code it
 * brings (artifactsBrought), when someone else (what gets deployed is theirs: the one who deploys it may never
 * have read it). A rule that no longer exists counts as a requester who no longer exists.
 */
async function requestersOf(db: Executor, deployment: Selectable<DeploymentsTable>): Promise<Requester[]> {
  const id = String(deployment.id);
  const rule = /^rule:(\d+)$/.exec(deployment.actor);
  const requesters: Requester[] = [];
  if (!rule) {
    requesters.push({
      userId: await userIdOf(db, deployment.actor),
      username: deployment.actor,
      how: `you asked for deployment ${id} yourself`,
      authority: true,
    });
  } else {
    const creator = await db
      .selectFrom('rules')
      .innerJoin('users', 'users.id', 'rules.created_by_id')
      .select(['users.id as userId', 'users.username as username'])
      .where('rules.id', '=', Number(rule[1]))
      .executeTakeFirst();
    requesters.push({
      userId: creator?.userId,
      username: creator?.username ?? deployment.actor,
      how: `you made rule ${rule[1]}, which asked for deployment ${id}`,
      authority: true,
    });
  }
  const own = deployment.artifact_id === null ? null : String(deployment.artifact_id);
  for (const [artifactId, workloads] of await artifactsBrought(db, deployment)) {
    const artifact = await db
      .selectFrom('artifacts')
      .select('created_by')
      .where('id', '=', Number(artifactId))
      .executeTakeFirst();
    if (!artifact || requesters.some((requester) => requester.username === artifact.created_by)) continue;
    const deploys = rule ? `rule ${rule[1]} deploys in deployment ${id}` : `deployment ${id} deploys`;
    const which =
      workloads.length === 1
        ? `workload ${workloads[0]} of deployment ${id} comes from`
        : `workloads ${workloads.join(', ')} of deployment ${id} come from`;
    requesters.push({
      userId: await userIdOf(db, artifact.created_by),
      username: artifact.created_by,
      how:
        artifactId === own
          ? `you pushed the artifact that ${deploys} (artifact ${artifactId})`
          : `you pushed artifact ${artifactId}, which ${which}`,
      // A rule's deployment: the rule deploys what they push, on their word as much as its creator's.
      authority: rule !== null && artifactId === own,
    });
  }
  return requesters;
}

/**
 * The artifacts whose code a deployment brings, by id, each with the workloads it brings from it: its own
 * artifact (the one it deploys or, made from another deployment, that one's; no workloads listed) first, then,
 * for a set made from another deployment's (a promotion, rollback, redeploy or clone), the artifact each
 * workload it adds or changes against the environment's current set came from (provenance.ts). A set is built
 * up by many deployments: the one that made it may have been by hand while the code of others is an
 * artifact's. A patch deploys only its own artifact's workloads.
 */
async function artifactsBrought(
  db: Executor,
  deployment: Selectable<DeploymentsTable>,
): Promise<Map<string, string[]>> {
  const own = deployment.artifact_id === null ? null : String(deployment.artifact_id);
  const brought = new Map<string, string[]>(own === null ? [] : [[own, []]]);
  const request = JSON.parse(deployment.request) as DeploymentRequest;
  if (request.setId === undefined) return brought;
  const next = (await loadSet(db, request.setId)).workloads;
  const current = (await currentWorkloads(db, deployment.app_id, deployment.env_id)).workloads;
  for (const [name, artifactId] of Object.entries(workloadArtifactsOf(deployment, next))) {
    const running = current[name];
    if (artifactId === null || (running && canonicalJson(running) === canonicalJson(next[name]))) continue;
    if (artifactId !== own) brought.set(artifactId, [...(brought.get(artifactId) ?? []), name]);
  }
  return brought;
}

async function userIdOf(db: Executor, username: string): Promise<string | undefined> {
  const row = await db.selectFrom('users').select('id').where('username', '=', username).executeTakeFirst();
  return row?.id;
}

/** The permission the requester of a deployment of `kind` needs to ask for it. */
function permissionToRequest(kind: string): Permission {
  return kind === 'rollback' ? 'deployment.rollback' : 'deployment.create';
}

/** A requester of a deployment who may no longer ask for it (requesterRefusal). */
export interface RequesterRefusal {
  /** The requester no longer exists (else they lost a role). */
  gone: boolean;
  /** Who and what, to follow "its requester": `dora may no longer do deployment.create on shop/prod (…)`. */
  what: string;
}

/**
 * The first requester of `pending` (requestersOf) who may no longer ask for it, as the grants stored now say;
 * undefined when every one still may. Each needs the permission of its kind on its environment and, for a
 * clone with data, `values.reveal` on the environment it copies, as creating the clone needed (its run copies
 * that environment's data).
 */
export async function requesterRefusal(
  db: Executor,
  pending: PendingRow,
): Promise<RequesterRefusal | undefined> {
  const { deployment } = pending;
  const app = deployment.app_id;
  const checks: Array<{ permission: Permission; env: string; target: AccessTarget }> = [
    {
      permission: permissionToRequest(deployment.kind),
      env: deployment.env_id,
      target: { app, envType: pending.envType, restricted: pending.restricted },
    },
  ];
  const copied = (JSON.parse(deployment.request) as DeploymentRequest).cloneDataFrom;
  // A source deleted since is not checked here: the run says it is missing.
  const source = copied === undefined ? undefined : await environmentAccess(db, app, copied);
  if (copied !== undefined && source) {
    checks.push({ permission: 'values.reveal', env: copied, target: { app, ...source } });
  }
  for (const requester of await requestersOf(db, deployment)) {
    if (!requester.authority) continue;
    if (requester.userId === undefined) return { gone: true, what: `${requester.username} no longer exists` };
    const grants = await loadGrants(db, requester.userId);
    for (const check of checks) {
      const decision = decide(grants, check.permission, check.target);
      if (!decision.allowed) {
        return {
          gone: false,
          what:
            `${requester.username} may no longer do ${check.permission} on ${app}/${check.env} ` +
            `(${decision.reason})`,
        };
      }
    }
  }
  return undefined;
}

/**
 * Throws unless every requester of `pending` may still ask for it (requesterRefusal): 409 when one no longer
 * exists, 403 naming the permission one lost.
 */
async function checkRequestersStillAllowed(db: Executor, pending: PendingRow): Promise<void> {
  const refusal = await requesterRefusal(db, pending);
  if (!refusal) return;
  const message = `deployment ${pending.deployment.id} cannot be approved: its requester ${refusal.what}`;
  if (refusal.gone) {
    throw new ConflictError(message, [
      { path: 'path.id', message: 'reject it; whoever deploys now asks again' },
    ]);
  }
  throw new NotAllowedError(message, [
    { path: 'path.id', message: 'reject it, or grant the requester their roles again' },
  ]);
}

/**
 * Cancels queued deployment `id`, saying why, when it may not run now: one of its requesters may no longer ask
 * for it (requesterRefusal: it runs with their authority), or a policy denies it now (a freeze that began,
 * with the overrides recorded on it). It may have waited in the queue, or for its approval, long after it was
 * asked for. True when it did.
 */
export async function cancelRefusedNow(tx: Executor, id: number): Promise<boolean> {
  const pending = await deploymentWithType(tx, String(id));
  if (!pending || pending.deployment.status !== 'queued') return false;
  const refusal = await requesterRefusal(tx, pending);
  let reason = refusal && `its requester ${refusal.what}`;
  if (!reason) {
    try {
      await checkDeploymentPolicies(tx, String(id));
    } catch (error) {
      if (!(error instanceof PolicyDeniedError)) throw error;
      reason = `${error.message} now (${error.errors.map((problem) => problem.message).join('; ')})`;
    }
  }
  if (!reason) return false;
  const { deployment } = pending;
  await cancelQueued(
    tx,
    { id, app: deployment.app_id, env: deployment.env_id },
    `cancelled before it started: ${reason}`,
    SYSTEM_ACTORS.system,
  );
  return true;
}

async function pendingOrThrow(db: Executor, id: string): Promise<PendingRow> {
  const pending = await deploymentWithType(db, id);
  if (!pending) throw deploymentNotFound(id);
  if (pending.deployment.status !== 'awaiting-approval') {
    throw new ConflictError(
      `deployment ${id} is ${pending.deployment.status}, not awaiting approval: there is nothing to decide`,
      [{ path: 'path.id', message: 'only a deployment awaiting approval can be approved or rejected' }],
    );
  }
  return pending;
}

/**
 * Approves deployment `id`: it becomes `queued` and the worker runs it. The caller's right to approve is
 * checked by the route (approvalAccess). ConflictError when it is not awaiting approval (naming its status,
 * also when another approver decided it at the same moment); NotAllowedError when its requester may no longer
 * deploy there (any of its requesters: requestersOf); the policies' error (422) when a policy denies it now. Audited, with an `approval.approved` event. Answers the deployment as it is now.
 */
export async function approveDeployment(
  store: Store,
  context: RequestContext,
  id: string,
  body: ApproveBody,
): Promise<DeploymentDetail> {
  const pending = await pendingOrThrow(store.db, id);
  await checkRequestersStillAllowed(store.db, pending);
  // Policies may have changed (or a freeze begun) since it was asked for: a deny now refuses it (422).
  await checkDeploymentPolicies(store.db, id);
  const comment = body.comment?.trim() ? body.comment.trim() : null;
  return decideDeployment(store, context, pending, {
    status: 'queued',
    comment,
    reason: null,
    message: `approved by ${context.actor.username}${comment ? `: ${comment}` : ''}`,
    event: (data) => ({
      type: 'approval.approved',
      data: { ...data, approver: context.actor.username, comment },
    }),
  });
}

/**
 * Rejects deployment `id` with the reason in `body.comment`: it ends `rejected` and never runs. The caller's
 * right is checked by the route (approvalAccess). ConflictError when it is not awaiting approval. Audited, with
 * an `approval.rejected` event. Answers the deployment as it is now.
 */
export async function rejectDeployment(
  store: Store,
  context: RequestContext,
  id: string,
  body: RejectBody,
): Promise<DeploymentDetail> {
  const pending = await pendingOrThrow(store.db, id);
  const comment = body.comment.trim();
  const message = `rejected by ${context.actor.username}: ${comment}`;
  return decideDeployment(store, context, pending, {
    status: 'rejected',
    comment,
    reason: message,
    message,
    event: (data) => ({
      type: 'approval.rejected',
      data: { ...data, approver: context.actor.username, comment },
    }),
  });
}

type ApprovalData = { deploymentId: string; kind: DeploymentKind; requestedBy: string };

async function decideDeployment(
  store: Store,
  context: RequestContext,
  pending: PendingRow,
  decision: {
    status: 'queued' | 'rejected';
    comment: string | null;
    reason: string | null;
    message: string;
    event: (
      data: ApprovalData,
    ) =>
      | { type: 'approval.approved'; data: ApprovalData & { approver: string; comment: string | null } }
      | { type: 'approval.rejected'; data: ApprovalData & { approver: string; comment: string } };
  },
): Promise<DeploymentDetail> {
  const { deployment } = pending;
  const id = String(deployment.id);
  const app = deployment.app_id;
  const env = deployment.env_id;
  const decided = await store.transaction(async (tx) => {
    const at = now();
    const row = await tx
      .updateTable('deployments')
      .set({
        status: decision.status,
        approved_by: context.actor.username,
        approval_comment: decision.comment,
        decided_at: at,
        ...(decision.status === 'rejected' ? { reason: decision.reason, finished_at: at } : {}),
      })
      .where('id', '=', Number(id))
      .where('status', '=', 'awaiting-approval')
      .returning(['kind', 'actor'])
      .executeTakeFirst();
    if (!row) return false;
    await journal(tx, Number(id), { step: 'approval', status: 'info', message: decision.message });
    await recordAudit(tx, context, {
      action: decision.status === 'queued' ? 'deployment.approve' : 'deployment.reject',
      target: `apps/${app}/envs/${env}/deployments/${id}`,
      appId: app,
      summary: { id, kind: row.kind, requestedBy: row.actor, comment: decision.comment },
    });
    const event = decision.event({
      deploymentId: id,
      kind: row.kind as DeploymentKind,
      requestedBy: row.actor,
    });
    await recordEvent(tx, context, { ...event, app, env });
    return true;
  });
  // Decided by someone else (or superseded, expired) since it was read.
  if (!decided) await pendingOrThrow(store.db, id);
  return getDeployment(store.db, app, env, id);
}

/**
 * Expires the deployments that have awaited approval longer than `ttlMs`: each ends `expired` (audited as
 * `context`, the janitor, with an `approval.expired` event) and never runs. Answers how many expired.
 */
export async function expirePendingApprovals(
  store: Store,
  context: RequestContext,
  ttlMs: number,
): Promise<number> {
  const before = new Date(Date.now() - ttlMs).toISOString();
  const rows = await store.db
    .selectFrom('deployments')
    .select(['id', 'app_id', 'env_id'])
    .where('status', '=', 'awaiting-approval')
    .where('created_at', '<', before)
    .orderBy('id')
    .execute();
  let expired = 0;
  for (const { id, app_id: app, env_id: env } of rows) {
    const reason = `not approved within ${describeTtl(ttlMs)}: expired`;
    const done = await store.transaction(async (tx) => {
      const row = await tx
        .updateTable('deployments')
        .set({ status: 'expired', reason, finished_at: now(), decided_at: now() })
        .where('id', '=', Number(id))
        .where('status', '=', 'awaiting-approval')
        .returning(['kind', 'actor'])
        .executeTakeFirst();
      if (!row) return false;
      await journal(tx, Number(id), { step: 'approval', status: 'info', message: reason });
      await recordAudit(tx, context, {
        action: 'deployment.expire',
        target: `apps/${app}/envs/${env}/deployments/${id}`,
        appId: app,
        summary: { id: String(id), kind: row.kind, requestedBy: row.actor },
      });
      await recordEvent(tx, context, {
        type: 'approval.expired',
        app,
        env,
        data: { deploymentId: String(id), kind: row.kind as DeploymentKind, requestedBy: row.actor },
      });
      return true;
    });
    if (done) expired++;
  }
  return expired;
}

function describeTtl(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  return `${Math.round(ms / 1000)}s`;
}

/** The page size of GET /approvals unless the caller asks (each approval computes a diff). */
const DEFAULT_APPROVAL_PAGE = 50;

/**
 * A page of the deployments awaiting approval the actor may see (deployment.read on their app), of `app` or
 * of every app, newest first, each with what it would change against the environment's current set. The
 * page continues after `page.cursor` (a deployment id: older ones); `nextCursor` is null on the last page.
 * Rejects with NotFoundError (appNotFound) when `app` does not exist, as every route naming an app answers
 * (a caller who does not see every app has had that answer from the permission check already).
 */
export async function listApprovals(
  db: Executor,
  actor: Actor,
  filter: { app?: string | undefined } = {},
  page: { limit?: number | undefined; cursor?: string | undefined } = {},
): Promise<ApprovalPage> {
  if (filter.app !== undefined) {
    const exists = await db.selectFrom('apps').select('id').where('id', '=', filter.app).executeTakeFirst();
    if (!exists) throw appNotFound(filter.app);
  }
  const readable = appsWithReadableDeployments(actor, filter.app);
  if (readable !== 'all' && readable.length === 0) return { items: [], nextCursor: null };
  const limit = page.limit ?? DEFAULT_APPROVAL_PAGE;
  // The apps are filtered in SQL, before the LIMIT, so a page is never short for rows the actor may not
  // read; keyset pagination on the index (status, id) keeps a deep page as cheap as the first.
  const rows = await db
    .selectFrom('deployments')
    .innerJoin('environments', (join) =>
      join
        .onRef('environments.app_id', '=', 'deployments.app_id')
        .onRef('environments.id', '=', 'deployments.env_id'),
    )
    .selectAll('deployments')
    .select('environments.type as envType')
    .where('deployments.status', '=', 'awaiting-approval')
    .$if(readable !== 'all', (qb) => qb.where('deployments.app_id', 'in', readable as readonly string[]))
    .$if(page.cursor !== undefined, (qb) => qb.where('deployments.id', '<', Number(page.cursor)))
    .orderBy('deployments.id', 'desc')
    .limit(limit + 1)
    .execute();
  const items: Approval[] = [];
  for (const { envType, ...row } of rows.slice(0, limit)) items.push(await toApproval(db, row, envType));
  return { items, nextCursor: rows.length > limit ? (items.at(-1)?.id ?? null) : null };
}

/**
 * The apps whose deployments the actor may read (mayReadDeployments decides each), `app` alone when given:
 * `all` for an org admin whose token is not narrowed, who may read every app's.
 */
function appsWithReadableDeployments(actor: Actor, app: string | undefined): 'all' | string[] {
  if (app !== undefined) return mayReadDeployments(actor, app) ? [app] : [];
  const seen = appsActorSees(actor);
  return seen === 'all' ? 'all' : seen.filter((id) => mayReadDeployments(actor, id));
}

/**
 * One deployment awaiting approval, with what it would change. NotFoundError when there is no such deployment
 * or the caller may not read its app's deployments; when it exists but no longer awaits approval, too, saying
 * what became of it.
 */
export async function getApproval(db: Executor, actor: Actor, id: string): Promise<Approval> {
  const pending = await deploymentWithType(db, id);
  if (!pending || !mayReadDeployments(actor, pending.deployment.app_id)) throw deploymentNotFound(id);
  const { deployment, envType } = pending;
  if (deployment.status !== 'awaiting-approval') {
    throw new NotFoundError(`deployment ${id} is not awaiting approval: it is ${deployment.status}`, [
      {
        path: 'path.id',
        message: `\`pave deployments get ${id} --app ${deployment.app_id} --env ${deployment.env_id}\` shows it`,
      },
    ]);
  }
  return toApproval(db, deployment, envType);
}

function mayReadDeployments(actor: Actor, app: string): boolean {
  return actorSeesApp(actor, app) && decideFor(actor, 'deployment.read', { app }).allowed;
}

async function toApproval(
  db: Executor,
  row: Selectable<DeploymentsTable>,
  envType: string,
): Promise<Approval> {
  const deployment = toDeployment(row);
  const { diff, runningValuesVersion } = await plannedDiff(db, row);
  return {
    id: deployment.id,
    deployment,
    envType,
    runningValuesVersion,
    requestedBy: row.actor,
    requesters: (await requestersOf(db, row)).map((requester) => requester.username),
    requestedAt: row.created_at,
    expiresAt: expiryOf(row.created_at),
    summary: summarizeDiff(diff),
    diff,
  };
}

/**
 * What a pending deployment would change: its set (or patch) against the environment's current set, and the
 * values it runs with (its pinned version) against those the current deployment runs with, as `pave diff`
 * compares them (a secret only says that it changed, never its value). With the version running now.
 */
async function plannedDiff(
  db: Executor,
  row: Selectable<DeploymentsTable>,
): Promise<{ diff: SetDiff; runningValuesVersion: number | null }> {
  const app = row.app_id;
  const env = row.env_id;
  const request = JSON.parse(row.request) as DeploymentRequest;
  const current = await currentWorkloads(db, app, env);
  const next = request.setId
    ? (await loadSet(db, request.setId)).workloads
    : applyPatch(current.workloads, request.upsert, request.remove);
  const runningValuesVersion = await valuesVersionOf(db, current.deploymentId);
  // Requests from before versions were pinned at request time run with the newest when they start.
  const nextVersion =
    request.valuesVersion !== undefined ? request.valuesVersion : await latestValuesVersion(db, app, env);
  const valuesOf = (version: number | null): Promise<ValuesContent> =>
    version === null ? Promise.resolve({}) : valuesContent(db, app, env, version);
  const label = `${app}/${env}`;
  const diff = diffSets(
    {
      setId: current.setId,
      label: `${label} (current)`,
      workloads: current.workloads,
      values: await valuesOf(runningValuesVersion),
    },
    {
      setId: request.setId ?? null,
      label: `${label}@${row.id} (awaiting approval)`,
      workloads: next,
      values: await valuesOf(nextVersion),
    },
  );
  return { diff, runningValuesVersion };
}

/** One line for people: `update api (containers.main.image); add worker`, or `no workload changes`. */
function summarizeDiff(diff: SetDiff): string {
  const parts = diff.changes
    .filter((change) => change.action !== 'keep')
    .map(
      (change) =>
        `${change.action} ${change.workload}` +
        (change.action === 'update' && change.fields.length ? ` (${change.fields.join(', ')})` : ''),
    );
  const values = diff.values.length ? [`${diff.values.length} value change(s)`] : [];
  return [...parts, ...values].join('; ') || 'no workload changes';
}
