import { ConflictError, type CreateEnvTypeBody, type EnvType } from '@pave/core';
import { isUniqueViolation, type Executor, type Store } from '../store/index.ts';
import type { Selectable } from 'kysely';
import type { EnvTypesTable } from '../store/schema.ts';
import { recordAudit } from './audit.ts';
import { now, type RequestContext } from './context.ts';

function toEnvType(row: Selectable<EnvTypesTable>): EnvType {
  return {
    id: row.id,
    description: row.description,
    restricted: Number(row.restricted) === 1,
    createdBy: row.created_by,
    createdAt: row.created_at,
  };
}

/** Every environment type, ordered by id (seeded: development, production, staging). */
export async function listEnvTypes(db: Executor): Promise<EnvType[]> {
  const rows = await db.selectFrom('env_types').selectAll().orderBy('id').execute();
  return rows.map(toEnvType);
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
    created_by: context.actor.username,
    created_at: now(),
  };
  try {
    await store.transaction(async (tx) => {
      await tx.insertInto('env_types').values(row).execute();
      await recordAudit(tx, context, {
        action: 'env-type.create',
        target: `env-types/${row.id}`,
        summary: { id: row.id, description: row.description, restricted: row.restricted === 1 },
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
