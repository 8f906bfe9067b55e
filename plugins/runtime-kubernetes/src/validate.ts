import { InputError, type FieldProblem } from '@pave/core';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { Ingress } from 'kubernetes-models/networking.k8s.io/v1/Ingress';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { PersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';

/** One problem with a rendered object: which object, where in it (a JSON pointer), and what is wrong. */
export interface ManifestProblem {
  kind: string;
  /** `<namespace>/<name>`, or `<name>` for cluster-scoped objects; "(unnamed)" without a name. */
  name: string;
  /** JSON pointer into the object, e.g. `/spec/template/spec/containers/0/ports/0/containerPort`. */
  path: string;
  message: string;
}

/** A kubernetes-models class: constructed from an object, `validate()` throws with the schema's errors. */
export interface ModelClass {
  new (data: never): { validate(): void };
}

/** How to check objects of one kind: its schema (null: none known, only the generic checks) and its scope. */
export interface KindCheck {
  model: ModelClass | null;
  namespaced: boolean;
}

/** The kubernetes-models class that checks each kind Pave renders, keyed by `<apiVersion> <kind>`. */
const MODELS: ReadonlyMap<string, { model: ModelClass; namespaced: boolean }> = new Map([
  ['v1 Namespace', { model: Namespace as ModelClass, namespaced: false }],
  ['v1 ConfigMap', { model: ConfigMap as ModelClass, namespaced: true }],
  ['v1 Secret', { model: Secret as ModelClass, namespaced: true }],
  ['v1 PersistentVolumeClaim', { model: PersistentVolumeClaim as ModelClass, namespaced: true }],
  ['v1 Service', { model: Service as ModelClass, namespaced: true }],
  ['apps/v1 Deployment', { model: Deployment as ModelClass, namespaced: true }],
  ['networking.k8s.io/v1 Ingress', { model: Ingress as ModelClass, namespaced: true }],
]);

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/u;
const DNS_1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/u;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/u;
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/u;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/u;
const DATA_KEY = /^[-._a-zA-Z0-9]+$/u;

/**
 * Checks every object against the Kubernetes OpenAPI schema of its kind (the kubernetes-models classes),
 * plus the rules the API server enforces that the schema does not state: names (DNS labels for Namespaces
 * and Services, DNS subdomains otherwise), a namespace on namespaced kinds, label keys and values, and
 * ConfigMap/Secret data keys. Returns every problem found; an empty list means all objects are valid. An
 * object of a kind Pave does not render is a problem too.
 */
export function validateManifests(objects: readonly unknown[]): ManifestProblem[] {
  return objects.flatMap((object) => validateManifest(object));
}

/**
 * Throws InputError when {@link validateManifests} finds problems; each error entry's `path` is
 * `<kind>/<name><JSON pointer>`, e.g. `Deployment/pave-shop-dev/api/spec/replicas`.
 */
export function assertValidManifests(objects: readonly unknown[]): void {
  const problems = validateManifests(objects);
  if (problems.length === 0) return;
  const errors: FieldProblem[] = problems.map((problem) => ({
    path: `${problem.kind}/${problem.name}${problem.path}`,
    message: problem.message,
  }));
  throw new InputError(
    `${problems.length} problem${problems.length === 1 ? '' : 's'} in the rendered Kubernetes manifests`,
    errors,
  );
}

function validateManifest(object: unknown): ManifestProblem[] {
  const record = isRecord(object) ? object : {};
  const kind = typeof record.kind === 'string' ? record.kind : '(no kind)';
  const apiVersion = typeof record.apiVersion === 'string' ? record.apiVersion : '(no apiVersion)';
  const metadata = isRecord(record.metadata) ? record.metadata : {};
  const name = typeof metadata.name === 'string' ? metadata.name : '';
  const namespace = typeof metadata.namespace === 'string' ? metadata.namespace : '';
  const label = `${namespace ? `${namespace}/` : ''}${name || '(unnamed)'}`;
  const problems: ManifestProblem[] = [];
  const add = (path: string, message: string) => problems.push({ kind, name: label, path, message });

  const entry = MODELS.get(`${apiVersion} ${kind}`);
  if (!entry) {
    add('/kind', `Pave has no schema for ${apiVersion} ${kind}; it renders ${[...MODELS.keys()].join(', ')}`);
    return problems;
  }
  return validateObject(object, entry);
}

/**
 * Checks one object as {@link validateManifests} does, against `entry` instead of the kinds Pave renders:
 * its schema when `entry.model` is given, then names, namespace, labels and data keys. Returns every problem.
 */
export function validateObject(object: unknown, entry: KindCheck): ManifestProblem[] {
  const record = isRecord(object) ? object : {};
  const kind = typeof record.kind === 'string' ? record.kind : '(no kind)';
  const metadata = isRecord(record.metadata) ? record.metadata : {};
  const name = typeof metadata.name === 'string' ? metadata.name : '';
  const namespace = typeof metadata.namespace === 'string' ? metadata.namespace : '';
  const label = `${namespace ? `${namespace}/` : ''}${name || '(unnamed)'}`;
  const problems: ManifestProblem[] = [];
  const add = (path: string, message: string) => problems.push({ kind, name: label, path, message });
  try {
    if (entry.model) new entry.model(object as never).validate();
  } catch (error) {
    const details = (
      error as { errors?: Array<{ instancePath?: string; message?: string; params?: unknown }> }
    ).errors;
    if (!Array.isArray(details)) add('', (error as Error).message);
    for (const detail of details ?? []) {
      add(detail.instancePath ?? '', describeSchemaError(detail.message, detail.params));
    }
  }

  if (!name) add('/metadata/name', 'an object needs metadata.name');
  else if (kind === 'Namespace') checkName(name, DNS_LABEL, 63, 'a DNS label', add);
  else if (kind === 'Service')
    checkName(name, DNS_1035_LABEL, 63, 'a DNS-1035 label (starting with a letter)', add);
  else checkName(name, DNS_SUBDOMAIN, 253, 'a DNS subdomain', add);
  if (entry.namespaced && !namespace) add('/metadata/namespace', `a ${kind} needs metadata.namespace`);
  if (!entry.namespaced && namespace) add('/metadata/namespace', `a ${kind} is cluster-scoped: no namespace`);
  if (namespace && !(namespace.length <= 63 && DNS_LABEL.test(namespace))) {
    add('/metadata/namespace', 'must be a DNS label: 1-63 of a-z, 0-9 and "-", alphanumeric at both ends');
  }
  checkLabels(metadata.labels, '/metadata/labels', add);
  if (kind === 'Deployment') {
    const template = getPath(record, ['spec', 'template', 'metadata']);
    if (isRecord(template)) checkLabels(template.labels, '/spec/template/metadata/labels', add);
  }
  if (kind === 'ConfigMap' || kind === 'Secret') {
    for (const field of ['data', 'binaryData', 'stringData']) {
      const data = record[field];
      if (!isRecord(data)) continue;
      for (const key of Object.keys(data)) {
        if (!(key.length <= 253 && DATA_KEY.test(key))) {
          add(
            `/${field}/${escapePointer(key)}`,
            'a data key must be 1-253 of letters, digits, "-", "_" and "."',
          );
        }
      }
    }
  }
  return problems;
}

function checkName(
  name: string,
  pattern: RegExp,
  max: number,
  rule: string,
  add: (path: string, message: string) => void,
): void {
  if (name.length > max || !pattern.test(name)) {
    add('/metadata/name', `"${name}" must be ${rule} of at most ${max} lowercase letters, digits and "-"`);
  }
}

function checkLabels(labels: unknown, path: string, add: (path: string, message: string) => void): void {
  if (!isRecord(labels)) return;
  for (const [key, value] of Object.entries(labels)) {
    const slash = key.lastIndexOf('/');
    const prefix = slash >= 0 ? key.slice(0, slash) : '';
    const name = slash >= 0 ? key.slice(slash + 1) : key;
    const where = `${path}/${escapePointer(key)}`;
    if (
      (slash >= 0 && !(prefix.length <= 253 && DNS_SUBDOMAIN.test(prefix))) ||
      !(name.length <= 63 && QUALIFIED_NAME.test(name))
    ) {
      add(
        where,
        'a label key is an optional DNS-subdomain prefix and "/", then a name of at most 63 characters',
      );
    }
    if (typeof value !== 'string' || value.length > 63 || !LABEL_VALUE.test(value)) {
      add(
        where,
        'a label value must be at most 63 of letters, digits, "-", "_" and ".", alphanumeric at both ends',
      );
    }
  }
}

function describeSchemaError(message: string | undefined, params: unknown): string {
  const text = message ?? 'is invalid';
  if (isRecord(params) && Array.isArray(params.allowedValues)) {
    return `${text}: ${params.allowedValues.map((value) => JSON.stringify(value)).join(', ')}`;
  }
  return text;
}

function getPath(value: unknown, path: string[]): unknown {
  let current = value;
  for (const key of path) current = isRecord(current) ? current[key] : undefined;
  return current;
}

function escapePointer(key: string): string {
  return key.replaceAll('~', '~0').replaceAll('/', '~1');
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
