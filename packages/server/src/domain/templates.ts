import { readFile, readdir, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import {
  SYSTEM_ACTORS,
  ConflictError,
  InputError,
  NotAllowedError,
  NotFoundError,
  Template,
  decide,
  describeGrant,
  durationMs,
  type AccessGrant,
  type Environment,
  type FieldProblem,
  type InstantiateTemplateBody,
  type RenderTemplateBody,
  type RenderedTemplate,
  type TemplateApplied,
  type TemplateInput,
  type TemplateInstance,
  type TemplateInstancePlan,
  type TemplateRecord,
  type TemplatePage,
  type TemplateSummary,
} from '@pave/core';
import { parse as parseYaml } from 'yaml';
import { isUniqueViolation, type Executor, type Store } from '../store/index.ts';
import type { SecretBox } from '../secrets/secret-box.ts';
import { decideFor } from './access.ts';
import { createApp, deleteApp } from './apps.ts';
import { recordAudit } from './audit.ts';
import { recordEvent } from './events.ts';
import { canonicalJson } from './canonical-json.ts';
import { now, systemContext, type RequestContext } from './context.ts';
import { DEFAULT_CONFIG_PAGE, type IdPageRequest } from './config-pages.ts';
import { createEnvironment } from './environments.ts';
import { patchValues, shortSecretProblem } from './values.ts';
import { forgetUserTokens } from './tokens.ts';
import type { Rendering } from './template-render.ts';
import { checkTemplateInWorker, renderInWorker } from './template-jobs.ts';
import { templateArchive } from './template-archive.ts';

/*
 * Templates (golden paths): stored in versions (applying changed content adds one, the same content adds
 * none), rendered from answers, and instantiated into an app with its environments and values through the
 * same domain functions the API's own routes use.
 */

function templateNotFound(id: string, version?: number): NotFoundError {
  return version === undefined
    ? new NotFoundError(`template "${id}" not found`, [
        { path: 'id', message: '`pave templates list` shows the templates and their latest versions' },
      ])
    : new NotFoundError(`template "${id}" has no version ${version}`, [
        { path: 'version', message: `\`pave templates get ${id}\` shows its latest version` },
      ]);
}

/**
 * Every problem of a template, at once, as JSON pointers into it: parameters that are not a valid JSON
 * Schema, files that do not render with sample answers (an undefined variable or a syntax error, with the
 * file, line and column), and a setup that does not add up (repeated ids or keys, `deploy` or `from` naming
 * no environment of the template). Parameters and files are checked in a worker thread (template-jobs.ts):
 * one that runs past its time or memory limit is the one problem of its kind, naming the file or parameter.
 */
export async function templateProblems(template: Template): Promise<FieldProblem[]> {
  const checked = await checkTemplateInWorker(template);
  const { parameterProblems, renderProblems } =
    'result' in checked
      ? checked.result
      : checked.stage === 'parameters'
        ? { parameterProblems: [checked.stopped], renderProblems: [] }
        : { parameterProblems: [], renderProblems: [checked.stopped] };
  const problems = [...parameterProblems];
  if (problems.length) return problems;
  problems.push(...renderProblems);
  const { setup } = template;
  const envIds = setup.environments.map((env) => env.id);
  setup.environments.forEach((env, index) => {
    if (envIds.indexOf(env.id) !== index) {
      problems.push({ path: `/setup/environments/${index}/id`, message: `"${env.id}" is listed twice` });
    }
    if (env.from !== undefined && (env.from === env.id || !envIds.includes(env.from))) {
      problems.push({
        path: `/setup/environments/${index}/from`,
        message: `must name another environment of the template (${envIds.join(', ')})`,
      });
    }
  });
  if (setup.deploy !== null && !envIds.includes(setup.deploy)) {
    problems.push({
      path: '/setup/deploy',
      message: `must name an environment of the template${envIds.length ? ` (${envIds.join(', ')})` : ''}, or be null`,
    });
  }
  const deployed = setup.environments.find((env) => env.id === setup.deploy);
  if (deployed?.from !== undefined) {
    problems.push({
      path: '/setup/deploy',
      message: `${deployed.id} is cloned from ${deployed.from}: deploy that one`,
    });
  }
  const keys = setup.values.map((value) => value.key);
  setup.values.forEach((value, index) => {
    if (keys.indexOf(value.key) !== index) {
      problems.push({ path: `/setup/values/${index}/key`, message: `"${value.key}" is listed twice` });
    }
  });
  return problems;
}

function toRecord(row: { content: string; version: number; created_at: string; created_by: string }) {
  const template = JSON.parse(row.content) as Template;
  return { ...template, version: row.version, createdAt: row.created_at, createdBy: row.created_by };
}

/**
 * Applies a template: validates it (InputError listing every problem; nothing is stored), then stores it as
 * version 1, or as the next version when its content differs from the latest; the same content stores
 * nothing (`unchanged`). Earlier versions stay. With `dryRun` it only validates; `builtIn` (the templates
 * Pave ships, seeded at start-up) skips rendering them with sample answers, which Pave's tests do.
 */
export async function applyTemplate(
  store: Store,
  context: RequestContext,
  input: TemplateInput,
  options: { dryRun?: boolean; pathId?: string; builtIn?: boolean } = {},
): Promise<TemplateApplied> {
  const template = Template.parse(input);
  if (options.pathId !== undefined && options.pathId !== template.id) {
    throw new InputError(`the body is template "${template.id}", the path names "${options.pathId}"`, [
      { path: '/id', message: `must be ${options.pathId}, as in the path` },
    ]);
  }
  const problems = options.builtIn ? [] : await templateProblems(template);
  if (problems.length) {
    throw new InputError(
      `template "${template.id}" cannot be applied: ${problems.length} problem(s)`,
      problems,
    );
  }
  const content = canonicalJson(template);
  return storeVersion(store, context, template, content, options.dryRun === true);
}

/** Stores `content` as the template's next version unless it is the latest's; ConflictError on a race. */
async function storeVersion(
  store: Store,
  context: RequestContext,
  template: Template,
  content: string,
  dryRun: boolean,
): Promise<TemplateApplied> {
  return store
    .transaction(async (tx): Promise<TemplateApplied> => {
      const latest = await latestRow(tx, template.id);
      if (latest && latest.content === content) {
        return { id: template.id, version: latest.version, action: 'unchanged', applied: !dryRun };
      }
      const version = (latest?.version ?? 0) + 1;
      const action = latest ? 'update' : 'create';
      if (dryRun) return { id: template.id, version, action, applied: false };
      await tx
        .insertInto('templates')
        .values({ id: template.id, version, content, created_at: now(), created_by: context.actor.username })
        .execute();
      await recordAudit(tx, context, {
        action: `template.${action}`,
        target: `templates/${template.id}`,
        summary: { id: template.id, version, files: template.files.length },
      });
      await recordEvent(tx, context, {
        type: 'template.changed',
        app: null,
        data: { template: template.id, version, change: action === 'create' ? 'created' : 'updated' },
      });
      return { id: template.id, version, action, applied: true };
    })
    .catch((error: unknown) => {
      if (!isUniqueViolation(error)) throw error;
      throw new ConflictError(`template "${template.id}" was applied by someone else at the same moment`, [
        { path: '/id', message: 'apply it again: it becomes the next version if it still differs' },
      ]);
    });
}

async function latestRow(db: Executor, id: string) {
  return db
    .selectFrom('templates')
    .selectAll()
    .where('id', '=', id)
    .orderBy('version', 'desc')
    .limit(1)
    .executeTakeFirst();
}

/** One page of the templates at their latest versions, ordered by id, without files. */
export async function listTemplates(db: Executor, page: IdPageRequest = {}): Promise<TemplatePage> {
  const limit = page.limit ?? DEFAULT_CONFIG_PAGE;
  // Keyset pagination on the primary key (id, version): each id's latest version only.
  const rows = await db
    .selectFrom('templates')
    .selectAll()
    .where('version', '=', (eb) =>
      eb
        .selectFrom('templates as newer')
        .select((newer) => newer.fn.max('newer.version').as('version'))
        .whereRef('newer.id', '=', 'templates.id'),
    )
    .$if(page.cursor !== undefined, (qb) => qb.where('id', '>', page.cursor!))
    .orderBy('id')
    .limit(limit + 1)
    .execute();
  const items = rows.slice(0, limit).map((row): TemplateSummary => {
    const record = toRecord(row);
    return {
      id: record.id,
      title: record.title,
      ...(record.description !== undefined ? { description: record.description } : {}),
      tags: record.tags,
      version: record.version,
      parameters: record.parameters,
      createdAt: record.createdAt,
      createdBy: record.createdBy,
    };
  });
  return { items, nextCursor: rows.length > limit ? (items.at(-1)?.id ?? null) : null };
}

/** A template at `version` (default: the latest); NotFoundError if there is no such template or version. */
export async function getTemplate(db: Executor, id: string, version?: number): Promise<TemplateRecord> {
  const row =
    version === undefined
      ? await latestRow(db, id)
      : await db
          .selectFrom('templates')
          .selectAll()
          .where('id', '=', id)
          .where('version', '=', version)
          .executeTakeFirst();
  if (!row) {
    if (version !== undefined && (await latestRow(db, id))) throw templateNotFound(id, version);
    throw templateNotFound(id);
  }
  return toRecord(row);
}

/** Deletes a template with every version; NotFoundError if there is none. */
export async function deleteTemplate(store: Store, context: RequestContext, id: string): Promise<void> {
  await store.transaction(async (tx) => {
    const latest = await latestRow(tx, id);
    if (!latest) throw templateNotFound(id);
    await tx.deleteFrom('templates').where('id', '=', id).execute();
    await recordAudit(tx, context, {
      action: 'template.delete',
      target: `templates/${id}`,
      summary: { id, versions: latest.version },
    });
    await recordEvent(tx, context, {
      type: 'template.changed',
      app: null,
      data: { template: id, version: Number(latest.version), change: 'deleted' },
    });
  });
}

async function renderChecked(
  record: TemplateRecord,
  given: Record<string, unknown>,
): Promise<Rendering & { answers: Record<string, unknown> }> {
  const template = Template.parse(templateOf(record));
  const outcome = await renderInWorker(template, given);
  const answersDoNotFit = (problems: FieldProblem[]) =>
    new InputError(
      `the answers do not fit template ${record.id} version ${record.version}: ${problems.length} problem(s)`,
      problems,
    );
  const doesNotRender = (problems: FieldProblem[]) =>
    new InputError(
      `template ${record.id} version ${record.version} does not render with these answers`,
      problems,
    );
  if (!('result' in outcome)) {
    throw outcome.stage === 'render' ? doesNotRender([outcome.stopped]) : answersDoNotFit([outcome.stopped]);
  }
  const { answers, answerProblems, rendering } = outcome.result;
  if (answerProblems.length || !rendering) throw answersDoNotFit(answerProblems);
  if (rendering.problems.length) throw doesNotRender(rendering.problems);
  return { ...rendering, answers };
}

function templateOf(record: TemplateRecord): Template {
  const { version: _v, createdAt: _c, createdBy: _b, ...template } = record;
  return template;
}

/**
 * Checks answers against a template's parameters and renders its files and setup; creates nothing.
 * InputError naming each parameter and the rule it breaks (`/answers/port`: `port: must be integer (type)`).
 */
export async function renderTemplate(
  db: Executor,
  id: string,
  version: number | undefined,
  body: RenderTemplateBody,
): Promise<RenderedTemplate> {
  const record = await getTemplate(db, id, version);
  const { files, setup, answers } = await renderChecked(record, body.answers ?? {});
  return { id, version: record.version, answers, files, setup };
}

/**
 * Instantiates a template: renders it (as {@link renderTemplate}), then creates the app (the caller becomes
 * its owner), its environments (except those cloned `from` another, which need that one deployed first:
 * they are answered as pending) and its app-level values (secret ones from `secrets`), each through the
 * domain function its own route uses, so each is audited as usual; then audits `template.instantiate`.
 * Everything is checked first (the app id is free, the environment types exist and the caller may create
 * them, every secret is given); if creating fails half-way, the new app is deleted again. With `dryRun` it
 * stops after those checks, creating and auditing nothing, and answers what it would create: `pave init`
 * asks so before it writes a file.
 */
export async function instantiateTemplate(
  store: Store,
  box: SecretBox | undefined,
  context: RequestContext,
  id: string,
  version: number | undefined,
  body: InstantiateTemplateBody,
  options: { dryRun?: boolean } = {},
): Promise<TemplateInstance | TemplateInstancePlan> {
  const record = await getTemplate(store.db, id, version);
  const { files, setup } = await renderChecked(record, body.answers ?? {});
  const secrets = body.secrets ?? {};
  const problems: FieldProblem[] = [];
  for (const value of setup.values.filter((v) => v.secret)) {
    const given = secrets[value.key];
    const short = given && shortSecretProblem(value.key, given, 'give a longer one');
    if (!given || short) {
      problems.push({
        path: `/secrets/${value.key}`,
        message: short || `${value.key}: is required (a secret value of the template)`,
      });
    }
  }
  for (const key of Object.keys(secrets)) {
    if (!setup.values.some((v) => v.secret && v.key === key)) {
      problems.push({ path: `/secrets/${key}`, message: `${key}: is not a secret value of this template` });
    }
  }
  if (problems.length) throw new InputError('the secrets do not fit the template', problems);
  if (setup.values.length && !box) {
    throw new InputError('this server keeps no values (it has no master key); the template sets some');
  }
  await checkSetupAllowed(store.db, context, setup.app, setup.environments);
  const template = { id, version: record.version };
  const pendingEnvironments = setup.environments.filter((env) => env.from !== undefined);
  const values = setup.values.map((value) => ({ key: value.key, secret: value.secret }));
  if (options.dryRun) {
    return {
      template,
      app: setup.app,
      environments: setup.environments.filter((env) => env.from === undefined),
      pendingEnvironments,
      values,
      setup: { ...setup },
      files: files.map((file) => file.path),
    };
  }

  const app = await createApp(store, context, { id: setup.app });
  // The caller now owns the app: their next request (a deployment, say) must not meet their cached roles.
  forgetUserTokens(context.actor.userId);
  const environments: Environment[] = [];
  try {
    for (const env of setup.environments.filter((e) => e.from === undefined)) {
      environments.push(
        await createEnvironment(store, context, app.id, {
          id: env.id,
          type: env.type,
          ...(env.ttl !== undefined ? { ttlSeconds: durationMs(env.ttl) / 1000 } : {}),
        }),
      );
    }
    if (setup.values.length && box) {
      const set = Object.fromEntries(
        setup.values.map((value) => [
          value.key,
          { value: value.secret ? secrets[value.key]! : (value.value ?? ''), secret: value.secret },
        ]),
      );
      await patchValues(store, box, context, app.id, undefined, { set });
    }
    await store.transaction((tx) =>
      recordAudit(tx, context, {
        action: 'template.instantiate',
        target: `templates/${id}`,
        appId: app.id,
        summary: { id, version: record.version, app: app.id, environments: environments.map((e) => e.id) },
      }),
    );
  } catch (error) {
    await deleteApp(store, context, app.id, { force: true }).catch(() => undefined);
    throw error;
  }
  const archive = await templateArchive(files, app.id);
  return {
    template,
    app,
    environments,
    pendingEnvironments,
    values,
    setup: { ...setup },
    files: files.map((file) => file.path),
    archive: archive.toString('base64'),
  };
}

/**
 * Refuses, before anything is created, what instantiation would fail at half-way: an app id that is taken,
 * an environment type that does not exist, and restricted types the caller may not create environments of
 * (decided as if the caller already owned the new app, as they will; the refusal says they would).
 */
async function checkSetupAllowed(
  db: Executor,
  context: RequestContext,
  app: string,
  environments: ReadonlyArray<{ id: string; type: string }>,
): Promise<void> {
  if (await db.selectFrom('apps').select('id').where('id', '=', app).executeTakeFirst()) {
    throw new ConflictError(`app "${app}" already exists`, [
      {
        path: '/answers',
        message: 'the template names its app after the answers (e.g. name); choose another',
      },
    ]);
  }
  const known = new Map(
    (await db.selectFrom('env_types').select(['id', 'restricted']).execute()).map((row) => [
      row.id,
      Number(row.restricted) === 1,
    ]),
  );
  const owner: AccessGrant = { role: 'owner', scope: { kind: 'app', id: app }, via: 'user' };
  const asOwner = { ...context.actor, grants: [...context.actor.grants, owner] };
  for (const type of new Set(environments.map((env) => env.type))) {
    const restricted = known.get(type);
    if (restricted === undefined) {
      throw new InputError(`environment type "${type}" does not exist`, [
        {
          path: '/setup/environments',
          message: `must be one of: ${[...known.keys()].sort().join(', ')}; an admin adds types with \`pave env-types create\``,
        },
      ]);
    }
    const target = { app, envType: type, restricted };
    const decision = decideFor(asOwner, 'env.create', target);
    if (decision.allowed) continue;
    // The app does not exist yet: the owner grant the decision names is one the caller would hold.
    const held = describeGrant(owner);
    const reason = decision.reason.replace(held, `${held}, which you would hold as its creator`);
    const ids = environments.filter((env) => env.type === type).map((env) => env.id);
    // Only a deployer grant is missing unless the caller's token is what limits them.
    const fix = decide(asOwner.grants, 'env.create', target).allowed
      ? ''
      : `: ask an admin for deployer on environment type ${type} ` +
        `(\`pave roles grant deployer --user ${context.actor.username} --env-type ${type}\`)`;
    throw new NotAllowedError(`you may not do this: ${reason}`, [
      {
        path: `/setup/environments/${environments.findIndex((env) => env.type === type)}/type`,
        message: `the template creates ${ids.join(', ')} of type ${type}${fix}`,
      },
    ]);
  }
}

/**
 * Reads a template directory: `template.yaml` plus every file under `files/` (UTF-8 text as `content`,
 * anything else as base64 `binaryContent`; executable when its owner may run it), appended to the files
 * `template.yaml` lists inline.
 */
export async function readTemplateDirectory(dir: string): Promise<TemplateInput> {
  const spec = parseYaml(await readFile(join(dir, 'template.yaml'), 'utf8')) as TemplateInput;
  const root = join(dir, 'files');
  const names = await readdir(root, { recursive: true, withFileTypes: true }).catch(() => []);
  const files = [...(spec.files ?? [])];
  for (const entry of names
    .filter((e) => e.isFile())
    .sort((a, b) => pathOf(root, a).localeCompare(pathOf(root, b)))) {
    const path = join(entry.parentPath, entry.name);
    const bytes = await readFile(path);
    const text = utf8(bytes);
    files.push({
      path: pathOf(root, entry),
      ...(text !== undefined ? { content: text } : { binaryContent: bytes.toString('base64') }),
      ...((await stat(path)).mode & 0o100 ? { executable: true } : {}),
    });
  }
  return { ...spec, files };
}

function pathOf(root: string, entry: { parentPath: string; name: string }): string {
  return relative(root, join(entry.parentPath, entry.name)).split(sep).join('/');
}

function utf8(bytes: Uint8Array): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return undefined;
  }
}

/**
 * Seeds the built-in templates shipped in `dir` (one sub-directory each): a template that is not stored yet
 * is stored as version 1 by `system`; one that exists (at any version, or changed by someone) is left alone.
 * Resolves with the ids seeded. A directory that is missing seeds nothing.
 */
export async function seedBuiltInTemplates(store: Store, dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const seeded: string[] = [];
  const context = systemContext(SYSTEM_ACTORS.system, 'seed-templates');
  for (const entry of entries.filter((e) => e.isDirectory()).sort((a, b) => a.name.localeCompare(b.name))) {
    const input = await readTemplateDirectory(join(dir, entry.name));
    if (await latestRow(store.db, input.id)) continue;
    try {
      // Built-in templates are checked by Pave's tests, not again at every first start.
      await applyTemplate(store, context, input, { builtIn: true });
    } catch (error) {
      // Another replica seeded it at the same moment.
      if ((error as Error).name === 'ConflictError') continue;
      throw error;
    }
    seeded.push(input.id);
  }
  return seeded;
}
