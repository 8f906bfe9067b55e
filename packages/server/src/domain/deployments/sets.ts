import { createHash } from 'node:crypto';
import { NotFoundError, type DeploymentSet, type WorkloadSource } from '@pave/core';
import type { Executor } from '../../store/index.ts';
import { now } from '../context.ts';

/** The workloads of a set, by name. */
export type SetWorkloads = Record<string, WorkloadSource>;

/** JSON with object keys sorted at every level: the same value always gives the same text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
        .map((key) => [key, sortKeys((value as Record<string, unknown>)[key])]),
    );
  }
  return value;
}

/** SHA-256 (hex) of a value's canonical JSON. */
export function hashOf(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex');
}

/**
 * Stores the set made of `workloads` (if it is new) and returns its id, the hash of its canonical form.
 * Sets are immutable: the same workloads always give the same id.
 */
export async function saveSet(db: Executor, workloads: SetWorkloads): Promise<string> {
  const content = canonicalJson({ workloads });
  const id = createHash('sha256').update(content).digest('hex');
  const existing = await db
    .selectFrom('deployment_sets')
    .select('id')
    .where('id', '=', id)
    .executeTakeFirst();
  if (!existing) {
    await db
      .insertInto('deployment_sets')
      .values({ id, content, created_at: now() })
      .onConflict((oc) => oc.column('id').doNothing())
      .execute();
  }
  return id;
}

/** Loads a set; NotFoundError if it does not exist. */
export async function loadSet(db: Executor, id: string): Promise<DeploymentSet> {
  const row = await db.selectFrom('deployment_sets').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw new NotFoundError(`deployment set ${id} not found`);
  const content = JSON.parse(row.content) as { workloads: SetWorkloads };
  return { id: row.id, workloads: content.workloads, createdAt: row.created_at };
}
