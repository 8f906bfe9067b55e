import {
  SYSTEM_ACTORS,
  RESOURCE_TYPES,
  UpstreamError,
  changedResourceTypeReason,
  deletedDefinitionReason,
  explainMatch,
  resolveRoutePort,
  substitutePlaceholders,
  type FieldProblem,
  type ResourceChange,
} from '@pave/core';
import type {
  DriverContext,
  DriverRegistry,
  ResourceDriver,
  ResourceInputs,
  ResourceOutputs,
} from '@pave/plugin-api';
import { sql, type Expression, type ExpressionBuilder, type Selectable, type SqlBool } from 'kysely';
import type { Executor, Store } from '../../store/index.ts';
import type { Database, ResourcesTable } from '../../store/schema.ts';
import type { SecretBox } from '../../secrets/secret-box.ts';
import { now, systemContext } from '../context.ts';
import { recordEvent } from '../events.ts';
import { canonicalJson } from '../canonical-json.ts';
import type { SetWorkloads } from '../deployments/sets.ts';
import type { LeaseFence } from '../deployments/records.ts';
import { DeploymentInterrupted } from '../deployments/phases/phase.ts';
import { candidates, loadDefinitions, listDefinitions, type LoadedDefinition } from './definitions.ts';
import { buildResourceGraph, type ResourceNode } from './graph.ts';
import { maskingDriver, resourceSecrets } from './masking.ts';
import { plainOutputSecret, secretKeepingDriver } from './output-secrets.ts';
import { claimRouteHost, releaseRouteHosts } from './routes.ts';
import { deleteStates } from './state.ts';

/** The resource drivers Pave knows, by name. */
export type ResourceDriverRegistry = DriverRegistry<ResourceDriver>;

/** What provisioning needs besides the store. */
export interface ResourceDeps {
  store: Store;
  box: SecretBox;
  drivers: ResourceDriverRegistry;
  /**
   * For the work of a deployment: every record it writes needs its replica's lease (see LeaseFence and
   * recordDriverChange). Without it (deleting an environment) records are written in plain transactions.
   */
  fence?: LeaseFence | undefined;
}

/**
 * Runs `write` in a transaction, after confirming the deployment's lease in it when `deps` has a fence (then
 * it rejects with DeploymentInterrupted, having written nothing, when the lease is lost).
 */
function recordWith<T>(
  deps: Pick<ResourceDeps, 'store' | 'fence'>,
  write: (tx: Executor) => Promise<T>,
): Promise<T> {
  return deps.store.transaction((tx) => (deps.fence ? deps.fence.write(write, tx) : write(tx)));
}

/**
 * Records what a driver has just done to a resource (`record(tx, false)`, see recordWith). The driver's work
 * stands whatever happened to the lease, so a replica that lost it meanwhile records it all the same where
 * the record is still the one it read (`record(tx, true)` adds that condition, and writes nothing else):
 * the resource does not end with a stale record, and one the lease's holder stored since stands. Then it
 * rejects with DeploymentInterrupted, as for any write refused for a lost lease; the lease's holder takes
 * over from there.
 */
async function recordDriverChange(
  deps: Pick<ResourceDeps, 'store' | 'fence'>,
  ctx: DriverContext,
  address: string,
  record: (tx: Executor, leaseLost: boolean) => Promise<void>,
): Promise<void> {
  try {
    await recordWith(deps, (tx) => record(tx, false));
  } catch (error) {
    if (!(error instanceof DeploymentInterrupted && error.leaseLost)) throw error;
    await deps.store
      .transaction((tx) => record(tx, true))
      .catch((recordError: unknown) => {
        const message = `${address}: changed by its driver, but not recorded after this replica lost its lease`;
        ctx.logger.warn(message, { address, error: (recordError as Error).message });
      });
    throw error;
  }
}

/**
 * Matches a resource's record only as `row` read it: neither its resource, nor its inputs, nor its outputs
 * were recorded again since.
 */
function asRead(row: Selectable<ResourcesTable>) {
  return (eb: ExpressionBuilder<Database, 'resources'>) =>
    eb.and([
      eb('driver_id', '=', row.driver_id),
      eb('inputs_fp', '=', row.inputs_fp),
      eb('updated_at', '=', row.updated_at),
    ]);
}

/**
 * Keeps the sealed secret outputs of the record at `address` (where `which` holds too, when given) before the
 * record is deleted or its outputs replaced: the environment's workloads may have printed them (a database's
 * old password), and its logs are masked with every secret they were given (see environmentSecrets).
 */
async function retireSecrets(
  db: Executor,
  target: { app: string; env: string },
  address: string,
  which?: (eb: ExpressionBuilder<Database, 'resources'>) => Expression<SqlBool>,
): Promise<void> {
  await db
    .insertInto('retired_resource_secrets')
    .columns(['app_id', 'env_id', 'address', 'output_secrets', 'retired_at'])
    .expression(
      db
        .selectFrom('resources')
        .select([
          'app_id',
          'env_id',
          'address',
          'output_secrets',
          sql<string>`cast(${now()} as text)`.as('retired_at'),
        ])
        .where('app_id', '=', target.app)
        .where('env_id', '=', target.env)
        .where('address', '=', address)
        .where('secret_names', '!=', '[]')
        .$if(which !== undefined, (qb) => qb.where(which!)),
    )
    .execute();
}

/** The outputs a workload's resources provide, by workload then resource name: what rendering consumes. */
export type WorkloadResourceOutputs = Map<
  string,
  Map<string, { type: string; values: Record<string, string> }>
>;

/** The environment resources are provisioned for. */
export interface ResourceTarget {
  app: string;
  env: string;
  envType: string;
  /** The username the work is done for (a deployment's actor): refusals name only what they may see. */
  actor?: string | undefined;
  /** The deployment doing the work, if one is: resource events name it. */
  deploymentId?: number | undefined;
}

/** What a resource event says about the resource (see `resource.*` in @pave/core's events). */
interface ResourceEventSubject {
  address: string;
  type: string;
  class: string;
  definition: string | null;
  driver: string | null;
}

/**
 * Records a `resource.provisioned|deleted|failed` event, as the target's actor (Pave itself when none is
 * named), with `db`: the transaction that records the change, so the event exists exactly when it does.
 */
async function recordResourceEvent(
  db: Executor,
  target: ResourceTarget,
  subject: ResourceEventSubject,
  outcome:
    | { type: 'resource.provisioned'; change: 'created' | 'updated' | 'replaced' }
    | { type: 'resource.deleted' }
    | { type: 'resource.failed'; reason: string },
): Promise<void> {
  const context = systemContext(target.actor ?? SYSTEM_ACTORS.pave, `resources:${target.app}/${target.env}`);
  const data = {
    resource: subject.address,
    type: subject.type,
    class: subject.class,
    definition: subject.definition,
    driver: subject.driver,
    deploymentId: target.deploymentId === undefined ? null : String(target.deploymentId),
  };
  const base = { app: target.app, env: target.env };
  if (outcome.type === 'resource.provisioned') {
    await recordEvent(db, context, {
      ...base,
      type: outcome.type,
      data: { ...data, change: outcome.change },
    });
  } else if (outcome.type === 'resource.failed') {
    await recordEvent(db, context, {
      ...base,
      type: outcome.type,
      data: { ...data, reason: outcome.reason },
    });
  } else {
    await recordEvent(db, context, { ...base, type: outcome.type, data });
  }
}

const nodeSubject = (node: ResourceNode, definition: LoadedDefinition): ResourceEventSubject => ({
  address: node.address,
  type: node.type,
  class: node.class,
  definition: definition.id,
  driver: definition.driver,
});

const rowSubject = (row: Selectable<ResourcesTable>): ResourceEventSubject => ({
  address: row.address,
  type: row.type,
  class: row.class,
  definition: row.definition_id,
  driver: row.driver,
});

/** A provisioning failure: the driver's message, with the resource it concerns (HTTP 502 when it reaches a client). */
export class ProvisioningError extends UpstreamError {}

/** The SecretBox scope of an environment's secrets (the same as its values'). */
export const envScope = (app: string, env: string) => `env:${app}/${env}`;

/** The stored resources of an environment, by address. */
export async function resourceRows(
  db: Executor,
  app: string,
  env: string,
): Promise<Map<string, Selectable<ResourcesTable>>> {
  const rows = await db
    .selectFrom('resources')
    .selectAll()
    .where('app_id', '=', app)
    .where('env_id', '=', env)
    .execute();
  return new Map(rows.map((row) => [row.address, row]));
}

function resId(node: ResourceNode): string {
  return node.resId;
}

/**
 * What planning asks resource drivers, besides reading the store: the plan of `pave deploy --plan`, the
 * check when a deployment is queued, and the resources phase of a running deployment pass it.
 */
export interface PlanInspection {
  box: SecretBox;
  drivers: ResourceDriverRegistry;
  /** Where the drivers log and what stops them; the plan calls them with `dryRun` set. */
  ctx: DriverContext;
  /**
   * Also ask each kept or updated resource's driver (`read`) whether the resource still exists. Off when a
   * deployment is queued: its resources phase reads them anyway, and queuing stays fast.
   */
  read: boolean;
}

/**
 * What a deployment of `workloads` would do to the environment's resources: create the new ones, keep,
 * update or replace those it still uses, delete unused ones when `prune` allows it. A new resource is
 * provisioned by the definition that matches it; one that exists stays on the definition stored with it,
 * whichever matches now, as provisionResources keeps it. `problems` lists what refuses the deployment: new
 * resources no definition matches, existing ones whose stored definition was deleted or that the set
 * declares with another type, stateful resources the set no longer uses without `--prune --allow-data-loss`
 * (a renamed Score resource: `pave resources move` first), and stateful resources their driver can only
 * replace without `--allow-data-loss`.
 *
 * With `inspect`, an existing resource's new inputs are built as provisionResources builds them and
 * compared with the stored ones; where they differ the driver's `diff` (called with `dryRun`) decides between
 * keep, update and replace, and names the changed properties. Params that use the outputs of a resource this
 * deployment creates cannot be known yet: such a resource is compared by its Score params, as are resources
 * provisioned before their inputs were stored (migration 0011) and every resource without `inspect`.
 * With `inspect.read`, a kept or updated resource that its driver reports gone is planned as a `create`.
 */
export async function planResources(
  db: Executor,
  target: ResourceTarget,
  workloads: SetWorkloads,
  options: {
    prune?: boolean | undefined;
    allowDataLoss?: boolean | undefined;
    /**
     * Keep unused stateful resources instead of refusing (rollbacks: going back to an earlier set never
     * deletes what a later one added).
     */
    keepUnused?: boolean | undefined;
    /** Create resources again that are recorded but gone (only known with `inspect.read`). */
    recreateMissing?: boolean | undefined;
  },
  inspect?: PlanInspection,
): Promise<{ changes: ResourceChange[]; problems: FieldProblem[] }> {
  const graph = buildResourceGraph(workloads);
  // Inputs need the definitions' secrets, which only inspecting decrypts.
  const loaded = inspect ? await loadDefinitions(db, inspect.box) : undefined;
  const byId = new Map((loaded ?? []).map((definition) => [definition.id, definition]));
  const definitions = loaded ?? (await listDefinitions(db));
  const defined = new Set(definitions.map((definition) => definition.id));
  const matchable = candidates(definitions);
  const rows = await resourceRows(db, target.app, target.env);
  const changes: ResourceChange[] = [];
  const problems: FieldProblem[] = [];
  const used = new Set<string>();
  // The outputs params may use: those of the resources that exist and stay, as stored.
  const known = new Map<string, ResourceOutputs>();
  for (const node of graph.nodes) {
    if (node.builtIn) continue;
    used.add(node.address);
    const row = rows.get(node.address);
    if (!row) {
      // Only a resource not provisioned yet is matched: one that exists keeps its stored definition.
      const winner = explainMatch(matchable, matchQuery(target, node)).winner;
      if (!winner) {
        const consumer = node.consumers[0];
        problems.push({
          path: consumer ? `workloads.${consumer.workload}.resources.${consumer.name}.type` : node.address,
          message:
            `no resource definition provisions type "${node.type}"${node.class !== 'default' ? ` of class "${node.class}"` : ''} ` +
            `in ${target.app}/${target.env}; add one with \`pave defs apply -f defs.yaml\` ` +
            `(id, type: ${node.type}, driver: e.g. static or exec, criteria) — \`pave defs match --app ${target.app} --env ${target.env} --type ${node.type}\` explains the matching`,
        });
        continue;
      }
      changes.push({
        address: node.address,
        type: node.type,
        action: 'create',
        definitionId: winner.id,
        reason: `provisioned by ${winner.id}`,
      });
      continue;
    }
    if (row.type !== node.type) {
      problems.push({
        path: node.address,
        message: `${node.address} ${changedResourceTypeReason(row.type, node.type)}`,
      });
      continue;
    }
    // Provisioning would fail on it (`pave defs delete --force`): refused now, before anything changes.
    if (!defined.has(row.definition_id)) {
      problems.push({
        path: node.address,
        message: deletedDefinitionReason(row.definition_id),
      });
      continue;
    }
    const winner = explainMatch(matchable, matchQuery(target, node)).winner;
    const stays = !winner
      ? `stays on ${row.definition_id}; no definition matches it now`
      : winner.id !== row.definition_id
        ? `stays on ${row.definition_id} (${winner.id} matches now; delete and recreate the resource to switch)`
        : undefined;
    const definition = byId.get(row.definition_id);
    const inspected =
      inspect && definition
        ? await inspectChange(inspect, target, node, row, definition, workloads, graph.nodes, known)
        : undefined;
    if (!inspect || !inspected) {
      if (inspect) known.set(node.address, await rowOutputs(inspect.box, row));
      const paramsChanged = row.params !== canonicalJson(node.params);
      changes.push({
        address: node.address,
        type: node.type,
        action: paramsChanged ? 'update' : 'keep',
        definitionId: row.definition_id,
        reason: stays ?? (paramsChanged ? 'params changed' : 'in use'),
      });
      continue;
    }
    const { change } = inspected;
    if (change.action === 'replace') {
      if (isStateful(node.type) && !options.allowDataLoss) {
        problems.push(replaceRefusal(target, node.address, node.type, row.driver, change.properties));
        continue;
      }
      changes.push({
        address: node.address,
        type: node.type,
        action: 'replace',
        definitionId: row.definition_id,
        reason: `${row.driver} cannot change ${describeProperties(change.properties)} in place: deleted and created again`,
      });
      continue;
    }
    if (inspect.read && change.olds && (await isMissing(inspected.driver, row, change.olds, inspect.ctx))) {
      changes.push({
        address: node.address,
        type: node.type,
        action: 'create',
        definitionId: row.definition_id,
        reason: options.recreateMissing
          ? 'missing: recorded but gone; created again (--recreate-missing)'
          : `missing: recorded but gone; \`pave deploy --recreate-missing --app ${target.app} --env ${target.env}\` ` +
            'creates it again (or repeat the rollback or promote with --recreate-missing)',
      });
      continue;
    }
    known.set(node.address, await rowOutputs(inspect.box, row));
    changes.push({
      address: node.address,
      type: node.type,
      action: change.action,
      definitionId: row.definition_id,
      reason:
        change.action === 'update'
          ? `changed: ${describeProperties(change.properties)}`
          : (stays ?? (change.properties.length ? 'in use (nothing to change in place)' : 'in use')),
    });
  }
  for (const row of [...rows.values()].sort((a, b) => a.address.localeCompare(b.address))) {
    if (used.has(row.address)) continue;
    const stateful = isStateful(row.type);
    if (stateful && !(options.prune && options.allowDataLoss) && !options.keepUnused) {
      problems.push({
        path: row.address,
        message:
          `${row.type} resource ${row.address} is no longer used by the set and deleting it loses its data. ` +
          `If you renamed it, re-point it first: \`pave resources move --app ${target.app} --env ${target.env} ${row.address} <workload>.<new-name>\`; ` +
          'to delete it and its data, deploy with --prune --allow-data-loss',
      });
      continue;
    }
    const deleted = options.prune && (!stateful || options.allowDataLoss);
    changes.push({
      address: row.address,
      type: row.type,
      action: deleted ? 'delete' : 'keep',
      definitionId: row.definition_id,
      reason: deleted
        ? 'no longer used'
        : stateful
          ? 'no longer used; kept with its data (deploy with --prune --allow-data-loss to delete it)'
          : 'no longer used; kept (deploy with --prune to delete it)',
    });
  }
  return { changes, problems };
}

/**
 * The change planned for an existing resource from its inputs, or undefined when its new inputs cannot be
 * known yet (its params use outputs of a resource this deployment creates) or it has none stored.
 */
async function inspectChange(
  inspect: PlanInspection,
  target: ResourceTarget,
  node: ResourceNode,
  row: Selectable<ResourcesTable>,
  definition: LoadedDefinition,
  workloads: SetWorkloads,
  nodes: ResourceNode[],
  known: Map<string, ResourceOutputs>,
): Promise<{ change: ResourceChangeOf; driver: ResourceDriver } | undefined> {
  if (row.inputs === null) return undefined;
  let inputs: ResourceInputs;
  try {
    inputs = resourceInputs(target, node, definition, expandParams(node, workloads, nodes, known));
  } catch (error) {
    if (error instanceof ProvisioningError) return undefined;
    throw error;
  }
  const driver = await resourceDriver(
    inspect.drivers,
    inspect.box,
    definition.driver,
    { inputs, row },
    known.values(),
  );
  return { change: await changeOf(inspect.box, driver, row, definition, inputs, inspect.ctx), driver };
}

/** How an existing resource changes with new inputs, as its driver's diff says. */
interface ResourceChangeOf {
  action: 'keep' | 'update' | 'replace';
  /** The input properties that differ (the driver's words; secret values are never named). */
  properties: string[];
  /** The inputs the resource was last created or updated with; null when none are stored (before 0011). */
  olds: ResourceInputs | null;
  fingerprint: string;
}

/**
 * Compares `inputs` with the inputs `row` was provisioned with: unchanged when their fingerprints match;
 * otherwise the driver's `diff`, called with `dryRun` (it reports and changes nothing), decides. A resource
 * provisioned before migration 0011 has no inputs to compare with and is updated, as it was before.
 */
async function changeOf(
  box: SecretBox,
  driver: ResourceDriver,
  row: Selectable<ResourcesTable>,
  definition: LoadedDefinition,
  inputs: ResourceInputs,
  ctx: DriverContext,
): Promise<ResourceChangeOf> {
  const fingerprint = inputsFingerprint(box, definition, inputs);
  const olds = await storedInputs(box, row);
  if (row.inputs_fp === fingerprint) return { action: 'keep', properties: [], olds, fingerprint };
  if (!olds) return { action: 'update', properties: [], olds, fingerprint };
  const diff = await driver
    .diff(row.driver_id, olds, inputs, { ...ctx, dryRun: true })
    .catch((error: unknown) => {
      throw new ProvisioningError(
        `${row.address} (${row.type}): ${definition.driver} could not compare its inputs: ${(error as Error).message}`,
      );
    });
  const properties = diff.changedProperties ?? [];
  if (diff.replace) return { action: 'replace', properties, olds, fingerprint };
  return { action: diff.changes ? 'update' : 'keep', properties, olds, fingerprint };
}

/** Whether `row`'s driver reports the resource gone (`read` resolved null); a failed read is not "gone". */
async function isMissing(
  driver: ResourceDriver,
  row: Selectable<ResourcesTable>,
  olds: ResourceInputs,
  ctx: DriverContext,
): Promise<boolean> {
  const found = await driver.read(row.driver_id, olds, { ...ctx, dryRun: true }).catch(() => undefined);
  return found === null;
}

/** The problem that refuses replacing a stateful resource without --allow-data-loss. */
function replaceRefusal(
  target: ResourceTarget,
  address: string,
  type: string,
  driver: string,
  properties: string[],
): FieldProblem {
  return {
    path: address,
    message:
      `${type} resource ${address} cannot keep its data: ${driver} cannot change ${describeProperties(properties)} in place, ` +
      `so it would be deleted and created again, empty. Revert that change to its resource definition, or deploy ` +
      `to ${target.app}/${target.env} with --allow-data-loss to replace it`,
  };
}

function describeProperties(properties: string[]): string {
  return properties.length ? properties.join(', ') : 'its inputs';
}

function isStateful(type: string): boolean {
  return RESOURCE_TYPES[type]?.stateful ?? false;
}

/** The inputs a resource's driver gets: its definition's inputs and its params, placeholders expanded. */
function resourceInputs(
  target: ResourceTarget,
  node: ResourceNode,
  definition: LoadedDefinition,
  params: Record<string, unknown>,
): ResourceInputs {
  return {
    scope: {
      app: target.app,
      env: target.env,
      envType: target.envType,
      type: node.type,
      class: node.class,
      resId: resId(node),
      address: node.address,
    },
    driverInputs: definition.values,
    driverSecrets: definition.secrets,
    params,
  };
}

/** The fingerprint stored as `inputs_fp`: changes whenever the definition, its driver or the inputs do. */
function inputsFingerprint(box: SecretBox, definition: LoadedDefinition, inputs: ResourceInputs): string {
  return box.fingerprint(canonicalJson({ definition: definition.id, driver: definition.driver, inputs }));
}

function matchQuery(target: ResourceTarget, node: ResourceNode) {
  return {
    type: node.type,
    envType: target.envType,
    envId: target.env,
    appId: target.app,
    resId: resId(node),
    class: node.class,
  };
}

/** Decrypts a stored resource's outputs. */
export async function rowOutputs(box: SecretBox, row: Selectable<ResourcesTable>): Promise<ResourceOutputs> {
  return {
    values: JSON.parse(row.output_values) as Record<string, string>,
    secrets: JSON.parse(await box.decrypt(row.output_secrets)) as Record<string, string>,
  };
}

/**
 * The driver `name` as the control plane calls it about one resource: what it says (errors, check
 * failures, drift, log lines) has every secret Pave knows for the resource masked (see maskingDriver): those
 * of `inputs`, and of `row` when the resource is stored (the inputs it was provisioned with and its secret
 * outputs), with the secret outputs of `others` (the environment's resources) its params hold. Every driver
 * call about a resource goes through it, so no driver's message reaches a journal, an event, a log or a
 * client unmasked.
 */
export async function resourceDriver(
  drivers: ResourceDriverRegistry,
  box: SecretBox,
  name: string,
  resource: { inputs?: ResourceInputs | undefined; row?: Selectable<ResourcesTable> | undefined },
  others: Iterable<ResourceOutputs>,
): Promise<ResourceDriver> {
  const { inputs, row } = resource;
  const secrets = resourceSecrets(
    {
      inputs: [inputs ?? null, row ? await storedInputs(box, row) : null],
      outputs: row ? await rowOutputs(box, row) : undefined,
    },
    others,
  );
  return maskingDriver(secretKeepingDriver(drivers.get(name), secrets), secrets);
}

/** The outputs of an environment's stored resources, decrypted (see storedOutputs). */
async function environmentOutputs(
  box: SecretBox,
  db: Executor,
  target: ResourceTarget,
): Promise<ResourceOutputs[]> {
  return storedOutputs(box, (await resourceRows(db, target.app, target.env)).values());
}

/** The outputs of stored resources, decrypted: the `others` of resourceDriver. */
export async function storedOutputs(
  box: SecretBox,
  rows: Iterable<Selectable<ResourcesTable>>,
): Promise<ResourceOutputs[]> {
  return Promise.all([...rows].map((row) => rowOutputs(box, row)));
}

/**
 * Seals the inputs a resource is created or updated with, for its later `update` (as `olds`) and `delete`.
 * `cloneFrom` is left out: it is a create-only hint that holds another environment's secrets.
 */
async function sealInputs(box: SecretBox, target: ResourceTarget, inputs: ResourceInputs): Promise<string> {
  const { cloneFrom: _cloneFrom, ...kept } = inputs;
  return box.encrypt(envScope(target.app, target.env), canonicalJson(kept));
}

/**
 * The inputs a stored resource was last created or updated with, decrypted; null for a resource provisioned
 * before migration 0011 and not deployed since, which has none.
 */
export async function storedInputs(
  box: SecretBox,
  row: Selectable<ResourcesTable>,
): Promise<ResourceInputs | null> {
  return row.inputs === null ? null : (JSON.parse(await box.decrypt(row.inputs)) as ResourceInputs);
}

/** What a journal entry records. */
export type JournalNote = (entry: {
  step: string;
  workload?: string | null;
  status: 'started' | 'succeeded' | 'failed' | 'info';
  message: string;
}) => Promise<void>;

/**
 * Provisions the resources of `workloads` in dependency order, each existing one with the definition stored
 * with it and each new one with the definition that matches it (as planResources plans them; rejects when
 * there is none): creates missing ones, updates those whose inputs changed (as their driver's `diff` says),
 * replaces those the driver cannot change in place (deletes with the stored inputs, then creates), keeps the
 * rest, and returns every workload's resource outputs for rendering. A stateful resource is replaced only
 * with `allowDataLoss`; otherwise provisioning rejects naming it. A kept or updated resource whose driver's
 * `read` reports it gone rejects, naming `--recreate-missing`, unless `recreateMissing` says to create it
 * again (after a `delete` that clears whatever is left).
 * Resources it created are deleted again if a later one fails (nothing is left half-created), and so is a
 * resource a driver created whose record cannot be stored (a replacement's too, whose row then goes with the
 * resource it replaced); it then rejects with ProvisioningError carrying the driver's message. Resources that
 * existed before are never touched by a failure. `cloneFrom` names an environment whose
 * resources' data new ones start with. `created` lists the addresses of the resources this call created, in
 * order (those created again with `recreateMissing` too, not replaced ones), for a caller that must take
 * them back when a later phase of its deployment fails (deleteCreatedResources). A deployment resumed after a
 * crash passes what its interrupted runs created as `createdBefore`, and keeps the list with `saveCreated`.
 * With `deps.fence`, every record it writes (resources, route host claims, resource events) needs the
 * deployment's lease: once a write finds it lost, provisioning rejects with DeploymentInterrupted, takes
 * nothing back, and records what a driver had just done only where the lease's holder has not recorded the
 * resource since (see recordDriverChange).
 */
export async function provisionResources(
  deps: ResourceDeps,
  target: ResourceTarget,
  workloads: SetWorkloads,
  ctx: DriverContext,
  note: JournalNote,
  options: {
    cloneFrom?: string | undefined;
    recreateMissing?: boolean | undefined;
    allowDataLoss?: boolean | undefined;
    /**
     * The resources an interrupted run of the same deployment created (addresses, in the order they were
     * created): counted as created by this call, so a failure deletes them again and `created` lists them.
     */
    createdBefore?: string[] | undefined;
    /**
     * Keeps the list durable with the deployment: called with `created` as it is then, in the transaction that
     * stores each resource this call creates (first in it) and in the one that deletes such a resource again.
     * Rejecting with DeploymentInterrupted (its replica lost the environment's lease) ends provisioning at once:
     * nothing is taken back (the lease's holder is in charge now), and a resource the driver has just created is
     * still recorded, outside the deployment's list, so that it is not left unknown to Pave.
     */
    saveCreated?: ((db: Executor, created: string[]) => Promise<void>) | undefined;
  } = {},
): Promise<{ outputs: WorkloadResourceOutputs; created: string[] }> {
  const { store, box, drivers } = deps;
  const graph = buildResourceGraph(workloads);
  if (graph.nodes.every((node) => node.builtIn)) {
    return { outputs: workloadOutputs(workloads, graph.nodes, new Map()), created: [] };
  }
  const definitions = await loadDefinitions(store.db, box);
  const byId = new Map(definitions.map((d) => [d.id, d]));
  const rows = await resourceRows(store.db, target.app, target.env);
  const outputsByAddress = new Map<string, ResourceOutputs>();
  // What this deployment created, oldest first. Those this call created carry what deleting them takes, and
  // whether their record is stored yet; those of `createdBefore` are deleted as their rows say.
  const created: CreatedResource[] = (options.createdBefore ?? []).map((address) => ({ address }));
  const createdAddresses = () => created.map((resource) => resource.address);
  /** Counts a resource this call created as the deployment's newest (it may be one an earlier run created). */
  const addCreated = (resource: CreatedResource) => {
    const earlier = created.findIndex((entry) => entry.address === resource.address);
    if (earlier >= 0) created.splice(earlier, 1);
    created.push(resource);
  };
  /**
   * Deletes a resource this deployment created, with its driver, then its row if it has one (a replacement's
   * is the row of the resource it replaced, which is gone). A failure is journaled and keeps the resource.
   */
  const takeBack = async (address: string, resource: MadeResource | Promise<MadeResource>) => {
    let made: MadeResource | undefined;
    try {
      const deleting = await resource;
      made = deleting;
      await deleting.driver.delete(deleting.id, deleting.inputs, ctx);
      // After a lost lease, only a record of the resource just deleted goes (see recordDriverChange).
      await recordDriverChange(deps, ctx, address, async (tx, leaseLost) => {
        await retireSecrets(
          tx,
          target,
          address,
          leaseLost ? (eb) => eb('driver_id', '=', deleting.id) : undefined,
        );
        const gone = await tx
          .deleteFrom('resources')
          .where('app_id', '=', target.app)
          .where('env_id', '=', target.env)
          .where('address', '=', address)
          .$if(leaseLost, (qb) => qb.where('driver_id', '=', deleting.id))
          .returningAll()
          .executeTakeFirst();
        if (leaseLost && !gone) return;
        await deleteStates(tx, target.app, target.env, address);
        if (gone) await recordResourceEvent(tx, target, rowSubject(gone), { type: 'resource.deleted' });
        if (leaseLost) return;
        const remaining = createdAddresses().filter((other) => other !== address);
        if (remaining.length < created.length) await options.saveCreated?.(tx, remaining);
      });
      const index = created.findIndex((entry) => entry.address === address);
      if (index >= 0) created.splice(index, 1);
      await note({
        step: 'provision',
        status: 'info',
        message: `${address}: deleted again (this deployment created it)`,
      });
    } catch (cleanup) {
      if (cleanup instanceof DeploymentInterrupted) throw cleanup;
      const kept =
        !made || made.recorded
          ? 'it is kept and reused by the next deployment'
          : `Pave has no record of it: delete ${made.driver.name} resource ${made.id} by hand`;
      await note({
        step: 'provision',
        status: 'failed',
        message: `${address}: could not be deleted again: ${(cleanup as Error).message}; ${kept}`,
      });
    }
  };
  // A route's host belongs to one environment: claim it before the route is stored (see claimRouteHost).
  const claimed: string[] = [];
  const claimHost = async (tx: Executor, node: ResourceNode, outputs: ResourceOutputs) => {
    const host = node.type === 'route' ? outputs.values.host : undefined;
    const consumer = node.consumers[0];
    const where = consumer
      ? `workloads.${consumer.workload}.resources.${consumer.name}.params.host`
      : `${node.address}.params.host`;
    if (host && (await claimRouteHost(tx, target, host, where))) claimed.push(host);
  };
  const rowFields = async (
    node: ResourceNode,
    fingerprint: string,
    inputs: ResourceInputs,
    outputs: ResourceOutputs,
  ) => {
    const shown = plainOutputSecret(
      outputs,
      resourceSecrets({ inputs: [inputs], outputs }, outputsByAddress.values()),
    );
    if (shown !== undefined) {
      throw new ProvisioningError(
        `${node.address}: its output "${shown}" holds a secret (of its resource definition, or another ` +
          `resource's secret output its params use), and a ${node.type}'s outputs are plain text that everyone ` +
          `who may read the app sees: keep secrets out of its params`,
      );
    }
    return {
      inputs_fp: fingerprint,
      inputs: await sealInputs(box, target, inputs),
      params: canonicalJson(node.params),
      output_values: canonicalJson(outputs.values),
      output_secrets: await box.encrypt(envScope(target.app, target.env), canonicalJson(outputs.secrets)),
      secret_names: JSON.stringify(Object.keys(outputs.secrets).sort()),
      updated_at: now(),
    };
  };
  /**
   * Whether `sealed` (secret outputs, sealed anew, so never the same text) holds other secrets than the record
   * at `address`: only then are its secrets retired, not at every update that keeps them.
   */
  const secretsChange = async (db: Executor, address: string, sealed: string) => {
    const row = await db
      .selectFrom('resources')
      .select('output_secrets')
      .where('app_id', '=', target.app)
      .where('env_id', '=', target.env)
      .where('address', '=', address)
      .executeTakeFirst();
    if (!row) return false;
    const [before, after] = await Promise.all([box.decrypt(row.output_secrets), box.decrypt(sealed)]);
    return before !== after;
  };
  /** Updates the record at `address`, only as `read` read it when given; resolves true when it did. */
  const updateRow = async (
    address: string,
    fields: Partial<Selectable<ResourcesTable>>,
    db: Executor,
    read?: Selectable<ResourcesTable>,
  ) => {
    if (fields.output_secrets !== undefined && (await secretsChange(db, address, fields.output_secrets))) {
      await retireSecrets(db, target, address, read === undefined ? undefined : asRead(read));
    }
    const updated = await db
      .updateTable('resources')
      .set(fields)
      .where('app_id', '=', target.app)
      .where('env_id', '=', target.env)
      .where('address', '=', address)
      .$if(read !== undefined, (qb) => qb.where(asRead(read!)))
      .executeTakeFirst();
    return Number(updated.numUpdatedRows) > 0;
  };
  /**
   * Stores what a driver made of a resource (`write`, resolving true when it stored it) with its
   * resource.provisioned event, the claim of a route's host in `outputs`, and for one it created the
   * deployment's list of what it created, in one transaction that needs the lease. A replica that lost the
   * lease while the driver worked records the resource all the same, without the rest, where the lease's
   * holder has not recorded it since (`write(tx, true)`; see recordDriverChange): a resource it created is
   * then kept by the next deployment (and deleted with the environment) rather than created again, which
   * fails on a name that is taken, and one it updated or replaced does not keep the outputs and inputs it had.
   */
  const storeProvisioned = async (
    node: ResourceNode,
    definition: LoadedDefinition,
    change: 'created' | 'updated' | 'replaced',
    outputs: ResourceOutputs,
    write: (tx: Executor, leaseLost: boolean) => Promise<boolean>,
  ) =>
    recordDriverChange(deps, ctx, node.address, async (tx, leaseLost) => {
      if (!leaseLost) {
        if (change === 'created') await options.saveCreated?.(tx, createdAddresses());
        await claimHost(tx, node, outputs);
      }
      if (!(await write(tx, leaseLost))) return;
      await recordResourceEvent(tx, target, nodeSubject(node, definition), {
        type: 'resource.provisioned',
        change,
      });
    });
  /** Records a resource.failed event (with the lease) and rejects with the error. */
  const failed = async (node: ResourceNode, definition: LoadedDefinition, error: ProvisioningError) => {
    await recordWith(deps, (tx) =>
      recordResourceEvent(tx, target, nodeSubject(node, definition), {
        type: 'resource.failed',
        reason: error.message,
      }),
    );
    return Promise.reject(error);
  };
  /**
   * Checks the inputs and creates the resource with its driver, `cloneFrom` (the outputs whose data it starts
   * with) added for `create` alone, as ResourceInputs documents it; rejects with ProvisioningError.
   */
  const createWith = async (
    node: ResourceNode,
    definition: LoadedDefinition,
    driver: ResourceDriver,
    inputs: ResourceInputs,
    why: string,
    cloneFrom?: ResourceOutputs,
  ) => {
    const failures = await driver.check(inputs, ctx);
    if (failures.length) {
      return failed(
        node,
        definition,
        new ProvisioningError(
          `${node.address} (${node.type}) cannot be provisioned by ${definition.id} (${definition.driver}): ` +
            failures.map((f) => `${f.property}: ${f.reason}`).join('; '),
        ),
      );
    }
    await note({
      step: 'provision',
      status: 'started',
      message: `${node.address} (${node.type}): ${why} with ${definition.id} (${definition.driver})${cloneFrom ? `, data from ${options.cloneFrom}` : ''}`,
    });
    const started = Date.now();
    const result = await driver
      .create(cloneFrom ? { ...inputs, cloneFrom } : inputs, ctx)
      .catch((error: unknown) =>
        failed(
          node,
          definition,
          new ProvisioningError(
            `${node.address} (${node.type}): ${definition.driver} could not create it: ${(error as Error).message}`,
          ),
        ),
      );
    return { ...result, ms: Date.now() - started };
  };
  // A clone's new resources start with the data of the source environment's resource at the same address.
  const cloneSources = options.cloneFrom
    ? await resourceRows(store.db, target.app, options.cloneFrom)
    : new Map<string, Selectable<ResourcesTable>>();
  try {
    for (const node of graph.nodes) {
      if (node.builtIn) continue;
      const row = rows.get(node.address);
      // An existing resource stays on its stored definition (planning refuses one whose definition was
      // deleted; this catches one deleted since); only a new one is matched.
      const matched = row
        ? undefined
        : explainMatch(candidates(definitions), matchQuery(target, node)).winner;
      const definitionId = row?.definition_id ?? matched?.id;
      const definition = definitionId === undefined ? undefined : byId.get(definitionId);
      if (!definition) {
        throw new ProvisioningError(
          row
            ? `${node.address}: ${deletedDefinitionReason(row.definition_id)}`
            : `${node.address}: no resource definition provisions type "${node.type}" here; add one with \`pave defs apply\``,
        );
      }
      const inputs = resourceInputs(
        target,
        node,
        definition,
        expandParams(node, workloads, graph.nodes, outputsByAddress),
      );
      // Another environment's outputs, secrets included: they go to `create` alone (not into `inputs`, which
      // check, delete and the stored record get), and what the driver says is masked with them too.
      const source = row ? undefined : cloneSources.get(node.address);
      const cloneFrom = source?.type === node.type ? await rowOutputs(box, source) : undefined;
      const driver = await resourceDriver(
        drivers,
        box,
        definition.driver,
        { inputs: cloneFrom ? { ...inputs, cloneFrom } : inputs, row },
        outputsByAddress.values(),
      );
      if (row) {
        const change = await changeOf(box, driver, row, definition, inputs, ctx);
        if (change.action === 'replace') {
          if (isStateful(node.type) && !options.allowDataLoss) {
            throw new ProvisioningError(
              replaceRefusal(target, node.address, node.type, row.driver, change.properties).message,
            );
          }
          // Replacing is deleting with the inputs the resource was provisioned with, then creating anew.
          await deleteResource(deps, target, row, ctx, note, { keepRow: true });
          const replaced = await createWith(
            node,
            definition,
            driver,
            inputs,
            `replacing (${describeProperties(change.properties)} cannot change in place)`,
          ).catch(async (error: unknown) => {
            // The old resource is gone: its row goes too, so the next deployment creates it.
            await recordDriverChange(deps, ctx, node.address, async (tx, leaseLost) => {
              await retireSecrets(tx, target, node.address, leaseLost ? asRead(row) : undefined);
              const gone = await tx
                .deleteFrom('resources')
                .where('app_id', '=', target.app)
                .where('env_id', '=', target.env)
                .where('address', '=', node.address)
                .$if(leaseLost, (qb) => qb.where(asRead(row)))
                .executeTakeFirst();
              if (Number(gone.numDeletedRows) === 0) return;
              await recordResourceEvent(tx, target, rowSubject(row), { type: 'resource.deleted' });
            });
            throw error;
          });
          try {
            const replacedFields = await rowFields(node, change.fingerprint, inputs, replaced.outputs);
            await storeProvisioned(node, definition, 'replaced', replaced.outputs, (tx, leaseLost) =>
              updateRow(
                node.address,
                { driver_id: replaced.id, created_at: now(), ...replacedFields },
                tx,
                leaseLost ? row : undefined,
              ),
            );
          } catch (error) {
            // Interrupted by a lost lease: the lease's holder is in charge of the new resource now.
            if (error instanceof DeploymentInterrupted) throw error;
            // Unrecorded, nothing would ever delete the new resource: it goes again, as a created one
            // whose record cannot be stored does, and so does the row of the one it replaced.
            await takeBack(node.address, { driver, id: replaced.id, inputs, recorded: false });
            throw error;
          }
          outputsByAddress.set(node.address, replaced.outputs);
          await note({
            step: 'provision',
            status: 'succeeded',
            message: `${node.address}: replaced in ${replaced.ms} ms`,
          });
          continue;
        }
        if (change.olds && (await isMissing(driver, row, change.olds, ctx))) {
          if (!options.recreateMissing) {
            throw new ProvisioningError(
              `${node.address} (${node.type}) is missing: Pave recorded it, but ${row.driver} reports it gone ` +
                `(deleted outside Pave?). \`pave deploy --recreate-missing --app ${target.app} --env ${target.env}\` ` +
                `creates it again, or repeat the rollback or promote with --recreate-missing (its data is not ` +
                `restored); \`pave resources check --app ${target.app} --env ${target.env}\` lists what is missing`,
            );
          }
          // Gone to its driver's read is not always gone entirely (a dropped database leaves its role): the
          // delete the contract makes idempotent clears what is left before the create.
          await deleteResource(deps, target, row, ctx, note, { keepRow: true });
          const recreated = await createWith(node, definition, driver, inputs, 'missing: creating it again');
          const made = { driver, id: recreated.id, inputs, recorded: false };
          addCreated({ address: node.address, made });
          const recreatedFields = await rowFields(node, change.fingerprint, inputs, recreated.outputs);
          await storeProvisioned(node, definition, 'created', recreated.outputs, (tx, leaseLost) =>
            updateRow(
              node.address,
              { driver_id: recreated.id, ...recreatedFields },
              tx,
              leaseLost ? row : undefined,
            ),
          );
          made.recorded = true;
          outputsByAddress.set(node.address, recreated.outputs);
          await note({
            step: 'provision',
            status: 'succeeded',
            message: `${node.address}: created again in ${recreated.ms} ms`,
          });
          continue;
        }
        if (change.action === 'keep') {
          const kept = await rowOutputs(box, row);
          outputsByAddress.set(node.address, kept);
          // The driver has nothing to change, or the resource was provisioned before 0011 with these very
          // inputs: these are the inputs it now stands for. Nothing changed but the record, which needs the
          // lease like any other.
          const refreshed =
            row.inputs_fp !== change.fingerprint || row.inputs === null
              ? {
                  inputs_fp: change.fingerprint,
                  inputs: await sealInputs(box, target, inputs),
                  params: canonicalJson(node.params),
                }
              : undefined;
          if (refreshed || node.type === 'route') {
            await recordWith(deps, async (tx) => {
              if (refreshed) await updateRow(node.address, refreshed, tx);
              await claimHost(tx, node, kept);
            });
          }
          await note({
            step: 'provision',
            status: 'info',
            message: `${node.address} (${node.type}): unchanged`,
          });
          continue;
        }
        await note({
          step: 'provision',
          status: 'started',
          message: `${node.address} (${node.type}): updating with ${definition.driver}${change.properties.length ? ` (${describeProperties(change.properties)})` : ''}`,
        });
        // The contract: `olds` are the inputs the resource was last created or updated with. A resource
        // provisioned before 0011 has none stored; it gets today's inputs as `olds`, as it did before.
        const olds = change.olds ?? inputs;
        const { outputs } = await driver
          .update(row.driver_id, olds, inputs, ctx)
          .catch((error: unknown) =>
            failed(
              node,
              definition,
              new ProvisioningError(
                `${node.address} (${node.type}): ${definition.driver} could not update it: ${(error as Error).message}`,
              ),
            ),
          );
        const updatedFields = await rowFields(node, change.fingerprint, inputs, outputs);
        await storeProvisioned(node, definition, 'updated', outputs, (tx, leaseLost) =>
          updateRow(node.address, updatedFields, tx, leaseLost ? row : undefined),
        );
        outputsByAddress.set(node.address, outputs);
        await note({ step: 'provision', status: 'succeeded', message: `${node.address}: updated` });
        continue;
      }
      const result = await createWith(node, definition, driver, inputs, 'creating', cloneFrom);
      const made = { driver, id: result.id, inputs, recorded: false };
      addCreated({ address: node.address, made });
      const createdFields = await rowFields(
        node,
        inputsFingerprint(box, definition, inputs),
        inputs,
        result.outputs,
      );
      // After a lost lease too: unless the lease's holder has recorded one at this address since.
      await storeProvisioned(node, definition, 'created', result.outputs, async (tx) => {
        await tx
          .insertInto('resources')
          .values({
            app_id: target.app,
            env_id: target.env,
            address: node.address,
            type: node.type,
            class: node.class,
            res_id: resId(node),
            definition_id: definition.id,
            driver: definition.driver,
            driver_id: result.id,
            ...createdFields,
            created_at: now(),
          })
          .execute();
        return true;
      });
      made.recorded = true;
      outputsByAddress.set(node.address, result.outputs);
      await note({
        step: 'provision',
        status: 'succeeded',
        message: `${node.address}: created in ${result.ms} ms`,
      });
    }
  } catch (error) {
    // Interrupted by a lost lease: the replica that holds it now decides what to take back.
    if (error instanceof DeploymentInterrupted) throw error;
    // Only the lease's holder takes anything back: releasing the claims finds out whether this replica is it.
    await recordWith(deps, (tx) => releaseRouteHosts(tx, target, claimed));
    // Nothing half-created: take back what this deployment created, newest first; those an interrupted run
    // created as their rows say now (this run may have updated them).
    const rowsNow = created.every((resource) => resource.made)
      ? new Map<string, Selectable<ResourcesTable>>()
      : await resourceRows(store.db, target.app, target.env);
    for (const resource of [...created].reverse()) {
      const row = rowsNow.get(resource.address);
      if (resource.made) await takeBack(resource.address, resource.made);
      else if (row) await takeBack(resource.address, madeOf(deps, target, row));
    }
    throw error;
  }
  return {
    outputs: workloadOutputs(workloads, graph.nodes, outputsByAddress),
    created: createdAddresses(),
  };
}

/** A resource a driver created: what deleting it takes, and whether Pave has stored its record. */
interface MadeResource {
  driver: ResourceDriver;
  id: string;
  inputs: ResourceInputs;
  recorded: boolean;
}

/** A resource a deployment created: `made` when this run created it, else it is as its row says. */
interface CreatedResource {
  address: string;
  made?: MadeResource;
}

/** What deleting a stored resource takes: its driver, its id and the inputs it was last provisioned with. */
async function madeOf(
  deps: ResourceDeps,
  target: ResourceTarget,
  row: Selectable<ResourcesTable>,
): Promise<MadeResource> {
  const { driver, inputs } = await storedResourceDriver(deps, target, row);
  return { driver, id: row.driver_id, inputs, recorded: true };
}

/**
 * The driver of a stored resource (masking as resourceDriver does, with the environment's resources as
 * `others`) and the inputs it was last provisioned with: what deleting it takes.
 */
async function storedResourceDriver(
  deps: ResourceDeps,
  target: ResourceTarget,
  row: Selectable<ResourcesTable>,
): Promise<{ driver: ResourceDriver; inputs: ResourceInputs }> {
  const inputs = await lastInputs(deps, target, row);
  const others = await environmentOutputs(deps.box, deps.store.db, target);
  return {
    driver: await resourceDriver(deps.drivers, deps.box, row.driver, { inputs, row }, others),
    inputs,
  };
}

/**
 * Takes back the resources a failed deployment created (`addresses`, in the order they were created),
 * newest first, with the inputs stored for them. Resolves with the addresses that could not be deleted: their
 * rows stay (the resources are assumed to still exist) and the next deployment reuses them. Rejects with
 * DeploymentInterrupted when `note` does (the deployment's replica lost its lease), deleting no more.
 */
export async function deleteCreatedResources(
  deps: ResourceDeps,
  target: ResourceTarget,
  addresses: string[],
  ctx: DriverContext,
  note: JournalNote,
): Promise<string[]> {
  const rows = await resourceRows(deps.store.db, target.app, target.env);
  const kept: string[] = [];
  for (const address of [...addresses].reverse()) {
    const row = rows.get(address);
    if (!row) continue;
    await deleteResource(deps, target, row, ctx, note).catch((error: unknown) => {
      if (error instanceof DeploymentInterrupted) throw error;
      kept.push(address);
    });
  }
  return kept;
}

/** Maps each workload's resource names to the outputs of the resource at their address. */
export function workloadOutputs(
  workloads: SetWorkloads,
  nodes: ResourceNode[],
  outputs: Map<string, ResourceOutputs>,
): WorkloadResourceOutputs {
  const result: WorkloadResourceOutputs = new Map();
  for (const name of Object.keys(workloads)) result.set(name, new Map());
  for (const node of nodes) {
    const provided = outputs.get(node.address);
    if (!provided) continue;
    for (const consumer of node.consumers) {
      result.get(consumer.workload)?.set(consumer.name, {
        type: node.type,
        values: { ...provided.values, ...provided.secrets },
      });
    }
  }
  return result;
}

/** Expands placeholders in a resource's params with the outputs of the resources it depends on. */
function expandParams(
  node: ResourceNode,
  workloads: SetWorkloads,
  nodes: ResourceNode[],
  outputs: Map<string, ResourceOutputs>,
): Record<string, unknown> {
  const consumer = node.consumers[0];
  const spec = consumer ? workloads[consumer.workload]?.spec : undefined;
  const addressOf = (name: string) =>
    nodes.find((n) => n.consumers.some((c) => c.workload === consumer?.workload && c.name === name))?.address;
  const expand = (value: unknown): unknown => {
    if (typeof value === 'string') {
      return substitutePlaceholders(value, (parts) => {
        const [root, name, output] = parts;
        if (root === 'metadata' && spec) {
          const field = (spec.metadata as Record<string, unknown>)[name ?? ''];
          return typeof field === 'string' ? field : JSON.stringify(field ?? '');
        }
        if (root === 'resources' && name && output) {
          const address = addressOf(name);
          const provided = address ? outputs.get(address) : undefined;
          const found = provided ? (provided.values[output] ?? provided.secrets[output]) : undefined;
          if (found !== undefined) return found;
          throw new ProvisioningError(
            `${node.address}: params use \${resources.${name}.${output}}, which ${name} does not provide`,
          );
        }
        throw new ProvisioningError(
          `${node.address}: params use \${${parts.join('.')}}, which Pave cannot expand here`,
        );
      });
    }
    if (Array.isArray(value)) return value.map(expand);
    if (value && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, expand(v)]));
    }
    return value;
  };
  const params = expand(node.params) as Record<string, unknown>;
  // A route may name its workload's port (`port: web`, as score-compose's example does): drivers get its number.
  if (node.type === 'route' && spec && params.port !== undefined) {
    return { ...params, port: resolveRoutePort(spec, params.port) };
  }
  return params;
}

/**
 * Deletes the environment's resources the set no longer uses (a deployment with `--prune`; stateful ones
 * only with `--allow-data-loss` too, which planning has already checked). A failed delete keeps the
 * resource's row (it is assumed to still exist) and is reported in the journal.
 */
export async function pruneResources(
  deps: ResourceDeps,
  target: ResourceTarget,
  workloads: SetWorkloads,
  ctx: DriverContext,
  note: JournalNote,
  options: { allowDataLoss: boolean },
): Promise<void> {
  for (const row of await unusedRows(deps, target, workloads, options)) {
    await deleteResource(deps, target, row, ctx, note, { step: 'prune' });
  }
}

/**
 * What pruneResources would delete now: each resource's driver and the `driverInputs` it was last provisioned
 * with, which its `delete` is given (an exec command's `timeoutSeconds` among them), for the prune's budget.
 */
export async function pruneDeletions(
  deps: Pick<ResourceDeps, 'store' | 'box'>,
  target: ResourceTarget,
  workloads: SetWorkloads,
  options: { allowDataLoss: boolean },
): Promise<Array<{ driver: string; values: Record<string, unknown> }>> {
  const rows = await unusedRows(deps, target, workloads, options);
  return Promise.all(
    rows.map(async (row) => ({
      driver: row.driver,
      values: (await lastInputs(deps, target, row)).driverInputs,
    })),
  );
}

/** The environment's resources the set no longer uses, stateful ones only with `allowDataLoss`. */
async function unusedRows(
  deps: Pick<ResourceDeps, 'store'>,
  target: ResourceTarget,
  workloads: SetWorkloads,
  options: { allowDataLoss: boolean },
): Promise<Array<Selectable<ResourcesTable>>> {
  const used = new Set(buildResourceGraph(workloads).nodes.map((n) => n.address));
  const rows = await resourceRows(deps.store.db, target.app, target.env);
  return [...rows.values()].filter(
    (row) =>
      !used.has(row.address) && (options.allowDataLoss || !(RESOURCE_TYPES[row.type]?.stateful ?? false)),
  );
}

/**
 * Deletes one resource with its driver, then its row (unless `keepRow`: a replacement or a re-creation
 * stores the new resource in it); rejects (keeping the row) if the driver fails. The driver gets the inputs the resource was
 * last created or updated with, whatever its definition says now (or if it was deleted). What it records
 * needs the lease of `deps.fence`; see recordDriverChange for a lease lost while the driver deleted. Its
 * journal entries are under `step`, the caller's (default `provision`).
 */
async function deleteResource(
  deps: ResourceDeps,
  target: ResourceTarget,
  row: Selectable<ResourcesTable>,
  ctx: DriverContext,
  note: JournalNote,
  options: { keepRow?: boolean; step?: string } = {},
): Promise<void> {
  const step = options.step ?? 'provision';
  const { driver, inputs } = await storedResourceDriver(deps, target, row);
  await note({
    step,
    status: 'started',
    message: `${row.address} (${row.type}): deleting with ${row.driver}`,
  });
  try {
    await driver.delete(row.driver_id, inputs, ctx);
  } catch (error) {
    await note({
      step,
      status: 'failed',
      message: `${row.address}: ${(error as Error).message}`,
    });
    const failure = new ProvisioningError(
      `${row.address} (${row.type}): ${row.driver} could not delete it: ${(error as Error).message}`,
    );
    await recordWith(deps, (tx) =>
      recordResourceEvent(tx, target, rowSubject(row), { type: 'resource.failed', reason: failure.message }),
    );
    throw failure;
  }
  if (options.keepRow) {
    await note({
      step,
      status: 'succeeded',
      message: `${row.address}: deleted, to be created again`,
    });
    return;
  }
  // After a lost lease, only the record as it was read goes: one stored since is of another resource.
  await recordDriverChange(deps, ctx, row.address, async (tx, leaseLost) => {
    await retireSecrets(tx, target, row.address, leaseLost ? asRead(row) : undefined);
    const gone = await tx
      .deleteFrom('resources')
      .where('app_id', '=', target.app)
      .where('env_id', '=', target.env)
      .where('address', '=', row.address)
      .$if(leaseLost, (qb) => qb.where(asRead(row)))
      .executeTakeFirst();
    if (leaseLost && Number(gone.numDeletedRows) === 0) return;
    await deleteStates(tx, target.app, target.env, row.address);
    await recordResourceEvent(tx, target, rowSubject(row), { type: 'resource.deleted' });
  });
  await note({ step, status: 'succeeded', message: `${row.address}: deleted` });
}

/**
 * The inputs a stored resource was last created or updated with, for `read` and `delete`: those stored with
 * it, or for a resource provisioned before migration 0011, those its current definition gives.
 */
export async function lastInputs(
  deps: Pick<ResourceDeps, 'store' | 'box'>,
  target: ResourceTarget,
  row: Selectable<ResourcesTable>,
): Promise<ResourceInputs> {
  return (await storedInputs(deps.box, row)) ?? (await currentInputs(deps, target, row));
}

/**
 * The inputs of a resource provisioned before migration 0011, which has none stored: built from its current
 * definition, as before 0011 (empty driver inputs if the definition was deleted since).
 */
async function currentInputs(
  deps: Pick<ResourceDeps, 'store' | 'box'>,
  target: ResourceTarget,
  row: Selectable<ResourcesTable>,
): Promise<ResourceInputs> {
  const definitions = await loadDefinitions(deps.store.db, deps.box);
  const definition: LoadedDefinition | undefined = definitions.find((d) => d.id === row.definition_id);
  return {
    scope: {
      app: target.app,
      env: target.env,
      envType: target.envType,
      type: row.type,
      class: row.class,
      resId: row.res_id,
      address: row.address,
    },
    driverInputs: definition?.values ?? {},
    driverSecrets: definition?.secrets ?? {},
    params: JSON.parse(row.params) as Record<string, unknown>,
  };
}

/**
 * Deletes every resource of an environment (environment deletion), newest first. Rejects with the drivers'
 * failures after trying them all; the resources that could not be deleted keep their rows. Once `ctx.signal`
 * aborts (the control plane stops, the budget is spent) no further delete is begun, since a driver that does
 * not watch the signal would run it in full: the resources left keep their rows, and the rejection says so.
 */
export async function deprovisionEnvironment(
  deps: ResourceDeps,
  target: ResourceTarget,
  ctx: DriverContext,
  note: JournalNote,
): Promise<void> {
  const rows = [...(await resourceRows(deps.store.db, target.app, target.env)).values()].sort(
    (a, b) => b.created_at.localeCompare(a.created_at) || b.address.localeCompare(a.address),
  );
  const failures: string[] = [];
  for (const [index, row] of rows.entries()) {
    if (ctx.signal.aborted) {
      const left = rows.slice(index).map((r) => r.address);
      failures.push(`stopped before deleting ${left.join(', ')}: they are kept`);
      break;
    }
    await deleteResource(deps, target, row, ctx, note).catch((error: unknown) =>
      failures.push((error as Error).message),
    );
  }
  if (failures.length) throw new ProvisioningError(failures.join('; '));
}
