import { Validator, type OutputUnit, type Schema } from '@cfworker/json-schema';
import {
  createErrorHandler,
  toErrorSchema,
  unwrapErrorHandler,
  validationDataMerge,
  type CustomValidator,
  type ErrorTransformer,
  type RJSFSchema,
  type RJSFValidationError,
  type UiSchema,
  type ValidationData,
  type ValidatorType,
} from '@rjsf/utils';

/*
 * The portal's Content Security Policy allows no eval, and Ajv (so @rjsf/validator-ajv8) compiles every schema
 * into a function with `new Function`. This validator checks form data with @cfworker/json-schema instead, an
 * interpreter of the same drafts, and words its problems as Ajv does, so the form says what the server would.
 * (@rjsf/validator-ajv8 stays a dependency only because @rjsf/core's index imports it for a test helper; the
 * bundler drops it, and Ajv with it, since nothing the portal uses reaches it.)
 */

// Keywords that only report that something beneath them failed: the failure itself is reported too.
const APPLICATORS = new Set([
  'properties',
  'patternProperties',
  'additionalProperties',
  'items',
  'prefixItems',
  'allOf',
  '$ref',
  '$recursiveRef',
  'dependentSchemas',
  'unevaluatedProperties',
  'unevaluatedItems',
]);

const validators = new WeakMap<object, Validator>();

function validatorFor(schema: RJSFSchema, rootSchema?: RJSFSchema): Validator {
  const known = validators.get(schema);
  if (known && !rootSchema) return known;
  // References point into the root schema: carry its definitions along.
  const withDefs =
    rootSchema && rootSchema !== schema
      ? { ...schema, $defs: rootSchema.$defs, definitions: rootSchema.definitions }
      : schema;
  const validator = new Validator(withDefs as Schema, '2020-12', false);
  if (!rootSchema) validators.set(schema, validator);
  return validator;
}

/** The value of the JSON pointer `location` (`#/properties/port/minimum`) in `schema`, if it is there. */
function atPointer(schema: unknown, location: string): unknown {
  let node = schema;
  for (const part of location.replace(/^#\/?/, '').split('/').filter(Boolean)) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[part.replaceAll('~1', '/').replaceAll('~0', '~')];
  }
  return node;
}

/** What is wrong, worded as Ajv words it (`must match pattern "…"`), from the keyword and its schema value. */
export function problemMessage(keyword: string, rule: unknown, fallback: string): string {
  switch (keyword) {
    case 'type':
      return `must be ${Array.isArray(rule) ? rule.join(',') : String(rule)}`;
    case 'pattern':
      return `must match pattern "${String(rule)}"`;
    case 'format':
      return `must match format "${String(rule)}"`;
    case 'minimum':
      return `must be >= ${String(rule)}`;
    case 'maximum':
      return `must be <= ${String(rule)}`;
    case 'exclusiveMinimum':
      return `must be > ${String(rule)}`;
    case 'exclusiveMaximum':
      return `must be < ${String(rule)}`;
    case 'multipleOf':
      return `must be multiple of ${String(rule)}`;
    case 'minLength':
      return `must NOT have fewer than ${String(rule)} characters`;
    case 'maxLength':
      return `must NOT have more than ${String(rule)} characters`;
    case 'minItems':
      return `must NOT have fewer than ${String(rule)} items`;
    case 'maxItems':
      return `must NOT have more than ${String(rule)} items`;
    case 'enum':
      return `must be equal to one of the allowed values${Array.isArray(rule) ? `: ${rule.join(', ')}` : ''}`;
    case 'const':
      return 'must be equal to constant';
    default:
      return fallback.replace(/\.$/, '');
  }
}

/** The field path of a JSON pointer, as rjsf writes it: `#/answers/name` -> `.answers.name`. */
function propertyOf(instanceLocation: string, extra?: string): string {
  const parts = instanceLocation
    .replace(/^#\/?/, '')
    .split('/')
    .filter(Boolean)
    .map((part) => decodeURIComponent(part).replaceAll('~1', '/').replaceAll('~0', '~'));
  if (extra !== undefined) parts.push(extra);
  return parts.map((part) => (/^[A-Za-z_$][\w$]*$/.test(part) ? `.${part}` : `['${part}']`)).join('');
}

function toRjsfError(unit: OutputUnit, schema: RJSFSchema): RJSFValidationError | undefined {
  if (APPLICATORS.has(unit.keyword)) return undefined;
  if (unit.keyword === 'required') {
    // The missing property is named only in the text; rjsf shows the problem at the property's own field.
    const missing = /required property "(.*)"/.exec(unit.error)?.[1];
    const property = propertyOf(unit.instanceLocation, missing);
    return { name: 'required', property, message: 'is required', stack: `${property} is required` };
  }
  const message = problemMessage(unit.keyword, atPointer(schema, unit.keywordLocation), unit.error);
  const property = propertyOf(unit.instanceLocation);
  return { name: unit.keyword, property, message, stack: `${property || 'form'} ${message}` };
}

/** The problems of `formData` against `schema`, one per failed rule, at the fields they concern. */
export function schemaProblems(schema: RJSFSchema, formData: unknown): RJSFValidationError[] {
  const result = validatorFor(schema).validate(formData ?? {});
  if (result.valid) return [];
  const seen = new Set<string>();
  return result.errors
    .map((unit) => toRjsfError(unit, schema))
    .filter((error): error is RJSFValidationError => {
      if (!error || seen.has(error.stack)) return false;
      seen.add(error.stack);
      return true;
    });
}

/** An rjsf validator that needs no eval: JSON Schema 2020-12 through @cfworker/json-schema, Ajv's wording. */
export const schemaValidator: ValidatorType = {
  validateFormData(
    formData: unknown,
    schema: RJSFSchema,
    customValidate?: CustomValidator,
    transformErrors?: ErrorTransformer,
    uiSchema?: UiSchema,
  ): ValidationData<unknown> {
    let errors = schemaProblems(schema, formData);
    if (transformErrors) errors = transformErrors(errors, uiSchema);
    const errorSchema = toErrorSchema(errors);
    const data: ValidationData<unknown> = { errors, errorSchema };
    if (!customValidate) return data;
    const custom = customValidate(formData, createErrorHandler(formData), uiSchema);
    return validationDataMerge(data, unwrapErrorHandler(custom));
  },
  isValid(schema: RJSFSchema, formData: unknown, rootSchema: RJSFSchema): boolean {
    try {
      return validatorFor(schema, rootSchema).validate(formData).valid;
    } catch {
      return false;
    }
  },
  rawValidation<Result = unknown>(schema: RJSFSchema, formData?: unknown) {
    try {
      return { errors: schemaProblems(schema, formData) as Result[] };
    } catch (error) {
      return { validationError: error as Error };
    }
  },
};
