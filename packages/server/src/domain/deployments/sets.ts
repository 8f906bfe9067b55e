import { createHash } from 'node:crypto';
import { NotFoundError, type DeploymentSet, type WorkloadSource } from '@pave/core';
import type { Executor } from '../../store/index.ts';
import { canonicalJson } from '../canonical-json.ts';
import { now } from '../context.ts';

/** The workloads of a set, by name. */
export type SetWorkloads = Record<string, WorkloadSource>;

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
