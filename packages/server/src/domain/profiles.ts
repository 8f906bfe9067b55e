import {
  InputError,
  NotFoundError,
  expandProfiles,
  matchProfiles,
  type ApplyProfilesBody,
  type ExpandedProfiles,
  type FieldProblem,
  type ProfileMatch,
  type ProfilesPlan,
  type WorkloadProfile,
  type ProfilePage,
  type WorkloadProfileRecord,
} from '@pave/core';
import { checkProfilePatches } from '@pave/core/profile-patch';
import type { Selectable } from 'kysely';
import { applyAgainOnConflict, type Executor, type Store } from '../store/index.ts';
import type { ProfilesTable } from '../store/schema.ts';
import { recordAudit } from './audit.ts';
import { recordEvent } from './events.ts';
import { canonicalJson } from './canonical-json.ts';
import { now, type RequestContext } from './context.ts';
import { DEFAULT_CONFIG_PAGE, type IdPageRequest } from './config-pages.ts';

/*
 * Workload profiles: stored declaratively (apply with a plan, like policies and resource definitions) and
 * attached to every workload rendered for an environment they match, where a runtime that renders
 * manifests applies them.
 */

function toProfile(row: Selectable<ProfilesTable>): WorkloadProfileRecord {
  const objects = JSON.parse(row.objects) as Array<Record<string, unknown>>;
  return {
    id: row.id,
    ...(row.description !== null ? { description: row.description } : {}),
    criteria: JSON.parse(row.criteria) as WorkloadProfileRecord['criteria'],
    patches: JSON.parse(row.patches) as WorkloadProfileRecord['patches'],
    ...(objects.length ? { objects } : {}),
    version: Number(row.version),
    createdAt: row.created_at,
    createdBy: row.created_by,
    updatedAt: row.updated_at,
    updatedBy: row.updated_by,
  };
}

/** Every stored profile, by id: what matching reads. */
export async function listProfiles(db: Executor): Promise<WorkloadProfileRecord[]> {
  const rows = await db.selectFrom('profiles').selectAll().orderBy('id').execute();
  return rows.map(toProfile);
}

/** One page of the stored profiles, ordered by id: what `GET /profiles` answers. */
export async function listProfilePage(db: Executor, page: IdPageRequest = {}): Promise<ProfilePage> {
  const limit = page.limit ?? DEFAULT_CONFIG_PAGE;
  const rows = await db
    .selectFrom('profiles')
    .selectAll()
    .$if(page.cursor !== undefined, (qb) => qb.where('id', '>', page.cursor!))
    .orderBy('id')
    .limit(limit + 1)
    .execute();
  const items = rows.slice(0, limit).map(toProfile);
  return { items, nextCursor: rows.length > limit ? (items.at(-1)?.id ?? null) : null };
}

/** One profile; NotFoundError naming how to list them. */
export async function getProfile(db: Executor, id: string): Promise<WorkloadProfileRecord> {
  const row = await db.selectFrom('profiles').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw profileNotFound(id);
  return toProfile(row);
}

function profileNotFound(id: string): NotFoundError {
  return new NotFoundError(`profile "${id}" not found`, [
    { path: 'id', message: '`pave profiles list` shows the profiles' },
  ]);
}

/**
 * Every problem of the profiles to apply, at once, as JSON pointers into the body: repeated ids, and
 * patches that do not apply to the objects Pave renders for a sample workload (naming the profile, the
 * patch index, the operation index and the path; see checkProfilePatches).
 */
function profileProblems(profiles: readonly WorkloadProfile[]): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const seen = new Map<string, number>();
  profiles.forEach((profile, index) => {
    const first = seen.get(profile.id);
    if (first !== undefined) {
      problems.push({
        path: `/profiles/${index}/id`,
        message: `"${profile.id}" is also defined at /profiles/${first}; each id may appear once`,
      });
    }
    seen.set(profile.id, index);
    for (const problem of checkProfilePatches(profile)) {
      problems.push({ path: `/profiles/${index}${problem.path}`, message: problem.message });
    }
  });
  return problems;
}

/**
 * Applies profiles declaratively: creates new ones, updates changed ones (their version goes up by one),
 * leaves unchanged and unnamed ones alone (applying the same file twice changes nothing). Refuses, changing
 * nothing, the whole batch when one profile is invalid (InputError listing every problem). With `dryRun` it
 * only returns the plan. Each change is audited (`profile.create`, `profile.update`).
 */
export async function applyProfiles(
  store: Store,
  context: RequestContext,
  body: ApplyProfilesBody,
): Promise<ProfilesPlan> {
  const profiles = body.profiles;
  const problems = profileProblems(profiles);
  if (problems.length) throw new InputError('the profiles cannot be applied', problems);
  return applyAgainOnConflict(
    () =>
      store.transaction(async (tx) => {
        const existing = new Map(
          (await tx.selectFrom('profiles').selectAll().execute()).map((row) => [row.id, row]),
        );
        const changes: ProfilesPlan['changes'] = [];
        for (const profile of profiles) {
          const row = existing.get(profile.id);
          const stored = {
            description: profile.description ?? null,
            criteria: canonicalJson(profile.criteria),
            patches: canonicalJson(profile.patches),
            objects: canonicalJson(profile.objects ?? []),
          };
          const fields = row
            ? (['description', 'criteria', 'patches', 'objects'] as const).filter(
                (field) => row[field] !== stored[field],
              )
            : [];
          const action = !row ? 'create' : fields.length ? 'update' : 'unchanged';
          changes.push({ id: profile.id, action, fields });
          if (body.dryRun || action === 'unchanged') continue;
          const at = now();
          const version = row ? Number(row.version) + 1 : 1;
          if (row) {
            await tx
              .updateTable('profiles')
              .set({ ...stored, version, updated_at: at, updated_by: context.actor.username })
              .where('id', '=', profile.id)
              .execute();
          } else {
            await tx
              .insertInto('profiles')
              .values({
                id: profile.id,
                ...stored,
                version,
                created_at: at,
                created_by: context.actor.username,
                updated_at: at,
                updated_by: context.actor.username,
              })
              .execute();
          }
          await recordAudit(tx, context, {
            action: `profile.${action}`,
            target: `profiles/${profile.id}`,
            summary: { id: profile.id, version, fields },
          });
          await recordEvent(tx, context, {
            type: 'profile.changed',
            app: null,
            data: { profile: profile.id, version, change: action === 'create' ? 'created' : 'updated' },
          });
        }
        return { applied: !body.dryRun, changes };
      }),
    'the profiles',
    '/profiles',
  );
}

/** Deletes a profile (audited as `profile.delete`); NotFoundError if there is none. */
export async function deleteProfile(store: Store, context: RequestContext, id: string): Promise<void> {
  await store.transaction(async (tx) => {
    const row = await tx
      .selectFrom('profiles')
      .select(['id', 'version'])
      .where('id', '=', id)
      .executeTakeFirst();
    if (!row) throw profileNotFound(id);
    await tx.deleteFrom('profiles').where('id', '=', id).execute();
    await recordAudit(tx, context, {
      action: 'profile.delete',
      target: `profiles/${id}`,
      summary: { id, version: Number(row.version) },
    });
    await recordEvent(tx, context, {
      type: 'profile.changed',
      app: null,
      data: { profile: id, version: Number(row.version), change: 'deleted' },
    });
  });
}

/** Which profiles apply to an app's environment of type `envType`, most specific first (`pave profiles match`). */
export async function explainProfileMatch(
  db: Executor,
  target: { app: string; env: string; envType: string },
): Promise<ProfileMatch> {
  const matched = matchProfiles(await listProfiles(db), {
    appId: target.app,
    envId: target.env,
    envType: target.envType,
  });
  return {
    ...target,
    matches: matched.map(({ profile, criterion, specificity }) => ({
      id: profile.id,
      criterion,
      specificity,
    })),
  };
}

/**
 * The profiles that apply to an app's environment, most specific first, as a function giving each
 * workload's effects (placeholders expanded; undefined when no profile applies). Nothing applies to an
 * environment that does not exist (a render outside any environment). The function throws InputError
 * naming the profile for a placeholder that cannot be expanded.
 */
export async function profilesForEnvironment(
  db: Executor,
  target: { app: string; env: string },
): Promise<(workload: string) => ExpandedProfiles | undefined> {
  const environment = await db
    .selectFrom('environments')
    .select('type')
    .where('app_id', '=', target.app)
    .where('id', '=', target.env)
    .executeTakeFirst();
  if (!environment) return () => undefined;
  const matched = matchProfiles(await listProfiles(db), {
    appId: target.app,
    envId: target.env,
    envType: environment.type,
  }).map(({ profile }) => profile);
  return (workload) => {
    try {
      return expandProfiles(matched, { workload, app: target.app, env: target.env });
    } catch (error) {
      throw new InputError(`the profiles of ${target.app}/${target.env} cannot be expanded`, [
        { path: `workloads.${workload}.profiles`, message: (error as Error).message },
      ]);
    }
  };
}
