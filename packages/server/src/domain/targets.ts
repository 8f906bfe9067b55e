import {
  SYSTEM_ACTORS,
  ConflictError,
  InputError,
  NotFoundError,
  KUBERNETES_KIND_GROUPS,
  explainMatch,
  findDefinitionConflicts,
  namespacePatternProblem,
  type ApplyTargetsBody,
  type FieldProblem,
  type DefinitionsPlan,
  type MatchCriterion,
  type RuntimeTargetSpec,
  type RuntimeTargetView,
  type TargetPage,
  type RuntimeType,
} from '@pave/core';
import { ISOLATION_LEVELS } from '@pave/plugin-api';
import type { Selectable } from 'kysely';
import { applyAgainOnConflict, type Executor, type Store } from '../store/index.ts';
import type { RuntimeTargetsTable } from '../store/schema.ts';
import { recordAudit } from './audit.ts';
import { recordEvent } from './events.ts';
import { now, type RequestContext } from './context.ts';
import { idPage, type IdPageRequest } from './config-pages.ts';
import { canonicalJson } from './canonical-json.ts';
import { unknownEnvTypeProblems } from './env-types.ts';

/** The target every environment runs on until a platform team's target matches it: local processes. */
export const LOCAL_TARGET: RuntimeTargetSpec = { id: 'local', type: 'process', config: {}, criteria: [] };

function toView(row: Selectable<RuntimeTargetsTable>): RuntimeTargetView {
  return {
    id: row.id,
    type: row.type as RuntimeType,
    config: JSON.parse(row.config) as Record<string, unknown>,
    criteria: JSON.parse(row.criteria) as RuntimeTargetView['criteria'],
    builtIn: false,
    updatedBy: row.updated_by,
    updatedAt: row.updated_at,
  };
}

const localView: RuntimeTargetView = {
  ...LOCAL_TARGET,
  criteria: [],
  builtIn: true,
  updatedBy: SYSTEM_ACTORS.pave,
  updatedAt: '1970-01-01T00:00:00.000Z',
};

/** Every runtime target, the built-in `local` one included, by id: what matching reads. */
export async function listTargets(db: Executor): Promise<RuntimeTargetView[]> {
  const rows = await db.selectFrom('runtime_targets').selectAll().orderBy('id').execute();
  return [...rows.map(toView), localView].sort((a, b) => a.id.localeCompare(b.id));
}

/** One page of the runtime targets, the built-in `local` one included, ordered by id: `GET /runtime-targets`. */
export async function listTargetPage(db: Executor, page: IdPageRequest = {}): Promise<TargetPage> {
  const { ids, nextCursor } = await idPage(db, 'runtime_targets', [LOCAL_TARGET.id], page);
  const stored = ids.length
    ? await db.selectFrom('runtime_targets').selectAll().where('id', 'in', ids).execute()
    : [];
  const views = new Map([...stored.map((row) => [row.id, toView(row)] as const), [localView.id, localView]]);
  // A target deleted between the two reads is left out.
  return { items: ids.flatMap((id) => views.get(id) ?? []), nextCursor };
}

/** One target; NotFoundError naming how to list them. */
export async function getTarget(db: Executor, id: string): Promise<RuntimeTargetView> {
  if (id === LOCAL_TARGET.id) return localView;
  const row = await db.selectFrom('runtime_targets').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) {
    throw new NotFoundError(`runtime target "${id}" not found`, [
      { path: 'id', message: '`pave targets list` shows the targets' },
    ]);
  }
  return toView(row);
}

/** Matching sees targets as definitions of one type, `runtime`, so they follow the same rules. */
function candidates(targets: RuntimeTargetView[]) {
  return targets.map((t) => ({
    id: t.id,
    type: 'runtime',
    criteria: t.criteria as MatchCriterion[],
    builtIn: t.builtIn,
  }));
}

/** Which target an environment matches, and why the others do not (like `pave defs match`). */
export async function explainTargetMatch(db: Executor, app: string, env: string, envType: string) {
  const targets = await listTargets(db);
  return explainMatch(
    candidates(targets),
    { type: 'runtime', envType, envId: env, appId: app, resId: '', class: 'default' },
    'target',
  );
}

/** The target an environment's next deployment runs on. */
export async function matchTarget(
  db: Executor,
  app: string,
  env: string,
  envType: string,
): Promise<RuntimeTargetView> {
  const winner = (await explainTargetMatch(db, app, env, envType)).winner;
  return getTarget(db, winner?.id ?? LOCAL_TARGET.id);
}

const CONFIG_KEYS: Record<RuntimeType, string[]> = {
  process: ['isolation'],
  docker: ['socketPath', 'host', 'port'],
  kubernetes: ['kubeconfig', 'context', 'namespacePattern', 'allowClusterScoped', 'manifests'],
};

/**
 * What each plain setting of a target's config must be, checked when the target is applied: otherwise a wrong
 * type reaches the runtime only when a developer deploys (`The "url" argument must be of type string`).
 * `allowClusterScoped`, `manifests` and `isolation` are checked on their own.
 */
const SETTING_TYPES: Record<string, { valid: (value: unknown) => boolean; expected: string }> = {
  socketPath: {
    valid: (value) => typeof value === 'string',
    expected: 'a path (a string), e.g. /run/docker.sock',
  },
  host: { valid: (value) => typeof value === 'string', expected: 'a host name or address (a string)' },
  port: {
    valid: (value) => Number.isInteger(value) && (value as number) >= 1 && (value as number) <= 65_535,
    expected: 'a port number from 1 to 65535, e.g. 2375',
  },
  kubeconfig: {
    valid: (value) => typeof value === 'string',
    expected: 'the path of a kubeconfig file (a string)',
  },
  context: {
    valid: (value) => typeof value === 'string',
    expected: 'a context of the kubeconfig (a string)',
  },
  namespacePattern: {
    valid: (value) => typeof value === 'string',
    expected: 'a string such as "pave-{app}-{env}"',
  },
};

/**
 * The problems with a kubernetes target's `manifests` setting (what developers' own manifests may contain:
 * `allow`, `kinds`, `privileged`; see docs/kubernetes-yaml.md): a wrong shape, or a bare kind that is not a
 * built-in one (a misspelt kind would otherwise allow nothing, silently), refused when the target is applied.
 */
function manifestsSettingProblems(value: unknown, path: string): Array<{ path: string; message: string }> {
  if (value === undefined) return [];
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return [{ path, message: 'must be a mapping of allow, kinds, privileged' }];
  }
  const setting = value as Record<string, unknown>;
  const problems: Array<{ path: string; message: string }> = [];
  for (const [key, field] of Object.entries(setting)) {
    if (key === 'allow' || key === 'privileged') {
      if (typeof field !== 'boolean')
        problems.push({ path: `${path}/${key}`, message: 'must be true or false' });
    } else if (key === 'kinds') {
      if (!Array.isArray(field) || field.some((kind) => typeof kind !== 'string' || kind === '')) {
        problems.push({
          path: `${path}/kinds`,
          message: 'must be a list of kinds: built-in ones by name (NetworkPolicy), others as group/Kind',
        });
        continue;
      }
      for (const [index, kind] of (field as string[]).entries()) {
        if (kind.includes('/') || KUBERNETES_KIND_GROUPS.has(kind)) continue;
        problems.push({
          path: `${path}/kinds/${index}`,
          message: `"${kind}" is not a built-in Kubernetes kind; name a custom resource as group/Kind, e.g. cert-manager.io/Certificate`,
        });
      }
    } else {
      problems.push({ path: `${path}/${key}`, message: 'the setting takes allow, kinds, privileged' });
    }
  }
  return problems;
}

/**
 * Applies targets declaratively (create or update; others stay). Refuses, changing nothing, config keys the
 * type does not know, the built-in id, and criteria that tie with another target's.
 */
export async function applyTargets(
  store: Store,
  context: RequestContext,
  body: ApplyTargetsBody,
): Promise<DefinitionsPlan> {
  const problems: Array<{ path: string; message: string }> = [];
  const seen = new Map<string, number>();
  body.targets.forEach((target, index) => {
    const first = seen.get(target.id);
    if (first !== undefined) {
      problems.push({
        path: `/targets/${index}/id`,
        message: `"${target.id}" is also defined at /targets/${first}; each id may appear once`,
      });
    }
    seen.set(target.id, first ?? index);
    if (target.id === LOCAL_TARGET.id) {
      problems.push({
        path: `/targets/${index}/id`,
        message: '"local" is the built-in process target; choose another id',
      });
    }
    for (const [key, value] of Object.entries(target.config)) {
      if (!CONFIG_KEYS[target.type].includes(key)) {
        problems.push({
          path: `/targets/${index}/config/${key}`,
          message: `a ${target.type} target takes ${CONFIG_KEYS[target.type].join(', ') || 'no config'}`,
        });
      } else if (SETTING_TYPES[key] && !SETTING_TYPES[key].valid(value)) {
        problems.push({
          path: `/targets/${index}/config/${key}`,
          message: `must be ${SETTING_TYPES[key].expected}, not ${JSON.stringify(value)}`,
        });
      }
    }
    const allowClusterScoped = target.config.allowClusterScoped;
    if (allowClusterScoped !== undefined && typeof allowClusterScoped !== 'boolean') {
      problems.push({
        path: `/targets/${index}/config/allowClusterScoped`,
        message: `must be true or false (accept workloads' own cluster-scoped manifests), not ${JSON.stringify(allowClusterScoped)}`,
      });
    }
    problems.push(...manifestsSettingProblems(target.config.manifests, `/targets/${index}/config/manifests`));
    const pattern = target.config.namespacePattern;
    const shared = typeof pattern === 'string' ? namespacePatternProblem(pattern) : null;
    if (target.type === 'kubernetes' && shared) {
      problems.push({ path: `/targets/${index}/config/namespacePattern`, message: shared });
    }
    const isolation = target.config.isolation;
    if (
      target.type === 'process' &&
      isolation !== undefined &&
      !ISOLATION_LEVELS.includes(isolation as never)
    ) {
      problems.push({
        path: `/targets/${index}/config/isolation`,
        message: `must be one of ${ISOLATION_LEVELS.join(', ')} (default: the strongest the host offers), not ${JSON.stringify(isolation)}`,
      });
    }
  });
  problems.push(
    ...(await unknownEnvTypeProblems(
      store.db,
      body.targets.map((target, index) => ({
        path: `/targets/${index}/criteria`,
        criteria: target.criteria,
      })),
    )),
  );
  if (problems.length) throw new InputError('the runtime targets cannot be applied', problems);
  return applyAgainOnConflict(
    () =>
      store.transaction(async (tx) => {
        const existing = new Map(
          (await tx.selectFrom('runtime_targets').selectAll().execute()).map((r) => [r.id, r]),
        );
        const merged = new Map<string, RuntimeTargetView>(
          [...existing.values()].map((row) => [row.id, toView(row)]),
        );
        for (const t of body.targets)
          merged.set(t.id, { ...t, builtIn: false, updatedBy: '', updatedAt: '' });
        const conflicts = findDefinitionConflicts(candidates([...merged.values()]), {
          list: '/targets',
          ids: body.targets.map((t) => t.id),
          kind: 'runtime target',
        });
        if (conflicts.length) {
          throw new ConflictError('the runtime targets would tie when matching', conflicts);
        }
        const retyped = await typeChangesUnderEnvironments(tx, body.targets, existing);
        if (retyped.length) {
          throw new ConflictError('a runtime target cannot change its type under its environments', retyped);
        }
        const changes: DefinitionsPlan['changes'] = [];
        for (const target of body.targets) {
          const row = existing.get(target.id);
          const stored = {
            type: target.type,
            config: canonicalJson(target.config),
            criteria: canonicalJson(target.criteria),
            updated_by: context.actor.username,
            updated_at: now(),
          };
          const fields = row
            ? [
                row.type !== stored.type ? 'type' : null,
                canonicalJson(JSON.parse(row.config)) !== stored.config ? 'config' : null,
                canonicalJson(JSON.parse(row.criteria)) !== stored.criteria ? 'criteria' : null,
              ].filter((f): f is string => f !== null)
            : [];
          const action = !row ? 'create' : fields.length ? 'update' : 'unchanged';
          changes.push({ id: target.id, action, fields });
          if (body.dryRun || action === 'unchanged') continue;
          if (row) await tx.updateTable('runtime_targets').set(stored).where('id', '=', target.id).execute();
          else
            await tx
              .insertInto('runtime_targets')
              .values({ id: target.id, ...stored })
              .execute();
          await recordAudit(tx, context, {
            action: `target.${action}`,
            target: `runtime-targets/${target.id}`,
            summary: { id: target.id, type: target.type, fields },
          });
          await recordEvent(tx, context, {
            type: 'target.changed',
            app: null,
            data: { target: target.id, change: action === 'create' ? 'created' : 'updated' },
          });
        }
        return { applied: !body.dryRun, changes };
      }),
    'the runtime targets',
    '/targets',
  );
}

/**
 * A problem at the type of each target the apply would give another type while environments run on it: their
 * workloads run on the old type's runtime, where the new one would never look for them (a deployment moves an
 * environment only when another target matches it). At most five environments are named per target.
 */
async function typeChangesUnderEnvironments(
  tx: Executor,
  targets: readonly { id: string; type: string }[],
  existing: ReadonlyMap<string, { type: string }>,
): Promise<FieldProblem[]> {
  const problems: FieldProblem[] = [];
  for (const [index, target] of targets.entries()) {
    const before = existing.get(target.id)?.type;
    if (before === undefined || before === target.type) continue;
    const running = await tx
      .selectFrom('environments')
      .select(['app_id', 'id'])
      .where('runtime_target', '=', target.id)
      .orderBy('app_id')
      .orderBy('id')
      .limit(5)
      .execute();
    if (running.length === 0) continue;
    const names = running.map((e) => `${e.app_id}/${e.id}`).join(', ');
    problems.push({
      path: `/targets/${index}/type`,
      message:
        `cannot change from ${before} to ${target.type} while ${names}${running.length === 5 ? ' and maybe more' : ''} ` +
        `run on it (their workloads run on the ${before} runtime): apply a ${target.type} target under a new id ` +
        'whose criteria match them, and their next deployment moves them there',
    });
  }
  return problems;
}

/** Deletes a target no environment runs on. */
export async function deleteTarget(store: Store, context: RequestContext, id: string): Promise<void> {
  if (id === LOCAL_TARGET.id) {
    throw new ConflictError('"local" is built in and cannot be deleted', [
      { path: 'id', message: 'apply a target whose criteria match the environments you want elsewhere' },
    ]);
  }
  await store.transaction(async (tx) => {
    await getTarget(tx, id);
    const inUse = await tx
      .selectFrom('environments')
      .select(['app_id', 'id'])
      .where('runtime_target', '=', id)
      .limit(5)
      .execute();
    if (inUse.length) {
      throw new ConflictError(`runtime target "${id}" still runs environments`, [
        {
          path: 'id',
          message: `${inUse.map((e) => `${e.app_id}/${e.id}`).join(', ')} run on it; delete them or move them first`,
        },
      ]);
    }
    const deleted = await tx.deleteFrom('runtime_targets').where('id', '=', id).executeTakeFirst();
    // None deleted: another deletion of it committed since it was read (PostgreSQL); that one is audited.
    if (Number(deleted.numDeletedRows) === 0) await getTarget(tx, id);
    await recordAudit(tx, context, {
      action: 'target.delete',
      target: `runtime-targets/${id}`,
      summary: { id },
    });
    await recordEvent(tx, context, {
      type: 'target.changed',
      app: null,
      data: { target: id, change: 'deleted' },
    });
  });
}
