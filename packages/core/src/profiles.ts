import { z } from 'zod';
import { dnsLabel, printableText } from './ids.ts';
import { labelPageQuery, pageOf } from './paging.ts';
import { criterionMatches, criterionSpecificity } from './matching.ts';
import { DEFAULT_RESOURCE_CLASS, matchCriterionSchema } from './resources.ts';
import { substitutePlaceholders } from './score/placeholders.ts';

/*
 * Workload profiles: how platform teams shape the Kubernetes manifests Pave renders for every workload of
 * some environments (a securityContext, replicas, a ServiceAccount, a PodDisruptionBudget), without forking
 * Pave. A profile matches environments like a resource definition does (criteria on envType, envId, appId)
 * and carries RFC 6902 JSON Patches for rendered objects plus extra objects. Applying the patches lives in
 * `profile-patch.ts` (imported on its own, so that loading the schemas does not load the patch library).
 */

const timestamp = z.string().describe('RFC 3339 timestamp (UTC)');

/** The placeholders a profile's values may use, expanded per workload. */
export const PROFILE_PLACEHOLDERS = ['workload.name', 'app', 'env'] as const;

const JSON_POINTER = /^(\/([^~]|~[01])*)+$/u;

/** A JSON pointer into a manifest (RFC 6901), e.g. `/spec/template/spec/securityContext`. */
export const JsonPointer = z.string().max(1000).regex(JSON_POINTER, {
  message:
    'a JSON pointer into the object such as /spec/replicas (starts with "/"; write "~" as ~0 and "/" in a key as ~1)',
});

const OPS_WITH_VALUE = new Set(['add', 'replace', 'test']);
const OPS_WITH_FROM = new Set(['move', 'copy']);

/** One RFC 6902 JSON Patch operation: `add`, `remove`, `replace`, `move`, `copy` or `test`. */
export const JsonPatchOperation = z
  .strictObject({
    op: z.enum(['add', 'remove', 'replace', 'move', 'copy', 'test']),
    path: JsonPointer,
    value: z.unknown().optional(),
    from: JsonPointer.optional(),
  })
  .superRefine((operation, context) => {
    const hasValue = Object.hasOwn(operation, 'value') && operation.value !== undefined;
    if (OPS_WITH_VALUE.has(operation.op) && !hasValue) {
      context.addIssue({ code: 'custom', path: ['value'], message: `\`${operation.op}\` needs a value` });
    }
    if (!OPS_WITH_VALUE.has(operation.op) && hasValue) {
      context.addIssue({ code: 'custom', path: ['value'], message: `\`${operation.op}\` takes no value` });
    }
    if (OPS_WITH_FROM.has(operation.op) && operation.from === undefined) {
      context.addIssue({
        code: 'custom',
        path: ['from'],
        message: `\`${operation.op}\` needs from: where to ${operation.op} from`,
      });
    }
    if (!OPS_WITH_FROM.has(operation.op) && operation.from !== undefined) {
      context.addIssue({ code: 'custom', path: ['from'], message: `\`${operation.op}\` takes no from` });
    }
  })
  .meta({ id: 'JsonPatchOperation' });
export type JsonPatchOperation = z.infer<typeof JsonPatchOperation>;

/** Which rendered objects a patch applies to: every object of `kind`, or only the one named `name`. */
export const ProfilePatchTarget = z.strictObject({
  kind: z
    .string()
    .regex(/^[A-Z][A-Za-z0-9]{0,62}$/u, { message: 'a Kubernetes kind such as Deployment or Service' }),
  name: z
    .string()
    .min(1)
    .max(253)
    .optional()
    .describe(
      'The object name (e.g. the Deployment name, which is the workload name); may use ${workload.name}.',
    ),
});
export type ProfilePatchTarget = z.infer<typeof ProfilePatchTarget>;

/** One patch of a profile: JSON Patch operations for the rendered objects its target selects. */
export const ProfilePatch = z.strictObject({
  target: ProfilePatchTarget,
  ops: z.array(JsonPatchOperation).min(1).max(100),
});
export type ProfilePatch = z.infer<typeof ProfilePatch>;

/** An extra object a profile adds to every workload: any namespaced Kubernetes object. */
export const ProfileObject = z.record(z.string(), z.unknown()).superRefine((object, context) => {
  for (const field of ['apiVersion', 'kind'] as const) {
    if (typeof object[field] !== 'string' || object[field] === '') {
      context.addIssue({ code: 'custom', path: [field], message: `an object needs ${field}` });
    }
  }
  const metadata = object.metadata;
  const name =
    metadata !== null && typeof metadata === 'object' && !Array.isArray(metadata)
      ? (metadata as Record<string, unknown>).name
      : undefined;
  if (typeof name !== 'string' || name === '') {
    context.addIssue({
      code: 'custom',
      path: ['metadata', 'name'],
      message: 'an object needs metadata.name, e.g. ${workload.name}-pdb',
    });
  }
});
export type ProfileObject = z.infer<typeof ProfileObject>;

/** Where a profile applies: every field it sets must equal the environment's (a definition's criterion, without resId and class). */
export const ProfileCriterion = matchCriterionSchema.pick({ envType: true, envId: true, appId: true });
export type ProfileCriterion = z.infer<typeof ProfileCriterion>;

const profileShape = {
  id: dnsLabel,
  description: printableText({ multiline: true }).max(1000).optional(),
  criteria: z
    .array(ProfileCriterion)
    .max(100)
    .describe('Any one matching criterion is enough; an empty list: the profile applies everywhere.'),
  patches: z.array(ProfilePatch).max(100).default([]),
  objects: z.array(ProfileObject).max(50).optional().describe('Extra objects added to every workload.'),
};

/**
 * A workload profile: where it applies (`criteria`), JSON Patches for the objects rendered for each
 * workload there (`patches`) and extra objects (`objects`). Strings may use `${workload.name}`, `${app}` and
 * `${env}`, expanded per workload.
 */
export const WorkloadProfile = z
  .strictObject(profileShape)
  .superRefine((profile, context) => {
    if (profile.patches.length === 0 && (profile.objects ?? []).length === 0) {
      context.addIssue({
        code: 'custom',
        path: ['patches'],
        message: 'a profile needs at least one patch or one object',
      });
    }
  })
  .meta({ id: 'WorkloadProfile' });
export type WorkloadProfile = z.infer<typeof WorkloadProfile>;

/** A stored profile, with who changed it last and its version (1 on create, +1 on each update). */
export const WorkloadProfileRecord = z
  .strictObject({
    ...profileShape,
    version: z.number().int().positive(),
    createdAt: timestamp,
    createdBy: z.string(),
    updatedAt: timestamp,
    updatedBy: z.string(),
  })
  .meta({ id: 'WorkloadProfileRecord' });
export type WorkloadProfileRecord = z.infer<typeof WorkloadProfileRecord>;

/** Apply profiles declaratively: new ones are created, changed ones updated, the others left alone. */
export const ApplyProfilesBody = z
  .strictObject({
    profiles: z.array(WorkloadProfile).min(1).max(500),
    dryRun: z.boolean().optional().describe('Only show the plan; change nothing.'),
  })
  .meta({ id: 'ApplyProfilesBody' });
export type ApplyProfilesBody = z.infer<typeof ApplyProfilesBody>;

/** What applying profiles changes (or would change, on a dry run). */
export const ProfilesPlan = z
  .object({
    applied: z.boolean(),
    changes: z.array(
      z.object({
        id: z.string(),
        action: z.enum(['create', 'update', 'unchanged']),
        /** Top-level fields that differ (update only). */
        fields: z.array(z.string()),
      }),
    ),
  })
  .meta({ id: 'ProfilesPlan' });
export type ProfilesPlan = z.infer<typeof ProfilesPlan>;

/** Which profiles apply to an environment, most specific first. */
export const ProfileMatch = z
  .object({
    app: z.string(),
    env: z.string(),
    envType: z.string(),
    matches: z.array(
      z.object({
        id: z.string(),
        /** The criterion it matched with; null when it has none (it applies everywhere). */
        criterion: ProfileCriterion.nullable(),
        specificity: z.number().int(),
      }),
    ),
  })
  .meta({ id: 'ProfileMatch' });
export type ProfileMatch = z.infer<typeof ProfileMatch>;

export const ProfileParams = z.strictObject({ id: dnsLabel });

export const ProfileListQuery = labelPageQuery('profiles', 100);
export type ProfileListQuery = z.infer<typeof ProfileListQuery>;
/** A page of workload profiles, ordered by id. */
export const ProfilePage = pageOf(WorkloadProfileRecord);
export type ProfilePage = z.infer<typeof ProfilePage>;
export const ProfileMatchQuery = z.strictObject({ app: dnsLabel, env: dnsLabel });

/** The environment profiles are matched against. */
export interface ProfileTarget {
  appId: string;
  envId: string;
  envType: string;
}

/**
 * The profiles that apply to an environment, most specific first: a profile applies when it has no criteria
 * or one of its criteria matches (every field it sets equals the environment's), and ranks by its best
 * matching criterion's specificity (envId over appId over envType, as for resource definitions); ties go by
 * id. Patches of a more specific profile come first, so a less specific one patching the same field wins
 * when both set it; keep profiles that overlap few.
 */
export function matchProfiles<P extends Pick<WorkloadProfile, 'id' | 'criteria'>>(
  profiles: readonly P[],
  target: ProfileTarget,
): Array<{ profile: P; criterion: ProfileCriterion | null; specificity: number }> {
  const query = { ...target, type: '', resId: '', class: DEFAULT_RESOURCE_CLASS };
  const matched: Array<{ profile: P; criterion: ProfileCriterion | null; specificity: number }> = [];
  for (const profile of profiles) {
    const criteria: Array<ProfileCriterion | null> = profile.criteria.length ? profile.criteria : [null];
    let best: { criterion: ProfileCriterion | null; specificity: number } | undefined;
    for (const criterion of criteria) {
      if (!criterionMatches(criterion ?? {}, query).matches) continue;
      const specificity = criterionSpecificity(criterion ?? {});
      if (!best || specificity > best.specificity) best = { criterion, specificity };
    }
    if (best) matched.push({ profile, ...best });
  }
  return matched.sort(
    (a, b) =>
      b.specificity - a.specificity ||
      (a.profile.id < b.profile.id ? -1 : a.profile.id > b.profile.id ? 1 : 0),
  );
}

/** What `${…}` in a profile stands for, for one workload. */
export interface ProfileScope {
  workload: string;
  app: string;
  env: string;
}

/**
 * `value` with every `${workload.name}`, `${app}` and `${env}` in its strings (keys stay as they are)
 * replaced for `scope`; `$${…}` stays a literal `${…}` and `$$` a `$`, as in Score. Throws an Error naming
 * the placeholder for any other placeholder, and for a `${` without a `}`.
 */
export function expandProfileValue<T>(value: T, scope: ProfileScope): T {
  if (typeof value === 'string') {
    return substitutePlaceholders(value, (parts) => {
      const name = parts.join('.');
      if (name === 'workload.name') return scope.workload;
      if (name === 'app') return scope.app;
      if (name === 'env') return scope.env;
      throw new Error(
        `\${${name}} is not a profile placeholder; use ${PROFILE_PLACEHOLDERS.map((p) => `\${${p}}`).join(', ')}`,
      );
    }) as T;
  }
  if (Array.isArray(value)) return value.map((item: unknown) => expandProfileValue(item, scope)) as T;
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>).map(([key, item]) => [
        key,
        expandProfileValue(item, scope),
      ]),
    ) as T;
  }
  return value;
}

/** A profile's patch as a runtime gets it (plugin-api's ManifestPatch). */
export interface ExpandedProfilePatch {
  profile: string;
  index: number;
  target: { kind: string; name?: string };
  ops: JsonPatchOperation[];
}

/** What matched profiles do to one workload (plugin-api's WorkloadProfileEffects). */
export interface ExpandedProfiles {
  ids: string[];
  patches: ExpandedProfilePatch[];
  objects: Array<{ source: string; manifest: Record<string, unknown> }>;
}

/**
 * The patches and objects of `profiles` (matched, most specific first) for one workload, placeholders
 * expanded (see {@link expandProfileValue}); undefined when there are none, so that workloads without
 * profiles render (and hash) as before profiles existed. Throws an Error naming the profile and where for a
 * placeholder that cannot be expanded.
 */
export function expandProfiles(
  profiles: ReadonlyArray<Pick<WorkloadProfile, 'id' | 'patches' | 'objects'>>,
  scope: ProfileScope,
): ExpandedProfiles | undefined {
  if (profiles.length === 0) return undefined;
  const expand = <T>(value: T, where: string): T => {
    try {
      return expandProfileValue(value, scope);
    } catch (error) {
      throw new Error(`${where}: ${(error as Error).message}`, { cause: error });
    }
  };
  return {
    ids: profiles.map((profile) => profile.id),
    patches: profiles.flatMap((profile) =>
      profile.patches.map((patch, index) => ({
        profile: profile.id,
        index,
        target: expand(patch.target, `profile ${profile.id}, patch ${index}, target`),
        ops: expand(patch.ops, `profile ${profile.id}, patch ${index}`),
      })),
    ),
    objects: profiles.flatMap((profile) =>
      (profile.objects ?? []).map((object, index) => ({
        source: `profile ${profile.id}`,
        manifest: expand(object, `profile ${profile.id}, object ${index}`),
      })),
    ),
  };
}
