import { z } from 'zod';
import { pageLimit } from './paging.ts';

/**
 * Schemas of configuration values and secrets: app-level defaults, environment overrides, versions of an
 * environment's effective values, and dotenv import.
 */

const timestamp = z.string().describe('RFC 3339 timestamp (UTC)');

/** An environment variable name. */
export const VALUE_KEY_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** The longest key a value may have, in characters. */
export const MAX_VALUE_KEY_LENGTH = 256;
/** The longest value, in characters, set directly or imported. */
export const MAX_VALUE_LENGTH = 65_536;
/**
 * The most keys one scope of values may hold: an app's defaults, or one environment's own overrides (so an
 * environment's effective values hold at most twice as many). Set, imported or copied by a clone.
 */
export const MAX_VALUE_KEYS = 1_000;
export const valueKey = z.string().max(MAX_VALUE_KEY_LENGTH).regex(VALUE_KEY_PATTERN, {
  message: 'must be an environment variable name: letters, digits and "_", not starting with a digit',
});

/** One value as the API shows it: a secret's value is null unless revealed. */
export const ValueEntry = z.object({
  key: z.string(),
  value: z.string().nullable().describe('null for a secret unless revealed'),
  secret: z.boolean(),
  /** Where an environment's effective value comes from. */
  source: z.enum(['app', 'env']),
  updatedBy: z.string(),
  updatedAt: timestamp,
});
export type ValueEntry = z.infer<typeof ValueEntry>;

export const ValueList = z
  .object({
    /** The environment's effective values version (null for app-level lists or before any value). */
    version: z.number().int().nullable(),
    items: z.array(ValueEntry),
    revealed: z.boolean(),
  })
  .meta({ id: 'ValueList' });
export type ValueList = z.infer<typeof ValueList>;

/** Change values: set some keys (optionally as secrets), unset others. */
export const PatchValuesBody = z.strictObject({
  set: z
    .record(
      valueKey,
      z.strictObject({ value: z.string().max(MAX_VALUE_LENGTH), secret: z.boolean().optional() }),
    )
    .optional(),
  unset: z.array(valueKey).optional(),
});
export type PatchValuesBody = z.infer<typeof PatchValuesBody>;

/**
 * What changed in one version, per key; never a secret's value. `not-compared` is a secret both sides hold
 * that the caller may not compare: comparing the secrets of two environments needs `values.reveal` on both,
 * since whether they are equal tells something about a value the caller may not see.
 */
export const ValueChange = z.object({
  key: z.string(),
  action: z.enum(['added', 'removed', 'changed', 'not-compared']),
  secret: z.boolean(),
  /** Old and new values of plain values; absent for secrets. */
  from: z.string().nullable().optional(),
  to: z.string().nullable().optional(),
});
export type ValueChange = z.infer<typeof ValueChange>;

export const ValuesVersion = z
  .object({
    version: z.number().int(),
    actor: z.string(),
    createdAt: timestamp,
    reason: z.string().describe('set, unset, import, rollback to N, app change, …'),
    changes: z.array(ValueChange),
  })
  .meta({ id: 'ValuesVersion' });
export type ValuesVersion = z.infer<typeof ValuesVersion>;

/** `GET /apps/{app}/envs/{env}/values/versions`: a page of the versions, newest first. */
export const ValuesHistoryQuery = z.strictObject({
  limit: pageLimit('versions', 100),
  cursor: z
    .string()
    // A version number (an integer column): digits, at most 2^31 - 1.
    .refine((text) => /^\d{1,10}$/.test(text) && Number(text) <= 2_147_483_647, {
      message: 'must be the nextCursor value of a previous page',
    })
    .optional()
    .describe('Continue after a previous page: its `nextCursor` (versions older than that one).'),
});
export type ValuesHistoryQuery = z.infer<typeof ValuesHistoryQuery>;

/** A page of an environment's values versions, newest first; `nextCursor` is null on the last page. */
export const ValuesVersionPage = z.object({
  items: z.array(ValuesVersion),
  nextCursor: z.string().nullable(),
});
export type ValuesVersionPage = z.infer<typeof ValuesVersionPage>;

/** A values version number in a query: digits, at most 2^31 - 1 (an integer column); 0 is before any value. */
const versionNumber = (what: string) =>
  z
    .string()
    .refine((text) => /^\d{1,10}$/.test(text) && Number(text) <= 2_147_483_647, {
      message: 'must be a version number (0 for before any value); `pave values history` lists them',
    })
    .optional()
    .describe(what);

/** `GET /apps/{app}/envs/{env}/values/diff`: which two versions to compare. */
export const ValuesDiffQuery = z.strictObject({
  from: versionNumber('The older side (the version before `to` unless given; 0 is before any value).'),
  to: versionNumber('The newer side (the newest version unless given).'),
});
export type ValuesDiffQuery = z.infer<typeof ValuesDiffQuery>;

/** How one key differs between two values versions: plain values are shown, a secret's never. */
export const ValueKeyDiff = z
  .object({
    key: z.string(),
    change: z.enum(['added', 'removed', 'changed', 'unchanged']),
    secret: z.boolean(),
    from: z.string().nullable().describe('The plain value at `from`; null for a secret or a key it lacks.'),
    to: z.string().nullable().describe('The plain value at `to`; null for a secret or a key it lacks.'),
  })
  .meta({ id: 'ValueKeyDiff' });
export type ValueKeyDiff = z.infer<typeof ValueKeyDiff>;

/**
 * Every key of two versions of an environment's values, sorted, and how each differs. Secrets are compared by
 * their keyed fingerprints: a secret set and set back is unchanged.
 */
export const ValuesDiff = z
  .object({
    from: z.number().int(),
    to: z.number().int(),
    keys: z.array(ValueKeyDiff),
  })
  .meta({ id: 'ValuesDiff' });
export type ValuesDiff = z.infer<typeof ValuesDiff>;

/**
 * The result of a change: the new version of each environment whose effective values changed, and (for a
 * PATCH) the keys to unset that were not set where the change was made.
 */
export const ValuesChanged = z.object({
  changes: z.array(ValueChange),
  versions: z.array(z.object({ envId: z.string(), version: z.number().int() })),
  notSet: z
    .array(z.string())
    .optional()
    .describe(
      "Keys of `unset` that were not set at this level (app level, or the environment's own overrides): " +
        'nothing was removed for them. Only in the answer of a PATCH.',
    ),
});
export type ValuesChanged = z.infer<typeof ValuesChanged>;

export const ValuesQuery = z.strictObject({
  reveal: z.enum(['true', 'false']).optional().describe('Show secret values (audited).'),
});

export const ValuesRollbackBody = z.strictObject({
  // An integer column: at most 2^31 - 1.
  version: z
    .number()
    .int()
    .min(1)
    .max(2_147_483_647, { message: 'must be a version of the values; `pave values history` lists them' }),
});

export const ImportValuesBody = z.strictObject({
  dotenv: z.string().max(1_048_000).describe('The content of a dotenv file.'),
  secret: z
    .boolean()
    .optional()
    .describe(
      'true: every imported key is secret; false: every one is plain text; absent: a key that is a secret ' +
        'stays one, a new key is plain text.',
    ),
});
export type ImportValuesBody = z.infer<typeof ImportValuesBody>;

/** A master-key rotation's outcome. */
export const RotationResult = z.object({
  masterKeyVersion: z.number().int(),
  rewrappedDataKeys: z.number().int(),
});
export type RotationResult = z.infer<typeof RotationResult>;
