import { z } from 'zod';
import { DNS_LABEL_PATTERN } from './ids.ts';
import { decodeCursor, encodeCursor, pageLimit, pageOf } from './paging.ts';

/*
 * Pave as a Backstage software catalog: `GET /catalog/entities` describes the apps a caller may read as
 * Backstage entities (`backstage.io/v1alpha1`): a System per app, a Component per workload, a Resource per
 * provisioned resource, and (for callers who may list users) a Group per team and a User per user. None
 * carries a secret: resources are named by type and address, never by their outputs. docs/backstage.md
 * describes the mapping and the naming scheme.
 */

/** The `apiVersion` of every entity Pave describes. */
export const CATALOG_API_VERSION = 'backstage.io/v1alpha1';

/** The entity kinds Pave describes, in the order a page of `GET /catalog/entities` lists them. */
export const CATALOG_KINDS = ['System', 'Component', 'Resource', 'Group', 'User'] as const;
export type CatalogKind = (typeof CATALOG_KINDS)[number];

/** The annotations Pave sets: which app and environment an entity belongs to, and what in Pave it is. */
export const CATALOG_ANNOTATIONS = {
  app: 'pave.dev/app',
  env: 'pave.dev/env',
  workload: 'pave.dev/workload',
  resourceAddress: 'pave.dev/resource-address',
  resourceClass: 'pave.dev/resource-class',
  userKind: 'pave.dev/user-kind',
} as const;

const entityRef = z
  .string()
  .describe('A full entity reference, `<kind>:<namespace>/<name>`, e.g. `group:default/web`.');

const EntityLink = z.object({
  url: z.string().describe('A page of the Pave portal.'),
  title: z.string(),
});

const EntityMetadata = z.object({
  name: z
    .string()
    .describe(
      'Unique within its kind: letters, digits and `-_.`, at most 63 characters (see docs/backstage.md).',
    ),
  namespace: z.literal('default'),
  title: z.string().optional(),
  description: z.string().optional(),
  annotations: z.record(z.string(), z.string()),
  links: z.array(EntityLink).optional(),
});

const envelope = { apiVersion: z.literal(CATALOG_API_VERSION), metadata: EntityMetadata };

/** An app. */
const SystemEntity = z.object({
  ...envelope,
  kind: z.literal('System'),
  spec: z.object({ owner: entityRef }),
});

/** A workload of an app, in whichever of its environments it runs. */
const ComponentEntity = z.object({
  ...envelope,
  kind: z.literal('Component'),
  spec: z.object({
    type: z.literal('service'),
    lifecycle: z
      .enum(['production', 'experimental'])
      .describe('`production` when it runs in an environment of a restricted type, else `experimental`.'),
    owner: entityRef,
    system: entityRef,
    dependsOn: z.array(entityRef).describe('The resources it uses, in every environment it runs in.'),
  }),
});

/** A resource provisioned for one environment of an app. */
const ResourceEntity = z.object({
  ...envelope,
  kind: z.literal('Resource'),
  spec: z.object({
    type: z.string().describe('The resource type, e.g. `postgres`.'),
    owner: entityRef,
    system: entityRef,
  }),
});

/** A team. */
const GroupEntity = z.object({
  ...envelope,
  kind: z.literal('Group'),
  spec: z.object({
    type: z.literal('team'),
    children: z.array(entityRef),
    members: z.array(entityRef),
  }),
});

/** A user or service account. */
const UserEntity = z.object({
  ...envelope,
  kind: z.literal('User'),
  spec: z.object({ memberOf: z.array(entityRef) }),
});

/** One Backstage catalog entity. */
export const CatalogEntity = z
  .discriminatedUnion('kind', [SystemEntity, ComponentEntity, ResourceEntity, GroupEntity, UserEntity])
  .meta({ id: 'CatalogEntity' });
export type CatalogEntity = z.infer<typeof CatalogEntity>;

/** How many apps, teams or users a page of `GET /catalog/entities` covers unless `limit` says. */
export const CATALOG_PAGE_DEFAULT = 100;

/**
 * The sections `GET /catalog/entities` walks, in this order: apps (by id), then teams (by id), then users
 * (by username). Teams and users only for callers with user.read.
 */
export const CATALOG_SECTIONS = ['apps', 'teams', 'users'] as const;
export type CatalogSection = (typeof CATALOG_SECTIONS)[number];

/** Where a page of the catalog ended: the section, and the id (or username) of its last app, team or user. */
export interface CatalogPosition {
  section: CatalogSection;
  key: string;
}

/** The `nextCursor` of a catalog page that ends at `last`: opaque base64url text. */
export function catalogCursor(last: CatalogPosition): string {
  return encodeCursor([last.section, last.key]);
}

/** The position a catalog cursor stands for; undefined when `cursor` is not one catalogCursor made. */
export function parseCatalogCursor(cursor: string): CatalogPosition | undefined {
  const [section, key] = decodeCursor(cursor, 2, 256) ?? [];
  const known = CATALOG_SECTIONS.find((name) => name === section);
  if (!known || typeof key !== 'string' || !DNS_LABEL_PATTERN.test(key)) return undefined;
  return { section: known, key };
}

/** `GET /catalog/entities`: which page, and where the portal links point. */
export const CatalogQuery = z.strictObject({
  limit: pageLimit('apps, teams or users (not entities)', CATALOG_PAGE_DEFAULT),
  cursor: z
    .string()
    .refine((text) => parseCatalogCursor(text) !== undefined, {
      message: 'must be the nextCursor value of a previous page',
    })
    .optional()
    .describe('Continue after a previous page: its `nextCursor`.'),
  portalUrl: z
    .url({ protocol: /^https?$/, message: 'must be an http(s) URL, e.g. https://pave.example.com' })
    .optional()
    .describe("The portal's URL for entity links; default: the URL the request was sent to."),
});
export type CatalogQuery = z.infer<typeof CatalogQuery>;

/**
 * A page of the catalog: the entities of up to `limit` apps (each app's System, Components and Resources),
 * then of teams (a Group each) and users (a User each) when the apps run out; within a page in CATALOG_KINDS
 * order, then by name. `nextCursor` fetches the next page, null on the last.
 */
export const CatalogEntityList = pageOf(CatalogEntity).meta({ id: 'CatalogEntityList' });
export type CatalogEntityList = z.infer<typeof CatalogEntityList>;
