import { z } from 'zod';
import { dnsLabel } from './ids.ts';

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
export const resourceDefinitionSchemaOut = z.object({
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
});
export type ResourceDefinition = z.infer<typeof resourceDefinitionSchemaOut>;
