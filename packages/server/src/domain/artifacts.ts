import type { Selectable } from 'kysely';
import {
  InputError,
  NotFoundError,
  formatScoreProblem,
  parseScore,
  setBuiltImage,
  type Artifact,
  type ArtifactPage,
  type PushArtifactInput,
  type WorkloadSource,
} from '@pave/core';
import type { Executor, Store } from '../store/index.ts';
import type { ArtifactsTable } from '../store/schema.ts';
import { incarnationOf, recordAudit } from './audit.ts';
import { recordEvent } from './events.ts';
import { now, type RequestContext } from './context.ts';
import { appNotFound } from './apps.ts';

/** An artifact row as the API shows it. */
function toArtifact(row: Selectable<ArtifactsTable>): Artifact {
  return {
    id: String(row.id),
    app: row.app_id,
    workloads: Object.keys(JSON.parse(row.workloads) as object).sort(),
    image: row.image,
    commit: row.commit,
    branch: row.branch,
    commitTime: row.commit_time,
    createdAt: row.created_at,
    createdBy: row.created_by,
  };
}

type Problem = { path: string; message: string };

/**
 * The workloads of a push: each Score file parsed and validated as `pave deploy` validates it (every problem
 * at `file:line:column: path`), no workload twice, and the image set on the containers whose image is `.`
 * of the workload it is for. InputError listing every problem otherwise.
 */
export function artifactWorkloads(input: PushArtifactInput): WorkloadSource[] {
  const problems: Problem[] = [];
  const workloads: WorkloadSource[] = [];
  const seen = new Map<string, string>();
  input.scoreFiles.forEach((scoreFile, index) => {
    // `renderable`: a workload no deployment could render is refused now, not when a rule deploys it.
    const parsed = parseScore(scoreFile.content, scoreFile.file, { renderable: true });
    for (const problem of parsed.problems) {
      problems.push({ path: `/scoreFiles/${index}/content`, message: formatScoreProblem(problem) });
    }
    if (!parsed.workload) return;
    const name = parsed.workload.metadata.name;
    const earlier = seen.get(name);
    if (earlier !== undefined) {
      problems.push({
        path: `/scoreFiles/${index}`,
        message: `${scoreFile.file}: workload "${name}" is also defined by ${earlier}; push each workload once`,
      });
      return;
    }
    seen.set(name, scoreFile.file);
    workloads.push({ spec: parsed.workload, dir: scoreFile.dir, file: scoreFile.file });
  });
  if (problems.length > 0) throw new InputError('the Score files of the artifact are invalid', problems);
  return withImage(workloads, input);
}

// Applies the pushed image to the workload it is for (the only one, or the one `workload` names).
function withImage(workloads: WorkloadSource[], input: PushArtifactInput): WorkloadSource[] {
  const names = workloads.map((w) => w.spec.metadata.name);
  if (input.image === undefined) {
    if (input.workload !== undefined) {
      throw new InputError('`workload` says which workload the image is for, and no image was given', [
        { path: '/workload', message: 'send `image` too, or leave `workload` out' },
      ]);
    }
    return workloads;
  }
  const target = input.workload ?? (names.length === 1 ? names[0] : undefined);
  if (target === undefined) {
    throw new InputError(`the artifact has ${names.length} workloads; say which one the image is for`, [
      { path: '/workload', message: `name one of ${names.join(', ')}` },
    ]);
  }
  if (!names.includes(target)) {
    throw new InputError(`the artifact has no workload "${target}"`, [
      { path: '/workload', message: `name one of ${names.join(', ')}` },
    ]);
  }
  const index = names.indexOf(target);
  const built = setBuiltImage([workloads[index]!], input.image);
  if (built.replaced === 0) {
    throw new InputError(`no container of workload "${target}" has the image "."`, [
      {
        path: '/image',
        message:
          'write `image: .` for the container that runs the image CI built, as for `pave deploy --image`',
      },
    ]);
  }
  return workloads.map((workload, i) => (i === index ? built.workloads[0]! : workload));
}

/**
 * Registers a build artifact of `app`: validates its Score files (see artifactWorkloads), stores them with
 * the image applied, and records the audit entry and the artifact.pushed event. NotFoundError when the app
 * does not exist; InputError for invalid Score files or image.
 */
export async function pushArtifact(
  store: Store,
  context: RequestContext,
  app: string,
  input: PushArtifactInput,
): Promise<Artifact> {
  const workloads = artifactWorkloads(input);
  return store.transaction(async (tx) => {
    const exists = await tx.selectFrom('apps').select('id').where('id', '=', app).executeTakeFirst();
    if (!exists) throw appNotFound(app);
    const row = await tx
      .insertInto('artifacts')
      .values({
        app_id: app,
        app_incarnation: await incarnationOf(tx, app),
        workloads: JSON.stringify(Object.fromEntries(workloads.map((w) => [w.spec.metadata.name, w]))),
        image: input.image ?? null,
        commit: input.commit,
        branch: input.branch ?? null,
        commit_time: input.commitTime ? new Date(input.commitTime).toISOString() : null,
        created_at: now(),
        created_by: context.actor.username,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    const artifact = toArtifact(row);
    await recordAudit(tx, context, {
      action: 'artifact.push',
      target: `apps/${app}/artifacts/${artifact.id}`,
      appId: app,
      summary: {
        id: artifact.id,
        commit: artifact.commit,
        branch: artifact.branch,
        workloads: artifact.workloads,
        image: artifact.image,
      },
    });
    await recordEvent(tx, context, {
      type: 'artifact.pushed',
      app,
      data: {
        artifactId: artifact.id,
        commit: artifact.commit,
        branch: artifact.branch,
        workloads: artifact.workloads,
        image: artifact.image,
      },
    });
    return artifact;
  });
}

/** How many artifacts a page holds when the caller does not say. */
const DEFAULT_ARTIFACT_PAGE = 50;

/**
 * One page of the artifacts of `app`, newest first (`limit`, default 50): those older than `cursor` (a
 * previous page's nextCursor, the id of its last artifact) when given.
 */
export async function listArtifacts(
  db: Executor,
  app: string,
  page: { limit?: number | undefined; cursor?: string | undefined } = {},
): Promise<ArtifactPage> {
  const limit = page.limit ?? DEFAULT_ARTIFACT_PAGE;
  // Keyset pagination on the index artifacts_app (app_id, id): a deep page costs what the first does.
  const rows = await db
    .selectFrom('artifacts')
    .selectAll()
    .where('app_id', '=', app)
    .$if(page.cursor !== undefined, (qb) => qb.where('id', '<', Number(page.cursor)))
    .orderBy('id', 'desc')
    .limit(limit + 1)
    .execute();
  const items = rows.slice(0, limit).map(toArtifact);
  return { items, nextCursor: rows.length > limit ? (items.at(-1)?.id ?? null) : null };
}

async function artifactRow(db: Executor, app: string, id: string, path: string) {
  const row = await db
    .selectFrom('artifacts')
    .selectAll()
    .where('app_id', '=', app)
    .where('id', '=', Number(id))
    .executeTakeFirst();
  if (!row) {
    // Not "artifact 1 of nope": say it is the app that is not there.
    const known = await db.selectFrom('apps').select('id').where('id', '=', app).executeTakeFirst();
    if (!known) throw appNotFound(app);
    throw new NotFoundError(`artifact ${id} of ${app} not found`, [
      { path, message: `\`pave artifacts list --app ${app}\` shows its artifacts` },
    ]);
  }
  return row;
}

/** One artifact of `app`; NotFoundError if there is no such artifact. */
export async function getArtifact(db: Executor, app: string, id: string): Promise<Artifact> {
  return toArtifact(await artifactRow(db, app, id, 'id'));
}

/**
 * What a deployment of an artifact deploys: its workloads as stored (the image applied) and its commit.
 * NotFoundError (at `/artifact`) when `app` has no such artifact.
 */
export async function artifactToDeploy(
  db: Executor,
  app: string,
  id: string,
): Promise<{ id: string; commit: string; commitTime: string | null; workloads: WorkloadSource[] }> {
  const row = await artifactRow(db, app, id, '/artifact');
  const workloads = JSON.parse(row.workloads) as Record<string, WorkloadSource>;
  return {
    id: String(row.id),
    commit: row.commit,
    commitTime: row.commit_time,
    workloads: Object.keys(workloads)
      .sort()
      .map((name) => workloads[name]!),
  };
}

/** Deletes the artifacts and rules of an app (inside the transaction that deletes it). */
export async function deleteArtifactsOfApp(tx: Executor, app: string): Promise<void> {
  await tx.deleteFrom('rules').where('app_id', '=', app).execute();
  await tx.deleteFrom('artifacts').where('app_id', '=', app).execute();
}
