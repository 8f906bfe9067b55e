import {
  ConflictError,
  InputError,
  NotFoundError,
  explainMatch,
  type Resource,
  type ResourceCheck,
  type ResourceGraph,
  type ResourcePage,
} from '@pave/core';
import type { DriverContext } from '@pave/plugin-api';
import type { Selectable } from 'kysely';
import type { Executor, Store } from '../../store/index.ts';
import type { ResourcesTable } from '../../store/schema.ts';
import { recordAudit } from '../audit.ts';
import { now, type RequestContext } from '../context.ts';
import { environmentRow } from '../environments.ts';
import { currentWorkloads } from '../deployments/service.ts';
import { candidates, listDefinitions } from './definitions.ts';
import { buildResourceGraph, renderGraphText } from './graph.ts';
import {
  lastInputs,
  resourceDriver,
  resourceRows,
  rowOutputs,
  storedOutputs,
  type ResourceDeps,
} from './provision.ts';

/** A resource's address: `<workload>.<name>` or `shared.<id>`. */
const ADDRESS = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?\.[A-Za-z0-9]([-A-Za-z0-9._]*[A-Za-z0-9])?$/;

function toResource(row: Selectable<ResourcesTable>): Resource {
  return {
    appId: row.app_id,
    envId: row.env_id,
    address: row.address,
    type: row.type,
    class: row.class,
    resId: row.res_id,
    definitionId: row.definition_id,
    driver: row.driver,
    driverId: row.driver_id,
    values: JSON.parse(row.output_values) as Record<string, string>,
    // Names only: the encrypted outputs are not opened for a listing.
    secrets: JSON.parse(row.secret_names) as string[],
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** How many resources a page holds when the caller does not say. */
const DEFAULT_RESOURCE_PAGE = 100;

/**
 * One page of the resources provisioned for an environment, by address (`limit`, default 100): with `cursor`
 * (a previous page's nextCursor, the address of its last resource), those whose address sorts after it.
 * NotFoundError if the environment does not exist.
 */
export async function listResources(
  db: Executor,
  app: string,
  env: string,
  page: { limit?: number | undefined; cursor?: string | undefined } = {},
): Promise<ResourcePage> {
  await environmentRow(db, app, env);
  const limit = page.limit ?? DEFAULT_RESOURCE_PAGE;
  // Keyset pagination on the primary key (app_id, env_id, address): a deep page costs what the first does.
  const rows = await db
    .selectFrom('resources')
    .selectAll()
    .where('app_id', '=', app)
    .where('env_id', '=', env)
    .$if(page.cursor !== undefined, (qb) => qb.where('address', '>', page.cursor!))
    .orderBy('address')
    .limit(limit + 1)
    .execute();
  const items = rows.slice(0, limit).map(toResource);
  return { items, nextCursor: rows.length > limit ? (items.at(-1)?.address ?? null) : null };
}

/** One resource; NotFoundError naming how to list them. */
export async function getResource(
  db: Executor,
  app: string,
  env: string,
  address: string,
): Promise<Resource> {
  await environmentRow(db, app, env);
  const row = await db
    .selectFrom('resources')
    .selectAll()
    .where('app_id', '=', app)
    .where('env_id', '=', env)
    .where('address', '=', address)
    .executeTakeFirst();
  if (!row) throw resourceNotFound(app, env, address);
  return toResource(row);
}

/** `path`: where the request names the address (`address`, a path parameter; `/from`, a move's body). */
function resourceNotFound(app: string, env: string, address: string, path = 'address'): NotFoundError {
  return new NotFoundError(`resource ${address} of ${app}/${env} not found`, [
    { path, message: `\`pave resources list --app ${app} --env ${env}\` shows the resources` },
  ]);
}

/**
 * Re-points an existing resource at a new address (a Score resource renamed from `from` to `to`): the
 * resource itself, and its data, are untouched. ConflictError if `to` is taken, or if the resource's driver
 * keeps a state in Pave (Terraform's, keyed by the address); audited.
 */
export async function moveResource(
  store: Store,
  context: RequestContext,
  app: string,
  env: string,
  from: string,
  to: string,
): Promise<Resource> {
  const problems = [
    ...(ADDRESS.test(from) ? [] : [{ path: '/from', message: 'must be <workload>.<name> or shared.<id>' }]),
    ...(ADDRESS.test(to) ? [] : [{ path: '/to', message: 'must be <workload>.<name> or shared.<id>' }]),
  ];
  if (from === to) problems.push({ path: '/to', message: 'is the same address as from' });
  if (problems.length) throw new InputError('the resource addresses are invalid', problems);
  return store.transaction(async (tx) => {
    await environmentRow(tx, app, env);
    const row = await tx
      .selectFrom('resources')
      .selectAll()
      .where('app_id', '=', app)
      .where('env_id', '=', env)
      .where('address', '=', from)
      .executeTakeFirst();
    if (!row) throw resourceNotFound(app, env, from, '/from');
    // A state the control plane keeps for the resource's driver (Terraform's) is keyed by the address, and
    // the driver's stored inputs name the old one: moving the resource alone would leave the next deployment
    // with an empty state at the new address, planning everything again.
    const state = await tx
      .selectFrom('resource_states')
      .select('address')
      .where('app_id', '=', app)
      .where('env_id', '=', env)
      .where('address', '=', from)
      .where('state', 'is not', null)
      .executeTakeFirst();
    if (state) {
      throw new ConflictError(
        `${from} (${row.type}, driver ${row.driver}) keeps its state in Pave under its address and cannot be moved`,
        [
          {
            path: '/from',
            message:
              'rename it back in the Score file; moving a resource whose driver keeps state in Pave (terraform) is not supported',
          },
        ],
      );
    }
    const taken = await tx
      .selectFrom('resources')
      .select('type')
      .where('app_id', '=', app)
      .where('env_id', '=', env)
      .where('address', '=', to)
      .executeTakeFirst();
    if (taken) {
      throw new ConflictError(`${app}/${env} already has a resource at ${to}`, [
        {
          path: '/to',
          message: `choose a free address, or delete the ${taken.type} resource at ${to} first`,
        },
      ]);
    }
    const resId = to.startsWith('shared.') ? to.slice('shared.'.length) : to;
    const moved = await tx
      .updateTable('resources')
      .set({ address: to, res_id: resId, updated_at: now() })
      .where('app_id', '=', app)
      .where('env_id', '=', env)
      .where('address', '=', from)
      .executeTakeFirst();
    // None moved: another move of it committed since it was read (PostgreSQL); that one is audited.
    if (Number(moved.numUpdatedRows) === 0) throw resourceNotFound(app, env, from);
    await recordAudit(tx, context, {
      action: 'resource.move',
      target: `apps/${app}/envs/${env}/resources/${to}`,
      appId: app,
      summary: { from, to, type: row.type },
    });
    return toResource({ ...row, address: to, res_id: resId });
  });
}

/** The resource graph of an environment's current set, with which resources are provisioned. */
export async function environmentGraph(db: Executor, app: string, env: string): Promise<ResourceGraph> {
  const environment = await environmentRow(db, app, env);
  const { workloads } = await currentWorkloads(db, app, env);
  const graph = buildResourceGraph(workloads);
  const rows = new Map(
    (
      await db
        .selectFrom('resources')
        .select(['address', 'definition_id'])
        .where('app_id', '=', app)
        .where('env_id', '=', env)
        .execute()
    ).map((row) => [row.address, row.definition_id]),
  );
  const definitions = candidates(await listDefinitions(db));
  return {
    nodes: graph.nodes.map((node) => ({
      address: node.address,
      type: node.type,
      class: node.class,
      resId: node.resId,
      shared: node.shared,
      builtIn: node.builtIn,
      provisioned: rows.has(node.address),
      definitionId:
        rows.get(node.address) ??
        (node.builtIn
          ? null
          : (explainMatch(definitions, {
              type: node.type,
              envType: environment.type,
              envId: env,
              appId: app,
              resId: node.resId,
              class: node.class,
            }).winner?.id ?? null)),
      consumers: node.consumers,
      dependsOn: node.dependsOn,
    })),
    edges: graph.edges,
    text: renderGraphText(graph),
  };
}

/**
 * Asks each resource's driver to read it (`read` with the inputs it was provisioned with, as a dry run) and
 * compares what it finds with what Pave recorded: `ok`, `missing` (read found nothing), `drifted` (outputs
 * differ: their names, never their values) or `error` (the read failed: the driver's message). What a driver
 * says has the resource's secrets masked, those its params hold from other resources' secret outputs too. Changes nothing. NotFoundError if the environment does not exist.
 */
export async function checkResources(
  deps: ResourceDeps,
  app: string,
  env: string,
  ctx: DriverContext,
): Promise<ResourceCheck[]> {
  const environment = await environmentRow(deps.store.db, app, env);
  const target = { app, env, envType: environment.type };
  const rows = [...(await resourceRows(deps.store.db, app, env)).values()].sort((a, b) =>
    a.address.localeCompare(b.address),
  );
  const others = await storedOutputs(deps.box, rows);
  const checks: ResourceCheck[] = [];
  for (const row of rows) {
    const recorded = await rowOutputs(deps.box, row);
    const inputs = await lastInputs(deps, target, row);
    const result = { address: row.address, type: row.type, driver: row.driver, driftedOutputs: [] };
    try {
      const driver = await resourceDriver(deps.drivers, deps.box, row.driver, { inputs, row }, others);
      const found = await driver.read(row.driver_id, inputs, { ...ctx, dryRun: true });
      if (!found) {
        checks.push({
          ...result,
          status: 'missing',
          detail: `recorded, but ${row.driver} finds no resource ${row.driver_id}; \`pave deploy --recreate-missing --app ${app} --env ${env}\` creates it again`,
        });
        continue;
      }
      const drifted = [
        ...differingKeys(recorded.values, found.outputs.values),
        ...differingKeys(recorded.secrets, found.outputs.secrets),
      ].sort();
      const reported = found.drift ?? [];
      const details = [
        ...(drifted.length
          ? [
              `outputs differ from those recorded: ${drifted.join(', ')}; a deployment that updates it records them again`,
            ]
          : []),
        ...reported,
      ];
      checks.push(
        details.length
          ? { ...result, status: 'drifted', driftedOutputs: drifted, detail: details.join('; ') }
          : { ...result, status: 'ok', detail: '' },
      );
    } catch (error) {
      checks.push({
        ...result,
        status: 'error',
        detail: `${row.driver} could not read it: ${(error as Error).message}`,
      });
    }
  }
  return checks;
}

/** The keys whose values differ between two records (present in one only, or with other values). */
function differingKeys(a: Record<string, string>, b: Record<string, string>): string[] {
  return [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((key) => a[key] !== b[key]);
}
