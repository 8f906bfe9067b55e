import {
  SYSTEM_ACTORS,
  ConflictError,
  InputError,
  MAX_VALUE_KEYS,
  NotFoundError,
  jsonPointer,
  parseDotenv,
  type ImportValuesBody,
  type PatchValuesBody,
  type ValueChange,
  type ValueEntry,
  type ValueList,
  type ValueKeyDiff,
  type ValuesChanged,
  type ValuesDiff,
  type ValuesVersion,
  type ValuesVersionPage,
} from '@pave/core';
import type { Executor, Store } from '../store/index.ts';
import type { SecretBox } from '../secrets/secret-box.ts';
import { appNotFound } from './apps.ts';
import { MIN_SECRET_LENGTH } from './resources/masking.ts';
import { recordAudit } from './audit.ts';
import { recordEvent } from './events.ts';
import { now, systemContext, type RequestContext } from './context.ts';
import { environmentRow } from './environments.ts';

/** One effective value as a version stores it. A secret's `value` is ciphertext and `fp` its fingerprint. */
export interface StoredValue {
  secret: boolean;
  value: string;
  fp?: string;
  source: 'app' | 'env';
  updatedBy: string;
  updatedAt: string;
}

/** An environment's effective values, by key. */
export type ValuesContent = Record<string, StoredValue>;

/** The newest values version of an environment, or null before any value was set. */
export async function latestValuesVersion(db: Executor, app: string, env: string): Promise<number | null> {
  const row = await db
    .selectFrom('env_value_versions')
    .select('version')
    .where('app_id', '=', app)
    .where('env_id', '=', env)
    .orderBy('version', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row ? Number(row.version) : null;
}

/**
 * The content of one values version; NotFoundError if the environment has no such version (naming `path`,
 * where the caller was given the number).
 */
export async function valuesContent(
  db: Executor,
  app: string,
  env: string,
  version: number,
  path = 'version',
): Promise<ValuesContent> {
  const row = await db
    .selectFrom('env_value_versions')
    .select('content')
    .where('app_id', '=', app)
    .where('env_id', '=', env)
    .where('version', '=', version)
    .executeTakeFirst();
  if (!row) {
    throw new NotFoundError(`${app}/${env} has no values version ${version}`, [
      { path, message: `\`pave values history --app ${app} --env ${env}\` lists the versions` },
    ]);
  }
  return JSON.parse(row.content) as ValuesContent;
}

/** Decrypts a version's values for a deployment: plaintext, in memory only. */
export async function decryptValues(box: SecretBox, content: ValuesContent): Promise<Record<string, string>> {
  const result: Record<string, string> = {};
  for (const [key, entry] of Object.entries(content)) {
    result[key] = entry.secret ? await box.decrypt(entry.value) : entry.value;
  }
  return result;
}

/** A change found by comparing: never `not-compared`. */
type ComparedChange = ValueChange & { action: Exclude<ValueChange['action'], 'not-compared'> };

/** Which keys of `to` differ from `from`; secrets are compared by fingerprint and never show a value. */
export function valueChanges(from: ValuesContent, to: ValuesContent): ComparedChange[] {
  const keys = [...new Set([...Object.keys(from), ...Object.keys(to)])].sort();
  const changes: ComparedChange[] = [];
  for (const key of keys) {
    const a = from[key];
    const b = to[key];
    const secret = Boolean(a?.secret || b?.secret);
    const reveal = (entry: StoredValue | undefined) =>
      secret ? {} : { [entry === a ? 'from' : 'to']: entry?.value ?? null };
    if (!a && b) changes.push({ key, action: 'added', secret, ...(secret ? {} : { to: b.value }) });
    else if (a && !b) changes.push({ key, action: 'removed', secret, ...(secret ? {} : { from: a.value }) });
    else if (a && b) {
      const same = a.secret === b.secret && (a.secret ? a.fp === b.fp : a.value === b.value);
      if (!same) changes.push({ key, action: 'changed', secret, ...reveal(a), ...reveal(b) });
    }
  }
  return changes;
}

/**
 * valueChanges for a caller who may not compare the secrets of the two sides (two environments, without
 * `values.reveal` on both): a secret both sides hold is `not-compared`, whether equal or not, since whether
 * they are equal would tell something about a value the caller may not see.
 */
export function valueChangesHidingSecrets(from: ValuesContent, to: ValuesContent): ValueChange[] {
  const bothSecret = (key: string) => Boolean(from[key]?.secret && to[key]?.secret);
  const hidden: ValueChange[] = Object.keys(to)
    .filter(bothSecret)
    .map((key) => ({ key, action: 'not-compared', secret: true }));
  return [...valueChanges(from, to).filter((change) => !bothSecret(change.key)), ...hidden].sort((a, b) =>
    a.key < b.key ? -1 : a.key > b.key ? 1 : 0,
  );
}

async function effectiveContent(db: Executor, app: string, env: string): Promise<ValuesContent> {
  const appRows = await db.selectFrom('app_values').selectAll().where('app_id', '=', app).execute();
  const envRows = await db
    .selectFrom('env_values')
    .selectAll()
    .where('app_id', '=', app)
    .where('env_id', '=', env)
    .execute();
  const content: ValuesContent = {};
  for (const row of appRows) content[row.key] = storedValue(row, 'app');
  for (const row of envRows) {
    if (row.value === null) delete content[row.key];
    else content[row.key] = storedValue({ ...row, value: row.value }, 'env');
  }
  return content;
}

/** The app-level values of `app` alone, as valueChanges compares them. */
async function appLayerContent(db: Executor, app: string): Promise<ValuesContent> {
  const rows = await db.selectFrom('app_values').selectAll().where('app_id', '=', app).execute();
  return Object.fromEntries(rows.map((row) => [row.key, storedValue(row, 'app')]));
}

function storedValue(
  row: { secret: number; value: string; fp: string | null; updated_by: string; updated_at: string },
  source: 'app' | 'env',
): StoredValue {
  return {
    secret: Number(row.secret) === 1,
    value: row.value,
    ...(row.fp ? { fp: row.fp } : {}),
    source,
    updatedBy: row.updated_by,
    updatedAt: row.updated_at,
  };
}

/**
 * Takes the app's row lock until the transaction ends (an update that changes nothing: PostgreSQL holds the
 * row; SQLite runs one writer at a time anyway). Transactions that change an app's values take it first, so
 * they run one after another: two at once on replicas of one store would otherwise both number their new
 * version N+1, and one would fail on the unique key.
 */
async function lockAppValues(tx: Executor, app: string): Promise<void> {
  await tx
    .updateTable('apps')
    .set((eb) => ({ incarnation: eb.ref('incarnation') }))
    .where('id', '=', app)
    .execute();
}

/**
 * Writes a new values version for each of the environments whose effective values differ from their newest
 * version. Runs inside the transaction that changed the layers (and took the app's lock, see lockAppValues).
 */
async function recordVersions(
  tx: Executor,
  context: RequestContext,
  app: string,
  envs: string[],
  reason: string,
): Promise<ValuesChanged> {
  await lockAppValues(tx, app);
  const result: ValuesChanged = { changes: [], versions: [] };
  for (const env of envs) {
    const latest = await latestValuesVersion(tx, app, env);
    const before = latest === null ? {} : await valuesContent(tx, app, env, latest);
    const after = await effectiveContent(tx, app, env);
    const changes = valueChanges(before, after);
    if (changes.length === 0) continue;
    const version = (latest ?? 0) + 1;
    await tx
      .insertInto('env_value_versions')
      .values({
        app_id: app,
        env_id: env,
        version,
        content: JSON.stringify(after),
        actor: context.actor.username,
        reason,
        changes: JSON.stringify(changes),
        created_at: now(),
      })
      .execute();
    result.versions.push({ envId: env, version });
    for (const change of changes) {
      if (!result.changes.some((c) => c.key === change.key)) result.changes.push(change);
    }
  }
  return result;
}

async function envsOf(db: Executor, app: string): Promise<string[]> {
  const rows = await db
    .selectFrom('environments')
    .select('id')
    .where('app_id', '=', app)
    .orderBy('id')
    .execute();
  return rows.map((row) => row.id);
}

async function requireApp(db: Executor, app: string): Promise<void> {
  const exists = await db.selectFrom('apps').select('id').where('id', '=', app).executeTakeFirst();
  if (!exists) throw appNotFound(app);
}

/** The reason of a version that took the app's values without a change to the environment's own. */
const INHERITED = 'inherited from the app';

/**
 * Gives a new environment its app's values as its first version (inside the transaction that creates it), so
 * that listing, history and diff show what a deployment would run with; nothing when the app has no values.
 */
export async function recordInheritedValues(
  tx: Executor,
  context: RequestContext,
  app: string,
  env: string,
): Promise<void> {
  await recordVersions(tx, context, app, [env], INHERITED);
}

/**
 * Gives an environment cloned from `from` (inside the transaction that creates it) a copy of the source's own
 * values: its overrides of the app's values, plain and secret, and the app values it hides. Secrets are
 * copied sealed, as stored (a ciphertext names its data key), so nothing is decrypted. The app's values with
 * the copy are the new environment's first version; the copy is audited by key (`values.clone`), never by
 * value. Without overrides to copy, this is recordInheritedValues. InputError (at `/from`) when the source
 * holds more keys than MAX_VALUE_KEYS (set before there was a limit).
 */
export async function recordClonedValues(
  tx: Executor,
  context: RequestContext,
  app: string,
  env: string,
  from: string,
): Promise<void> {
  await lockAppValues(tx, app);
  const rows = await tx
    .selectFrom('env_values')
    .select(['key', 'secret', 'value', 'fp'])
    .where('app_id', '=', app)
    .where('env_id', '=', from)
    .execute();
  // Sorted here, not by the engine: PostgreSQL's collation would order "_" otherwise than SQLite.
  rows.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  if (rows.length === 0) return recordInheritedValues(tx, context, app, env);
  if (rows.length > MAX_VALUE_KEYS) {
    throw new InputError(
      `environment "${from}" holds ${rows.length} keys of its own; an environment may hold at most ${MAX_VALUE_KEYS}`,
      [
        {
          path: '/from',
          message:
            `its ${rows.length} keys would be copied, and an environment may hold at most ${MAX_VALUE_KEYS}: ` +
            `unset keys it no longer needs (\`pave values unset KEY... --app ${app} --env ${from}\`) first`,
        },
      ],
    );
  }
  const at = now();
  await tx
    .insertInto('env_values')
    .values(
      rows.map((row) => ({
        app_id: app,
        env_id: env,
        key: row.key,
        secret: Number(row.secret),
        value: row.value,
        fp: row.fp,
        updated_by: context.actor.username,
        updated_at: at,
      })),
    )
    .execute();
  const changed = await recordVersions(tx, context, app, [env], `cloned from ${from}`);
  await recordAudit(tx, context, {
    action: 'values.clone',
    target: `apps/${app}/envs/${env}/values`,
    appId: app,
    summary: {
      from,
      set: rows
        .filter((row) => row.value !== null)
        .map((row) => ({ key: row.key, secret: Number(row.secret) === 1 })),
      hidden: rows.filter((row) => row.value === null).map((row) => row.key),
      versions: changed.versions,
    },
  });
}

/**
 * The keys of the values a deployment of `env` started now would run with, read without recording anything:
 * those of the layers (app-level values and the environment's own), which currentValuesVersion records as a
 * version when the newest one differs. What a plan checks placeholders against.
 */
export async function deployableValueKeys(db: Executor, app: string, env: string): Promise<string[]> {
  return Object.keys(await effectiveContent(db, app, env));
}

/**
 * The values version a deployment of `env` should run with: the newest one, after recording a new version if
 * the layers give something else (an environment created by a Pave that did not record its inherited values at
 * creation may have none yet).
 */
export async function currentValuesVersion(store: Store, app: string, env: string): Promise<number | null> {
  await store.transaction((tx) =>
    recordVersions(tx, systemContext(SYSTEM_ACTORS.pave, 'deployment'), app, [env], INHERITED),
  );
  return latestValuesVersion(store.db, app, env);
}

/**
 * The refusal of a change that would leave a scope of values holding `count` keys, more than MAX_VALUE_KEYS:
 * `where` names the scope (`shop/dev`, or `app shop`), `path` what the caller sent.
 */
function tooManyKeys(where: string, count: number, path: string): InputError {
  return new InputError(
    `${where} would hold ${count} keys; a scope of values holds at most ${MAX_VALUE_KEYS}`,
    [
      {
        path,
        message:
          `would give ${where} ${count} keys, and it may hold at most ${MAX_VALUE_KEYS}: unset keys it no longer ` +
          'needs (`pave values unset KEY...`) or send fewer',
      },
    ],
  );
}

/** How many keys a scope of values holds: an app's defaults (`env` undefined) or an environment's own. */
async function keysInScope(db: Executor, app: string, env: string | undefined): Promise<number> {
  const row = env
    ? await db
        .selectFrom('env_values')
        .select((eb) => eb.fn.countAll<number | string>().as('count'))
        .where('app_id', '=', app)
        .where('env_id', '=', env)
        .executeTakeFirstOrThrow()
    : await db
        .selectFrom('app_values')
        .select((eb) => eb.fn.countAll<number | string>().as('count'))
        .where('app_id', '=', app)
        .executeTakeFirstOrThrow();
  return Number(row.count);
}

/**
 * Which of `keys` hold a secret now where they are being set: at app level (`env` undefined), or in the
 * environment's effective values, where its own value of a key overrides the app-level one (a key the
 * environment made plain over an app-level secret is plain there).
 */
async function secretKeys(
  db: Executor,
  app: string,
  env: string | undefined,
  keys: readonly string[],
): Promise<Set<string>> {
  if (keys.length === 0) return new Set();
  const appLevel = await db
    .selectFrom('app_values')
    .select(['key', 'secret'])
    .where('app_id', '=', app)
    .where('key', 'in', keys)
    .execute();
  const envLevel = env
    ? await db
        .selectFrom('env_values')
        .select(['key', 'secret'])
        .where('app_id', '=', app)
        .where('env_id', '=', env)
        .where('key', 'in', keys)
        .execute()
    : [];
  const effective = new Map([...appLevel, ...envLevel].map((row) => [row.key, row.secret === 1]));
  return new Set([...effective].filter(([, secret]) => secret).map(([key]) => key));
}

/**
 * Why the secret `value` of `key` is refused, ending with `otherwise` (what to do instead), when it is shorter
 * than MIN_SECRET_LENGTH; undefined when it is not.
 */
export function shortSecretProblem(key: string, value: string, otherwise: string): string | undefined {
  if (value.length === 0 || [...value].length >= MIN_SECRET_LENGTH) return undefined;
  return (
    `${key}: a secret needs at least ${MIN_SECRET_LENGTH} characters, since Pave masks every secret in the ` +
    `logs and journals it shows and a shorter one would mask ordinary words; ${otherwise}`
  );
}

/** Refuses, with a problem at `pathOf(key)` for each, the secrets among `secrets` that are too short. */
function refuseShortSecrets(
  secrets: Array<[string, { value: string; secret?: boolean | undefined }]>,
  pathOf: (key: string) => string,
): void {
  const problems = secrets.flatMap(([key, entry]) => {
    const otherwise =
      entry.secret === true
        ? 'if it is not a secret, set it without marking it secret'
        : 'if it is not a secret, unset it first, then set it again without marking it secret (or send "secret": false)';
    const message = shortSecretProblem(key, entry.value, otherwise);
    return message ? [{ path: pathOf(key), message }] : [];
  });
  if (problems.length === 0) return;
  throw new InputError(
    `${problems.length === 1 ? 'a secret value is' : `${problems.length} secret values are`} shorter than ` +
      `${MIN_SECRET_LENGTH} characters; nothing was changed`,
    problems,
  );
}

/**
 * Sets and unsets values at app level (`env` undefined: defaults for every environment) or for one
 * environment. Secrets are encrypted before anything is written. Every environment whose effective values
 * change gets a new version; the change is audited by key (never by value). Unsetting a key that is not set
 * at that level (for an environment: among its own overrides) is not an error, as with Heroku's config vars:
 * the answer names it in `notSet` (not for an import), and a change that removes and sets nothing records
 * nothing.
 */
export async function patchValues(
  store: Store,
  box: SecretBox,
  context: RequestContext,
  app: string,
  env: string | undefined,
  body: PatchValuesBody,
  reason = 'set',
): Promise<ValuesChanged> {
  if (env) await environmentRow(store.db, app, env);
  else await requireApp(store.db, app);
  const set = Object.entries(body.set ?? {});
  const unset = body.unset ?? [];
  const overlap = unset.filter((key) => key in (body.set ?? {}));
  if (overlap.length) {
    throw new InputError(
      'a key cannot be set and unset at once',
      overlap.map((key) => ({ path: `/unset`, message: `${key} is also set` })),
    );
  }
  // A change of nothing would still be audited and announced as one.
  if (reason === 'set' && set.length === 0 && unset.length === 0) {
    throw new InputError('nothing to change', [
      { path: '/', message: 'give at least one key in "set" or "unset"' },
    ]);
  }
  // Where a refusal points: a PATCH's keys, or the file an import read them from.
  const keysPath = reason === 'import' ? '/dotenv' : '/set';
  const where = env ? `${app}/${env}` : `app ${app}`;
  // Refused before encrypting anything: the keys set alone are too many.
  if (set.length > MAX_VALUE_KEYS) throw tooManyKeys(where, set.length, keysPath);
  const scope = env ? `env:${app}/${env}` : `app:${app}`;
  const secretAlready = await secretKeys(
    store.db,
    app,
    env,
    set.filter(([, entry]) => entry.secret === undefined).map(([key]) => key),
  );
  refuseShortSecrets(
    set.filter(([key, entry]) => entry.secret ?? secretAlready.has(key)),
    reason === 'import' ? () => keysPath : (key) => jsonPointer(['set', key, 'value']),
  );
  // Encrypt outside the transaction: the data key may need creating, through the store.
  const rows: Array<{ key: string; secret: number; value: string; fp: string | null }> = [];
  for (const [key, entry] of set) {
    const { value } = entry;
    // A secret stays one unless the request says `secret: false` (the portal and `pave values set` without
    // --secret say nothing): a new value of it is no less secret than the old.
    const secret = entry.secret ?? secretAlready.has(key);
    if (secret) {
      rows.push({ key, secret: 1, value: await box.encrypt(scope, value), fp: box.fingerprint(value) });
    } else {
      rows.push({ key, secret: 0, value, fp: null });
    }
  }
  const at = now();
  return store.transaction(async (tx) => {
    await lockAppValues(tx, app);
    // What app level held, to tell what changed there when no environment's effective values show it.
    const appLevelBefore = env ? null : await appLayerContent(tx, app);
    for (const row of rows) {
      const values = { ...row, updated_by: context.actor.username, updated_at: at };
      if (env) {
        await tx
          .insertInto('env_values')
          .values({ app_id: app, env_id: env, ...values })
          .onConflict((oc) => oc.columns(['app_id', 'env_id', 'key']).doUpdateSet(values))
          .execute();
      } else {
        await tx
          .insertInto('app_values')
          .values({ app_id: app, ...values })
          .onConflict((oc) => oc.columns(['app_id', 'key']).doUpdateSet(values))
          .execute();
      }
    }
    const removed: string[] = [];
    const notSet: string[] = [];
    for (const key of unset) {
      const deleted = env
        ? await tx
            .deleteFrom('env_values')
            .where('app_id', '=', app)
            .where('env_id', '=', env)
            .where('key', '=', key)
            .executeTakeFirst()
        : await tx
            .deleteFrom('app_values')
            .where('app_id', '=', app)
            .where('key', '=', key)
            .executeTakeFirst();
      (Number(deleted.numDeletedRows) > 0 ? removed : notSet).push(key);
    }
    // Unsetting keys that are not there is no change: answered (naming them), but not versioned or audited.
    if (notSet.length > 0 && rows.length === 0 && removed.length === 0) {
      return { changes: [], versions: [], notSet };
    }
    // Counted once written, under the app's lock: the transaction rolls back when there are too many.
    const count = await keysInScope(tx, app, env);
    if (count > MAX_VALUE_KEYS) throw tooManyKeys(where, count, keysPath);
    const changed = await recordVersions(
      tx,
      context,
      app,
      env ? [env] : await envsOf(tx, app),
      env ? reason : `app ${reason}`,
    );
    // An app without environments, or whose environments all override the keys: the change is app level's.
    if (appLevelBefore && changed.versions.length === 0) {
      changed.changes = valueChanges(appLevelBefore, await appLayerContent(tx, app));
    }
    await recordAudit(tx, context, {
      action: `values.${reason === 'import' ? 'import' : removed.length && !set.length ? 'unset' : 'set'}`,
      target: env ? `apps/${app}/envs/${env}/values` : `apps/${app}/values`,
      appId: app,
      summary: {
        set: rows.map((row) => ({ key: row.key, secret: row.secret === 1 })),
        unset: removed,
        versions: changed.versions,
      },
    });
    await recordValuesEvents(tx, context, app, env ? 'env' : 'app', changed);
    return reason === 'import' ? changed : { ...changed, notSet };
  });
}

/**
 * Records one values.changed event per environment that got a new version in `changed` (inside the
 * transaction that wrote the versions, after its audit entry): the names of the keys set and removed,
 * never their values.
 */
export async function recordValuesEvents(
  tx: Executor,
  context: RequestContext,
  app: string,
  scope: 'app' | 'env',
  changed: ValuesChanged,
): Promise<void> {
  for (const { envId, version } of changed.versions) {
    const row = await tx
      .selectFrom('env_value_versions')
      .select('changes')
      .where('app_id', '=', app)
      .where('env_id', '=', envId)
      .where('version', '=', version)
      .executeTakeFirstOrThrow();
    const changes = JSON.parse(row.changes) as ValueChange[];
    await recordEvent(tx, context, {
      type: 'values.changed',
      app,
      env: envId,
      data: {
        scope,
        version,
        set: changes.filter((c) => c.action !== 'removed').map((c) => c.key),
        unset: changes.filter((c) => c.action === 'removed').map((c) => c.key),
      },
    });
  }
}

/**
 * Imports a dotenv file; a malformed one is refused with every bad line named, and nothing is written. Keys are
 * secret as `body.secret` says, or else as they were (a new key is plain).
 */
export async function importValues(
  store: Store,
  box: SecretBox,
  context: RequestContext,
  app: string,
  env: string | undefined,
  body: ImportValuesBody,
): Promise<ValuesChanged> {
  const parsed = parseDotenv(body.dotenv, { quoteText: !body.secret });
  if (parsed.problems.length) {
    throw new InputError(
      `the dotenv file has ${parsed.problems.length} problem(s); nothing was imported`,
      parsed.problems.map((p) => ({
        path: `line ${p.line}`,
        message: p.message,
      })),
    );
  }
  // Without `secret`, as a PATCH without it: a key that is a secret stays one, a new key is plain.
  const set = Object.fromEntries(
    parsed.entries.map((e) => [
      e.key,
      body.secret === undefined ? { value: e.value } : { value: e.value, secret: body.secret },
    ]),
  );
  return patchValues(store, box, context, app, env, { set }, 'import');
}

/** Lists app-level values, or an environment's effective values; secrets masked unless `reveal` (audited). */
export async function listValues(
  store: Store,
  box: SecretBox,
  context: RequestContext,
  app: string,
  env: string | undefined,
  reveal: boolean,
): Promise<ValueList> {
  let content: ValuesContent;
  let version: number | null = null;
  if (env) {
    await environmentRow(store.db, app, env);
    version = await latestValuesVersion(store.db, app, env);
    content = version === null ? {} : await valuesContent(store.db, app, env, version);
  } else {
    await requireApp(store.db, app);
    const rows = await store.db.selectFrom('app_values').selectAll().where('app_id', '=', app).execute();
    content = Object.fromEntries(
      rows.map((row) => [
        row.key,
        {
          secret: Number(row.secret) === 1,
          value: row.value,
          source: 'app' as const,
          updatedBy: row.updated_by,
          updatedAt: row.updated_at,
        },
      ]),
    );
  }
  const items: ValueEntry[] = [];
  for (const key of Object.keys(content).sort()) {
    const entry = content[key]!;
    items.push({
      key,
      value: entry.secret ? (reveal ? await box.decrypt(entry.value) : null) : entry.value,
      secret: entry.secret,
      source: entry.source,
      updatedBy: entry.updatedBy,
      updatedAt: entry.updatedAt,
    });
  }
  if (reveal && items.some((item) => item.secret)) {
    await recordAudit(store.db, context, {
      action: 'values.reveal',
      target: env ? `apps/${app}/envs/${env}/values` : `apps/${app}/values`,
      appId: app,
      summary: { keys: items.filter((item) => item.secret).map((item) => item.key), version },
    });
  }
  return { version, items, revealed: reveal };
}

/**
 * Audits that `context` was shown an environment's secrets in plaintext other than by listing its values
 * (`pave render`: Kubernetes manifests hold them in Secret objects): a `values.reveal` entry at `target`
 * with the secret keys of the environment's newest values version, that version, and `how` (what was shown).
 */
export async function recordSecretsShown(
  db: Executor,
  context: RequestContext,
  app: string,
  env: string,
  target: string,
  how: Record<string, unknown>,
): Promise<void> {
  const version = await latestValuesVersion(db, app, env);
  const content = version === null ? {} : await valuesContent(db, app, env, version);
  const keys = Object.keys(content)
    .filter((key) => content[key]!.secret)
    .sort();
  await recordAudit(db, context, {
    action: 'values.reveal',
    target,
    appId: app,
    summary: { ...how, keys, version },
  });
}

/** How many versions a page of an environment's values history holds when the caller does not say. */
const DEFAULT_VERSION_PAGE = 100;

/**
 * One page of the versions of an environment's values, newest first (`limit`, default 100): those older than
 * `cursor` (a previous page's nextCursor, the number of its last version) when given.
 */
export async function valuesHistory(
  db: Executor,
  app: string,
  env: string,
  page: { limit?: number | undefined; cursor?: string | undefined } = {},
): Promise<ValuesVersionPage> {
  await environmentRow(db, app, env);
  const limit = page.limit ?? DEFAULT_VERSION_PAGE;
  // Keyset pagination on the primary key (app_id, env_id, version): a deep page costs what the first does.
  const rows = await db
    .selectFrom('env_value_versions')
    .select(['version', 'actor', 'created_at', 'reason', 'changes'])
    .where('app_id', '=', app)
    .where('env_id', '=', env)
    .$if(page.cursor !== undefined, (qb) => qb.where('version', '<', Number(page.cursor)))
    .orderBy('version', 'desc')
    .limit(limit + 1)
    .execute();
  const items: ValuesVersion[] = rows.slice(0, limit).map((row) => ({
    version: Number(row.version),
    actor: row.actor,
    createdAt: row.created_at,
    reason: row.reason,
    changes: JSON.parse(row.changes) as ValueChange[],
  }));
  const last = items.at(-1);
  return { items, nextCursor: rows.length > limit && last ? String(last.version) : null };
}

/**
 * Compares two versions of an environment's values (`to`: the newest unless given; `from`: the version
 * before `to` unless given; 0 is before any value): every key of either, sorted, with plain values shown and
 * secrets compared by fingerprint, never shown. NotFoundError for an environment or version that does not
 * exist.
 */
export async function valuesDiff(
  db: Executor,
  app: string,
  env: string,
  query: { from?: string | undefined; to?: string | undefined } = {},
): Promise<ValuesDiff> {
  await environmentRow(db, app, env);
  const to = query.to !== undefined ? Number(query.to) : ((await latestValuesVersion(db, app, env)) ?? 0);
  const from = query.from !== undefined ? Number(query.from) : Math.max(to - 1, 0);
  const contentAt = async (version: number, side: 'from' | 'to'): Promise<ValuesContent> =>
    version === 0 ? {} : valuesContent(db, app, env, version, `query.${side}`);
  const after = await contentAt(to, 'to');
  const before = await contentAt(from, 'from');
  return { from, to, keys: diffValuesContent(before, after) };
}

/**
 * Every key of two versions' contents, sorted, and how it differs from `from` to `to`: plain values shown,
 * secrets compared by fingerprint (a secret set and set back is unchanged) and never shown. A key that is a
 * secret on either side counts as a secret.
 */
export function diffValuesContent(from: ValuesContent, to: ValuesContent): ValueKeyDiff[] {
  const changed = new Map(valueChanges(from, to).map((change) => [change.key, change.action]));
  const keys = [...new Set([...Object.keys(from), ...Object.keys(to)])].sort();
  return keys.map((key): ValueKeyDiff => {
    const a = from[key];
    const b = to[key];
    const secret = Boolean(a?.secret || b?.secret);
    return {
      key,
      change: changed.get(key) ?? 'unchanged',
      secret,
      from: secret || !a ? null : a.value,
      to: secret || !b ? null : b.value,
    };
  });
}

/**
 * Makes an environment's effective values equal to an earlier version again, as a new version: the
 * environment's own layer is rewritten so that, over today's app-level values, it gives that version.
 */
export async function restoreValues(
  tx: Executor,
  context: RequestContext,
  app: string,
  env: string,
  version: number,
  reason: string,
): Promise<ValuesChanged> {
  const target = await valuesContent(tx, app, env, version);
  const appRows = await tx.selectFrom('app_values').selectAll().where('app_id', '=', app).execute();
  const appContent = new Map(appRows.map((row) => [row.key, row]));
  await tx.deleteFrom('env_values').where('app_id', '=', app).where('env_id', '=', env).execute();
  const at = now();
  for (const [key, entry] of Object.entries(target)) {
    const fromApp = appContent.get(key);
    if (fromApp && Number(fromApp.secret) === (entry.secret ? 1 : 0) && fromApp.value === entry.value)
      continue;
    await tx
      .insertInto('env_values')
      .values({
        app_id: app,
        env_id: env,
        key,
        secret: entry.secret ? 1 : 0,
        value: entry.value,
        fp: entry.fp ?? null,
        updated_by: context.actor.username,
        updated_at: at,
      })
      .execute();
  }
  for (const key of appContent.keys()) {
    if (!(key in target)) {
      await tx
        .insertInto('env_values')
        .values({
          app_id: app,
          env_id: env,
          key,
          secret: 0,
          value: null,
          updated_by: context.actor.username,
          updated_at: at,
        })
        .execute();
    }
  }
  return recordVersions(tx, context, app, [env], reason);
}

/** `pave values rollback`: restores an earlier version of an environment's values as a new version. */
export async function rollbackValues(
  store: Store,
  context: RequestContext,
  app: string,
  env: string,
  version: number,
): Promise<ValuesChanged> {
  await environmentRow(store.db, app, env);
  return store.transaction(async (tx) => {
    await lockAppValues(tx, app);
    const changed = await restoreValues(tx, context, app, env, version, `rollback to ${version}`);
    if (changed.versions.length === 0) {
      throw new ConflictError(`${app}/${env} already has the values of version ${version}`, [
        { path: '/version', message: 'nothing to roll back' },
      ]);
    }
    await recordAudit(tx, context, {
      action: 'values.rollback',
      target: `apps/${app}/envs/${env}/values`,
      appId: app,
      summary: { toVersion: version, versions: changed.versions, keys: changed.changes.map((c) => c.key) },
    });
    await recordValuesEvents(tx, context, app, 'env', changed);
    return changed;
  });
}
