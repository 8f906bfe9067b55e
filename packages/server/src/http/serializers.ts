import type { FastifySerializerCompiler } from 'fastify';
import fastJsonStringify from 'fast-json-stringify';
import { Ajv, type Options as AjvOptions, type ValidateFunction } from 'ajv';
import { serializerCompiler as zodSerializerCompiler } from 'fastify-type-provider-zod';
import { z } from 'zod';

/*
 * Response serialization. Every route declares zod response schemas, and Pave relies on them to keep secrets
 * and internal fields out of its answers: a property a schema does not declare is stripped. Zod's serializer
 * (fastify-type-provider-zod) encodes every response with its schema and then calls JSON.stringify, which
 * costs several times what writing the JSON does. Here each schema that JSON Schema expresses faithfully is
 * converted and compiled with fast-json-stringify, which writes only the properties the schema declares.
 *
 * A compiled serializer is guarded by an Ajv validator of the same JSON Schema: a response the validator
 * refuses goes to zod's serializer, which answers it exactly as before (its JSON, or a
 * ResponseSerializationError that handleError turns into a 500). So fast-json-stringify only ever sees values
 * that match the schema, the one case where its output is defined (it coerces anything else).
 */

type Serialize = (data: unknown) => string;

/** How one route answers one status (or content type): with a compiled serializer, or with zod's. */
export interface SerializerChoice {
  method: string;
  url: string;
  status: string;
  contentType: string | undefined;
  schema: z.core.$ZodType;
  /** The serializer Fastify calls for these answers. */
  serialize: Serialize;
  compiled: boolean;
  /** Why zod's serializer is kept: the first part of the schema JSON Schema cannot express faithfully. */
  fallbackReason?: string;
}

/**
 * The serializer compiler of one API: compiles every response schema that unrepresentable() accepts, and
 * records for every route which serializer it got.
 */
export class ResponseSerializers {
  readonly choices: SerializerChoice[] = [];

  readonly compile: FastifySerializerCompiler<unknown> = (route) => {
    // zod's compiler refuses what is not a zod schema, as it always has.
    const zodSerialize = zodSerializerCompiler(route as Parameters<typeof zodSerializerCompiler>[0]);
    const schema = zodSchemaOf(route.schema);
    const fallbackReason = unrepresentable(schema);
    const serialize = fallbackReason ? zodSerialize : compileSerializer(schema, zodSerialize);
    this.choices.push({
      method: route.method,
      url: route.url,
      status: route.httpStatus ?? 'default',
      contentType: route.contentType,
      schema,
      serialize,
      compiled: !fallbackReason,
      ...(fallbackReason ? { fallbackReason } : {}),
    });
    return serialize;
  };
}

/** The zod schema of a route's answer, as Fastify hands it over (it may wrap it as `{ properties }`). */
function zodSchemaOf(schema: unknown): z.core.$ZodType {
  if (schema instanceof z.core.$ZodType) return schema;
  return (schema as { properties: z.core.$ZodType }).properties;
}

/**
 * The compiled serializer of `schema`, which unrepresentable() must have accepted: fast-json-stringify for a
 * response the guard accepts, `fallback` (zod's serializer of the route) for any other. The schema is
 * compiled on the first response that needs it, once per process: compiling all of them (some 70) would add
 * more than a second to start-up.
 */
export function compileSerializer(schema: z.core.$ZodType, fallback: Serialize): Serialize {
  let compiled: Compiled | undefined;
  return (data) => {
    compiled ??= compiledOf(schema);
    return compiled.matches(data) ? compiled.stringify(data) : fallback(data);
  };
}

interface Compiled {
  matches: ValidateFunction;
  stringify: Serialize;
}

/**
 * Options of the guard's Ajv and of the one fast-json-stringify uses to choose a union's option: patterns are
 * compiled without the `u` flag, as zod compiles its own; formats are not checked, because zod writes the
 * pattern it checks a format with beside it. The schemas come from zod, so they are not checked against the
 * JSON Schema meta-schema (which took most of the time of compiling one).
 */
const AJV_OPTIONS: AjvOptions = {
  strict: false,
  validateFormats: false,
  unicodeRegExp: false,
  validateSchema: false,
};

const compiledSchemas = new WeakMap<z.core.$ZodType, Compiled>();
let guardAjv: Ajv | undefined;

function compiledOf(schema: z.core.$ZodType): Compiled {
  let compiled = compiledSchemas.get(schema);
  if (!compiled) {
    const jsonSchema = encodedJsonSchema(schema);
    guardAjv ??= new Ajv(AJV_OPTIONS);
    compiled = {
      matches: guardAjv.compile(jsonSchema),
      stringify: fastJsonStringify(jsonSchema, { ajv: AJV_OPTIONS }),
    };
    compiledSchemas.set(schema, compiled);
  }
  return compiled;
}

/**
 * The JSON Schema of the JSON zod's serializer writes. It encodes responses, so that JSON has the schema's
 * input shape: an object that strips unknown keys leaves `additionalProperties` open (the guard must accept
 * the extra properties zod strips; fast-json-stringify writes only declared ones), a strict object closes it,
 * and a loose one lets extra properties through, as zod does.
 */
export function encodedJsonSchema(schema: z.core.$ZodType): Record<string, unknown> {
  const { $schema: _draft, ...jsonSchema } = z.toJSONSchema(schema, {
    io: 'input',
    target: 'draft-07',
    unrepresentable: 'throw',
  });
  return jsonSchema;
}

/**
 * Why serializing `schema` from its JSON Schema could give another result than zod's serializer, naming the
 * first part of it that could (`at` is its path); undefined when it cannot. Accepted are the types whose
 * encoding is the value itself: strings, numbers, booleans, null, literals, enums, arrays, objects (stripping,
 * strict or loose), records, optional, nullable and readonly wrappers, unknown and any, and unions whose
 * options cannot match the same value. Anything else keeps zod's serializer: what changes a value
 * (transforms, pipes, codecs, overwriting checks such as trim), fills one in (defaults, catch), has no JSON
 * form (dates, bigints, maps, sets), or cannot be checked by the guard (refinements, custom types, and lazy,
 * possibly recursive, schemas).
 */
export function unrepresentable(schema: z.core.$ZodType, at = '$'): string | undefined {
  const check = uncheckableCheck(schema);
  if (check) return `${at}: a ${check} check`;
  const def = (schema as z.core.$ZodTypes)._zod.def;
  switch (def.type) {
    case 'string':
    case 'number':
    case 'boolean':
    case 'null':
    case 'unknown':
    case 'any':
    case 'enum':
      return undefined;
    case 'literal':
      return def.values.every(isJsonPrimitive) ? undefined : `${at}: a literal that JSON cannot hold`;
    case 'optional':
    case 'nullable':
    case 'readonly':
      return unrepresentable(def.innerType, at);
    case 'array':
      return unrepresentable(def.element, `${at}[]`);
    case 'object':
      return firstReason([
        ...Object.entries(def.shape).map(
          ([key, value]) =>
            () =>
              unrepresentable(value, `${at}.${key}`),
        ),
        // A strict object's catchall is never: it refuses unknown keys, and its JSON Schema says so too.
        () => (def.catchall && !isNever(def.catchall) ? unrepresentable(def.catchall, `${at}.*`) : undefined),
      ]);
    case 'record':
      return firstReason([
        () => unrepresentable(def.keyType, `${at} (key)`),
        () => unrepresentable(def.valueType, `${at}.*`),
      ]);
    case 'union':
      if (!('discriminator' in def) && !typesAreDisjoint(def.options)) {
        return `${at}: a union whose options may match the same value`;
      }
      return firstReason(def.options.map((option, index) => () => unrepresentable(option, `${at}|${index}`)));
    default:
      return `${at}: ${def.type}`;
  }
}

function firstReason(reasons: Array<() => string | undefined>): string | undefined {
  for (const reason of reasons) {
    const found = reason();
    if (found) return found;
  }
  return undefined;
}

/**
 * The kind of the first check on `schema` that JSON Schema cannot carry: a refinement (`custom`), which the
 * guard cannot run, or an `overwrite` (trim, toLowerCase…), which changes the value.
 */
function uncheckableCheck(schema: z.core.$ZodType): string | undefined {
  const kinds = (schema._zod.def.checks ?? []).map((check) => check._zod.def.check);
  return kinds.find((kind) => kind === 'custom' || kind === 'overwrite');
}

function isNever(schema: z.core.$ZodType): boolean {
  return schema._zod.def.type === 'never';
}

function isJsonPrimitive(value: unknown): boolean {
  return value === null || ['string', 'number', 'boolean'].includes(typeof value);
}

type JsonType = 'string' | 'number' | 'boolean' | 'null' | 'object' | 'array';
const EVERY_JSON_TYPE: readonly JsonType[] = ['string', 'number', 'boolean', 'null', 'object', 'array'];

/**
 * Whether no JSON value can match two of `options`. Then the option zod's union takes (the first that
 * accepts the value) is the one fast-json-stringify takes (the first whose JSON Schema matches it).
 */
function typesAreDisjoint(options: readonly z.core.$ZodType[]): boolean {
  const seen = new Set<JsonType>();
  for (const type of options.flatMap(jsonTypesOf)) {
    if (seen.has(type)) return false;
    seen.add(type);
  }
  return true;
}

/** The JSON types a value of `schema` may have: every type for a schema this does not look into. */
function jsonTypesOf(schema: z.core.$ZodType): readonly JsonType[] {
  const def = (schema as z.core.$ZodTypes)._zod.def;
  switch (def.type) {
    case 'string':
    case 'number':
    case 'boolean':
    case 'null':
      return [def.type];
    case 'enum':
      return distinct(Object.values(def.entries).flatMap(jsonTypeOfValue));
    case 'literal':
      return distinct(def.values.flatMap(jsonTypeOfValue));
    case 'array':
      return ['array'];
    case 'object':
    case 'record':
      return ['object'];
    case 'nullable':
      return distinct([...jsonTypesOf(def.innerType), 'null']);
    case 'optional':
    case 'readonly':
      return jsonTypesOf(def.innerType);
    case 'union':
      return distinct(def.options.flatMap(jsonTypesOf));
    default:
      return EVERY_JSON_TYPE;
  }
}

function distinct(types: JsonType[]): JsonType[] {
  return [...new Set(types)];
}

/** The JSON type of an enum's or literal's value; a value JSON cannot hold counts as every type. */
function jsonTypeOfValue(value: unknown): JsonType[] {
  if (value === null) return ['null'];
  const type = typeof value;
  return type === 'string' || type === 'number' || type === 'boolean' ? [type] : [...EVERY_JSON_TYPE];
}
