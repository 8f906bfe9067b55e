import { z } from 'zod';

/*
 * The Score workload specification, `apiVersion: score.dev/v1b1`, as zod schemas. Every field, pattern, bound
 * and enum mirrors the official JSON schema (score-spec/spec `score-v1b1.json`); the tests check that these
 * schemas and the official one (through ajv) give the same verdict on the sample corpus and on generated
 * specs. Objects are strict where the JSON schema says `additionalProperties: false` and loose where it allows
 * extra keys. Messages say how to fix the value, because `pave validate` prints them as they are.
 */

/** The one Score API version Pave understands. */
export const SCORE_API_VERSION = 'score.dev/v1b1';

/** An RFC 1123 label of 2 to 63 characters: the rule for workload, container, port and resource names. */
export const SCORE_NAME_PATTERN = /^[a-z0-9][a-z0-9-]{0,61}[a-z0-9]$/u;

/** How to write a name that {@link SCORE_NAME_PATTERN} accepts, for messages. */
export const SCORE_NAME_RULE =
  'an RFC 1123 label: 2 to 63 characters of a-z, 0-9 and "-", starting and ending with a letter or digit';

const ANNOTATION_KEY_PATTERN =
  /^(([a-z0-9][a-z0-9-]{0,61}[a-z0-9])(\.[a-z0-9][a-z0-9-]{0,61}[a-z0-9])*\/)?[A-Za-z0-9][A-Za-z0-9._-]{0,61}[A-Za-z0-9]$/u;
const ANNOTATION_KEY_RULE =
  'an annotation key: an optional DNS prefix and "/", then 2 to 63 characters of A-Z, a-z, 0-9, ".", "_" and "-" ' +
  'starting and ending with a letter or digit, e.g. example.com/team';
const RESOURCE_TYPE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9-]{0,61}[A-Za-z0-9]$/u;
const RESOURCE_ID_PATTERN = /^[a-z0-9]+(?:-+[a-z0-9]+)*(?:\.[a-z0-9]+(?:-+[a-z0-9]+)*)*$/u;
const MEMORY_PATTERN = /^(0\.\d+|[1-9]\d*(\.\d+)?)(K|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/u;
const CPU_PATTERN = /^\d+(?:m|\.\d+)?$/u;
const FILE_MODE_PATTERN = /^0?[0-7]{3}$/u;
const VARIABLE_NAME_PATTERN = /^[^=]+$/u;
const HEADER_NAME_PATTERN = /^[A-Za-z0-9_-]+$/u;

/**
 * A strict object (`additionalProperties: false`). Its unknown-key message lists the keys that are allowed,
 * plus `hint` when there is a usual reason for the mistake.
 */
function strictObject<Shape extends z.ZodRawShape>(shape: Shape, hint?: string) {
  const keys = Object.keys(shape);
  return z.strictObject(shape, {
    error: (issue) => {
      if (issue.code !== 'unrecognized_keys') return undefined;
      const [unknown, ...others] = issue.keys;
      const suggestion = unknown !== undefined && others.length === 0 ? closest(unknown, keys) : undefined;
      return [
        suggestion ? `did you mean "${suggestion}"? ` : '',
        `allowed keys here: ${keys.join(', ')}`,
        hint ? `; ${hint}` : '',
      ].join('');
    },
  });
}

// The allowed key a misspelt one was probably meant to be: at most two edits away (one for short keys),
// ignoring case.
function closest(key: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = key.length <= 3 ? 2 : 3;
  for (const candidate of candidates) {
    const distance = editDistance(key.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/** The key rule of a map whose keys must be Score names (containers, resources, ports, `before`). */
function nameKey(what: string) {
  return z.string().regex(SCORE_NAME_PATTERN, { error: `${what} must be ${SCORE_NAME_RULE}` });
}

/**
 * A map (JSON Schema `propertyNames` + `additionalProperties`) whose keys must pass `key`. Unlike
 * `z.record(key, value)`, the values under a bad key are still checked, so every problem is reported at once.
 * A bad key is a custom issue at the key's path with `params.scoreKey` set, so positions can point at the key.
 */
function keyedMap<Value extends z.ZodType>(key: z.ZodType<string>, value: Value) {
  return z.record(z.string(), value).superRefine(
    (map, ctx) => {
      if (typeof map !== 'object' || map === null || Array.isArray(map)) return;
      for (const name of Object.keys(map)) {
        const result = key.safeParse(name);
        if (result.success) continue;
        ctx.addIssue({
          code: 'custom',
          path: [name],
          message: [...new Set(result.error.issues.map((issue) => issue.message))].join('; '),
          params: { scoreKey: true },
        });
      }
    },
    { when: () => true },
  );
}

const port = (what: string) =>
  z
    .number()
    .int()
    .min(1, { error: `${what} must be from 1 to 65535` })
    .max(65535, { error: `${what} must be from 1 to 65535` });

// JSON Schema counts string length in code points, zod in UTF-16 units; they agree on "at least 1", which is
// the only bound used on strings whose pattern does not already limit them to ASCII.
const nonEmpty = (what: string) => z.string().min(1, { error: `${what} must not be empty` });

const annotations = keyedMap(
  z
    .string()
    .min(2, { error: `must be ${ANNOTATION_KEY_RULE}` })
    .max(316, { error: 'an annotation key must be at most 316 characters' })
    .regex(ANNOTATION_KEY_PATTERN, { error: `must be ${ANNOTATION_KEY_RULE}` }),
  z.string(),
);

/** The workload's metadata: a `name` plus any other keys (annotations are checked when present). */
export const ScoreMetadata = z.looseObject({
  name: z
    .string()
    .regex(SCORE_NAME_PATTERN, { error: `the workload name must be ${SCORE_NAME_RULE}, e.g. my-service` }),
  annotations: annotations.optional(),
});
/** The workload's metadata, see {@link ScoreMetadata}. */
export type ScoreMetadata = z.infer<typeof ScoreMetadata>;

/** A port the workload's service publishes. */
export const ScoreServicePort = strictObject({
  port: port('port'),
  protocol: z.enum(['TCP', 'UDP']).optional(),
  targetPort: port('targetPort').optional(),
});
/** A port the workload's service publishes, see {@link ScoreServicePort}. */
export type ScoreServicePort = z.infer<typeof ScoreServicePort>;

/** The network service the workload provides: named ports. */
export const ScoreService = strictObject({
  ports: keyedMap(nameKey('a port name'), ScoreServicePort).optional(),
});
/** The network service the workload provides, see {@link ScoreService}. */
export type ScoreService = z.infer<typeof ScoreService>;

/** Compute limits or requests of a container: memory like `128M` or `1.5Gi`, cpu like `2`, `0.5` or `250m`. */
export const ScoreResourcesLimits = strictObject({
  memory: z
    .string()
    .regex(MEMORY_PATTERN, {
      error:
        'memory must be a number of bytes with an optional unit K, M, G, T, P, E, Ki, Mi, Gi, Ti, Pi or Ei, e.g. 128M or 1.5Gi',
    })
    .optional(),
  cpu: z
    .string()
    .regex(CPU_PATTERN, {
      error: 'cpu must be whole or fractional CPUs, or millicpus with "m", e.g. "2", "0.5" or "250m"',
    })
    .optional(),
});
/** Compute limits or requests of a container, see {@link ScoreResourcesLimits}. */
export type ScoreResourcesLimits = z.infer<typeof ScoreResourcesLimits>;

const SOURCES = ['content', 'binaryContent', 'source'] as const;

/** Score's `oneOf`: a file has exactly one of content, binaryContent and source. */
function checkOneFileSource(value: unknown, ctx: z.RefinementCtx): void {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return;
  const present = SOURCES.filter((key) => (value as Record<string, unknown>)[key] !== undefined);
  if (present.length === 1) return;
  ctx.addIssue({
    code: 'custom',
    message:
      present.length === 0
        ? 'a file needs one of content (inline text), binaryContent (base64) or source (a path to a local file)'
        : `a file takes exactly one of content, binaryContent and source, not ${present.join(' and ')}`,
  });
}

const fileFields = {
  mode: z
    .string()
    .regex(FILE_MODE_PATTERN, { error: 'mode must be an octal access mode in quotes, e.g. "0644" or "600"' })
    .optional(),
  source: nonEmpty('source').optional(),
  content: z.string().optional(),
  binaryContent: z.string().optional(),
  noExpand: z.boolean().optional(),
};

/** A file in the deprecated list form of `files`: like a map entry plus its `target` path. */
export const ScoreContainerFileListItem = strictObject({
  target: nonEmpty('target').optional(),
  ...fileFields,
}).superRefine(checkOneFileSource, { when: () => true });
/** A file in the deprecated list form of `files`, see {@link ScoreContainerFileListItem}. */
export type ScoreContainerFileListItem = z.infer<typeof ScoreContainerFileListItem>;

/** A file to mount into a container, keyed by its target path in the map form of `files`. */
export const ScoreContainerFile = strictObject(
  fileFields,
  'target is only used in the deprecated list form of files; in the map form the key is the target path',
).superRefine(checkOneFileSource, { when: () => true });
/** A file to mount into a container, see {@link ScoreContainerFile}. */
export type ScoreContainerFile = z.infer<typeof ScoreContainerFile>;

const volumeFields = {
  source: z.string(),
  path: z.string().optional(),
  readOnly: z.boolean().optional(),
};

/** A volume in the deprecated list form of `volumes`: like a map entry plus its `target` mount path. */
export const ScoreContainerVolumeListItem = strictObject({ ...volumeFields, target: z.string().optional() });
/** A volume in the deprecated list form of `volumes`, see {@link ScoreContainerVolumeListItem}. */
export type ScoreContainerVolumeListItem = z.infer<typeof ScoreContainerVolumeListItem>;

/** A volume to mount into a container, keyed by its mount path in the map form of `volumes`. */
export const ScoreContainerVolume = strictObject(
  volumeFields,
  'target is only used in the deprecated list form of volumes; in the map form the key is the mount path',
);
/** A volume to mount into a container, see {@link ScoreContainerVolume}. */
export type ScoreContainerVolume = z.infer<typeof ScoreContainerVolume>;

/** An HTTP health probe. */
export const ScoreHttpProbe = strictObject({
  host: nonEmpty('host').optional(),
  scheme: z.enum(['HTTP', 'HTTPS']).optional(),
  path: z.string(),
  port: port('port'),
  httpHeaders: z
    .array(
      strictObject({
        name: z.string().regex(HEADER_NAME_PATTERN, {
          error: 'a header name must be letters, digits, "_" and "-", e.g. X-Custom-Header',
        }),
        value: nonEmpty('a header value'),
      }),
    )
    .optional(),
});
/** An HTTP health probe, see {@link ScoreHttpProbe}. */
export type ScoreHttpProbe = z.infer<typeof ScoreHttpProbe>;

/** A health probe that runs a command in the container. */
export const ScoreExecProbe = strictObject({ command: z.array(z.string()) });
/** A health probe that runs a command in the container, see {@link ScoreExecProbe}. */
export type ScoreExecProbe = z.infer<typeof ScoreExecProbe>;

/** A liveness or readiness probe: httpGet, exec, or both. */
export const ScoreContainerProbe = strictObject({
  httpGet: ScoreHttpProbe.optional(),
  exec: ScoreExecProbe.optional(),
}).superRefine(
  (value, ctx) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return;
    if (value.httpGet === undefined && value.exec === undefined) {
      ctx.addIssue({
        code: 'custom',
        message: 'a probe needs httpGet (port and path) or exec (command)',
      });
    }
  },
  { when: () => true },
);
/** A liveness or readiness probe, see {@link ScoreContainerProbe}. */
export type ScoreContainerProbe = z.infer<typeof ScoreContainerProbe>;

/** A container of the workload. */
export const ScoreContainer = strictObject({
  image: nonEmpty('image'),
  command: z.array(z.string()).optional(),
  args: z.array(z.string()).optional(),
  variables: keyedMap(
    z.string().regex(VARIABLE_NAME_PATTERN, {
      error: 'a variable name must be non-empty and must not contain "="',
    }),
    z.string(),
  ).optional(),
  files: z.union([z.array(ScoreContainerFileListItem), z.record(z.string(), ScoreContainerFile)]).optional(),
  volumes: z
    .union([z.array(ScoreContainerVolumeListItem), z.record(z.string(), ScoreContainerVolume)])
    .optional(),
  before: keyedMap(
    nameKey('a container name'),
    strictObject({ ready: z.enum(['started', 'healthy', 'complete']) }),
  ).optional(),
  resources: strictObject({
    limits: ScoreResourcesLimits.optional(),
    requests: ScoreResourcesLimits.optional(),
  }).optional(),
  livenessProbe: ScoreContainerProbe.optional(),
  readinessProbe: ScoreContainerProbe.optional(),
});
/** A container of the workload, see {@link ScoreContainer}. */
export type ScoreContainer = z.infer<typeof ScoreContainer>;

/** The metadata of a resource: any keys, with annotations checked when present. */
export const ScoreResourceMetadata = z.looseObject({ annotations: annotations.optional() });
/** The metadata of a resource, see {@link ScoreResourceMetadata}. */
export type ScoreResourceMetadata = z.infer<typeof ScoreResourceMetadata>;

/** A resource the workload depends on (a database, a DNS name, a volume, ...). */
export const ScoreResource = strictObject({
  type: z.string().regex(RESOURCE_TYPE_PATTERN, {
    error:
      'a resource type must be 2 to 63 characters of A-Z, a-z, 0-9 and "-", starting and ending with a letter or digit, e.g. postgres',
  }),
  class: z
    .string()
    .regex(RESOURCE_TYPE_PATTERN, {
      error:
        'a resource class must be 2 to 63 characters of A-Z, a-z, 0-9 and "-", starting and ending with a letter or digit, e.g. large',
    })
    .optional(),
  id: z
    .string()
    .min(2, { error: 'a resource id must be 2 to 63 characters' })
    .max(63, { error: 'a resource id must be 2 to 63 characters' })
    .regex(RESOURCE_ID_PATTERN, {
      error:
        'a resource id must be "."-separated labels of a-z, 0-9 and "-" that do not start or end with "-", e.g. shared.main-db',
    })
    .optional(),
  metadata: ScoreResourceMetadata.optional(),
  params: z.record(z.string(), z.unknown()).optional(),
});
/** A resource the workload depends on, see {@link ScoreResource}. */
export type ScoreResource = z.infer<typeof ScoreResource>;

/**
 * A Score workload (`apiVersion: score.dev/v1b1`). Parsing with it accepts exactly what the official JSON
 * schema accepts; placeholders (`${resources.db.host}`) are checked separately, see `parseScore`.
 */
export const ScoreWorkload = strictObject({
  apiVersion: z.string().regex(/^score\.dev\/v1b1$/u, { error: `apiVersion must be "${SCORE_API_VERSION}"` }),
  metadata: ScoreMetadata,
  service: ScoreService.optional(),
  containers: keyedMap(nameKey('a container name'), ScoreContainer).refine(
    (containers) => Object.keys(containers).length > 0,
    {
      error: 'a workload needs at least one container, e.g. `web: { image: nginx }`',
    },
  ),
  resources: keyedMap(nameKey('a resource name'), ScoreResource).optional(),
});
/** A Score workload, see {@link ScoreWorkload}. */
export type ScoreWorkload = z.infer<typeof ScoreWorkload>;
