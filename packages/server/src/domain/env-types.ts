import {
  ConflictError,
  NotFoundError,
  type CreateEnvTypeBody,
  type EnvType,
  type EnvTypePage,
  type UpdateEnvTypeBody,
} from '@pave/core';
import { isUniqueViolation, type Executor, type Store } from '../store/index.ts';
import type { Selectable } from 'kysely';
import type { EnvTypesTable } from '../store/schema.ts';
import { recordAudit } from './audit.ts';
import { recordEvent } from './events.ts';
import { now, type RequestContext } from './context.ts';
import { DEFAULT_CONFIG_PAGE, type IdPageRequest } from './config-pages.ts';

/**
 * The stability window, in seconds, of deployments to environments whose type sets none: a workload without a
 * readiness probe counts as ready once it kept running this long.
 */
export const DEFAULT_MIN_READY_SECONDS = 5;

function toEnvType(row: Selectable<EnvTypesTable>): EnvType {
  return {
    id: row.id,
    description: row.description,
    restricted: Number(row.restricted) === 1,
    requiresApproval: Number(row.requires_approval) === 1,
    // PostgreSQL's driver may hand integers back as strings; null stays null (the default).
    minReadySeconds: row.min_ready_seconds === null ? null : Number(row.min_ready_seconds),
    createdBy: row.created_by,
    createdAt: row.created_at,
  };
}

/** One page of the environment types, ordered by id (seeded: development, production, staging). */
export async function listEnvTypes(db: Executor, page: IdPageRequest = {}): Promise<EnvTypePage> {
  const limit = page.limit ?? DEFAULT_CONFIG_PAGE;
  const rows = await db
    .selectFrom('env_types')
    .selectAll()
    .$if(page.cursor !== undefined, (qb) => qb.where('id', '>', page.cursor!))
    .orderBy('id')
    .limit(limit + 1)
    .execute();
  const items = rows.slice(0, limit).map(toEnvType);
  return { items, nextCursor: rows.length > limit ? (items.at(-1)?.id ?? null) : null };
}

async function envTypeRow(db: Executor, id: string): Promise<Selectable<EnvTypesTable>> {
  const row = await db.selectFrom('env_types').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) {
    throw new NotFoundError(`environment type "${id}" not found`, [
      { path: 'path.type', message: 'is not an environment type; `pave env-types list` shows them' },
    ]);
  }
  return row;
}

/** One environment type; NotFoundError naming how to list them. */
export async function getEnvType(db: Executor, id: string): Promise<EnvType> {
  return toEnvType(await envTypeRow(db, id));
}

/**
 * The stability window, in seconds, of deployments to environments of `envType`: the type's own setting, else
 * {@link DEFAULT_MIN_READY_SECONDS}. NotFoundError if the type does not exist.
 */
export async function minReadySecondsOf(db: Executor, envType: string): Promise<number> {
  return (await getEnvType(db, envType)).minReadySeconds ?? DEFAULT_MIN_READY_SECONDS;
}

/** Adds an environment type; ConflictError if the id is taken. */
export async function createEnvType(
  store: Store,
  context: RequestContext,
  body: CreateEnvTypeBody,
): Promise<EnvType> {
  const row: Selectable<EnvTypesTable> = {
    id: body.id,
    description: body.description ?? '',
    restricted: body.restricted ? 1 : 0,
    requires_approval: body.requiresApproval ? 1 : 0,
    min_ready_seconds: body.minReadySeconds ?? null,
    created_by: context.actor.username,
    created_at: now(),
  };
  try {
    await store.transaction(async (tx) => {
      await tx.insertInto('env_types').values(row).execute();
      await recordAudit(tx, context, {
        action: 'env-type.create',
        target: `env-types/${row.id}`,
        summary: {
          id: row.id,
          description: row.description,
          restricted: row.restricted === 1,
          requiresApproval: row.requires_approval === 1,
          minReadySeconds: row.min_ready_seconds,
        },
      });
      await recordEvent(tx, context, {
        type: 'env-type.changed',
        app: null,
        data: {
          type: row.id,
          change: 'created',
          fields: ['description', 'restricted', 'requiresApproval', 'minReadySeconds'],
        },
      });
    });
  } catch (error) {
    if (isUniqueViolation(error)) {
      throw new ConflictError(`environment type "${body.id}" already exists`, [
        { path: '/id', message: 'is taken; `pave env-types list` shows the existing types' },
      ]);
    }
    throw error;
  }
  return toEnvType(row);
}

/**
 * Changes the fields of environment type `id` that `body` gives (`minReadySeconds: null` resets the window to
 * the default) and audits each field that changed with its old and new value. NotFoundError if the type does
 * not exist.
 */
export async function updateEnvType(
  store: Store,
  context: RequestContext,
  id: string,
  body: UpdateEnvTypeBody,
): Promise<EnvType> {
  return store.transaction(async (tx) => {
    const before = toEnvType(await envTypeRow(tx, id));
    const after: EnvType = {
      ...before,
      ...(body.description !== undefined ? { description: body.description } : {}),
      ...(body.minReadySeconds !== undefined ? { minReadySeconds: body.minReadySeconds } : {}),
      ...(body.requiresApproval !== undefined ? { requiresApproval: body.requiresApproval } : {}),
    };
    const changes: Record<string, { from: unknown; to: unknown }> = {};
    for (const field of ['description', 'minReadySeconds', 'requiresApproval'] as const) {
      if (before[field] !== after[field]) changes[field] = { from: before[field], to: after[field] };
    }
    await tx
      .updateTable('env_types')
      .set({
        description: after.description,
        min_ready_seconds: after.minReadySeconds,
        requires_approval: after.requiresApproval ? 1 : 0,
      })
      .where('id', '=', id)
      .execute();
    await recordAudit(tx, context, {
      action: 'env-type.update',
      target: `env-types/${id}`,
      summary: { id, changes },
    });
    if (Object.keys(changes).length > 0) {
      await recordEvent(tx, context, {
        type: 'env-type.changed',
        app: null,
        data: { type: id, change: 'updated', fields: Object.keys(changes) },
      });
    }
    return after;
  });
}

/**
 * Where a declaration names an environment type: the JSON pointer of the name, the name, and what a name that
 * does not exist leaves undone (`this criterion would never match`), for the message.
 */
export interface EnvTypeReference {
  path: string;
  envType: string;
  consequence: string;
}

/**
 * A problem at each of `references` that names an environment type that does not exist, in their order,
 * saying which types there are and how to create the one named. None when every type exists.
 */
export async function unknownEnvTypeReferenceProblems(
  db: Executor,
  references: readonly EnvTypeReference[],
): Promise<Array<{ path: string; message: string }>> {
  if (references.length === 0) return [];
  const known = (await db.selectFrom('env_types').select('id').orderBy('id').execute()).map((row) => row.id);
  return references
    .filter((reference) => !known.includes(reference.envType))
    .map(({ path, envType, consequence }) => ({
      path,
      message:
        `environment type "${envType}" does not exist (there are: ${known.join(', ')}), so ${consequence}; ` +
        `fix the name, or create the type first (\`pave env-types create ${envType}\`)`,
    }));
}

/** The environment types `criteria` name, as references at `path` (the JSON pointer of the criteria list). */
export function criteriaEnvTypeReferences(
  path: string,
  criteria: ReadonlyArray<{ envType?: string | undefined }> | undefined,
): EnvTypeReference[] {
  return (criteria ?? []).flatMap((criterion, index) =>
    criterion.envType === undefined
      ? []
      : [
          {
            path: `${path}/${index}/envType`,
            envType: criterion.envType,
            consequence: 'this criterion would never match',
          },
        ],
  );
}

/**
 * A problem at each criterion of `items` that names an environment type that does not exist: such a criterion
 * never matches, so a typo (`prodution`) would leave a production guardrail, definition or target silently
 * unused. Each item's `path` is the JSON pointer of its criteria list.
 */
export async function unknownEnvTypeProblems(
  db: Executor,
  items: ReadonlyArray<{
    path: string;
    criteria?: ReadonlyArray<{ envType?: string | undefined }> | undefined;
  }>,
): Promise<Array<{ path: string; message: string }>> {
  return unknownEnvTypeReferenceProblems(
    db,
    items.flatMap((item) => criteriaEnvTypeReferences(item.path, item.criteria)),
  );
}
