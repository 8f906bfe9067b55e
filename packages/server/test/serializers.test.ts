import fc from 'fast-check';
import { isResponseSerializationError, serializerCompiler } from 'fastify-type-provider-zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { compileSerializer, encodedJsonSchema, type SerializerChoice } from '../src/http/serializers.ts';
import { storeEngines } from '../../../test/support/stores.ts';
import { idleRuntime, openDeployingApi, type DeployingApi } from './support/deploying-api.ts';
import { openFullApi, type FullApi } from './support/full-api.ts';

/**
 * Responses are serialized by fast-json-stringify where a route's zod schema allows it (src/http/serializers.ts).
 * The compiled serializers must write the same JSON as zod's serializer for every valid response, never a
 * property zod strips, and still refuse a response that does not match its schema.
 */

const SEED = 20_261_204;
const RUNS_PER_SCHEMA = 40;

/** Properties no response schema declares: the compiled serializers must drop them as zod does. */
const UNDECLARED = { passwordHash: '$argon2id$v=19$…', internal_row_id: 7 };

/** The answers that fall back to zod's serializer, and why; HEAD routes mirror their GET. */
const EXPECTED_FALLBACKS = [
  'GET /api/v1/policies 200: $.items[].description: a custom check',
  'GET /api/v1/policies/:id 200: $.description: a custom check',
  'GET /api/v1/profiles 200: $.items[].description: a custom check',
  'GET /api/v1/profiles/:id 200: $.description: a custom check',
  'GET /api/v1/templates 200: $.items[].parameters.type: default',
  'GET /api/v1/templates/:id 200: $.title: a custom check',
];

/** The routes of the API throughput benchmark and its neighbours: they must take the compiled path. */
const HOT_ROUTES = [
  'GET /api/v1/apps/:app',
  'GET /api/v1/apps',
  'GET /api/v1/apps/:app/envs/:env',
  'GET /api/v1/apps/:app/envs/:env/deployments',
  'GET /api/v1/apps/:app/envs/:env/deployments/:id',
];

/** zod's serializer of the route, as the API used it for every answer before the compiled ones. */
function zodSerializerOf(choice: SerializerChoice): (data: unknown) => string {
  return serializerCompiler({ schema: choice.schema, method: choice.method, url: choice.url });
}

/** What a serializer does with `value`: its JSON, or the error it throws. */
function outcome(
  serialize: (data: unknown) => string,
  value: unknown,
): { json: string } | { error: unknown } {
  try {
    return { json: serialize(value) };
  } catch (error) {
    return { error };
  }
}

/**
 * `value` with UNDECLARED properties on every object in it, nested ones included, but the values of the
 * properties named in `records`: a record declares every key, so what is added to one is not undeclared.
 */
function withUndeclared(value: unknown, records: readonly string[] = []): unknown {
  if (Array.isArray(value)) return value.map((item) => withUndeclared(item, records));
  if (value === null || typeof value !== 'object') return value;
  const copy = Object.fromEntries(
    Object.entries(value).map(([key, inner]) => [
      key,
      records.includes(key) ? inner : withUndeclared(inner, records),
    ]),
  );
  return { ...copy, ...UNDECLARED };
}

/** The properties of the hot routes' answers that are records (`z.record`): by workload name, say. */
const RECORDS = ['workloadArtifacts'];

// Values from a JSON Schema ------------------------------------------------------------------------------------

type JsonSchema = {
  $ref?: string;
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  propertyNames?: JsonSchema;
  items?: JsonSchema;
  minItems?: number;
  maxItems?: number;
  enum?: unknown[];
  const?: unknown;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  definitions?: Record<string, JsonSchema>;
};

/** Strings that escaping gets wrong: quotes, backslashes, control characters, lone surrogates, long ones. */
const awkwardString = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.constantFrom(
    '',
    '"',
    '\\',
    '\u0000',
    '\u2028',
    '\uD800',
    'x\uDC00',
    '😀',
    'é'.repeat(50),
    'a'.repeat(6000),
  ),
);

/**
 * Values shaped by `schema` (the JSON Schema of a response, so mostly valid ones; the property keeps those
 * zod accepts), with UNDECLARED properties on objects that may have more.
 */
function valuesOf(schema: JsonSchema, root: JsonSchema, depth = 0): fc.Arbitrary<unknown> {
  if (schema.$ref)
    return valuesOf(root.definitions![schema.$ref.replace('#/definitions/', '')]!, root, depth);
  // zod writes a described reference as `allOf: [{ $ref }]`.
  if (schema.allOf?.length === 1) return valuesOf(schema.allOf[0]!, root, depth);
  const options = schema.anyOf ?? schema.oneOf;
  if (options) return fc.oneof(...options.map((option) => valuesOf(option, root, depth + 1)));
  if (schema.const !== undefined) return fc.constant(schema.const);
  if (schema.enum) return fc.constantFrom(...schema.enum);
  if (Array.isArray(schema.type)) {
    return fc.oneof(...schema.type.map((type) => valuesOf({ ...schema, type }, root, depth)));
  }
  switch (schema.type) {
    case 'string':
      return stringsOf(schema);
    case 'integer':
      return fc.integer({
        min: schema.minimum ?? (schema.exclusiveMinimum ?? -1e9 - 1) + 1,
        max: Math.min(schema.maximum ?? (schema.exclusiveMaximum ?? 1e9 + 1) - 1, 1e9),
      });
    case 'number':
      return fc.double({
        noNaN: true,
        noDefaultInfinity: true,
        min: schema.minimum ?? schema.exclusiveMinimum,
        minExcluded: schema.exclusiveMinimum !== undefined,
        max: schema.maximum ?? schema.exclusiveMaximum,
        maxExcluded: schema.exclusiveMaximum !== undefined,
      });
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array':
      return fc.array(valuesOf(schema.items ?? {}, root, depth + 1), {
        minLength: schema.minItems ?? 0,
        maxLength: Math.max(schema.minItems ?? 0, Math.min(schema.maxItems ?? 3, depth > 3 ? 1 : 3)),
      });
    case 'object':
      return objectsOf(schema, root, depth);
    default:
      return depth > 3 ? fc.constant(null) : fc.jsonValue({ maxDepth: 2 });
  }
}

function stringsOf(schema: JsonSchema): fc.Arbitrary<string> {
  if (schema.pattern) return fc.stringMatching(new RegExp(schema.pattern), { size: 'xsmall' });
  if (schema.minLength !== undefined || schema.maxLength !== undefined) {
    return fc.string({ unit: 'binary', minLength: schema.minLength, maxLength: schema.maxLength ?? 20 });
  }
  return awkwardString;
}

function objectsOf(schema: JsonSchema, root: JsonSchema, depth: number): fc.Arbitrary<unknown> {
  const declared = fc.record(
    Object.fromEntries(
      Object.entries(schema.properties ?? {}).map(([key, inner]) => [key, valuesOf(inner, root, depth + 1)]),
    ),
    { requiredKeys: schema.required ?? [] },
  );
  const more = schema.additionalProperties;
  if (more === false) return declared;
  const keys = schema.propertyNames?.pattern
    ? fc.stringMatching(new RegExp(schema.propertyNames.pattern), { size: 'xsmall' })
    : fc.string({ maxLength: 8 });
  const extra =
    typeof more === 'object'
      ? fc.dictionary(keys, valuesOf(more, root, depth + 1), { maxKeys: 3 })
      : fc.constantFrom({}, UNDECLARED);
  return fc.tuple(declared, extra).map(([own, added]) => ({ ...added, ...own }));
}

// The API's answers ---------------------------------------------------------------------------------------------

describe('response serializers of every route', () => {
  let api: FullApi;
  let choices: SerializerChoice[];

  beforeAll(async () => {
    api = await openFullApi('sqlite');
    choices = api.app.responseSerializers.choices.filter((choice) => choice.method !== 'HEAD');
  });
  afterAll(async () => api?.cleanup());

  it('compiles every answer but those listed, and the hot routes in particular', () => {
    expect(choices.length).toBeGreaterThan(50);
    const fallbacks = choices
      .filter((choice) => !choice.compiled)
      .map((choice) => `${choice.method} ${choice.url} ${choice.status}: ${choice.fallbackReason}`);
    expect(fallbacks.sort()).toEqual([...EXPECTED_FALLBACKS].sort());
    for (const route of HOT_ROUTES) {
      const answers = choices.filter((choice) => `${choice.method} ${choice.url}` === route);
      expect(answers.length, route).toBeGreaterThan(0);
      expect(answers.every((choice) => choice.compiled)).toBe(true);
    }
  });

  it('writes the same JSON as zod for every value zod accepts, without undeclared properties', () => {
    for (const choice of choices.filter((one) => one.compiled)) {
      const zodSerialize = zodSerializerOf(choice);
      const jsonSchema = encodedJsonSchema(choice.schema) as JsonSchema;
      const unguarded = compileSerializer(choice.schema, () => {
        throw new Error(`${choice.method} ${choice.url}: the guard refused a value zod accepts`);
      });
      fc.assert(
        fc.property(valuesOf(jsonSchema, jsonSchema), (value) => {
          const expected = outcome(zodSerialize, value);
          fc.pre('json' in expected);
          // The compiled path itself answers it, not zod's serializer behind the guard.
          unguarded(value);
          const written = choice.serialize(value);
          expect(JSON.parse(written), `${choice.method} ${choice.url}`).toEqual(JSON.parse(expected.json));
          for (const key of Object.keys(UNDECLARED)) expect(written).not.toContain(`"${key}"`);
        }),
        { seed: SEED, numRuns: RUNS_PER_SCHEMA },
      );
    }
    // Some 70 schemas, each compiled on its first value: tens of seconds on a busy machine.
  }, 180_000);

  it('answers a value that does not match the schema as zod does: with a ResponseSerializationError', () => {
    const app = choices.find((choice) => `${choice.method} ${choice.url}` === 'GET /api/v1/apps/:app')!;
    const valid = { id: 'shop', name: 'Shop', createdBy: 'admin', createdAt: '2026-12-04T10:00:00.000Z' };
    const invalid: unknown[] = [
      { ...valid, environments: [{ id: 'dev' }] },
      { ...valid, id: 'Not A Label', environments: [] },
      { ...valid, name: 42, environments: [] },
      { ...valid, environments: null },
      null,
      'shop',
    ];
    for (const value of invalid) {
      const compiled = outcome(app.serialize, value);
      expect(compiled, JSON.stringify(value)).toHaveProperty('error');
      expect(isResponseSerializationError((compiled as { error: unknown }).error)).toBe(true);
    }
  });
});

describe('compileSerializer', () => {
  const Account = z.object({
    id: z.string(),
    roles: z.array(z.object({ role: z.string(), scope: z.string().nullable() })),
    labels: z.record(z.string(), z.string()),
    extra: z.looseObject({ kind: z.literal('note') }),
  });
  const refused = () => {
    throw new Error('the guard refused a valid value');
  };

  it('drops properties the schema does not declare, at every depth, and keeps those of loose objects', () => {
    const serialize = compileSerializer(Account, refused);
    const value = {
      id: 'u1',
      passwordHash: 'x',
      roles: [{ role: 'admin', scope: null, secret: 's' }],
      labels: { team: 'a' },
      extra: { kind: 'note', kept: true },
    };
    expect(JSON.parse(serialize(value))).toEqual({
      id: 'u1',
      roles: [{ role: 'admin', scope: null }],
      labels: { team: 'a' },
      extra: { kind: 'note', kept: true },
    });
  });

  it('hands values its guard refuses to zod’s serializer', () => {
    const serialize = compileSerializer(Account, () => 'zod');
    expect(serialize({ id: 'u1', roles: 'none', labels: {}, extra: { kind: 'note' } })).toBe('zod');
  });
});

describe.each(storeEngines)('real answers on %s', (engine) => {
  let api: DeployingApi;
  let deploymentId: string;

  beforeAll(async () => {
    api = await openDeployingApi(engine, { runtime: idleRuntime, worker: true });
    expect((await api.call('POST', '/apps', { id: 'shop', name: 'Shop "Ω"' })).statusCode).toBe(201);
    expect((await api.call('POST', '/apps/shop/envs', { id: 'dev', type: 'development' })).statusCode).toBe(
      201,
    );
    const spec = {
      apiVersion: 'score.dev/v1b1',
      metadata: { name: 'web' },
      containers: { main: { image: 'node:20' } },
    };
    const deployed = await api.deploy('shop', 'dev', { workloads: [{ spec, dir: '/srv/app' }] });
    expect(deployed.status).toBe('succeeded');
    deploymentId = deployed.id;
  });
  afterAll(async () => api?.cleanup());

  const concrete = (route: string) =>
    route
      .replace('GET /api/v1', '')
      .replace(':app', 'shop')
      .replace(':env', 'dev')
      .replace(':id', deploymentId);

  it('serves the hot routes on the compiled path, with the JSON zod would write', async () => {
    const choices = api.app.responseSerializers.choices;
    for (const route of HOT_ROUTES) {
      const answer = await api.call('GET', concrete(route));
      expect(answer.statusCode, `${route}: ${answer.body}`).toBe(200);
      const choice = choices.find((one) => `${one.method} ${one.url}` === route && one.status === '200')!;
      const body = answer.json() as unknown;
      // The guard takes real answers: they are not handed to zod.
      const written = compileSerializer(choice.schema, () => {
        throw new Error(`${route}: the guard refused a real answer`);
      })(withUndeclared(body, RECORDS));
      expect(JSON.parse(written)).toEqual(body);
      expect(JSON.parse(zodSerializerOf(choice)(withUndeclared(body, RECORDS)))).toEqual(body);
    }
  });

  it('still answers a response that does not match its schema with a 500 problem', async () => {
    await api.store.db
      .insertInto('apps')
      .values({ id: 'Not A Label', name: 'x', created_by: 'admin', created_at: new Date().toISOString() })
      .execute();
    const answer = await api.call('GET', '/apps');
    expect(answer.statusCode).toBe(500);
    expect(answer.headers['content-type']).toBe('application/problem+json; charset=utf-8');
    expect(answer.json()).toMatchObject({
      status: 500,
      detail: expect.stringMatching(/^internal error; the server log has details under request id /),
    });
    expect(answer.body).not.toContain('Not A Label');
  });
});
