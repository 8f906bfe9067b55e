import {
  SYSTEM_ACTORS,
  ConflictError,
  InputError,
  NotFoundError,
  RESOURCE_TYPES,
  explainMatch,
  findDefinitionConflicts,
  jsonPointer,
  type ApplyDefinitionsBody,
  type CandidateDefinition,
  type DefinitionsPlan,
  type MatchCriterion,
  type MatchQuery,
  type ResourceDefinition,
  type ResourceDefinitionSpec,
  type DefinitionPage,
} from '@pave/core';
import type { Selectable } from 'kysely';
import { applyAgainOnConflict, type Executor, type Store } from '../../store/index.ts';
import type { ResourceDefinitionsTable } from '../../store/schema.ts';
import type { SecretBox } from '../../secrets/secret-box.ts';
import { recordAudit } from '../audit.ts';
import { recordEvent } from '../events.ts';
import { now, type RequestContext } from '../context.ts';
import { idPage, type IdPageRequest } from '../config-pages.ts';
import { canonicalJson } from '../canonical-json.ts';
import { unknownEnvTypeProblems } from '../env-types.ts';

/** The SecretBox scope definition secrets are encrypted under. */
const PLATFORM_SCOPE = 'platform:definitions';

/**
 * The definitions Pave ships: what each resource type means on a fresh machine. They match every resource
 * of their type (any class) and lose to every definition a platform team applies.
 */
export const BUILT_IN_DEFINITIONS: readonly ResourceDefinitionSpec[] = [
  { id: 'default-postgres', type: 'postgres', driver: 'postgres-embedded' },
  { id: 'default-redis', type: 'redis', driver: 'redis-embedded' },
  { id: 'default-mysql', type: 'mysql', driver: 'mysql-embedded' },
  { id: 'default-amqp', type: 'amqp', driver: 'rabbitmq-embedded' },
  { id: 'default-volume', type: 'volume', driver: 'volume-dir' },
  { id: 'default-dns', type: 'dns', driver: 'dns-localhost' },
  { id: 'default-route', type: 'route', driver: 'route-localhost' },
].map((definition) => ({ ...definition, driverInputs: { values: {}, secrets: {} }, criteria: [] }));

const BUILT_IN_IDS = new Set(BUILT_IN_DEFINITIONS.map((d) => d.id));

/** A definition with its secret inputs decrypted: what provisioning needs. Never send it to a client. */
export interface LoadedDefinition {
  id: string;
  type: string;
  driver: string;
  values: Record<string, unknown>;
  secrets: Record<string, unknown>;
  criteria: MatchCriterion[];
  builtIn: boolean;
}

function toDefinition(row: Selectable<ResourceDefinitionsTable>): ResourceDefinition {
  return {
    id: row.id,
    type: row.type,
    driver: row.driver,
    driverInputs: {
      values: JSON.parse(row.input_values) as Record<string, unknown>,
      secrets: JSON.parse(row.secret_names) as string[],
    },
    criteria: JSON.parse(row.criteria) as MatchCriterion[],
    builtIn: false,
    updatedBy: row.updated_by,
    updatedAt: row.updated_at,
  };
}

function builtInDefinition(spec: ResourceDefinitionSpec): ResourceDefinition {
  return {
    id: spec.id,
    type: spec.type,
    driver: spec.driver,
    driverInputs: { values: {}, secrets: [] },
    criteria: [],
    builtIn: true,
    updatedBy: SYSTEM_ACTORS.pave,
    updatedAt: '1970-01-01T00:00:00.000Z',
  };
}

/** One page of the definitions, the built-in defaults included, ordered by id: `GET /resource-definitions`. */
export async function listDefinitionPage(db: Executor, page: IdPageRequest = {}): Promise<DefinitionPage> {
  const builtIns = new Map(BUILT_IN_DEFINITIONS.map((spec) => [spec.id, builtInDefinition(spec)] as const));
  const { ids, nextCursor } = await idPage(db, 'resource_definitions', [...builtIns.keys()], page);
  const stored = ids.length
    ? await db.selectFrom('resource_definitions').selectAll().where('id', 'in', ids).execute()
    : [];
  const definitions = new Map([...stored.map((row) => [row.id, toDefinition(row)] as const), ...builtIns]);
  // A definition deleted between the two reads is left out.
  return { items: ids.flatMap((id) => definitions.get(id) ?? []), nextCursor };
}

/** Every definition, the built-in defaults included, ordered by type then id: what matching reads. */
export async function listDefinitions(db: Executor): Promise<ResourceDefinition[]> {
  const rows = await db.selectFrom('resource_definitions').selectAll().execute();
  return [...rows.map(toDefinition), ...BUILT_IN_DEFINITIONS.map(builtInDefinition)].sort(
    (a, b) => a.type.localeCompare(b.type) || a.id.localeCompare(b.id),
  );
}

/** One definition; NotFoundError naming how to list them. */
export async function getDefinition(db: Executor, id: string): Promise<ResourceDefinition> {
  const builtIn = BUILT_IN_DEFINITIONS.find((d) => d.id === id);
  if (builtIn) return builtInDefinition(builtIn);
  const row = await db.selectFrom('resource_definitions').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw definitionNotFound(id);
  return toDefinition(row);
}

function definitionNotFound(id: string): NotFoundError {
  return new NotFoundError(`resource definition "${id}" not found`, [
    { path: 'id', message: '`pave defs list` shows the definitions' },
  ]);
}

/** Every definition with its secrets decrypted, for matching and provisioning. */
export async function loadDefinitions(db: Executor, box: SecretBox): Promise<LoadedDefinition[]> {
  const rows = await db.selectFrom('resource_definitions').selectAll().execute();
  const stored = await Promise.all(
    rows.map(async (row): Promise<LoadedDefinition> => ({
      id: row.id,
      type: row.type,
      driver: row.driver,
      values: JSON.parse(row.input_values) as Record<string, unknown>,
      secrets: JSON.parse(await box.decrypt(row.input_secrets)) as Record<string, unknown>,
      criteria: JSON.parse(row.criteria) as MatchCriterion[],
      builtIn: false,
    })),
  );
  return [
    ...stored,
    ...BUILT_IN_DEFINITIONS.map((d) => ({
      id: d.id,
      type: d.type,
      driver: d.driver,
      values: {},
      secrets: {},
      criteria: [],
      builtIn: true,
    })),
  ];
}

/** The definitions as matching sees them. */
export function candidates(
  definitions: ReadonlyArray<LoadedDefinition | ResourceDefinition>,
): CandidateDefinition[] {
  return definitions.map((d) => ({ id: d.id, type: d.type, criteria: d.criteria, builtIn: d.builtIn }));
}

/** A URL with a password in it (`postgres://admin:pw@db/`), unless the password is a placeholder. */
const URL_WITH_PASSWORD = /^[a-z][a-z0-9+.-]*:\/\/[^/@:\s]*:(?![^@]*\$\{)[^/@\s]+@/i;

/**
 * Secrets a definition keeps in `driverInputs.values`, at any depth (a Terraform variable's object, an exec
 * command's `env`), which Pave stores and shows in plain text (`pave defs get`): a secret output of its type
 * (a `password` of postgres), or any URL with a password in it (an `adminUrl`). They belong in
 * `driverInputs.secrets`, which is encrypted and never shown; refused here so that they are never stored,
 * rather than when a deployment first uses the definition.
 */
function plainSecretProblems(
  definition: { type: string; driverInputs: { values?: Record<string, unknown> } },
  path: string,
): Array<{ path: string; message: string }> {
  const secretOutputs = new Set(RESOURCE_TYPES[definition.type]?.secretOutputs ?? []);
  const move = 'move it to driverInputs.secrets, which Pave stores encrypted and never shows';
  const problemsIn = (value: unknown, at: string, key?: string): Array<{ path: string; message: string }> => {
    if (key !== undefined && secretOutputs.has(key)) {
      return [{ path: at, message: `"${key}" is a secret of ${definition.type} resources: ${move}` }];
    }
    if (typeof value === 'string') {
      return URL_WITH_PASSWORD.test(value)
        ? [{ path: at, message: `holds a URL with a password in it: ${move}` }]
        : [];
    }
    if (Array.isArray(value))
      return value.flatMap((item, index) => problemsIn(item, `${at}${jsonPointer([index])}`));
    if (value !== null && typeof value === 'object') {
      return Object.entries(value).flatMap(([name, item]) =>
        problemsIn(item, `${at}${jsonPointer([name])}`, name),
      );
    }
    return [];
  };
  return problemsIn(definition.driverInputs.values ?? {}, path);
}

/**
 * Applies definitions declaratively: creates new ones, updates changed ones, leaves unchanged and unnamed
 * ones alone (so applying the same file twice changes nothing). Refuses, changing nothing, definitions
 * whose driver is unknown, that reuse a built-in id, or whose criteria tie with another definition's.
 * With `dryRun` it only returns the plan.
 */
export async function applyDefinitions(
  store: Store,
  box: SecretBox,
  context: RequestContext,
  body: ApplyDefinitionsBody,
  knownDrivers: readonly string[],
): Promise<DefinitionsPlan> {
  const problems: Array<{ path: string; message: string }> = [];
  const seen = new Map<string, number>();
  body.definitions.forEach((definition, index) => {
    const first = seen.get(definition.id);
    if (first !== undefined) {
      problems.push({
        path: `/definitions/${index}/id`,
        message: `"${definition.id}" is also defined at /definitions/${first}; each id may appear once`,
      });
    }
    seen.set(definition.id, index);
    if (BUILT_IN_IDS.has(definition.id)) {
      problems.push({
        path: `/definitions/${index}/id`,
        message: `"${definition.id}" is a built-in default; choose another id (yours will win over it by matching)`,
      });
    }
    if (!knownDrivers.includes(definition.driver)) {
      problems.push({
        path: `/definitions/${index}/driver`,
        message: `no resource driver "${definition.driver}"; known drivers: ${knownDrivers.join(', ')}`,
      });
    }
    problems.push(...plainSecretProblems(definition, `/definitions/${index}/driverInputs/values`));
  });
  problems.push(
    ...(await unknownEnvTypeProblems(
      store.db,
      body.definitions.map((definition, index) => ({
        path: `/definitions/${index}/criteria`,
        criteria: definition.criteria,
      })),
    )),
  );
  if (problems.length) throw new InputError('the resource definitions cannot be applied', problems);

  // Encrypt before the transaction: the SecretBox uses the store itself (one connection on SQLite).
  const sealed = new Map<string, string>();
  for (const definition of body.definitions) {
    sealed.set(
      definition.id,
      await box.encrypt(PLATFORM_SCOPE, canonicalJson(definition.driverInputs.secrets)),
    );
  }
  return applyAgainOnConflict(
    () =>
      store.transaction(async (tx) => {
        const existing = new Map(
          (await tx.selectFrom('resource_definitions').selectAll().execute()).map((row) => [row.id, row]),
        );
        // The definitions as they will be: stored ones replaced by the applied ones.
        const merged = new Map<string, CandidateDefinition>(
          [...existing.values()].map((row) => [
            row.id,
            { id: row.id, type: row.type, criteria: JSON.parse(row.criteria) as MatchCriterion[] },
          ]),
        );
        for (const d of body.definitions) merged.set(d.id, { id: d.id, type: d.type, criteria: d.criteria });
        const conflicts = findDefinitionConflicts([...merged.values()], {
          list: '/definitions',
          ids: body.definitions.map((d) => d.id),
        });
        if (conflicts.length) {
          throw new ConflictError('the resource definitions would tie when matching', conflicts);
        }

        const changes: DefinitionsPlan['changes'] = [];
        for (const definition of body.definitions) {
          const secrets = definition.driverInputs.secrets;
          const secretsFp = box.fingerprint(canonicalJson(secrets));
          const row = existing.get(definition.id);
          const values = canonicalJson(definition.driverInputs.values);
          const criteria = canonicalJson(definition.criteria);
          if (!row) {
            changes.push({ id: definition.id, action: 'create', fields: [] });
          } else {
            const fields = [
              row.type !== definition.type ? 'type' : null,
              row.driver !== definition.driver ? 'driver' : null,
              canonicalJson(JSON.parse(row.input_values)) !== values ? 'driverInputs.values' : null,
              row.secrets_fp !== secretsFp ? 'driverInputs.secrets' : null,
              canonicalJson(JSON.parse(row.criteria)) !== criteria ? 'criteria' : null,
            ].filter((f): f is string => f !== null);
            changes.push({ id: definition.id, action: fields.length ? 'update' : 'unchanged', fields });
          }
          if (body.dryRun || changes.at(-1)!.action === 'unchanged') continue;
          const stored = {
            type: definition.type,
            driver: definition.driver,
            input_values: values,
            input_secrets: sealed.get(definition.id)!,
            secrets_fp: secretsFp,
            secret_names: JSON.stringify(Object.keys(secrets).sort()),
            criteria,
            updated_by: context.actor.username,
            updated_at: now(),
          };
          if (row) {
            await tx
              .updateTable('resource_definitions')
              .set(stored)
              .where('id', '=', definition.id)
              .execute();
          } else {
            await tx
              .insertInto('resource_definitions')
              .values({ id: definition.id, ...stored })
              .execute();
          }
          const change = changes.at(-1)!;
          await recordAudit(tx, context, {
            action: `definition.${change.action}`,
            target: `resource-definitions/${definition.id}`,
            summary: {
              id: definition.id,
              type: definition.type,
              driver: definition.driver,
              fields: change.fields,
              secretInputs: Object.keys(secrets).sort(),
            },
          });
          await recordEvent(tx, context, {
            type: 'definition.changed',
            app: null,
            data: { definition: definition.id, change: change.action === 'create' ? 'created' : 'updated' },
          });
        }
        return { applied: !body.dryRun, changes };
      }),
    'the resource definitions',
    '/definitions',
  );
}

/**
 * Deletes a definition. ConflictError naming the resources (app/env address) it still provisions, unless
 * `force`: then they keep running, and deleting them (or their environment) still works, because their driver
 * gets the inputs they were provisioned with, stored with each resource; deploying them needs a definition
 * again. Even with `force`, refused while one of them was provisioned before Pave stored resource inputs
 * (migration 0011) and not deployed since: it could only be deleted with empty inputs.
 */
export async function deleteDefinition(
  store: Store,
  context: RequestContext,
  id: string,
  options: { force?: boolean } = {},
): Promise<void> {
  if (BUILT_IN_IDS.has(id)) {
    throw new ConflictError(`"${id}" is a built-in default and cannot be deleted`, [
      { path: 'id', message: 'apply a definition of the same type: it wins over the built-in one' },
    ]);
  }
  await store.transaction(async (tx) => {
    const row = await tx
      .selectFrom('resource_definitions')
      .select(['id', 'type'])
      .where('id', '=', id)
      .executeTakeFirst();
    if (!row) throw definitionNotFound(id);
    const inUse = await tx
      .selectFrom('resources')
      .select(['app_id', 'env_id', 'address', 'inputs'])
      .where('definition_id', '=', id)
      .orderBy('app_id')
      .orderBy('env_id')
      .orderBy('address')
      .execute();
    const named = (rows: typeof inUse) => {
      const shown = rows.slice(0, 10).map((r) => `${r.app_id}/${r.env_id} ${r.address}`);
      return rows.length > shown.length
        ? `${shown.join(', ')} and ${rows.length - shown.length} more`
        : shown.join(', ');
    };
    if (inUse.length && !options.force) {
      throw new ConflictError(`resource definition "${id}" still provisions ${inUse.length} resource(s)`, [
        {
          path: 'id',
          message:
            `used by ${named(inUse)}; delete those environments or deploy them with --prune first, or delete ` +
            'it with --force (?force=true): the resources keep running and can still be deleted with the ' +
            'inputs they were provisioned with, but deploying them needs a definition again',
        },
      ]);
    }
    const unstored = inUse.filter((r) => r.inputs === null);
    if (unstored.length) {
      throw new ConflictError(`resource definition "${id}" cannot be deleted, even with --force`, [
        {
          path: 'id',
          message:
            `${named(unstored)} were provisioned before Pave stored resource inputs, so without the ` +
            'definition they could only be deleted with empty inputs; deploy those environments once ' +
            '(which stores their inputs), then delete it again',
        },
      ]);
    }
    const deleted = await tx.deleteFrom('resource_definitions').where('id', '=', id).executeTakeFirst();
    // None deleted: another deletion of it committed since it was read (PostgreSQL); that one is audited.
    if (Number(deleted.numDeletedRows) === 0) throw definitionNotFound(id);
    await recordAudit(tx, context, {
      action: 'definition.delete',
      target: `resource-definitions/${id}`,
      summary: {
        id,
        type: row.type,
        ...(inUse.length
          ? { forced: true, resources: inUse.map((r) => `${r.app_id}/${r.env_id} ${r.address}`) }
          : {}),
      },
    });
    await recordEvent(tx, context, {
      type: 'definition.changed',
      app: null,
      data: { definition: id, change: 'deleted' },
    });
  });
}

/** Explains which definition provisions a resource of `query` and why the others do not. */
export async function explainDefinitionMatch(db: Executor, query: MatchQuery) {
  const definitions = await listDefinitions(db);
  return explainMatch(candidates(definitions), query);
}
