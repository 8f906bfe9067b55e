import type { Selectable } from 'kysely';
import { minimatch } from 'minimatch';
import {
  ConflictError,
  NUMERIC_ID_PATTERN,
  NotAllowedError,
  NotFoundError,
  type Artifact,
  type CreateRuleInput,
  type Rule,
  type RuleOutcome,
  type RulePage,
} from '@pave/core';
import { lockRow, type Executor, type Store } from '../store/index.ts';
import type { RulesTable } from '../store/schema.ts';
import { recordAudit } from './audit.ts';
import { recordEvent } from './events.ts';
import { now, systemContext, type Actor, type RequestContext } from './context.ts';
import { actorSeesApp, decideFor, environmentAccess, loadGrants, type AccessCheck } from './access.ts';
import { environmentRow } from './environments.ts';
import { createDeployment, type DeploymentPlanning } from './deployments/service.ts';

function toRule(row: Selectable<RulesTable>): Rule {
  return {
    id: String(row.id),
    app: row.app_id,
    env: row.env_id,
    branch: row.branch,
    workload: row.workload,
    createdBy: row.created_by,
    createdAt: row.created_at,
  };
}

/**
 * Whether a branch matches a rule's glob: `*` stays within one path segment (`release/*` matches
 * `release/1.2`, not `release/1/hotfix`), `**` crosses them; a dot is an ordinary character.
 */
function branchMatches(glob: string, branch: string): boolean {
  return minimatch(branch, glob, { dot: true, nocomment: true, nonegate: true });
}

/**
 * Creates a rule of `app` into `input.env`, made by (and deploying with the roles of) the caller. The route
 * has checked that the caller may deploy there; NotFoundError when the environment does not exist,
 * ConflictError when a rule of the same branch glob and workload already deploys there (it would only deploy
 * each push twice).
 */
export async function createRule(
  store: Store,
  context: RequestContext,
  app: string,
  input: CreateRuleInput,
): Promise<Rule> {
  return store.transaction(async (tx) => {
    // Locked, so that a deletion of the environment at the same moment deletes this rule too (see lockRow).
    await lockRow(store.engine, tx, 'environments', { app_id: app, id: input.env }, 'share');
    await environmentRow(tx, app, input.env);
    const workload = input.workload ?? null;
    const same = await tx
      .selectFrom('rules')
      .select('id')
      .where('app_id', '=', app)
      .where('env_id', '=', input.env)
      .where('branch', '=', input.branch)
      .where((eb) => (workload === null ? eb('workload', 'is', null) : eb('workload', '=', workload)))
      .executeTakeFirst();
    if (same) {
      const what = `branch ${input.branch}${workload === null ? '' : ` (workload ${workload})`}`;
      throw new ConflictError(`rule ${same.id} already deploys ${what} to ${app}/${input.env}`, [
        {
          path: '/branch',
          message: `keep rule ${same.id}, or delete it first (\`pave rules delete ${same.id} --app ${app}\`)`,
        },
      ]);
    }
    const row = await tx
      .insertInto('rules')
      .values({
        app_id: app,
        env_id: input.env,
        branch: input.branch,
        workload,
        created_by_id: context.actor.userId,
        created_by: context.actor.username,
        created_at: now(),
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    const rule = toRule(row);
    await recordAudit(tx, context, {
      action: 'rule.create',
      target: `apps/${app}/rules/${rule.id}`,
      appId: app,
      summary: { id: rule.id, env: rule.env, branch: rule.branch, workload: rule.workload },
    });
    return rule;
  });
}

/** How many rules a page holds when the caller does not say. */
const DEFAULT_RULE_PAGE = 100;

/**
 * One page of the rules of `app`, oldest first (`limit`, default 100): with `cursor` (a previous page's
 * nextCursor, the id of its last rule), those created after it.
 */
export async function listRules(
  db: Executor,
  app: string,
  page: { limit?: number | undefined; cursor?: string | undefined } = {},
): Promise<RulePage> {
  const limit = page.limit ?? DEFAULT_RULE_PAGE;
  // Keyset pagination on the id, along the index rules_app_id (app_id, id).
  const rows = await db
    .selectFrom('rules')
    .selectAll()
    .where('app_id', '=', app)
    .$if(page.cursor !== undefined, (qb) => qb.where('id', '>', Number(page.cursor)))
    .orderBy('id')
    .limit(limit + 1)
    .execute();
  const items = rows.slice(0, limit).map(toRule);
  return { items, nextCursor: rows.length > limit ? (items.at(-1)?.id ?? null) : null };
}

/**
 * The check of `DELETE /apps/{app}/rules/{id}` (a route's `config.access`): deleting a rule changes what
 * reaches its environment, so it needs what creating it does, deployment.create there (on a restricted
 * environment type such as production: the deployer role). NotAllowedError (403) naming the rule's
 * environment when the caller lacks it. No check for a rule that does not exist (deleteRule answers 404)
 * or whose environment is gone (it deploys nowhere).
 */
export async function ruleDeletionAccess(
  db: Executor,
  actor: Actor,
  app: string,
  id: string,
): Promise<AccessCheck[]> {
  if (!NUMERIC_ID_PATTERN.test(id)) return [];
  const rule = await db
    .selectFrom('rules')
    .select('env_id')
    .where('app_id', '=', app)
    .where('id', '=', Number(id))
    .executeTakeFirst();
  if (!rule) return [];
  const access = await environmentAccess(db, app, rule.env_id);
  if (!access) return [];
  const target = { app, ...access };
  const decision = decideFor(actor, 'deployment.create', target);
  if (!decision.allowed) {
    throw new NotAllowedError(
      `rule ${id} deploys to ${app}/${rule.env_id}: deleting it needs deployment.create there, as creating ` +
        `it does (${decision.reason})`,
      // Named as authorize() names it, so the refusal is audited as one of deployment.create.
      [{ path: 'permission', message: `deployment.create: ${decision.reason}` }],
    );
  }
  return [{ permission: 'deployment.create', target }];
}

/**
 * Deletes a rule of `app`; NotFoundError if there is no such rule. The route has checked that the caller may
 * deploy to its environment (ruleDeletionAccess).
 */
export async function deleteRule(
  store: Store,
  context: RequestContext,
  app: string,
  id: string,
): Promise<void> {
  await store.transaction(async (tx) => {
    const row = await tx
      .selectFrom('rules')
      .selectAll()
      .where('app_id', '=', app)
      .where('id', '=', Number(id))
      .executeTakeFirst();
    if (!row) {
      throw new NotFoundError(`rule ${id} of ${app} not found`, [
        { path: 'id', message: `\`pave rules list --app ${app}\` shows its rules` },
      ]);
    }
    await tx.deleteFrom('rules').where('id', '=', row.id).execute();
    await recordAudit(tx, context, {
      action: 'rule.delete',
      target: `apps/${app}/rules/${id}`,
      appId: app,
      summary: { id, env: row.env_id, branch: row.branch, workload: row.workload },
    });
  });
}

/**
 * Why the rule may not deploy the artifact `pusher` pushed to its environment now, or null when it may. Its
 * creator's current roles (direct and through teams, as a token of theirs would have them) must give
 * deployment.create there, which on a restricted environment type also needs `deployer` on it; and so must
 * the pusher's (through the token they pushed with), since the artifact they pushed is what gets deployed.
 */
async function refusal(db: Executor, rule: Selectable<RulesTable>, pusher: Actor): Promise<string | null> {
  const creator = await db
    .selectFrom('users')
    .select(['id', 'username'])
    .where('id', '=', rule.created_by_id)
    .executeTakeFirst();
  if (!creator) return `its creator ${rule.created_by} no longer exists; create the rule again`;
  const actor: Actor = {
    userId: creator.id,
    username: creator.username,
    tokenId: '',
    tokenName: '',
    tokenExpiresAt: null,
    grants: await loadGrants(db, creator.id),
    tokenScope: null,
  };
  const access = await environmentAccess(db, rule.app_id, rule.env_id);
  if (!access) return `environment ${rule.app_id}/${rule.env_id} no longer exists`;
  const who = `its creator ${creator.username}`;
  if (!actorSeesApp(actor, rule.app_id)) return `${who} no longer has a role on app ${rule.app_id}`;
  const decision = decideFor(actor, 'deployment.create', { app: rule.app_id, ...access });
  if (!decision.allowed) {
    return `${who} may no longer deploy to ${rule.app_id}/${rule.env_id}: ${decision.reason}`;
  }
  const pushed = decideFor(pusher, 'deployment.create', { app: rule.app_id, ...access });
  if (!pushed.allowed) {
    return (
      `${pusher.username}, who pushed the artifact, may not deploy to ${rule.app_id}/${rule.env_id}: ` +
      pushed.reason
    );
  }
  return null;
}

// Errors that mean "this deployment cannot be queued" (a refusal), rather than a fault of Pave.
const REFUSALS = new Set([
  'InputError',
  'NotFoundError',
  'ConflictError',
  'NotAllowedError',
  'PolicyDeniedError',
]);

/**
 * Runs the rules of an artifact's app just after `push` pushed it: each rule whose branch glob matches the
 * artifact's branch, and whose workload (if it names one) the artifact has, queues a deployment of the
 * artifact to its environment as `rule:<id>`, provided its creator still may deploy there and the pusher
 * may too (see refusal); an environment gets the artifact once, from the first rule that queued it there. Every
 * rule that matched is audited (`rule.trigger`) and records a rule.triggered event naming the deployment or
 * why there is none. An artifact without a branch matches no rule. Resolves
 * with what each matching rule did; rejects only on a fault of the store.
 */
export async function triggerRules(
  store: Store,
  push: RequestContext,
  artifact: Artifact,
  planning: DeploymentPlanning,
): Promise<RuleOutcome[]> {
  const branch = artifact.branch;
  if (branch === null) return [];
  const rules = await store.db
    .selectFrom('rules')
    .selectAll()
    .where('app_id', '=', artifact.app)
    .orderBy('id')
    .execute();
  const outcomes: RuleOutcome[] = [];
  for (const rule of rules) {
    if (!branchMatches(rule.branch, branch)) continue;
    if (rule.workload !== null && !artifact.workloads.includes(rule.workload)) continue;
    const id = String(rule.id);
    const context = systemContext(`rule:${id}`, push.requestId, rule.created_by_id);
    // Rules whose globs overlap (`main`, `*`) deploy a push to their environment once.
    const earlier = outcomes.find((outcome) => outcome.env === rule.env_id && outcome.deploymentId);
    let refused = earlier
      ? `rule ${earlier.ruleId} already deploys artifact ${artifact.id} to ${rule.app_id}/${rule.env_id} ` +
        `(deployment ${earlier.deploymentId})`
      : await refusal(store.db, rule, push.actor);
    let deploymentId: string | null = null;
    let awaitsApproval = false;
    if (refused === null) {
      try {
        const queued = await createDeployment(
          store,
          context,
          rule.app_id,
          rule.env_id,
          { artifact: artifact.id, message: `rule ${id}: artifact ${artifact.id} (${artifact.commit})` },
          planning,
        );
        if ('id' in queued) {
          deploymentId = queued.id;
          awaitsApproval = queued.status === 'awaiting-approval';
        }
      } catch (error) {
        if (!REFUSALS.has((error as Error).name)) throw error;
        refused = (error as Error).message;
      }
    }
    const outcome: RuleOutcome = { ruleId: id, env: rule.env_id, deploymentId, awaitsApproval, refused };
    await store.transaction(async (tx) => {
      await recordAudit(tx, context, {
        action: 'rule.trigger',
        target: `apps/${rule.app_id}/rules/${id}`,
        appId: rule.app_id,
        summary: {
          id,
          env: rule.env_id,
          artifact: artifact.id,
          commit: artifact.commit,
          deploymentId,
          refused,
        },
      });
      await recordEvent(tx, context, {
        type: 'rule.triggered',
        app: rule.app_id,
        env: rule.env_id,
        data: { ruleId: id, artifactId: artifact.id, commit: artifact.commit, deploymentId, refused },
      });
    });
    outcomes.push(outcome);
  }
  return outcomes;
}
