/*
 * The Backstage catalog of what Pave runs (docs/backstage.md): a pure mapping from a snapshot of the store
 * (apps, their owners, the workloads of each environment's current set, provisioned resources, teams and
 * users) to Backstage entities, and the query that reads that snapshot for one page of one caller. Entities never carry
 * a secret: resources are read without their outputs.
 */
import { createHash } from 'node:crypto';
import {
  CATALOG_ANNOTATIONS,
  CATALOG_API_VERSION,
  CATALOG_KINDS,
  CATALOG_PAGE_DEFAULT,
  CATALOG_SECTIONS,
  InputError,
  catalogCursor,
  parseCatalogCursor,
  type CatalogEntity,
  type CatalogPosition,
  type CatalogSection,
} from '@pave/core';
import type { Executor } from '../store/index.ts';
import { appsActorSees, decideFor } from './access.ts';
import type { Actor } from './context.ts';
import { loadSet } from './deployments/sets.ts';
import { resourceAddress } from './resources/graph.ts';

/** Backstage's longest entity name. */
const NAME_MAX = 63;
/** How many hex digits of a hash end a name that had to be shortened. */
const NAME_HASH_DIGITS = 8;

/**
 * A Backstage entity name made of Pave ids joined with dots: `shop`, `shop.api`, `shop.dev.api.db`. App,
 * environment, workload, team and user ids are DNS labels (no dots), so the dots keep names of different
 * things apart (`a-b.c` is never `a.b-c`). A name longer than Backstage's 63 characters is cut to 54 and
 * ends with `-` and 8 hex digits of the SHA-256 of the whole name: stable, and still unique.
 */
export function catalogEntityName(...parts: string[]): string {
  const name = parts.join('.');
  if (name.length <= NAME_MAX) return name;
  const hash = createHash('sha256').update(name).digest('hex').slice(0, NAME_HASH_DIGITS);
  const kept = name.slice(0, NAME_MAX - NAME_HASH_DIGITS - 1).replace(/[-_.]+$/, '');
  return `${kept}-${hash}`;
}

/** One environment of an app, with the workloads of its current deployment set. */
export interface CatalogEnvironment {
  id: string;
  /** Its type is restricted (production by default): its workloads are in production. */
  restricted: boolean;
  /** The workloads it runs: for each, the addresses of the resources it declares. */
  workloads: Record<string, string[]>;
}

/** A provisioned resource: what it is, never its outputs. */
export interface CatalogResource {
  env: string;
  address: string;
  type: string;
  class: string;
}

/** An app as the catalog sees it. */
export interface CatalogApp {
  id: string;
  name: string;
  createdBy: string;
  /** Teams granted `owner` on the app, sorted. */
  ownerTeams: string[];
  /** Users granted `owner` on the app directly, sorted. */
  ownerUsers: string[];
  environments: CatalogEnvironment[];
  resources: CatalogResource[];
}

/** What a page of the catalog describes: the caller's apps, and (when it may list them) teams and users. */
export interface CatalogSnapshot {
  apps: CatalogApp[];
  /** Teams with their members' usernames; empty when the caller may not list users. */
  teams: Array<{ id: string; members: string[] }>;
  /** Users with their teams; empty when the caller may not list users. */
  users: Array<{ username: string; kind: 'user' | 'service'; teams: string[] }>;
}

/**
 * The entities of a snapshot (a page), in CATALOG_KINDS order, then by name. `portalUrl` is the portal's base URL
 * (no trailing slash): entity links point at its app and environment pages.
 */
export function catalogEntities(snapshot: CatalogSnapshot, portalUrl: string): CatalogEntity[] {
  const entities: CatalogEntity[] = [];
  const appPage = (app: string) => ({ url: `${portalUrl}/#/apps/${app}`, title: `${app} in Pave` });
  const envPage = (app: string, env: string) => ({
    url: `${portalUrl}/#/apps/${app}/envs/${env}`,
    title: `${app}/${env} in Pave`,
  });
  for (const app of snapshot.apps) {
    const owner = ownerOf(app);
    const system = `system:default/${catalogEntityName(app.id)}`;
    entities.push({
      apiVersion: CATALOG_API_VERSION,
      kind: 'System',
      metadata: {
        name: catalogEntityName(app.id),
        namespace: 'default',
        title: app.name,
        description: `The Pave app ${app.id}.`,
        annotations: { [CATALOG_ANNOTATIONS.app]: app.id },
        links: [appPage(app.id)],
      },
      spec: { owner },
    });
    const provisioned = new Set(app.resources.map((r) => `${r.env}/${r.address}`));
    const resourceRef = (env: string, address: string) =>
      `resource:default/${catalogEntityName(app.id, env, address)}`;
    for (const workload of workloadsOf(app)) {
      const runsIn = app.environments.filter((env) => env.workloads[workload] !== undefined);
      const dependsOn = runsIn.flatMap((env) =>
        (env.workloads[workload] ?? [])
          .filter((address) => provisioned.has(`${env.id}/${address}`))
          .map((address) => resourceRef(env.id, address)),
      );
      entities.push({
        apiVersion: CATALOG_API_VERSION,
        kind: 'Component',
        metadata: {
          name: catalogEntityName(app.id, workload),
          namespace: 'default',
          title: `${app.id} ${workload}`,
          description: `Workload ${workload} of ${app.id}, running in ${runsIn.map((env) => env.id).join(', ')}.`,
          annotations: { [CATALOG_ANNOTATIONS.app]: app.id, [CATALOG_ANNOTATIONS.workload]: workload },
          links: [appPage(app.id), ...runsIn.map((env) => envPage(app.id, env.id))],
        },
        spec: {
          type: 'service',
          lifecycle: runsIn.some((env) => env.restricted) ? 'production' : 'experimental',
          owner,
          system,
          dependsOn: [...new Set(dependsOn)].sort(),
        },
      });
    }
    for (const resource of app.resources) {
      entities.push({
        apiVersion: CATALOG_API_VERSION,
        kind: 'Resource',
        metadata: {
          name: catalogEntityName(app.id, resource.env, resource.address),
          namespace: 'default',
          title: `${app.id}/${resource.env} ${resource.address}`,
          description: `The ${resource.type} resource ${resource.address} of ${app.id}/${resource.env}.`,
          annotations: {
            [CATALOG_ANNOTATIONS.app]: app.id,
            [CATALOG_ANNOTATIONS.env]: resource.env,
            [CATALOG_ANNOTATIONS.resourceAddress]: resource.address,
            [CATALOG_ANNOTATIONS.resourceClass]: resource.class,
          },
          links: [envPage(app.id, resource.env)],
        },
        spec: { type: resource.type, owner, system },
      });
    }
  }
  for (const team of snapshot.teams) {
    entities.push({
      apiVersion: CATALOG_API_VERSION,
      kind: 'Group',
      metadata: { name: catalogEntityName(team.id), namespace: 'default', annotations: {} },
      spec: {
        type: 'team',
        children: [],
        members: team.members.map((username) => `user:default/${catalogEntityName(username)}`),
      },
    });
  }
  for (const user of snapshot.users) {
    entities.push({
      apiVersion: CATALOG_API_VERSION,
      kind: 'User',
      metadata: {
        name: catalogEntityName(user.username),
        namespace: 'default',
        annotations: { [CATALOG_ANNOTATIONS.userKind]: user.kind },
      },
      spec: { memberOf: user.teams.map((team) => `group:default/${catalogEntityName(team)}`) },
    });
  }
  const kindOrder = (entity: CatalogEntity) => CATALOG_KINDS.indexOf(entity.kind);
  return entities.sort(
    (a, b) => kindOrder(a) - kindOrder(b) || a.metadata.name.localeCompare(b.metadata.name, 'en'),
  );
}

/**
 * Backstage has one owner per entity: the first team granted `owner` on the app, else the first user
 * granted it directly, else the user who created the app.
 */
function ownerOf(app: CatalogApp): string {
  const team = app.ownerTeams[0];
  if (team) return `group:default/${catalogEntityName(team)}`;
  return `user:default/${catalogEntityName(app.ownerUsers[0] ?? app.createdBy)}`;
}

/** The workloads an app runs in any environment, sorted. */
function workloadsOf(app: CatalogApp): string[] {
  return [...new Set(app.environments.flatMap((env) => Object.keys(env.workloads)))].sort();
}

/** A page of the catalog for one caller: what its entities describe, and the `nextCursor` of the page. */
export interface CatalogPage {
  snapshot: CatalogSnapshot;
  nextCursor: string | null;
}

type AppRow = { id: string; name: string; created_by: string };
type UserRow = { id: string; username: string; kind: string };

/**
 * One page of what `actor` may see of the catalog, walked in CATALOG_SECTIONS order: the apps it may read
 * (by id), then, only when it holds user.read (as `pave users list` needs), teams (by id) and users (by
 * username). A page holds up to `limit` apps, teams and users in all (CATALOG_PAGE_DEFAULT unless given),
 * and continues into the next section when one runs out, so an app's entities never split across pages.
 * `cursor` is the `nextCursor` of the previous page; an InputError when it is not one.
 */
export async function catalogPage(
  db: Executor,
  actor: Actor,
  page: { limit?: number | undefined; cursor?: string | undefined } = {},
): Promise<CatalogPage> {
  const limit = page.limit ?? CATALOG_PAGE_DEFAULT;
  const start = page.cursor === undefined ? undefined : parseCatalogCursor(page.cursor);
  if (page.cursor !== undefined && !start) {
    throw new InputError('the catalog cursor is not valid', [
      { path: 'query.cursor', message: 'must be the nextCursor value of a previous page' },
    ]);
  }
  const sections: readonly CatalogSection[] = decideFor(actor, 'user.read').allowed
    ? CATALOG_SECTIONS
    : ['apps'];
  // Every app role gives app.read, env.read and resource.read: the apps the caller sees are the ones it
  // may read, and the query keeps only those, so a page is never short.
  const visible = appsActorSees(actor);
  const taken: { apps: AppRow[]; teams: string[]; users: UserRow[] } = { apps: [], teams: [], users: [] };
  let budget = limit;
  let last: CatalogPosition | undefined;
  let more = false;
  for (const section of sections) {
    if (start && CATALOG_SECTIONS.indexOf(section) < CATALOG_SECTIONS.indexOf(start.section)) continue;
    const after = start?.section === section ? start.key : undefined;
    // Keyset pagination on each section's unique key, one row more than fits to know whether the list goes on.
    let keys: string[];
    if (section === 'apps') {
      const rows =
        visible !== 'all' && visible.length === 0
          ? []
          : await db
              .selectFrom('apps')
              .select(['id', 'name', 'created_by'])
              .$if(visible !== 'all', (qb) => qb.where('id', 'in', visible as string[]))
              .$if(after !== undefined, (qb) => qb.where('id', '>', after!))
              .orderBy('id')
              .limit(budget + 1)
              .execute();
      taken.apps = rows.slice(0, budget);
      keys = rows.map((row) => row.id);
    } else if (section === 'teams') {
      const rows = await db
        .selectFrom('teams')
        .select('id')
        .$if(after !== undefined, (qb) => qb.where('id', '>', after!))
        .orderBy('id')
        .limit(budget + 1)
        .execute();
      taken.teams = rows.slice(0, budget).map((row) => row.id);
      keys = rows.map((row) => row.id);
    } else {
      const rows = await db
        .selectFrom('users')
        .select(['id', 'username', 'kind'])
        .$if(after !== undefined, (qb) => qb.where('username', '>', after!))
        .orderBy('username')
        .limit(budget + 1)
        .execute();
      taken.users = rows.slice(0, budget);
      keys = rows.map((row) => row.username);
    }
    const kept = keys.slice(0, budget);
    if (kept.length) last = { section, key: kept.at(-1)! };
    budget -= kept.length;
    if (keys.length > kept.length) {
      more = true;
      break;
    }
  }
  return {
    snapshot: {
      apps: await describeApps(db, taken.apps),
      teams: await describeTeams(db, taken.teams),
      users: await describeUsers(db, taken.users),
    },
    nextCursor: more && last ? catalogCursor(last) : null,
  };
}

/** The apps of `rows` as the catalog sees them: owners, environments with their workloads, resources. */
async function describeApps(db: Executor, rows: readonly AppRow[]): Promise<CatalogApp[]> {
  const ids = rows.map((row) => row.id);
  const apps = new Map<string, CatalogApp>(
    rows.map((row) => [
      row.id,
      {
        id: row.id,
        name: row.name,
        createdBy: row.created_by,
        ownerTeams: [],
        ownerUsers: [],
        environments: [],
        resources: [],
      },
    ]),
  );
  if (!ids.length) return [];
  const owners = await db
    .selectFrom('role_grants')
    .leftJoin('users', (join) =>
      join.onRef('users.id', '=', 'role_grants.subject_id').on('role_grants.subject_kind', '=', 'user'),
    )
    .select([
      'role_grants.scope_id as app',
      'role_grants.subject_kind as kind',
      'role_grants.subject_id as id',
    ])
    .select('users.username as username')
    .where('role_grants.role', '=', 'owner')
    .where('role_grants.scope_kind', '=', 'app')
    .where('role_grants.scope_id', 'in', ids)
    .execute();
  for (const owner of owners) {
    const app = apps.get(owner.app)!;
    if (owner.kind === 'team') app.ownerTeams.push(owner.id);
    else if (owner.username) app.ownerUsers.push(owner.username);
  }
  for (const app of apps.values()) {
    app.ownerTeams.sort();
    app.ownerUsers.sort();
  }
  const environments = await db
    .selectFrom('environments')
    .innerJoin('env_types', 'env_types.id', 'environments.type')
    .select([
      'environments.app_id as app',
      'environments.id as id',
      'environments.current_set_id as setId',
      'env_types.restricted as restricted',
    ])
    .where('environments.app_id', 'in', ids)
    .orderBy('environments.app_id')
    .orderBy('environments.id')
    .execute();
  // Environments that were cloned or promoted share sets: each is read once.
  const sets = new Map<string, Awaited<ReturnType<typeof loadSet>>>();
  for (const env of environments) {
    const workloads: Record<string, string[]> = {};
    if (env.setId) {
      const set = sets.get(env.setId) ?? (await loadSet(db, env.setId));
      sets.set(env.setId, set);
      for (const [name, source] of Object.entries(set.workloads)) {
        workloads[name] = Object.entries(source.spec.resources ?? {}).map(([resource, declared]) =>
          resourceAddress(name, resource, declared),
        );
      }
    }
    apps.get(env.app)!.environments.push({
      id: env.id,
      restricted: Number(env.restricted) === 1,
      workloads,
    });
  }
  // Only what a resource is: its outputs (values and sealed secrets) are never read here.
  const resources = await db
    .selectFrom('resources')
    .select(['app_id', 'env_id', 'address', 'type', 'class'])
    .where('app_id', 'in', ids)
    .orderBy('app_id')
    .orderBy('env_id')
    .orderBy('address')
    .execute();
  for (const row of resources) {
    apps.get(row.app_id)!.resources.push({
      env: row.env_id,
      address: row.address,
      type: row.type,
      class: row.class,
    });
  }
  return [...apps.values()];
}

/** The teams `ids` with their members' usernames, sorted. */
async function describeTeams(db: Executor, ids: readonly string[]): Promise<CatalogSnapshot['teams']> {
  if (!ids.length) return [];
  // The members of this page's teams only (team_members' primary key starts with team_id).
  const members = await db
    .selectFrom('team_members')
    .innerJoin('users', 'users.id', 'team_members.user_id')
    .select(['team_members.team_id as team', 'users.username as username'])
    .where('team_members.team_id', 'in', ids)
    .execute();
  return ids.map((id) => ({
    id,
    members: members
      .filter((member) => member.team === id)
      .map((member) => member.username)
      .sort(),
  }));
}

/** The users of `rows` with their teams, sorted. */
async function describeUsers(db: Executor, rows: readonly UserRow[]): Promise<CatalogSnapshot['users']> {
  if (!rows.length) return [];
  // The memberships of this page's users only (index team_members_user).
  const memberships = await db
    .selectFrom('team_members')
    .select(['user_id', 'team_id'])
    .where(
      'user_id',
      'in',
      rows.map((row) => row.id),
    )
    .orderBy('team_id')
    .execute();
  return rows.map((user) => ({
    username: user.username,
    kind: user.kind === 'service' ? 'service' : 'user',
    teams: memberships.filter((member) => member.user_id === user.id).map((member) => member.team_id),
  }));
}
