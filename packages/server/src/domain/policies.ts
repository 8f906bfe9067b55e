import { createHash } from 'node:crypto';
import {
  actsAsOrgAdmin,
  InputError,
  NotAllowedError,
  NotFoundError,
  Policy,
  PolicyDeniedError,
  policyKind,
  type ApplyPoliciesBody,
  type Deployment,
  type DeploymentKind,
  type PoliciesPlan,
  type PolicyOverride,
  type PolicyPage,
  type PolicyRecord,
  type PolicyVerdict,
  type RecordedPolicyOverride,
  type ResourceChange,
} from '@pave/core';
import { checkPolicy, denials, evaluatePolicies, type SetSuccess } from '@pave/core/policy-eval';
import type { Selectable } from 'kysely';
import { applyAgainOnConflict, type Executor, type Store } from '../store/index.ts';
import type { PoliciesTable } from '../store/schema.ts';
import { recordAudit } from './audit.ts';
import { recordEvent } from './events.ts';
import { canonicalJson } from './canonical-json.ts';
import { now, type RequestContext } from './context.ts';
import { DEFAULT_CONFIG_PAGE, type IdPageRequest } from './config-pages.ts';
import { environmentRow } from './environments.ts';
import { criteriaEnvTypeReferences, unknownEnvTypeReferenceProblems } from './env-types.ts';
import { latestValuesVersion, valuesContent } from './values.ts';
import { loadSet, type SetWorkloads } from './deployments/sets.ts';
import { journal, type DeploymentRequest } from './deployments/records.ts';

/*
 * Policies as code: stored declaratively (apply with a plan, like resource definitions) and enforced when
 * every deployment, rollback and promotion is planned. Evaluation itself is the pure `@pave/core/policy-eval`,
 * which the CLI runs offline too.
 */

function specOf(policy: Policy): unknown {
  if (policy.rule !== undefined) return { rule: policy.rule, ...(policy.each ? { each: policy.each } : {}) };
  return policy.promotionGate ?? policy.freeze;
}

function toPolicy(row: Selectable<PoliciesTable>): PolicyRecord {
  const spec = JSON.parse(row.spec) as Record<string, unknown>;
  const criteria = JSON.parse(row.criteria) as Policy['criteria'];
  return {
    id: row.id,
    ...(row.description !== null ? { description: row.description } : {}),
    ...(criteria && criteria.length ? { criteria } : {}),
    severity: row.severity as Policy['severity'],
    message: row.message,
    ...(row.kind === 'rule' ? (spec as { rule: string; each?: Policy['each'] }) : { [row.kind]: spec }),
    createdAt: row.created_at,
    createdBy: row.created_by,
    updatedAt: row.updated_at,
    updatedBy: row.updated_by,
  } as PolicyRecord;
}

function asPolicy(record: PolicyRecord): Policy {
  const { createdAt: _c, createdBy: _cb, updatedAt: _u, updatedBy: _ub, ...policy } = record;
  return policy as Policy;
}

/** Every stored policy, by id: what deployments are checked against. */
async function listPolicies(db: Executor): Promise<PolicyRecord[]> {
  const rows = await db.selectFrom('policies').selectAll().orderBy('id').execute();
  return rows.map(toPolicy);
}

/** One page of the stored policies, ordered by id: what `GET /policies` answers. */
export async function listPolicyPage(db: Executor, page: IdPageRequest = {}): Promise<PolicyPage> {
  const limit = page.limit ?? DEFAULT_CONFIG_PAGE;
  const rows = await db
    .selectFrom('policies')
    .selectAll()
    .$if(page.cursor !== undefined, (qb) => qb.where('id', '>', page.cursor!))
    .orderBy('id')
    .limit(limit + 1)
    .execute();
  const items = rows.slice(0, limit).map(toPolicy);
  return { items, nextCursor: rows.length > limit ? (items.at(-1)?.id ?? null) : null };
}

/** One policy; NotFoundError naming how to list them. */
export async function getPolicy(db: Executor, id: string): Promise<PolicyRecord> {
  const row = await db.selectFrom('policies').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw policyNotFound(id);
  return toPolicy(row);
}

function policyNotFound(id: string): NotFoundError {
  return new NotFoundError(`policy "${id}" not found`, [
    { path: 'id', message: '`pave policies list` shows the policies' },
  ]);
}

/**
 * Every problem of the policies to apply, at once, as JSON pointers into the body: repeated ids, CEL rules
 * that do not compile or name unknown variables or fields (the message gives the column in the expression),
 * invalid freeze schedules and time zones.
 */
function policyProblems(policies: readonly Policy[]): Array<{ path: string; message: string }> {
  const problems: Array<{ path: string; message: string }> = [];
  const seen = new Map<string, number>();
  policies.forEach((policy, index) => {
    const first = seen.get(policy.id);
    if (first !== undefined) {
      problems.push({
        path: `/policies/${index}/id`,
        message: `"${policy.id}" is also defined at /policies/${first}; each id may appear once`,
      });
    }
    seen.set(policy.id, index);
    for (const problem of checkPolicy(policy)) {
      problems.push({
        path: `/policies/${index}/${problem.field}`,
        message:
          problem.offset === undefined
            ? problem.message
            : `column ${problem.offset + 1} of the expression: ${problem.message}`,
      });
    }
  });
  return problems;
}

/**
 * Applies policies declaratively: creates new ones, updates changed ones, leaves unchanged and unnamed ones
 * alone (applying the same file twice changes nothing). Refuses, changing nothing, the whole batch when one
 * policy is invalid (InputError listing every problem, environment types that do not exist among them, in
 * criteria and promotion gates). With `dryRun` it only returns the plan.
 */
export async function applyPolicies(
  store: Store,
  context: RequestContext,
  body: ApplyPoliciesBody,
): Promise<PoliciesPlan> {
  const problems = [
    ...policyProblems(body.policies),
    // A gate from a type that does not exist is as silent as a criterion naming one: it refuses every
    // deployment it applies to, with a message about a type nobody can deploy to.
    ...(await unknownEnvTypeReferenceProblems(
      store.db,
      body.policies.flatMap((policy, index) => [
        ...criteriaEnvTypeReferences(`/policies/${index}/criteria`, policy.criteria),
        ...(policy.promotionGate
          ? [
              {
                path: `/policies/${index}/promotionGate/from`,
                envType: policy.promotionGate.from,
                consequence: 'no deployment could ever pass this gate',
              },
            ]
          : []),
      ]),
    )),
  ];
  if (problems.length) throw new InputError('the policies cannot be applied', problems);
  return applyAgainOnConflict(
    () =>
      store.transaction(async (tx) => {
        const existing = new Map(
          (await tx.selectFrom('policies').selectAll().execute()).map((row) => [row.id, row]),
        );
        const changes: PoliciesPlan['changes'] = [];
        for (const policy of body.policies) {
          const row = existing.get(policy.id);
          const stored = {
            description: policy.description ?? null,
            criteria: canonicalJson(policy.criteria ?? []),
            severity: policy.severity,
            message: policy.message,
            kind: policyKind(policy),
            spec: canonicalJson(specOf(policy)),
          };
          if (!row) {
            changes.push({ id: policy.id, action: 'create', fields: [] });
          } else {
            const fields = (
              ['description', 'criteria', 'severity', 'message', 'kind', 'spec'] as const
            ).filter((field) => row[field] !== stored[field]);
            changes.push({ id: policy.id, action: fields.length ? 'update' : 'unchanged', fields });
          }
          const change = changes.at(-1)!;
          if (body.dryRun || change.action === 'unchanged') continue;
          const at = now();
          if (row) {
            await tx
              .updateTable('policies')
              .set({ ...stored, updated_at: at, updated_by: context.actor.username })
              .where('id', '=', policy.id)
              .execute();
          } else {
            await tx
              .insertInto('policies')
              .values({
                id: policy.id,
                ...stored,
                created_at: at,
                created_by: context.actor.username,
                updated_at: at,
                updated_by: context.actor.username,
              })
              .execute();
          }
          await recordAudit(tx, context, {
            action: `policy.${change.action}`,
            target: `policies/${policy.id}`,
            summary: { id: policy.id, kind: stored.kind, severity: policy.severity, fields: change.fields },
          });
          await recordEvent(tx, context, {
            type: 'policy.changed',
            app: null,
            data: { policy: policy.id, change: change.action === 'create' ? 'created' : 'updated' },
          });
        }
        return { applied: !body.dryRun, changes };
      }),
    'the policies',
    '/policies',
  );
}

/** Deletes a policy; NotFoundError if there is none. */
export async function deletePolicy(store: Store, context: RequestContext, id: string): Promise<void> {
  await store.transaction(async (tx) => {
    const row = await tx
      .selectFrom('policies')
      .select(['id', 'kind'])
      .where('id', '=', id)
      .executeTakeFirst();
    if (!row) throw policyNotFound(id);
    const deleted = await tx.deleteFrom('policies').where('id', '=', id).executeTakeFirst();
    // None deleted: another deletion of it committed since it was read (PostgreSQL); that one is audited.
    if (Number(deleted.numDeletedRows) === 0) throw policyNotFound(id);
    await recordAudit(tx, context, {
      action: 'policy.delete',
      target: `policies/${id}`,
      summary: { id, kind: row.kind },
    });
    await recordEvent(tx, context, {
      type: 'policy.changed',
      app: null,
      data: { policy: id, change: 'deleted' },
    });
  });
}

/** The deployment policies are enforced on. */
export interface PolicySubject {
  app: string;
  env: string;
  envType: string;
  kind: DeploymentKind;
  allowDataLoss?: boolean | undefined;
  prune?: boolean | undefined;
  /** Every workload of the set it deploys. */
  workloads: SetWorkloads;
  /** What it does to resources (the resource plan), when known. */
  resources?: ResourceChange[] | undefined;
  /** Denying policies to let through (org admins only); `by`: who overrode it, when already recorded. */
  overrides?: ReadonlyArray<PolicyOverride & { by?: string }> | undefined;
}

/** What {@link enforcePolicies} found: every verdict, and the overrides that were used, to record. */
export interface PolicyEnforcement {
  verdicts: PolicyVerdict[];
  overrides: RecordedPolicyOverride[];
}

/** The id a set of these workloads has (the hash `saveSet` stores it under), without storing it. */
function setIdOf(workloads: SetWorkloads): string {
  return createHash('sha256').update(canonicalJson({ workloads })).digest('hex');
}

async function setSuccesses(db: Executor, app: string, setId: string): Promise<SetSuccess[]> {
  const rows = await db
    .selectFrom('deployments')
    .innerJoin('environments', (join) =>
      join
        .onRef('environments.app_id', '=', 'deployments.app_id')
        .onRef('environments.id', '=', 'deployments.env_id'),
    )
    .select(['deployments.env_id', 'environments.type', 'deployments.finished_at'])
    .where('deployments.app_id', '=', app)
    .where('deployments.set_id', '=', setId)
    .where('deployments.status', '=', 'succeeded')
    .execute();
  return rows
    .filter((row) => row.finished_at !== null)
    .map((row) => ({ envId: row.env_id, envType: row.type, finishedAt: row.finished_at! }));
}

/**
 * Evaluates every policy that applies to a deployment about to be queued. Returns the verdicts (for a plan)
 * and the overrides used (those that let a deny through; an override of a policy that does not deny is not
 * recorded). Throws PolicyDeniedError (HTTP 422) naming each denying policy, its message and, for container
 * rules, the workload and container; NotAllowedError (403) when someone other than an org admin asks to
 * override policies; InputError (400, at `/overridePolicies/N/id`) when an override names a policy that does
 * not exist.
 */
export async function enforcePolicies(
  db: Executor,
  context: RequestContext,
  subject: PolicySubject,
): Promise<PolicyEnforcement> {
  if (subject.overrides?.length && !actsAsOrgAdmin(context.actor.grants, context.actor.tokenScope)) {
    throw new NotAllowedError(`${context.actor.username} may not override policies`, [
      {
        path: '/overridePolicies',
        message:
          'only org admins (role admin on the organisation) may override policies; ask one, or fix the deployment',
      },
    ]);
  }
  if (subject.overrides?.length) await refuseUnknownOverrides(db, subject.overrides);
  return judge(db, context.actor.username, subject);
}

// An override naming no policy lets nothing through, silently: a typo would look like a granted override
// until the deployment is refused, and a deleted policy's id would stay in scripts unnoticed.
async function refuseUnknownOverrides(db: Executor, overrides: ReadonlyArray<PolicyOverride>): Promise<void> {
  const known = (await db.selectFrom('policies').select('id').orderBy('id').execute()).map((row) => row.id);
  const problems = overrides.flatMap((override, index) =>
    known.includes(override.id)
      ? []
      : [
          {
            path: `/overridePolicies/${index}/id`,
            message:
              `there is no policy "${override.id}" to override ` +
              `(${known.length ? `there are: ${shortList(known)}` : 'there are none'}); fix the id, or leave ` +
              'the override out (`pave policies list` shows the policies)',
          },
        ],
  );
  if (problems.length) {
    throw new InputError(
      problems.length === 1 ? 'a policy to override does not exist' : 'policies to override do not exist',
      problems,
    );
  }
}

// Ids in a message: all of a short list, the first ones of a long one.
function shortList(ids: readonly string[], shown = 10): string {
  return ids.length <= shown
    ? ids.join(', ')
    : `${ids.slice(0, shown).join(', ')} and ${ids.length - shown} more`;
}

async function judge(db: Executor, actor: string, subject: PolicySubject): Promise<PolicyEnforcement> {
  const policies = (await listPolicies(db)).map(asPolicy);
  const version = await latestValuesVersion(db, subject.app, subject.env);
  const valueKeys =
    version === null ? [] : Object.keys(await valuesContent(db, subject.app, subject.env, version));
  const verdicts = evaluatePolicies(policies, {
    app: subject.app,
    environment: { id: subject.env, type: subject.envType },
    deployment: {
      kind: subject.kind,
      actor,
      allowDataLoss: subject.allowDataLoss === true,
      prune: subject.prune === true,
    },
    workloads: Object.values(subject.workloads).map((source) => source.spec),
    ...(subject.resources ? { resources: subject.resources } : {}),
    valueKeys,
    now: new Date(),
    setSuccesses: policies.some((p) => p.promotionGate)
      ? await setSuccesses(db, subject.app, setIdOf(subject.workloads))
      : [],
  });
  const used: RecordedPolicyOverride[] = [];
  for (const override of subject.overrides ?? []) {
    const denying = verdicts.filter((v) => v.policy === override.id && v.outcome === 'deny');
    for (const verdict of denying) verdict.overridden = true;
    if (denying.length) used.push({ id: override.id, reason: override.reason, by: override.by ?? actor });
  }
  const denied = denials(verdicts);
  const ids = [...new Set(denied.map((verdict) => verdict.policy))];
  if (denied.length) {
    throw new PolicyDeniedError(
      `${ids.length === 1 ? `policy ${ids[0]} refuses` : `policies ${ids.join(', ')} refuse`} this deployment to ${subject.app}/${subject.env}`,
      denied.map((verdict) => ({
        path: `policies/${verdict.policy}`,
        message: `${verdict.policy}: ${verdict.message}${where(verdict)}`,
      })),
    );
  }
  return { verdicts, overrides: used };
}

function where(verdict: PolicyVerdict): string {
  if (verdict.container) return ` (workload ${verdict.workload}, container ${verdict.container})`;
  return verdict.workload ? ` (workload ${verdict.workload})` : '';
}

/**
 * Re-evaluates the policies for a recorded deployment that has not started (when an approval is granted, and
 * when the worker takes it up), from its stored request, honouring the overrides recorded on it (authorised when it was asked
 * for). Returns the verdicts; throws PolicyDeniedError (422) when a policy denies it now, NotFoundError when
 * there is no such deployment.
 */
export async function checkDeploymentPolicies(db: Executor, deploymentId: string): Promise<PolicyVerdict[]> {
  const row = await db
    .selectFrom('deployments')
    .selectAll()
    .where('id', '=', Number(deploymentId))
    .executeTakeFirst();
  if (!row) throw new NotFoundError(`deployment ${deploymentId} not found`);
  // Without policies (the usual case) there is nothing to judge: the set and the values are not read. The
  // worker asks this of every deployment it takes up.
  if (!(await db.selectFrom('policies').select('id').limit(1).executeTakeFirst())) return [];
  const request = JSON.parse(row.request) as DeploymentRequest;
  const environment = await environmentRow(db, row.app_id, row.env_id);
  let workloads: SetWorkloads;
  if (request.setId) {
    workloads = (await loadSet(db, request.setId)).workloads;
  } else {
    workloads = environment.current_set_id
      ? { ...(await loadSet(db, environment.current_set_id)).workloads }
      : {};
    for (const source of request.upsert ?? []) workloads[source.spec.metadata.name] = source;
    for (const name of request.remove ?? []) delete workloads[name];
  }
  const { verdicts } = await judge(db, row.actor, {
    app: row.app_id,
    env: row.env_id,
    envType: environment.type,
    kind: row.kind as DeploymentKind,
    allowDataLoss: request.allowDataLoss,
    prune: request.prune,
    workloads,
    overrides: row.policy_overrides
      ? (JSON.parse(row.policy_overrides) as RecordedPolicyOverride[])
      : undefined,
  });
  return verdicts;
}

/**
 * Records on a just-queued deployment (inside its transaction) what policies said: the overrides used
 * (column `policy_overrides`, and an audit entry `deployment.policy-override` naming each with its reason)
 * and each warning as an `info` entry of its journal. Returns the deployment with its overrides.
 */
export async function recordPolicyOutcome(
  tx: Executor,
  context: RequestContext,
  deployment: Deployment,
  outcome: PolicyEnforcement,
): Promise<Deployment> {
  const id = Number(deployment.id);
  for (const verdict of outcome.verdicts.filter((v) => v.outcome === 'warn')) {
    await journal(tx, id, {
      step: 'plan',
      workload: verdict.workload ?? null,
      status: 'info',
      message: `policy ${verdict.policy} warns: ${verdict.message}${where(verdict)}`,
    });
  }
  if (!outcome.overrides.length) return deployment;
  await tx
    .updateTable('deployments')
    .set({ policy_overrides: JSON.stringify(outcome.overrides) })
    .where('id', '=', id)
    .execute();
  await recordAudit(tx, context, {
    action: 'deployment.policy-override',
    target: `apps/${deployment.appId}/envs/${deployment.envId}/deployments/${deployment.id}`,
    appId: deployment.appId,
    summary: { id: deployment.id, kind: deployment.kind, policyOverrides: outcome.overrides },
  });
  return { ...deployment, policyOverrides: outcome.overrides };
}
