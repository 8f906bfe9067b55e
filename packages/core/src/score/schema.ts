import * as z from 'zod/mini';

/*
 * The Score workload specification, `apiVersion: score.dev/v1b1`, as zod schemas. Every field, pattern, bound
 * and enum mirrors the official JSON schema (score-spec/spec `score-v1b1.json`); the tests check that these
 * schemas and the official one (through ajv) give the same verdict on the sample corpus and on generated
 * specs. Objects are strict where the JSON schema says `additionalProperties: false` and loose where it allows
 * extra keys. Messages say how to fix the value, because `pave validate` prints them as they are.
 *
 * They are built with zod/mini, zod's tree-shakable API over the same core (same checks, same issues, same
 * messages; they nest in the API's classic zod schemas): a `pave validate` or `pave deploy` loads about 20 kB
 * of zod for them instead of classic zod's 200 kB, which took about 40 ms of every such command's start.
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
function strictObject<Shape extends z.core.$ZodShape>(shape: Shape, hint?: string) {
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
  return z.string().check(z.regex(SCORE_NAME_PATTERN, { error: `${what} must be ${SCORE_NAME_RULE}` }));
}

/**
 * A map (JSON Schema `propertyNames` + `additionalProperties`) whose keys must pass `key`. Unlike
 * `z.record(key, value)`, the values under a bad key are still checked, so every problem is reported at once.
 * A bad key is a custom issue at the key's path with `params.scoreKey` set, so positions can point at the key.
 */
function keyedMap<Value extends z.core.SomeType>(key: z.ZodMiniType<string>, value: Value) {
  return z.record(z.string(), value).check(
    z.superRefine(
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
    ),
  );
}

/** Runs `check` on every value, whatever else is wrong with the object (zod/mini's `superRefine` with `when`). */
function always<T>(check: (value: T, ctx: z.core.$RefinementCtx<T>) => void) {
  return z.superRefine(check, { when: () => true });
}

const port = (what: string) =>
  z
    .number()
    .check(
      z.int(),
      z.gte(1, { error: `${what} must be from 1 to 65535` }),
      z.lte(65535, { error: `${what} must be from 1 to 65535` }),
    );

// JSON Schema counts string length in code points, zod in UTF-16 units; they agree on "at least 1", which is
// the only bound used on strings whose pattern does not already limit them to ASCII.
const nonEmpty = (what: string) => z.string().check(z.minLength(1, { error: `${what} must not be empty` }));

/** A string matching `pattern`, else `error`. */
const matching = (pattern: RegExp, error: string) => z.string().check(z.regex(pattern, { error }));

const annotations = keyedMap(
  z
    .string()
    .check(
      z.minLength(2, { error: `must be ${ANNOTATION_KEY_RULE}` }),
      z.maxLength(316, { error: 'an annotation key must be at most 316 characters' }),
      z.regex(ANNOTATION_KEY_PATTERN, { error: `must be ${ANNOTATION_KEY_RULE}` }),
    ),
  z.string(),
);

/** The workload's metadata: a `name` plus any other keys (annotations are checked when present). */
export const ScoreMetadata = z.looseObject({
  name: matching(SCORE_NAME_PATTERN, `the workload name must be ${SCORE_NAME_RULE}, e.g. my-service`),
  annotations: z.optional(annotations),
});
/** The workload's metadata, see {@link ScoreMetadata}. */
export type ScoreMetadata = z.infer<typeof ScoreMetadata>;

/** A port the workload's service publishes. */
export const ScoreServicePort = strictObject({
  port: port('port'),
  protocol: z.optional(z.enum(['TCP', 'UDP'])),
  targetPort: z.optional(port('targetPort')),
});
/** A port the workload's service publishes, see {@link ScoreServicePort}. */
export type ScoreServicePort = z.infer<typeof ScoreServicePort>;

/** The network service the workload provides: named ports. */
export const ScoreService = strictObject({
  ports: z.optional(keyedMap(nameKey('a port name'), ScoreServicePort)),
});
/** The network service the workload provides, see {@link ScoreService}. */
export type ScoreService = z.infer<typeof ScoreService>;

/** Compute limits or requests of a container: memory like `128M` or `1.5Gi`, cpu like `2`, `0.5` or `250m`. */
export const ScoreResourcesLimits = strictObject({
  memory: z.optional(
    matching(
      MEMORY_PATTERN,
      'memory must be a number of bytes with an optional unit K, M, G, T, P, E, Ki, Mi, Gi, Ti, Pi or Ei, e.g. 128M or 1.5Gi',
    ),
  ),
  cpu: z.optional(
    matching(
      CPU_PATTERN,
      'cpu must be whole or fractional CPUs, or millicpus with "m", e.g. "2", "0.5" or "250m"',
    ),
  ),
});
/** Compute limits or requests of a container, see {@link ScoreResourcesLimits}. */
export type ScoreResourcesLimits = z.infer<typeof ScoreResourcesLimits>;

const SOURCES = ['content', 'binaryContent', 'source'] as const;

/** Score's `oneOf`: a file has exactly one of content, binaryContent and source. */
function checkOneFileSource(value: unknown, ctx: z.core.$RefinementCtx): void {
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

// Why a binaryContent is not the standard base64 (RFC 4648, section 4) Score asks for: an alphabet of A-Z, a-z,
// 0-9, "+" and "/", "=" padding to whole groups of 4 (z.base64()'s rule). Line breaks may split it: `base64`
// wraps its output, and the decoders Score files meet (Go's, Node's) skip them.
function base64Mistake(value: string): string | undefined {
  const bad = /[^A-Za-z0-9+/=\r\n]/u.exec(value);
  if (bad) {
    const urlSafe = bad[0] === '-' || bad[0] === '_' ? ' (base64url writes "-" and "_" for "+" and "/")' : '';
    return `character ${bad.index + 1} is ${JSON.stringify(bad[0])}, which base64 does not use${urlSafe}`;
  }
  const text = value.replace(/[\r\n]/gu, '');
  if (/=[^=]|={3}/u.test(text)) return '"=" may only pad its end, once or twice';
  if (text.length % 4 !== 0) {
    return `its ${text.length} characters are not a multiple of 4 (is the "=" padding missing?)`;
  }
  return undefined;
}

const binaryContent = z.string().check(
  z.superRefine((value, ctx) => {
    const mistake = base64Mistake(value);
    if (mistake === undefined) return;
    ctx.addIssue({
      code: 'custom',
      message:
        `binaryContent is not base64: ${mistake}; write the file's bytes in standard base64 ` +
        '(`base64 -w0 FILE`), or give a text file as content (its text) or as source (its path)',
    });
  }),
);

const fileFields = {
  mode: z.optional(
    matching(FILE_MODE_PATTERN, 'mode must be an octal access mode in quotes, e.g. "0644" or "600"'),
  ),
  source: z.optional(nonEmpty('source')),
  content: z.optional(z.string()),
  binaryContent: z.optional(binaryContent),
  noExpand: z.optional(z.boolean()),
};

/** A file in the deprecated list form of `files`: like a map entry plus its `target` path. */
export const ScoreContainerFileListItem = strictObject({
  target: z.optional(nonEmpty('target')),
  ...fileFields,
}).check(always(checkOneFileSource));
/** A file in the deprecated list form of `files`, see {@link ScoreContainerFileListItem}. */
export type ScoreContainerFileListItem = z.infer<typeof ScoreContainerFileListItem>;

/** A file to mount into a container, keyed by its target path in the map form of `files`. */
export const ScoreContainerFile = strictObject(
  fileFields,
  'target is only used in the deprecated list form of files; in the map form the key is the target path',
).check(always(checkOneFileSource));
/** A file to mount into a container, see {@link ScoreContainerFile}. */
export type ScoreContainerFile = z.infer<typeof ScoreContainerFile>;

const volumeFields = {
  source: z.string(),
  path: z.optional(z.string()),
  readOnly: z.optional(z.boolean()),
};

/** A volume in the deprecated list form of `volumes`: like a map entry plus its `target` mount path. */
export const ScoreContainerVolumeListItem = strictObject({ ...volumeFields, target: z.optional(z.string()) });
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
  host: z.optional(nonEmpty('host')),
  scheme: z.optional(z.enum(['HTTP', 'HTTPS'])),
  path: z.string(),
  port: port('port'),
  httpHeaders: z.optional(
    z.array(
      strictObject({
        name: matching(
          HEADER_NAME_PATTERN,
          'a header name must be letters, digits, "_" and "-", e.g. X-Custom-Header',
        ),
        value: nonEmpty('a header value'),
      }),
    ),
  ),
});
/** An HTTP health probe, see {@link ScoreHttpProbe}. */
export type ScoreHttpProbe = z.infer<typeof ScoreHttpProbe>;

/** A health probe that runs a command in the container. */
export const ScoreExecProbe = strictObject({ command: z.array(z.string()) });
/** A health probe that runs a command in the container, see {@link ScoreExecProbe}. */
export type ScoreExecProbe = z.infer<typeof ScoreExecProbe>;

/** A liveness or readiness probe: httpGet, exec, or both. */
export const ScoreContainerProbe = strictObject({
  httpGet: z.optional(ScoreHttpProbe),
  exec: z.optional(ScoreExecProbe),
}).check(
  always((value, ctx) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return;
    if (value.httpGet === undefined && value.exec === undefined) {
      ctx.addIssue({
        code: 'custom',
        message: 'a probe needs httpGet (port and path) or exec (command)',
      });
    }
  }),
);
/** A liveness or readiness probe, see {@link ScoreContainerProbe}. */
export type ScoreContainerProbe = z.infer<typeof ScoreContainerProbe>;

/** A container of the workload. */
export const ScoreContainer = strictObject({
  image: nonEmpty('image'),
  command: z.optional(z.array(z.string())),
  args: z.optional(z.array(z.string())),
  variables: z.optional(
    keyedMap(
      matching(VARIABLE_NAME_PATTERN, 'a variable name must be non-empty and must not contain "="'),
      z.string(),
    ),
  ),
  files: z.optional(z.union([z.array(ScoreContainerFileListItem), z.record(z.string(), ScoreContainerFile)])),
  volumes: z.optional(
    z.union([z.array(ScoreContainerVolumeListItem), z.record(z.string(), ScoreContainerVolume)]),
  ),
  before: z.optional(
    keyedMap(
      nameKey('a container name'),
      strictObject({ ready: z.enum(['started', 'healthy', 'complete']) }),
    ),
  ),
  resources: z.optional(
    strictObject({
      limits: z.optional(ScoreResourcesLimits),
      requests: z.optional(ScoreResourcesLimits),
    }),
  ),
  livenessProbe: z.optional(ScoreContainerProbe),
  readinessProbe: z.optional(ScoreContainerProbe),
});
/** A container of the workload, see {@link ScoreContainer}. */
export type ScoreContainer = z.infer<typeof ScoreContainer>;

/** The metadata of a resource: any keys, with annotations checked when present. */
export const ScoreResourceMetadata = z.looseObject({ annotations: z.optional(annotations) });
/** The metadata of a resource, see {@link ScoreResourceMetadata}. */
export type ScoreResourceMetadata = z.infer<typeof ScoreResourceMetadata>;

/** A resource the workload depends on (a database, a DNS name, a volume, ...). */
export const ScoreResource = strictObject({
  type: matching(
    RESOURCE_TYPE_PATTERN,
    'a resource type must be 2 to 63 characters of A-Z, a-z, 0-9 and "-", starting and ending with a letter or digit, e.g. postgres',
  ),
  class: z.optional(
    matching(
      RESOURCE_TYPE_PATTERN,
      'a resource class must be 2 to 63 characters of A-Z, a-z, 0-9 and "-", starting and ending with a letter or digit, e.g. large',
    ),
  ),
  id: z.optional(
    z.string().check(
      z.minLength(2, { error: 'a resource id must be 2 to 63 characters' }),
      z.maxLength(63, { error: 'a resource id must be 2 to 63 characters' }),
      z.regex(RESOURCE_ID_PATTERN, {
        error:
          'a resource id must be "."-separated labels of a-z, 0-9 and "-" that do not start or end with "-", e.g. shared.main-db',
      }),
    ),
  ),
  metadata: z.optional(ScoreResourceMetadata),
  params: z.optional(z.record(z.string(), z.unknown())),
});
/** A resource the workload depends on, see {@link ScoreResource}. */
export type ScoreResource = z.infer<typeof ScoreResource>;

/**
 * A Score workload (`apiVersion: score.dev/v1b1`). Parsing with it accepts exactly what the official JSON
 * schema accepts; placeholders (`${resources.db.host}`) are checked separately, see `parseScore`.
 */
export const ScoreWorkload = strictObject({
  apiVersion: matching(/^score\.dev\/v1b1$/u, `apiVersion must be "${SCORE_API_VERSION}"`),
  metadata: ScoreMetadata,
  service: z.optional(ScoreService),
  containers: keyedMap(nameKey('a container name'), ScoreContainer).check(
    z.refine((containers) => Object.keys(containers).length > 0, {
      error: 'a workload needs at least one container, e.g. `web: { image: nginx }`',
    }),
  ),
  resources: z.optional(keyedMap(nameKey('a resource name'), ScoreResource)),
});
/** A Score workload, see {@link ScoreWorkload}. */
export type ScoreWorkload = z.infer<typeof ScoreWorkload>;
