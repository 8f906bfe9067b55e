import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ScoreWorkload } from '../../src/index.ts';
import { officialValidator } from './support.ts';

/*
 * The zod schema must accept exactly what the official JSON schema accepts, plus one rule the JSON schema
 * only states in a description: binaryContent is "standard-base64 encoded" (see officialVerdict). Specs are
 * generated field by field from values that are mostly valid plus the boundary and near-miss values of each
 * rule (names one character too long, lower-case enums, a file with two sources, a map-form file with a
 * target, ...), then also mutated at a random place. Every spec goes through JSON, as YAML-parsed data would.
 */

const anything = fc.jsonValue({ maxDepth: 2 });

/** Generated Score specs: all valid when `faults` is false, otherwise with a sprinkling of broken values. */
function scoreSpecs(faults: boolean) {
  /** `valid`, or with faults on, sometimes one of the `invalid` values. */
  function mostly(valid: fc.Arbitrary<unknown>, ...invalid: fc.Arbitrary<unknown>[]): fc.Arbitrary<unknown> {
    if (!faults) return valid;
    return fc.oneof(
      { arbitrary: valid, weight: 120 },
      ...invalid.map((arbitrary) => ({ arbitrary, weight: 1 })),
    );
  }
  /** A variant that is valid, or broken only when faults are on. */
  function either(valid: fc.Arbitrary<unknown>, broken: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> {
    return faults ? fc.oneof({ arbitrary: valid, weight: 30 }, { arbitrary: broken, weight: 1 }) : valid;
  }

  const label = fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,8}[a-z0-9]$/);
  const badLabels = fc.constantFrom('a', 'Web', '-web', 'web-', 'my_app', 'a.b', '', 'x'.repeat(64), 'é1');
  const name = mostly(fc.oneof(label, fc.constant('x'.repeat(63))), badLabels, fc.string({ maxLength: 4 }));
  const port = mostly(
    fc.integer({ min: 1, max: 65535 }),
    fc.constantFrom(0, -1, 65536, 1.5, '80', null, true),
    fc.integer({ min: -100, max: 70_000 }),
  );
  const shortString = fc.string({ maxLength: 6 });
  const nonEmpty = mostly(fc.string({ minLength: 1, maxLength: 8 }), fc.constantFrom('', 7, null));
  const str = mostly(shortString, fc.constantFrom(1, true, null, ['a'], { a: 1 }));
  const bool = mostly(fc.boolean(), fc.constantFrom('true', 0, null));
  const stringList = mostly(fc.array(shortString, { maxLength: 3 }), fc.constantFrom('sh -c', [1], null));

  function record<T extends Record<string, fc.Arbitrary<unknown>>>(
    model: T,
    required: (keyof T & string)[] = [],
  ) {
    const base = fc.record(model, { requiredKeys: required });
    return either(
      base,
      fc.oneof(
        fc
          .tuple(base, fc.constantFrom('extra', 'x-ext', 'Image', 'target'), anything)
          .map(([value, key, extra]) => ({ ...value, [key]: extra })),
        fc.record(model, { requiredKeys: [] }),
        fc.constantFrom(null, 'text', [], 3),
      ),
    );
  }
  const map = (key: fc.Arbitrary<unknown>, value: fc.Arbitrary<unknown>, maxKeys = 3) =>
    either(
      fc.dictionary(
        key.filter((k): k is string => typeof k === 'string'),
        value,
        { maxKeys },
      ),
      fc.constantFrom(null, 'text', [], [{}]),
    );

  const annotationKey = mostly(
    fc.oneof(
      fc.stringMatching(/^([a-z0-9]{2,4}\.[a-z]{2,3}\/)?[A-Za-z0-9][A-Za-z0-9._-]{0,6}[A-Za-z0-9]$/),
      fc.constant(`${'a'.repeat(60)}.com/${'k'.repeat(63)}`),
    ),
    fc.constantFrom('a', '-x', 'ex.com/', 'Ex.com/key', 'a/b/c'),
    fc.constant(`${'abcdefgh.'.repeat(34)}com/key`),
  );
  const annotations = map(annotationKey, str);

  const memory = mostly(
    fc.constantFrom('128M', '1.5Gi', '0.5', '10Gi', '1', '250Ki', '3E'),
    fc.constantFrom('01M', '1.M', '128m', '', 'abc', '0', '1MB', '-1M', 128),
  );
  const cpu = mostly(
    fc.constantFrom('1', '0.25', '250m', '1000m', '2'),
    fc.constantFrom('1.5m', '', 'm', '.5', 1, '-1'),
  );
  const limits = record({ memory, cpu });

  const fileMode = mostly(
    fc.constantFrom('0600', '600', '0777', '644'),
    fc.constantFrom('0800', '06000', '60', 600, ''),
  );
  // Base64 on one line or wrapped, as `base64` wraps it; near misses: no padding, spaces, base64url, ...
  const base64 = mostly(
    fc.oneof(
      fc.base64String({ maxLength: 8 }),
      fc.base64String({ minLength: 5, maxLength: 12 }).map((text) => text.replace(/(.{4})/gu, '$1\n')),
    ),
    fc.constantFrom('aGVsbG8', 'aGVs bG8=', 'a-_b', 'YQ=a', 'Y===', '!!', 'YQ==\t'),
  );
  const fileModel = { mode: fileMode, source: nonEmpty, content: str, binaryContent: str, noExpand: bool };
  // Valid files have exactly one source; with faults on, any number (and a target in the map form).
  const oneSource = fc.oneof(
    fc.record({ content: shortString }),
    fc.record({ binaryContent: base64 }),
    fc.record({ source: fc.string({ minLength: 1, maxLength: 6 }) }),
  );
  const fileOptions = fc.record({ mode: fileMode, noExpand: bool }, { requiredKeys: [] });
  const mapFile = either(
    fc.tuple(oneSource, fileOptions).map(([source, options]) => ({ ...options, ...source })),
    fc.oneof(
      fc.record(fileModel, { requiredKeys: [] }),
      fc.tuple(oneSource, nonEmpty).map(([source, target]) => ({ ...source, target })),
    ),
  );
  const listFile = either(
    fc
      .tuple(oneSource, fileOptions, nonEmpty)
      .map(([source, options, target]) => ({ target, ...options, ...source })),
    fc.record({ ...fileModel, target: nonEmpty }, { requiredKeys: [] }),
  );
  const files = fc.oneof(map(fc.string({ maxLength: 8 }), mapFile), fc.array(listFile, { maxLength: 3 }));

  const volumeModel = { source: str, path: str, readOnly: bool };
  const volumes = fc.oneof(
    map(fc.string({ maxLength: 8 }), record(volumeModel, ['source'])),
    fc.array(record({ ...volumeModel, target: str }, ['source']), { maxLength: 3 }),
  );

  const header = record(
    {
      name: mostly(fc.stringMatching(/^[A-Za-z0-9_-]{1,8}$/), fc.constantFrom('', 'X Header', 'a:b')),
      value: nonEmpty,
    },
    ['name', 'value'],
  );
  const httpGet = record(
    {
      host: nonEmpty,
      scheme: mostly(fc.constantFrom('HTTP', 'HTTPS'), fc.constantFrom('http', 'TCP')),
      path: str,
      port,
      httpHeaders: mostly(fc.array(header, { maxLength: 2 }), fc.constant({})),
    },
    ['path', 'port'],
  );
  const exec = record({ command: stringList }, ['command']);
  const probe = either(
    fc.oneof(record({ httpGet, exec }, ['httpGet']), record({ httpGet, exec }, ['exec'])),
    record({ httpGet, exec }),
  );

  const variables = map(mostly(fc.stringMatching(/^[A-Z_]{1,6}$/), fc.constantFrom('', 'A=B', '=')), str);
  const ready = mostly(
    fc.constantFrom('started', 'healthy', 'complete'),
    fc.constantFrom('ready', 'Started'),
  );
  const before = map(name, record({ ready }, ['ready']));

  const container = record(
    {
      image: nonEmpty,
      command: stringList,
      args: stringList,
      variables,
      files,
      volumes,
      before,
      resources: record({ limits, requests: limits }),
      livenessProbe: probe,
      readinessProbe: probe,
    },
    ['image'],
  );

  const resourceType = mostly(
    fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9-]{0,8}[A-Za-z0-9]$/),
    fc.constantFrom('a', 'my_type', '-pg', 'x'.repeat(64), 3),
  );
  const resourceId = mostly(
    fc.oneof(
      fc.stringMatching(/^[a-z0-9]{2,4}(-{1,2}[a-z0-9]{1,3})?(\.[a-z0-9]{1,4})?$/),
      fc.constant(`${'a'.repeat(30)}.${'b'.repeat(32)}`),
    ),
    fc.constantFrom('a', 'a..b', '-a', 'a-', 'A', 'a.', `${'a'.repeat(30)}.${'b'.repeat(33)}`, 'a_b'),
  );
  const params = mostly(
    fc.dictionary(fc.string({ maxLength: 5 }), anything, { maxKeys: 3 }),
    fc.constantFrom(null, [], 'x'),
  );
  const resource = record(
    {
      type: resourceType,
      class: resourceType,
      id: resourceId,
      metadata: record({ annotations, other: anything }),
      params,
    },
    ['type'],
  );
  const protocol = mostly(fc.constantFrom('TCP', 'UDP'), fc.constantFrom('tcp', 'SCTP'));

  return record(
    {
      apiVersion: mostly(
        fc.constant('score.dev/v1b1'),
        fc.constantFrom('score.dev/v1b2', 'score.dev/v1b1 ', 1),
      ),
      metadata: record({ name, annotations, team: anything }, ['name']),
      service: record({ ports: map(name, record({ port, protocol, targetPort: port }, ['port'])) }),
      containers: either(
        fc.dictionary(label, container, { minKeys: 1, maxKeys: 2 }),
        map(name, container, 2),
      ),
      resources: map(name, resource),
    },
    ['apiVersion', 'metadata', 'containers'],
  );
}

const validSpecs = scoreSpecs(false);
const faultySpecs = scoreSpecs(true);

/** The paths of every value inside `value`, for mutations. */
function paths(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  const children = Array.isArray(value)
    ? value.map((item, index) => paths(item, [...prefix, index]))
    : typeof value === 'object' && value !== null
      ? Object.entries(value).map(([key, item]) => paths(item, [...prefix, key]))
      : [];
  return [prefix, ...children.flat()];
}

/** `value` with the node at `path` replaced by `replacement`, or deleted when `replacement` is undefined. */
function mutate(value: unknown, path: (string | number)[], replacement: unknown): unknown {
  if (path.length === 0) return replacement;
  const [head, ...rest] = path;
  if (Array.isArray(value)) {
    const copy = [...value];
    if (rest.length === 0 && replacement === undefined) copy.splice(head as number, 1);
    else copy[head as number] = mutate(copy[head as number], rest, replacement);
    return copy;
  }
  const copy = { ...(value as Record<string, unknown>) };
  if (rest.length === 0 && replacement === undefined) delete copy[head as string];
  else copy[head as string] = mutate(copy[head as string], rest, replacement);
  return copy;
}

const mutated = fc
  .tuple(
    validSpecs,
    fc.nat(),
    fc.option(fc.oneof(anything, fc.string({ maxLength: 4 }), fc.integer()), { nil: undefined }),
  )
  .map(([value, index, replacement]) => {
    const all = paths(value);
    return mutate(value, all[index % all.length] ?? [], replacement);
  });

// RFC 4648 base64 with its padding; line breaks may split it.
const STANDARD_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/u;

/**
 * The official schema's verdict, with its description of binaryContent ("Inline standard-base64 encoded
 * content") as a rule: every file's binaryContent must be base64.
 */
function officialVerdict(data: unknown): boolean {
  if (!officialValidator(data)) return false;
  const containers = (data as { containers: Record<string, { files?: object }> }).containers;
  return Object.values(containers).every((container) =>
    Object.values(container.files ?? {}).every(
      (file: { binaryContent?: string }) =>
        file.binaryContent === undefined || STANDARD_BASE64.test(file.binaryContent.replace(/[\r\n]/gu, '')),
    ),
  );
}

// Both verdicts on `value` as YAML would deliver it (through JSON), with zod's issues for failure messages.
function verdicts(value: unknown) {
  const data: unknown = JSON.parse(JSON.stringify(value) ?? 'null');
  const parsed = ScoreWorkload.safeParse(data);
  return { zod: parsed.success, ajv: officialVerdict(data), issues: parsed.error?.issues ?? [] };
}

describe('the zod Score schema', () => {
  it('accepts every generated valid spec, as the official schema does', () => {
    fc.assert(
      fc.property(validSpecs, (value) => {
        expect(verdicts(value)).toEqual({ zod: true, ajv: true, issues: [] });
      }),
      { numRuns: 300 },
    );
  });

  it('gives the official verdict on generated specs with broken values', () => {
    const counts = { valid: 0, invalid: 0 };
    fc.assert(
      fc.property(faultySpecs, (value) => {
        const { zod, ajv, issues } = verdicts(value);
        counts[ajv ? 'valid' : 'invalid']++;
        expect({ zod, issues: zod === ajv ? [] : issues }).toEqual({ zod: ajv, issues: [] });
      }),
      { numRuns: 1500 },
    );
    // The generator is only useful if both verdicts are common.
    expect(counts.valid).toBeGreaterThan(200);
    expect(counts.invalid).toBeGreaterThan(200);
  });

  it('gives the official verdict on valid specs mutated at a random place', () => {
    fc.assert(
      fc.property(mutated, (value) => {
        const { zod, ajv, issues } = verdicts(value);
        expect({ zod, issues: zod === ajv ? [] : issues }).toEqual({ zod: ajv, issues: [] });
      }),
      { numRuns: 1500 },
    );
  });

  it('gives the official verdict on arbitrary JSON', () => {
    fc.assert(
      fc.property(anything, (value) => {
        const { zod, ajv } = verdicts(value);
        expect(zod).toBe(ajv);
      }),
      { numRuns: 500 },
    );
  });
});
