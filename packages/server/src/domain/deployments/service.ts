import {
  ConflictError,
  InputError,
  NotFoundError,
  checkScoreProbePorts,
  jsonPointer,
  type CreateDeploymentBody,
  type Deployment,
  type DeploymentKind,
  type DeploymentPlan,
  type RollbackBody,
  type SetDiff,
} from '@pave/core';
import type { Selectable } from 'kysely';
import type { Store, Executor } from '../../store/index.ts';
import type { DeploymentsTable } from '../../store/schema.ts';
import { recordAudit } from '../audit.ts';
import { recordEvent } from '../events.ts';
import { environmentRow } from '../environments.ts';
import { latestValuesVersion, valuesContent } from '../values.ts';
import { now, type Clock, type RequestContext } from '../context.ts';
import { diffSets } from './diff.ts';
import { planResources, type ResourceDeps } from '../resources/provision.ts';
import { driverContext, type LevelLogger } from './orchestrator.ts';
import { DEFAULT_TIMEOUT_SECONDS, toDeployment, type DeploymentRequest } from './records.ts';
import { loadSet, saveSet, type SetWorkloads } from './sets.ts';
import { unrenderableManifests, unrunnable } from './runnable.ts';
import { checkSetRenders } from './render.ts';
import { artifactToDeploy } from '../artifacts.ts';
import { enforcePolicies, recordPolicyOutcome } from '../policies.ts';
import { approvalRequired, requestApproval, supersedePending } from './approvals.ts';
import type { RuntimeDriver } from '@pave/plugin-api';

/** The workloads an environment currently runs (its last successful set), or none, and the deployment that made it. */
export async function currentWorkloads(
  db: Executor,
  app: string,
  env: string,
): Promise<{ setId: string | null; workloads: SetWorkloads; deploymentId: number | null }> {
  const row = await environmentRow(db, app, env);
  const deploymentId = row.current_deployment_id;
  if (!row.current_set_id) return { setId: null, workloads: {}, deploymentId };
  const { workloads } = await loadSet(db, row.current_set_id);
  return { setId: row.current_set_id, workloads, deploymentId };
}

/** Applies a partial deploy (upsert some workloads, remove others) to a set's workloads. */
export function applyPatch(
  base: SetWorkloads,
  upsert: DeploymentRequest['upsert'],
  remove: string[] = [],
): SetWorkloads {
  const next: SetWorkloads = { ...base };
  for (const source of upsert ?? []) next[source.spec.metadata.name] = source;
  for (const name of remove) delete next[name];
  return next;
}

/**
 * What a deployment deploys, when it is known: the build artifact (`id`, null for `pave deploy --commit`), its
 * commit and when the commit was made.
 */
export interface DeploymentOrigin {
  id: string | null;
  commit: string;
  commitTime: string | null;
}

/** What the deployment a new one is made from deployed: its artifact, commit and each workload's artifact. */
type SourceRow = Pick<
  Selectable<DeploymentsTable>,
  'artifact_id' | 'commit' | 'commit_time' | 'workload_artifacts'
>;

/**
 * The deployment a new one is made from (its provenance): for a rollback, redeploy or restart
 * (`fromDeploymentId`) that deployment; for a promotion or a clone (`fromEnvId`) the source environment's
 * deployment that made the set it copies. Undefined for a deployment made from nothing else.
 */
async function sourceDeployment(
  db: Executor,
  app: string,
  request: DeploymentRequest,
): Promise<SourceRow | undefined> {
  const columns = [
    'deployments.artifact_id',
    'deployments.commit',
    'deployments.commit_time',
    'deployments.workload_artifacts',
  ] as const;
  if (request.fromDeploymentId !== undefined) {
    return db
      .selectFrom('deployments')
      .select(columns)
      .where('app_id', '=', app)
      .where('id', '=', Number(request.fromDeploymentId))
      .executeTakeFirst();
  }
  if (request.fromEnvId === undefined || request.setId === undefined) return undefined;
  // The source's current deployment made the set; should it have moved on since the set was read, the
  // newest deployment of the source that ran this set did.
  return (
    (await db
      .selectFrom('environments')
      .innerJoin('deployments', 'deployments.id', 'environments.current_deployment_id')
      .select(columns)
      .where('environments.app_id', '=', app)
      .where('environments.id', '=', request.fromEnvId)
      .where('deployments.set_id', '=', request.setId)
      .executeTakeFirst()) ??
    (await db
      .selectFrom('deployments')
      .select(columns)
      .where('app_id', '=', app)
      .where('env_id', '=', request.fromEnvId)
      .where('set_id', '=', request.setId)
      .where('status', '=', 'succeeded')
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirst())
  );
}

/** The artifact and commit a source deployment deployed; undefined when it named no commit. */
function originOf(source: SourceRow | undefined): DeploymentOrigin | undefined {
  if (!source?.commit) return undefined;
  return {
    id: source.artifact_id === null ? null : String(source.artifact_id),
    commit: source.commit,
    commitTime: source.commit_time,
  };
}

/**
 * Inserts a queued deployment, its audit entry and its deployment.queued event (inside `tx`). `artifact`:
 * the build artifact or commit it deploys, recorded with its commit and commit time; a deployment made from
 * another one (a promotion, rollback, redeploy, clone or restart) keeps that one's instead (sourceDeployment):
 * it deploys the same code, whose pusher is one of its requesters (see requestersOf in approvals.ts). `clock`
 * says when it is created (tests seeding a history pass their own). Into an environment whose type requires
 * approval it is `awaiting-approval` instead, with an approval.requested event, and its values version is
 * pinned now, so that it runs with the values approved; either way it supersedes the older deployments of
 * the environment still awaiting approval. A restart does neither (see below).
 */
export async function insertDeployment(
  tx: Executor,
  context: RequestContext,
  target: { app: string; env: string },
  kind: DeploymentKind,
  request: DeploymentRequest,
  message: string,
  artifact?: DeploymentOrigin,
  clock: Clock = now,
): Promise<Deployment> {
  await holdQueue(tx, target);
  // A restart deploys the environment's current set again, with the values it ran with: a set that was approved
  // (and checked against policies and freezes) when it was deployed. It restores that desired state and changes
  // nothing, so it neither awaits approval nor ends the requests that do. Only the server queues one, when it
  // starts (restart.ts); no route can ask for this kind.
  const restart = kind === 'restart';
  const awaitsApproval = !restart && (await approvalRequired(tx, target.app, target.env));
  const source = artifact ? undefined : await sourceDeployment(tx, target.app, request);
  const origin = artifact ?? originOf(source);
  // The approver decides on the values it runs with (the approval shows them against what runs now): a change
  // of values after the request waits for the next deployment rather than ride along with this one.
  const stored: DeploymentRequest =
    awaitsApproval && request.valuesVersion === undefined
      ? { ...request, valuesVersion: await latestValuesVersion(tx, target.app, target.env) }
      : request;
  const row = await tx
    .insertInto('deployments')
    .values({
      app_id: target.app,
      env_id: target.env,
      kind,
      request: JSON.stringify(stored),
      set_id: request.setId ?? null,
      previous_set_id: null,
      actor: context.actor.username,
      message,
      status: awaitsApproval ? 'awaiting-approval' : 'queued',
      reason: null,
      created_at: clock(),
      started_at: null,
      finished_at: null,
      artifact_id: origin?.id ? Number(origin.id) : null,
      // A set made from another deployment's is that one's code, workload by workload; a set built from a patch
      // gets its provenance when it is built, as the deployment starts (see provenance.ts).
      workload_artifacts: request.setId !== undefined ? (source?.workload_artifacts ?? null) : null,
      commit: origin?.commit ?? null,
      commit_time: origin?.commitTime ? new Date(origin.commitTime).toISOString() : null,
      // Known now for a rollback, a restart and one pinned for its approval; else pinned when it starts.
      values_version: stored.valuesVersion ?? null,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  const deployment = toDeployment(row);
  await recordAudit(tx, context, {
    action: `deployment.${kind}`,
    target: `apps/${target.app}/envs/${target.env}/deployments/${deployment.id}`,
    appId: target.app,
    summary: {
      id: deployment.id,
      kind,
      message,
      workloads: request.upsert?.map((w) => w.spec.metadata.name),
      remove: request.remove,
      setId: request.setId,
      fromDeployment: request.fromDeploymentId,
      fromEnv: request.fromEnvId,
      ...(origin?.id ? { artifact: origin.id } : {}),
      ...(origin ? { commit: origin.commit } : {}),
    },
  });
  await recordEvent(tx, context, {
    type: 'deployment.queued',
    app: target.app,
    env: target.env,
    data: {
      deploymentId: deployment.id,
      kind,
      status: deployment.status,
      message,
      artifactId: deployment.artifactId,
      commit: deployment.commit,
    },
  });
  if (!restart) await supersedePending(tx, context, deployment);
  if (awaitsApproval) await requestApproval(tx, context, deployment);
  return deployment;
}

/**
 * Holds the environment's queue until `tx` ends, before a deployment draws its id. The worker runs an
 * environment's deployments in id order, so ids must follow the order in which deployments commit: on
 * PostgreSQL two deploys queued at once could otherwise draw ids 1 and 2 and commit 2 first (whichever takes
 * the audit chain's head first), and the worker would run 2 before 1 existed for it. An UPDATE, even one that
 * changes nothing, takes the row's lock on PostgreSQL (as the audit chain's head is taken); SQLite runs one
 * transaction at a time.
 */
export async function holdQueue(tx: Executor, target: { app: string; env: string }): Promise<void> {
  await tx
    .updateTable('environments')
    .set((eb) => ({ type: eb.ref('type') }))
    .where('app_id', '=', target.app)
    .where('id', '=', target.env)
    .execute();
}

/**
 * What lets planning ask resource drivers (`diff`, and for a plan `read`): without it the plan compares
 * resources by their Score params only.
 */
export interface DeploymentPlanning {
  resources?: Pick<ResourceDeps, 'box' | 'drivers'> | undefined;
  /** Where the drivers' log lines go (the request's logger). */
  logger: LevelLogger;
  /**
   * The runtime of the target an environment matches now, asked whether it can run the set
   * (RuntimeDriver.check). Rejects when the target cannot be built: the deployment's plan phase reports that.
   */
  runtimeOf?: (target: { app: string; env: string; envType: string }) => Promise<RuntimeDriver>;
  /** The runtime target an environment matches now, to name it in refusals (null: no targets in use). */
  targetOf?: (target: {
    app: string;
    env: string;
    envType: string;
  }) => Promise<{ id: string; type: string } | null>;
}

/**
 * How long planning (queuing a deployment, `pave deploy --plan`, checking a restart) may wait for resource
 * drivers to answer `diff` and `read`: for all the set's resources together, whatever their definitions' own
 * timeouts (docs/architecture.md lists Pave's fixed budgets).
 */
export const PLAN_TIMEOUT_MS = 30_000;

/**
 * Queues a deployment of an environment, or with `plan: true` only says what it would change, refusing (as
 * InputError) what the deployment's render would refuse, see checkSetRenders. Deploys
 * replace the named workloads and keep the others; `fromEnv` promotes another environment's current set;
 * `fromDeployment` redeploys an earlier deployment's set. ConflictError when the resources would end in a
 * state Pave refuses (see planResources), e.g. a stateful resource replaced without `allowDataLoss`.
 */
export async function createDeployment(
  store: Store,
  context: RequestContext,
  app: string,
  env: string,
  body: CreateDeploymentBody,
  planning?: DeploymentPlanning,
): Promise<Deployment | DeploymentPlan> {
  if (body.artifact !== undefined && body.workloads !== undefined) {
    throw new InputError('deploy either a build artifact or Score workloads, not both', [
      {
        path: '/artifact',
        message: 'send `artifact` (its Score files are deployed) or `workloads`, not both',
      },
    ]);
  }
  const modes = [
    body.workloads || body.remove ? 'workloads' : null,
    body.artifact,
    body.fromDeployment,
    body.fromEnv,
  ].filter(Boolean);
  if (modes.length !== 1) {
    throw new InputError(
      'say what to deploy: workloads (and/or remove), artifact, fromDeployment or fromEnv — exactly one',
      [
        {
          path: '/',
          message: 'send exactly one of `workloads`/`remove`, `artifact`, `fromDeployment` or `fromEnv`',
        },
      ],
    );
  }
  if (body.artifact !== undefined && body.commit !== undefined) {
    throw new InputError('an artifact names its own commit', [
      { path: '/commit', message: 'leave `commit` out when deploying an artifact' },
    ]);
  }
  // What a promotion or a redeploy deploys was built from its source's commit (see sourceDeployment): naming
  // another would also drop the source artifact's pusher from the requesters of its approval.
  const madeFrom =
    body.fromEnv !== undefined ? 'fromEnv' : body.fromDeployment !== undefined ? 'fromDeployment' : null;
  if (madeFrom && (body.commit !== undefined || body.commitTime !== undefined)) {
    throw new InputError('a deployment made from another deploys its commit', [
      {
        path: body.commit !== undefined ? '/commit' : '/commitTime',
        message: `leave it out with \`${madeFrom}\`: the deployment keeps its source's artifact and commit`,
      },
    ]);
  }
  if (body.commitTime !== undefined && body.commit === undefined && body.artifact === undefined) {
    throw new InputError('a commit time needs the commit it is the time of', [
      { path: '/commitTime', message: 'send `commit` too (`pave deploy --commit SHA --commit-time TIME`)' },
    ]);
  }
  const artifact =
    body.artifact === undefined ? undefined : await artifactToDeploy(store.db, app, body.artifact);
  // The artifact's commit time wins; `commitTime` fills in for an artifact whose CI did not say.
  const origin: DeploymentOrigin | undefined = artifact
    ? { id: artifact.id, commit: artifact.commit, commitTime: artifact.commitTime ?? body.commitTime ?? null }
    : body.commit !== undefined
      ? { id: null, commit: body.commit, commitTime: body.commitTime ?? null }
      : undefined;
  const current = await currentWorkloads(store.db, app, env);
  const request: DeploymentRequest = {
    timeoutSeconds: body.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS,
    autoRollback: body.autoRollback ?? true,
    ...(body.prune ? { prune: true } : {}),
    ...(body.allowDataLoss ? { allowDataLoss: true } : {}),
    ...(body.minReadySeconds !== undefined ? { minReadySeconds: body.minReadySeconds } : {}),
    ...(body.recreateMissing ? { recreateMissing: true } : {}),
  };
  let kind: DeploymentKind = 'deploy';
  let next: SetWorkloads;
  if (body.fromEnv) {
    if (body.fromEnv === env) {
      throw new InputError('an environment cannot be promoted to itself', [
        { path: '/fromEnv', message: 'name another environment' },
      ]);
    }
    const source = await currentWorkloads(store.db, app, body.fromEnv);
    if (!source.setId) {
      throw new ConflictError(`environment "${body.fromEnv}" has no successful deployment to promote`, [
        { path: '/fromEnv', message: 'deploy to it first' },
      ]);
    }
    kind = 'promote';
    request.setId = source.setId;
    request.fromEnvId = body.fromEnv;
    next = source.workloads;
  } else if (body.fromDeployment) {
    const source = await deploymentWithSet(store.db, app, env, body.fromDeployment, '/fromDeployment');
    kind = 'rollback';
    request.setId = source.setId;
    request.fromDeploymentId = body.fromDeployment;
    request.valuesVersion = source.valuesVersion;
    next = (await loadSet(store.db, source.setId)).workloads;
  } else if (artifact) {
    request.upsert = artifact.workloads;
    request.remove = [];
    next = applyPatch(current.workloads, request.upsert);
  } else {
    const problems = checkPatch(body, current.workloads);
    if (problems.length) throw new InputError('the deployment request is invalid', problems);
    request.upsert = body.workloads ?? [];
    request.remove = body.remove ?? [];
    next = applyPatch(current.workloads, request.upsert, request.remove);
  }
  const environment = await environmentRow(store.db, app, env);
  const ctx = planning?.resources
    ? driverContext(planning.logger, AbortSignal.timeout(PLAN_TIMEOUT_MS))
    : undefined;
  const resources = await planResources(
    store.db,
    { app, env, envType: environment.type, actor: context.actor.username },
    next,
    {
      prune: body.prune,
      allowDataLoss: body.allowDataLoss,
      keepUnused: kind === 'rollback',
      recreateMissing: body.recreateMissing,
    },
    planning?.resources && ctx
      ? { ...planning.resources, ctx: { ...ctx, dryRun: true }, read: body.plan === true }
      : undefined,
  ).finally(() => ctx?.dispose());
  if (resources.problems.length) {
    throw new ConflictError(
      `the deployment would leave ${app}/${env}'s resources in a state Pave refuses`,
      resources.problems,
    );
  }
  const runtime = await planning?.runtimeOf?.({ app, env, envType: environment.type }).catch(() => undefined);
  // Manifests on a runtime without them first: moving to a kubernetes target may fix the rest as well.
  if (runtime && !runtime.renderManifests && Object.values(next).some((w) => w.manifests?.length)) {
    const view = await planning?.targetOf?.({ app, env, envType: environment.type }).catch(() => null);
    const problems = unrenderableManifests(
      runtime,
      next,
      view ? `target ${view.id} (${view.type})` : undefined,
    );
    throw new InputError(problems[0]!.message, problems);
  }
  const unrunnableProblems = runtime ? unrunnable(runtime, next) : [];
  if (runtime && unrunnableProblems.length) {
    throw new ConflictError(
      `the ${runtime.name} runtime ${app}/${env} deploys to cannot run this set`,
      unrunnableProblems,
    );
  }
  const policyCheck = await enforcePolicies(store.db, context, {
    app,
    env,
    envType: environment.type,
    kind,
    allowDataLoss: body.allowDataLoss,
    prune: body.prune,
    workloads: next,
    resources: resources.changes,
    overrides: body.overridePolicies,
  });
  if (body.plan) {
    // What the deployment checks only when it renders, after it was queued and its resources provisioned.
    await checkSetRenders(
      store.db,
      { app, env, valuesVersion: request.valuesVersion },
      next,
      resources.changes,
    );
    const setId = await saveSet(store.db, next);
    return {
      setId,
      workloads: Object.keys(next).sort(),
      diff: diffSets(
        { setId: current.setId, label: `${app}/${env} (current)`, workloads: current.workloads },
        { setId, label: `${app}/${env} (planned)`, workloads: next },
      ),
      resources: resources.changes,
      policies: policyCheck.verdicts,
    };
  }
  const message = body.message ?? (artifact ? `artifact ${artifact.id} (${artifact.commit})` : '');
  return store.transaction(async (tx) =>
    recordPolicyOutcome(
      tx,
      context,
      await insertDeployment(tx, context, { app, env }, kind, request, message, origin),
      policyCheck,
    ),
  );
}

function checkPatch(body: CreateDeploymentBody, current: SetWorkloads) {
  const problems: Array<{ path: string; message: string }> = [];
  const seen = new Map<string, number>();
  (body.workloads ?? []).forEach((source, index) => {
    const name = source.spec.metadata.name;
    const first = seen.get(name);
    if (first !== undefined) {
      problems.push({
        path: `/workloads/${index}/spec/metadata/name`,
        message: `workload "${name}" is also given at /workloads/${first}; each workload may appear once`,
      });
    }
    seen.set(name, index);
    // The render refuses it too, but only after the deployment was queued and its resources provisioned.
    for (const problem of checkScoreProbePorts(source.spec)) {
      problems.push({
        path: jsonPointer(['workloads', index, 'spec', ...problem.path]),
        message: problem.message,
      });
    }
  });
  (body.remove ?? []).forEach((name, index) => {
    if (!(name in current)) {
      problems.push({
        path: `/remove/${index}`,
        message: `workload "${name}" is not deployed in this environment`,
      });
    } else if (seen.has(name)) {
      problems.push({ path: `/remove/${index}`, message: `workload "${name}" is both deployed and removed` });
    }
  });
  return problems;
}

async function deploymentWithSet(db: Executor, app: string, env: string, id: string, path: string) {
  const row = await db
    .selectFrom('deployments')
    .select(['id', 'set_id', 'status', 'values_version'])
    .where('id', '=', Number(id))
    .where('app_id', '=', app)
    .where('env_id', '=', env)
    .executeTakeFirst();
  if (!row)
    throw new NotFoundError(`deployment ${id} of ${app}/${env} not found`, [
      { path, message: 'no such deployment here' },
    ]);
  if (!row.set_id) {
    throw new ConflictError(`deployment ${id} has no deployment set yet (it is ${row.status})`, [
      { path, message: 'pick a deployment that has run' },
    ]);
  }
  return {
    id: String(row.id),
    setId: row.set_id,
    valuesVersion: row.values_version === null ? null : Number(row.values_version),
  };
}

/**
 * Queues a rollback: a new deployment of an earlier deployment's set. Without an id, the newest successful
 * deployment whose set differs from the current one.
 */
export async function rollback(
  store: Store,
  context: RequestContext,
  app: string,
  env: string,
  body: RollbackBody,
): Promise<Deployment> {
  const environment = await environmentRow(store.db, app, env);
  let sourceId = body.deploymentId;
  if (!sourceId) {
    // The newest successful deployment before the current one that ran something else: another set, or the
    // same set with other values.
    const current = environment.current_deployment_id
      ? await store.db
          .selectFrom('deployments')
          .select(['set_id', 'values_version'])
          .where('id', '=', Number(environment.current_deployment_id))
          .executeTakeFirst()
      : undefined;
    const candidates = await store.db
      .selectFrom('deployments')
      .select(['id', 'set_id', 'values_version'])
      .where('app_id', '=', app)
      .where('env_id', '=', env)
      .where('status', '=', 'succeeded')
      .where('set_id', 'is not', null)
      .where('id', '<', Number(environment.current_deployment_id ?? Number.MAX_SAFE_INTEGER))
      .orderBy('id', 'desc')
      .limit(200)
      .execute();
    const previous = candidates.find(
      (candidate) =>
        !current ||
        candidate.set_id !== current.set_id ||
        Number(candidate.values_version ?? 0) !== Number(current.values_version ?? 0),
    );
    if (!previous) {
      throw new ConflictError(`${app}/${env} has no earlier successful deployment to roll back to`, [
        { path: 'deploymentId', message: 'name a deployment, or deploy first' },
      ]);
    }
    sourceId = String(previous.id);
  }
  const source = await deploymentWithSet(store.db, app, env, sourceId, '/deploymentId');
  const request: DeploymentRequest = {
    setId: source.setId,
    fromDeploymentId: source.id,
    valuesVersion: source.valuesVersion,
    timeoutSeconds: body.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS,
    autoRollback: true,
    ...(body.recreateMissing ? { recreateMissing: true } : {}),
  };
  const policyCheck = await enforcePolicies(store.db, context, {
    app,
    env,
    envType: environment.type,
    kind: 'rollback',
    workloads: (await loadSet(store.db, source.setId)).workloads,
    overrides: body.overridePolicies,
  });
  return store.transaction(async (tx) =>
    recordPolicyOutcome(
      tx,
      context,
      await insertDeployment(
        tx,
        context,
        { app, env },
        'rollback',
        request,
        body.message ?? `rollback to deployment ${source.id}`,
      ),
      policyCheck,
    ),
  );
}

/**
 * Compares deployment sets: by default the environment's previous successful deployment with its current
 * one; `from`/`to` name deployments; `toEnv` compares the current sets of two environments (InputError
 * when `from` or `to` is given with it), their secrets only when `mayCompareSecrets` (the caller may reveal
 * the secrets of both).
 */
export async function diffDeployments(
  db: Executor,
  app: string,
  env: string,
  query: { from?: string | undefined; to?: string | undefined; toEnv?: string | undefined },
  mayCompareSecrets = false,
): Promise<SetDiff> {
  if (query.toEnv) {
    const ignored = (['from', 'to'] as const).filter((name) => query[name] !== undefined);
    if (ignored.length) {
      throw new InputError(
        'toEnv compares the current sets of two environments, not deployments',
        ignored.map((name) => ({
          path: `query.${name}`,
          message: 'leave it out with toEnv, or leave toEnv out to compare deployments of this environment',
        })),
      );
    }
    const a = await currentWorkloads(db, app, env);
    const b = await currentWorkloads(db, app, query.toEnv);
    return diffSets(
      {
        setId: a.setId,
        label: `${app}/${env}`,
        workloads: a.workloads,
        values: await latestContent(db, app, env),
      },
      {
        setId: b.setId,
        label: `${app}/${query.toEnv}`,
        workloads: b.workloads,
        values: await latestContent(db, app, query.toEnv),
      },
      { compareSecrets: mayCompareSecrets },
    );
  }
  const environment = await environmentRow(db, app, env);
  const toId =
    query.to ?? (environment.current_deployment_id ? String(environment.current_deployment_id) : undefined);
  let fromId = query.from;
  if (!toId && !fromId) {
    return diffSets(
      { setId: null, label: 'nothing', workloads: {} },
      { setId: null, label: 'nothing', workloads: {} },
    );
  }
  const to = toId ? await deploymentWithSet(db, app, env, toId, 'to') : undefined;
  if (!fromId && to) {
    const previous = await db
      .selectFrom('deployments')
      .select('id')
      .where('app_id', '=', app)
      .where('env_id', '=', env)
      .where('status', '=', 'succeeded')
      .where('id', '<', Number(to.id))
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirst();
    fromId = previous ? String(previous.id) : undefined;
  }
  const from = fromId ? await deploymentWithSet(db, app, env, fromId, 'from') : undefined;
  const valuesOf = (version: number | null) =>
    version === null ? Promise.resolve({}) : valuesContent(db, app, env, version);
  // A deployment's side, or an empty one: before the first deployment, or where nothing runs now.
  const side = async (deployment: typeof to, empty: string) =>
    deployment
      ? {
          setId: deployment.setId,
          label: `${app}/${env}@${deployment.id}`,
          workloads: (await loadSet(db, deployment.setId)).workloads,
          values: await valuesOf(deployment.valuesVersion),
        }
      : { setId: null, label: empty, workloads: {} };
  return diffSets(
    await side(from, `${app}/${env} (empty)`),
    await side(to, `${app}/${env} (nothing deployed)`),
  );
}

async function latestContent(db: Executor, app: string, env: string) {
  const version = await latestValuesVersion(db, app, env);
  return version === null ? {} : valuesContent(db, app, env, version);
}
