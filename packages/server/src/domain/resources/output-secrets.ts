import { RESOURCE_TYPES } from '@pave/core';
import type { ResourceDriver, ResourceInputs, ResourceOutputs } from '@pave/plugin-api';
import { MIN_SECRET_LENGTH } from './masking.ts';

/**
 * Types whose plain outputs Pave and the runtimes read themselves (a route's host and path, a volume's
 * source): they cannot become secrets, so one that holds a secret is refused (plainOutputSecret).
 */
const SERVED_TYPES = new Set(
  Object.entries(RESOURCE_TYPES)
    .filter(([, info]) => info.secretOutputs.length === 0)
    .map(([type]) => type),
);

/**
 * `outputs` with every output that is a secret among the secrets, wherever the driver put it: the secret
 * outputs of the resource's type (a postgres `password` or `url`), and any plain output that holds one of
 * `secrets` (what Pave knows of the resource: its definition's secrets, the secret outputs of other
 * resources its params hold, and its own secret outputs) — say a Terraform output that is not `sensitive`,
 * built from `${resources.cache.password}`. Plain outputs are stored as they are and shown to everyone who
 * may read the app; secrets are encrypted and masked. A type Pave serves itself (SERVED_TYPES) keeps its
 * plain outputs: one that holds a secret is refused when the resource is recorded.
 */
export function secretsKept(
  type: string,
  outputs: ResourceOutputs,
  secrets: readonly string[],
): ResourceOutputs {
  const declared = new Set(RESOURCE_TYPES[type]?.secretOutputs ?? []);
  const known = [...secrets, ...Object.values(outputs.secrets)].filter(
    (secret) => secret.length >= MIN_SECRET_LENGTH,
  );
  const moved = Object.entries(outputs.values).filter(
    ([name, value]) =>
      declared.has(name) || (!SERVED_TYPES.has(type) && known.some((secret) => value.includes(secret))),
  );
  if (moved.length === 0) return outputs;
  const values = { ...outputs.values };
  for (const [name] of moved) delete values[name];
  // A secret output of the same name wins over the plain one.
  return { values, secrets: { ...Object.fromEntries(moved), ...outputs.secrets } };
}

/**
 * The name of a plain output of `outputs` that holds one of `secrets` (a route whose path was built from a
 * database's password), or undefined: such a resource is not recorded (see secretsKept).
 */
export function plainOutputSecret(outputs: ResourceOutputs, secrets: readonly string[]): string | undefined {
  const known = secrets.filter((secret) => secret.length >= MIN_SECRET_LENGTH);
  return Object.entries(outputs.values).find(([, value]) =>
    known.some((secret) => value.includes(secret)),
  )?.[0];
}

/** `driver` with the outputs of its create, update and read passed through secretsKept. */
export function secretKeepingDriver(driver: ResourceDriver, secrets: readonly string[]): ResourceDriver {
  const kept = (inputs: ResourceInputs, outputs: ResourceOutputs) =>
    secretsKept(inputs.scope.type, outputs, secrets);
  return {
    name: driver.name,
    check: (inputs, ctx) => driver.check(inputs, ctx),
    diff: (id, olds, news, ctx) => driver.diff(id, olds, news, ctx),
    create: async (inputs, ctx) => {
      const made = await driver.create(inputs, ctx);
      return { ...made, outputs: kept(inputs, made.outputs) };
    },
    update: async (id, olds, news, ctx) => {
      const updated = await driver.update(id, olds, news, ctx);
      return { ...updated, outputs: kept(news, updated.outputs) };
    },
    read: async (id, inputs, ctx) => {
      const found = await driver.read(id, inputs, ctx);
      return found && { ...found, outputs: kept(inputs, found.outputs) };
    },
    delete: (id, inputs, ctx) => driver.delete(id, inputs, ctx),
  };
}
