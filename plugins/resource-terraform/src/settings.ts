import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { delimiter, isAbsolute, join } from 'node:path';
import { shortHash, type CheckFailure, type ResourceInputs, type ResourceScope } from '@pave/plugin-api';
import { inspectModule, type ModuleInspection } from './module.ts';

/** How long one driver call may run Terraform when `driverInputs.values.timeout` is not set. */
export const DEFAULT_TERRAFORM_TIMEOUT_SECONDS = 600;

/** The longest `timeout` the driver takes: a day (a timer cannot wait much more than 24 days). */
const MAX_TERRAFORM_TIMEOUT_SECONDS = 86_400;

/** What the driver says when it cannot find Terraform. */
export const INSTALL_HINT =
  'install Terraform (https://developer.hashicorp.com/terraform/install) or set ' +
  'driverInputs.values.terraformBinary to its path';

/** The `driverInputs.values` keys the driver reads. */
const KNOWN_KEYS = ['source', 'variables', 'terraformBinary', 'timeout'];

/** The prefix of a module source that Terraform's module installer fetches from git. */
const GIT_SOURCE = 'git::';

/** A module's source: a directory on the Pave host, or a `git::` address Terraform fetches. */
export type ModuleSource = { kind: 'local'; path: string } | { kind: 'git'; address: string };

/** The definition's inputs, validated and with every placeholder expanded. */
export interface TerraformSettings {
  source: ModuleSource;
  /** Input variables of the module (placeholders expanded); passed in a `.auto.tfvars.json` file. */
  variables: Record<string, unknown>;
  /** `driverInputs.secrets`: sensitive input variables of the module. */
  secrets: Record<string, unknown>;
  /** The program to run: `terraformBinary`, or `terraform` found on PATH. */
  binary: string;
  timeoutSeconds: number;
}

/**
 * Reads `driverInputs.values` and `driverInputs.secrets`: the settings, or every failure found (each naming
 * its property and how to fix it). A local module is inspected too (it exists, declares no backend, declares
 * the variables it is given); `path` is the PATH Terraform is looked up on when `terraformBinary` is not set.
 */
export async function readSettings(
  inputs: ResourceInputs,
  path: string | undefined,
): Promise<{ settings?: TerraformSettings; failures: CheckFailure[] }> {
  const values = inputs.driverInputs;
  const failures: CheckFailure[] = [];
  for (const key of Object.keys(values)) {
    if (!KNOWN_KEYS.includes(key)) {
      failures.push({
        property: key,
        reason: `is not a setting of the terraform driver (it reads ${KNOWN_KEYS.join(', ')}); module inputs go under "variables"`,
      });
    }
  }

  const source = sourceOf(values.source, failures);
  const variables = variablesOf(values.variables, inputs, failures);
  const secrets = inputs.driverSecrets;
  for (const [name, value] of Object.entries(secrets)) {
    if (value === null || value === undefined) {
      failures.push({ property: `secrets.${name}`, reason: 'has no value; give it one or remove it' });
    }
    if (name in variables) {
      failures.push({
        property: `variables.${name}`,
        reason: `is also a secret; give "${name}" once, under driverInputs.secrets if it is sensitive`,
      });
    }
  }

  const timeoutSeconds = timeoutOf(values.timeout, failures);
  const binary = await binaryOf(values.terraformBinary, path, failures);

  if (source?.kind === 'local') {
    const inspection = await inspectModule(source.path);
    failures.push(...moduleFailures(inspection, 'source', variables, secrets));
  }
  if (failures.length > 0 || !source || binary === undefined) return { failures };
  return { failures, settings: { source, variables, secrets, binary, timeoutSeconds } };
}

/**
 * What is wrong with a module given these variables and secrets: no Terraform files, a backend of its own,
 * or a variable it does not declare. Used by `check` for local modules, and for fetched ones once they are
 * fetched.
 */
export function moduleFailures(
  inspection: ModuleInspection,
  property: string,
  variables: Record<string, unknown>,
  secrets: Record<string, unknown>,
): CheckFailure[] {
  if ('problem' in inspection) return [{ property, reason: inspection.problem }];
  const failures: CheckFailure[] = [];
  if (inspection.backend) {
    failures.push({
      property,
      reason:
        `the module declares a ${inspection.backend.kind} (${inspection.backend.file} line ${inspection.backend.line}); ` +
        'remove it: the terraform driver keeps the state in the control plane',
    });
  }
  if (inspection.declaredVariables) {
    const declared = new Set(inspection.declaredVariables);
    for (const [section, names] of [
      ['variables', Object.keys(variables)],
      ['secrets', Object.keys(secrets)],
    ] as const) {
      for (const name of names.filter((n) => !declared.has(n))) {
        failures.push({
          property: `${section}.${name}`,
          reason: `the module declares no variable "${name}" (it declares: ${[...declared].sort().join(', ') || 'none'})`,
        });
      }
    }
  }
  return failures;
}

function sourceOf(source: unknown, failures: CheckFailure[]): ModuleSource | undefined {
  if (typeof source === 'string' && source.startsWith(GIT_SOURCE) && source.length > GIT_SOURCE.length) {
    return { kind: 'git', address: source };
  }
  if (typeof source === 'string' && isAbsolute(source)) return { kind: 'local', path: source };
  failures.push({
    property: 'source',
    reason:
      source === undefined
        ? 'is required: the module to apply, an absolute directory on the Pave host (e.g. /srv/platform/modules/postgres) or a git:: address'
        : `must be an absolute directory on the Pave host or a git:: address (e.g. git::https://example.com/modules.git//postgres?ref=v1); got ${JSON.stringify(source)}`,
  });
  return undefined;
}

function variablesOf(
  variables: unknown,
  inputs: ResourceInputs,
  failures: CheckFailure[],
): Record<string, unknown> {
  if (variables === undefined) return {};
  if (!isRecord(variables)) {
    failures.push({ property: 'variables', reason: 'must be a map of variable name to value' });
    return {};
  }
  const expanded: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(variables)) {
    if (value === null || value === undefined) {
      failures.push({ property: `variables.${name}`, reason: 'has no value; give it one or remove it' });
      continue;
    }
    const result = expandPlaceholders(value, placeholderValues(inputs));
    for (const unknown of result.unknown) {
      failures.push({
        property: `variables.${name}`,
        reason:
          `uses the unknown placeholder \${${unknown}}; known: ${CONTEXT_PLACEHOLDERS.map((p) => `\${context.${p}}`).join(', ')} ` +
          "and ${resource.params.<key>} for each key of the Score resource's params (write $${ for a literal ${)",
      });
    }
    expanded[name] = result.value;
  }
  return expanded;
}

function timeoutOf(timeout: unknown, failures: CheckFailure[]): number {
  if (timeout === undefined) return DEFAULT_TERRAFORM_TIMEOUT_SECONDS;
  if (
    typeof timeout === 'number' &&
    Number.isFinite(timeout) &&
    timeout > 0 &&
    timeout <= MAX_TERRAFORM_TIMEOUT_SECONDS
  ) {
    return timeout;
  }
  failures.push({
    property: 'timeout',
    reason:
      `must be a positive number of seconds, at most ${MAX_TERRAFORM_TIMEOUT_SECONDS} (a day); ` +
      `default ${DEFAULT_TERRAFORM_TIMEOUT_SECONDS}; got ${JSON.stringify(timeout)}`,
  });
  return DEFAULT_TERRAFORM_TIMEOUT_SECONDS;
}

async function binaryOf(
  binary: unknown,
  path: string | undefined,
  failures: CheckFailure[],
): Promise<string | undefined> {
  if (binary === undefined) {
    const found = await findOnPath('terraform', path);
    if (!found)
      failures.push({ property: 'terraformBinary', reason: `terraform is not on PATH: ${INSTALL_HINT}` });
    return found;
  }
  if (typeof binary !== 'string' || !isAbsolute(binary)) {
    failures.push({
      property: 'terraformBinary',
      reason: 'must be the absolute path of the terraform program',
    });
    return undefined;
  }
  if (!(await isExecutableFile(binary))) {
    failures.push({
      property: 'terraformBinary',
      reason: `${binary} is not an executable file: ${INSTALL_HINT}`,
    });
    return undefined;
  }
  return binary;
}

/** The absolute path of `program` in the directories of `path`, or undefined. */
async function findOnPath(program: string, path: string | undefined): Promise<string | undefined> {
  for (const dir of (path ?? '').split(delimiter).filter((d) => isAbsolute(d))) {
    const candidate = join(dir, program);
    if (await isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}

async function isExecutableFile(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/** The `${context.*}` placeholders a variable may use. */
const CONTEXT_PLACEHOLDERS = ['app', 'env', 'envType', 'res', 'type', 'class', 'name'] as const;

/** The longest `${context.name}`: a DNS label, and the limit of RDS identifiers, S3 buckets and the like. */
const MAX_NAME_LENGTH = 63;
const NAME_HASH_LENGTH = 8;

/**
 * `${context.name}`: a name for what the module creates that no other resource gets, in any environment:
 * `pave-<app>-<env>-<res>` reduced to lowercase letters, digits and single `-`, cut so that with `-<hash>` it
 * fits 63 characters. The hash (8 hex digits of SHA-256 over app, environment and graph address) keeps apart
 * what joining with `-` would merge (app `a-b` env `c`, app `a` env `b-c`), what the reduction or the cut
 * would merge, and a shared resource `web.db` from workload web's resource `db`. It starts with a letter and
 * has no `--`: a valid DNS label, RDS identifier, S3 bucket or Kubernetes name. The same resource always gets
 * the same name (`pave resources move` refuses resources with Terraform state, so the address stays).
 */
function uniqueName(scope: Pick<ResourceScope, 'app' | 'env' | 'resId' | 'address'>): string {
  const hash = shortHash(JSON.stringify([scope.app, scope.env, scope.address]), NAME_HASH_LENGTH);
  const readable = ['pave', scope.app, scope.env, scope.resId]
    .join('-')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .slice(0, MAX_NAME_LENGTH - NAME_HASH_LENGTH - 1)
    .replace(/-+$/, '');
  return `${readable}-${hash}`;
}

/** What each placeholder of a resource's variables stands for: `context.app` -> "shop", `resource.params.size` -> … */
export function placeholderValues(inputs: ResourceInputs): Map<string, unknown> {
  const { scope } = inputs;
  const values = new Map<string, unknown>([
    ['context.app', scope.app],
    ['context.env', scope.env],
    ['context.envType', scope.envType],
    ['context.res', scope.resId],
    ['context.type', scope.type],
    ['context.class', scope.class],
    ['context.name', uniqueName(scope)],
  ]);
  for (const [key, value] of Object.entries(inputs.params)) values.set(`resource.params.${key}`, value);
  return values;
}

const PLACEHOLDER = /\$\$\{|\$\{([^}]*)\}/g;
const WHOLE_PLACEHOLDER = /^\$\{([^}]*)\}$/;

/**
 * `value` with the `${name}` placeholders of every string in it (at any depth) replaced by their values;
 * `$${` stands for a literal `${`. A string that is one placeholder and nothing else takes the placeholder's
 * value as it is (a number stays a number, an object an object); inside a longer string, non-strings are
 * written as JSON. `unknown` lists the placeholders that have no value.
 */
export function expandPlaceholders(
  value: unknown,
  values: ReadonlyMap<string, unknown>,
): { value: unknown; unknown: string[] } {
  const unknown: string[] = [];
  const expand = (item: unknown): unknown => {
    if (typeof item === 'string') {
      const whole = WHOLE_PLACEHOLDER.exec(item);
      if (whole && values.has(whole[1]!)) return values.get(whole[1]!);
      return item.replace(PLACEHOLDER, (match, name: string | undefined) => {
        if (name === undefined) return '${';
        if (!values.has(name)) {
          unknown.push(name);
          return match;
        }
        const found = values.get(name);
        return typeof found === 'string' ? found : JSON.stringify(found);
      });
    }
    if (Array.isArray(item)) return item.map(expand);
    if (isRecord(item)) return Object.fromEntries(Object.entries(item).map(([k, v]) => [k, expand(v)]));
    return item;
  };
  return { value: expand(value), unknown: [...new Set(unknown)] };
}

/** Whether `value` is a plain JSON object (not null, not an array). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `value` as canonical JSON: object keys sorted at every level, so equal values compare equal. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    isRecord(v)
      ? Object.fromEntries(
          Object.keys(v)
            .sort()
            .map((k) => [k, v[k]]),
        )
      : v,
  );
}
