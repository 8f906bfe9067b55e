import { z } from 'zod';
import { dnsLabel } from './ids.ts';
import { labelPageQuery, pageLimit, pageOf } from './paging.ts';

/** What Pave knows about one resource type: the outputs it provides and how carefully it is deleted. */
export interface ResourceTypeInfo {
  /** Output names, as score-compose names them, so Score files port unchanged. */
  outputs: readonly string[];
  /** Outputs that are secrets: encrypted at rest, masked in API responses. */
  secretOutputs: readonly string[];
  /** Deleting it loses data: needs `--allow-data-loss` besides `--prune`. */
  stateful: boolean;
}

/** The resource types Pave provisions through resource definitions. */
export const RESOURCE_TYPES: Readonly<Record<string, ResourceTypeInfo>> = {
  postgres: {
    outputs: ['host', 'port', 'name', 'database', 'username', 'password', 'url'],
    secretOutputs: ['password', 'url'],
    stateful: true,
  },
  redis: {
    outputs: ['host', 'port', 'username', 'password', 'url'],
    secretOutputs: ['password', 'url'],
    stateful: true,
  },
  mysql: {
    outputs: ['host', 'port', 'name', 'database', 'username', 'password', 'url'],
    secretOutputs: ['password', 'url'],
    stateful: true,
  },
  amqp: {
    outputs: ['host', 'port', 'vhost', 'username', 'password', 'url'],
    secretOutputs: ['password', 'url'],
    stateful: true,
  },
  dns: { outputs: ['host'], secretOutputs: [], stateful: false },
  route: { outputs: ['host', 'path', 'port'], secretOutputs: [], stateful: false },
  volume: { outputs: ['source'], secretOutputs: [], stateful: true },
};

/**
 * Resource types Pave resolves itself, without a definition: `environment` (the environment's values) and
 * `service-port` (another workload's port).
 */
export const BUILT_IN_RESOURCE_TYPES = ['environment', 'service-port'] as const;

/** The class a Score resource has when it names none. */
export const DEFAULT_RESOURCE_CLASS = 'default';

/**
 * Why a deployment cannot provision a resource whose definition was deleted (`pave defs delete --force`): a
 * provisioned resource keeps the definition it was provisioned by, whichever definition matches it now.
 * `pave deploy` and `pave validate --app --env` both give this reason, after the resource's address.
 */
export function deletedDefinitionReason(definitionId: string): string {
  return (
    `its resource definition "${definitionId}" no longer exists; apply it again (\`pave defs apply\`), or ` +
    'delete the resource (deploy without it, with --prune) so that the definition matching it now provisions it anew'
  );
}

/**
 * Why a deployment refuses a resource declared with another type than the one provisioned at its address.
 * `pave deploy` and `pave validate --app --env` both give this reason, after the resource's address.
 */
export function changedResourceTypeReason(provisioned: string, declared: string): string {
  return (
    `is a ${provisioned} resource here, but the set declares it as ${declared}; move the old one elsewhere ` +
    '(`pave resources move`) or delete it (deploy without it, with --prune) first'
  );
}

/** One criterion of a resource definition: every field it sets must match. */
export const matchCriterionSchema = z
  .object({
    envType: dnsLabel.optional(),
    envId: dnsLabel.optional(),
    appId: dnsLabel.optional(),
    resId: z.string().min(1).max(253).optional(),
    class: z.string().min(1).max(63).optional(),
  })
  .strict();
export type MatchCriterion = z.infer<typeof matchCriterionSchema>;

/**
 * Driver inputs of a definition, as Humanitec splits them: `values` are stored and shown as they are,
 * `secrets` are encrypted at rest and never returned by the API.
 */
export const driverInputsSchema = z
  .object({
    values: z.record(z.string(), z.unknown()).default({}),
    secrets: z.record(z.string(), z.unknown()).default({}),
  })
  .strict();
export type DriverInputs = z.infer<typeof driverInputsSchema>;

/** A resource definition as the platform team writes it (YAML or API). */
export const resourceDefinitionSchema = z
  .object({
    id: dnsLabel,
    type: z.string().min(1).max(63),
    driver: z.string().min(1).max(63),
    driverInputs: driverInputsSchema.default({ values: {}, secrets: {} }),
    criteria: z.array(matchCriterionSchema).default([]),
  })
  .strict();
export type ResourceDefinitionInput = z.input<typeof resourceDefinitionSchema>;
export type ResourceDefinitionSpec = z.infer<typeof resourceDefinitionSchema>;

/** A stored definition as the API returns it: secret inputs are listed by name only. */
export const ResourceDefinition = z
  .object({
    id: z.string(),
    type: z.string(),
    driver: z.string(),
    driverInputs: z.object({
      values: z.record(z.string(), z.unknown()),
      /** Names of the secret inputs; their values are never returned. */
      secrets: z.array(z.string()),
    }),
    criteria: z.array(matchCriterionSchema),
    /** True for the definitions Pave ships as the embedded defaults (they cannot be changed or deleted). */
    builtIn: z.boolean(),
    updatedBy: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'ResourceDefinition' });
export type ResourceDefinition = z.infer<typeof ResourceDefinition>;

/** Apply definitions declaratively: create the new ones, update the changed ones, leave the rest. */
export const ApplyDefinitionsBody = z.strictObject({
  definitions: z.array(resourceDefinitionSchema).min(1).max(500),
  dryRun: z.boolean().optional().describe('Only show the plan; change nothing.'),
});
export type ApplyDefinitionsBody = z.infer<typeof ApplyDefinitionsBody>;

/** What applying definitions changes (or would change, on a dry run). */
export const DefinitionsPlan = z
  .object({
    applied: z.boolean(),
    changes: z.array(
      z.object({
        id: z.string(),
        action: z.enum(['create', 'update', 'unchanged']),
        /** Top-level fields that differ (update only); secret inputs are named, never shown. */
        fields: z.array(z.string()),
      }),
    ),
  })
  .meta({ id: 'DefinitionsPlan' });
export type DefinitionsPlan = z.infer<typeof DefinitionsPlan>;

export const DefinitionParams = z.strictObject({ id: dnsLabel });

export const DefinitionListQuery = labelPageQuery('definitions', 100);
export type DefinitionListQuery = z.infer<typeof DefinitionListQuery>;
/** A page of resource definitions, the built-in ones included, ordered by id. */
export const DefinitionPage = pageOf(ResourceDefinition);
export type DefinitionPage = z.infer<typeof DefinitionPage>;
export const DeleteDefinitionQuery = z.strictObject({
  force: z
    .enum(['true', 'false'])
    .optional()
    .describe(
      'Delete the definition even while resources use it: they keep running and are deleted with the inputs stored with them.',
    ),
});

export const MatchQueryString = z.strictObject({
  app: dnsLabel,
  env: dnsLabel,
  type: z.string().min(1).max(63),
  class: z.string().min(1).max(63).optional(),
  id: z
    .string()
    .min(1)
    .max(253)
    .optional()
    .describe('The resource id (a shared resource id, or workload.name).'),
});

/** Why one definition wins for a resource and why the others lose. */
export const MatchExplanationSchema = z
  .object({
    query: z.object({
      type: z.string(),
      envType: z.string(),
      envId: z.string(),
      appId: z.string(),
      resId: z.string(),
      class: z.string(),
    }),
    winner: z
      .object({ id: z.string(), criterion: matchCriterionSchema.nullable(), specificity: z.number() })
      .nullable(),
    candidates: z.array(
      z.object({
        id: z.string(),
        builtIn: z.boolean(),
        outcome: z.enum(['won', 'lost', 'no-match', 'other-type']),
        specificity: z.number().nullable(),
        criterion: matchCriterionSchema.nullable(),
        reason: z.string(),
      }),
    ),
  })
  .meta({ id: 'MatchExplanation' });

/** A resource provisioned for an environment. Secret outputs are named, never shown. */
export const Resource = z
  .object({
    appId: z.string(),
    envId: z.string(),
    address: z.string().describe('`<workload>.<name>` or `shared.<id>`'),
    type: z.string(),
    class: z.string(),
    resId: z.string(),
    definitionId: z.string(),
    driver: z.string(),
    driverId: z.string(),
    values: z.record(z.string(), z.string()),
    secrets: z.array(z.string()),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'Resource' });
export type Resource = z.infer<typeof Resource>;

/**
 * What `pave resources check` found for one resource when its driver read it: `ok`; `missing` (the driver
 * reports it gone: `pave deploy --recreate-missing` creates it again); `drifted` (its outputs differ from
 * those Pave recorded, `driftedOutputs` naming them, never their values; or its driver found it changed outside
 * Pave, e.g. a Terraform refresh-only plan with changes or a failing `check` block, said in `detail`); `error`
 * (the read failed; `detail` holds the driver's message, secrets masked).
 */
export const ResourceCheck = z
  .object({
    address: z.string(),
    type: z.string(),
    driver: z.string(),
    status: z.enum(['ok', 'missing', 'drifted', 'error']),
    /** For people: what was found and what to do about it; empty when ok. */
    detail: z.string(),
    driftedOutputs: z.array(z.string()),
  })
  .meta({ id: 'ResourceCheck' });
export type ResourceCheck = z.infer<typeof ResourceCheck>;

/** `GET /apps/{app}/envs/{env}/resources`: a page of an environment's resources, by address. */
export const ResourceListQuery = z.strictObject({
  limit: pageLimit('resources', 100),
  cursor: z
    .string()
    .max(300, { message: 'must be the nextCursor value of a previous page' })
    .regex(/^[^\s.]+\.\S+$/, { message: 'must be the nextCursor value of a previous page' })
    .optional()
    .describe(
      'Continue after a previous page: its `nextCursor` (resources whose address sorts after that one).',
    ),
});
export type ResourceListQuery = z.infer<typeof ResourceListQuery>;

/** A page of an environment's resources, by address; `nextCursor` (an address) fetches the next page. */
export const ResourcePage = z.object({ items: z.array(Resource), nextCursor: z.string().nullable() });
export type ResourcePage = z.infer<typeof ResourcePage>;

export const ResourceParams = z.strictObject({
  app: dnsLabel,
  env: dnsLabel,
  address: z.string().min(3).max(300),
});

/** The resource graph of an environment's current set. */
export const ResourceGraph = z
  .object({
    nodes: z.array(
      z.object({
        address: z.string(),
        type: z.string(),
        class: z.string(),
        resId: z.string(),
        shared: z.boolean(),
        builtIn: z.boolean(),
        provisioned: z.boolean(),
        definitionId: z.string().nullable(),
        consumers: z.array(z.object({ workload: z.string(), name: z.string() })),
        dependsOn: z.array(z.string()),
      }),
    ),
    edges: z.array(z.object({ from: z.string(), to: z.string(), kind: z.enum(['uses', 'depends-on']) })),
    /** The same graph as text, for terminals. */
    text: z.string(),
  })
  .meta({ id: 'ResourceGraph' });
export type ResourceGraph = z.infer<typeof ResourceGraph>;

/** Re-point an existing resource at a new address (a renamed Score resource), keeping its data. */
export const MoveResourceBody = z.strictObject({
  from: z.string().min(3).max(300),
  to: z.string().min(3).max(300),
});
export type MoveResourceBody = z.infer<typeof MoveResourceBody>;

/**
 * A change a deployment makes to one resource. `replace`: its driver cannot make the change in place, so the
 * resource is deleted and created again (a stateful one loses its data: only with `allowDataLoss`).
 */
export const ResourceChange = z.object({
  address: z.string(),
  type: z.string(),
  action: z.enum(['create', 'keep', 'update', 'replace', 'delete']),
  definitionId: z.string().nullable(),
  /** Why, for people (e.g. "no longer used; kept: deploy with --prune to delete it"). */
  reason: z.string(),
});
export type ResourceChange = z.infer<typeof ResourceChange>;
