import jsonPatch, { type Operation } from 'fast-json-patch';
import type { FieldProblem } from './errors.ts';
import {
  expandProfileValue,
  type ExpandedProfilePatch,
  type JsonPatchOperation,
  type WorkloadProfile,
} from './profiles.ts';

/*
 * Applying workload profiles' JSON Patches (RFC 6902, with fast-json-patch) to rendered manifests: used by
 * the Kubernetes runtime when it renders a workload, and by the server and the CLI to refuse, before it is
 * stored, a profile whose patches cannot apply to the objects Pave renders.
 */

/** A manifest as far as patching is concerned. */
export type PatchableManifest = Record<string, unknown>;

/** A patch operation that could not be applied, with where it comes from and why. */
export class ManifestPatchError extends Error {
  override name = 'ManifestPatchError';
  constructor(
    readonly patch: Pick<ExpandedProfilePatch, 'profile' | 'index'>,
    /** The index of the failing operation in the patch's `ops`. */
    readonly operation: number,
    readonly op: JsonPatchOperation,
    /** Why, for people: "the path does not exist in the object". */
    readonly reason: string,
    /** `Deployment api`: the object it was applied to. */
    readonly object: string,
  ) {
    super(
      `profile ${patch.profile}, patch ${patch.index}, operation ${operation} (${op.op} ${op.path}): ${reason} (${object})`,
    );
  }
}

const REASONS: Record<string, string> = {
  OPERATION_PATH_UNRESOLVABLE: 'the path does not exist in the object (`add` creates it)',
  OPERATION_PATH_CANNOT_ADD:
    'the path does not exist in the object: its parent is missing (add the parent first)',
  OPERATION_FROM_UNRESOLVABLE: '`from` does not exist in the object',
  OPERATION_PATH_ILLEGAL_ARRAY_INDEX: 'an array index must be a number or "-"',
  OPERATION_VALUE_OUT_OF_BOUNDS: 'the array index is past the end of the array',
  TEST_OPERATION_FAILED: 'the test failed: the object holds another value there',
};

function describeObject(object: PatchableManifest): string {
  const metadata = object.metadata as { name?: unknown } | undefined;
  return `${String(object.kind)} ${typeof metadata?.name === 'string' ? metadata.name : '(unnamed)'}`;
}

/**
 * Whether a patch's target selects `object`: same kind, and same `metadata.name` when the target names one.
 */
export function patchTargets(target: ExpandedProfilePatch['target'], object: PatchableManifest): boolean {
  if (object.kind !== target.kind) return false;
  if (target.name === undefined) return true;
  return (object.metadata as { name?: unknown } | undefined)?.name === target.name;
}

/**
 * `object` with `patch`'s operations applied in order, on a deep copy (the argument is never changed).
 * Throws {@link ManifestPatchError} at the first operation that cannot apply, naming the profile, the patch
 * index, the operation index, its op and path, and why.
 */
export function applyManifestPatch(
  object: PatchableManifest,
  patch: Pick<ExpandedProfilePatch, 'profile' | 'index' | 'ops'>,
): PatchableManifest {
  let document = jsonPatch.deepClone(object) as PatchableManifest;
  const identity = identityOf(object);
  patch.ops.forEach((op, index) => {
    try {
      document = jsonPatch.applyOperation(document, op as Operation, true, true).newDocument;
    } catch (error) {
      const name = (error as { name?: string }).name ?? '';
      const reason = REASONS[name] ?? (error as Error).message.split('\n')[0] ?? 'cannot apply';
      throw new ManifestPatchError(patch, index, op, reason, describeObject(object));
    }
    const changed = [...identity].find(([field, value]) => identityOf(document).get(field) !== value)?.[0];
    if (changed !== undefined) {
      const reason =
        `it changes ${changed}, which Pave sets to place, find and prune the object; a profile may shape an ` +
        'object, not move, rename or re-kind it; to add another object, use `objects`';
      throw new ManifestPatchError(patch, index, op, reason, describeObject(object));
    }
  });
  return document;
}

/**
 * What Pave identifies a rendered object by, as `field -> value`: its apiVersion, kind, name and namespace
 * (another namespace would leave the environment's, secrets and all, where pruning never looks) and its
 * `pave.dev/` labels (prune, remove and destroy select objects by them).
 */
function identityOf(object: PatchableManifest): Map<string, unknown> {
  const metadata = isRecord(object.metadata) ? object.metadata : {};
  const labels = isRecord(metadata.labels) ? metadata.labels : {};
  return new Map<string, unknown>([
    ['apiVersion', object.apiVersion],
    ['kind', object.kind],
    ['metadata.name', metadata.name],
    ['metadata.namespace', metadata.namespace],
    ...Object.keys(labels)
      .filter((key) => key.startsWith('pave.dev/'))
      .map((key): [string, unknown] => [`the label ${key}`, labels[key]]),
  ]);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * `objects` with every patch applied to each object its target selects (see {@link patchTargets}), patches
 * in order; an object no patch targets is returned as it is. A patch that selects no object does nothing.
 * Throws {@link ManifestPatchError} for the first operation that cannot apply.
 */
export function applyManifestPatches<T extends PatchableManifest>(
  objects: readonly T[],
  patches: ReadonlyArray<Pick<ExpandedProfilePatch, 'profile' | 'index' | 'ops' | 'target'>>,
): T[] {
  return objects.map((object) =>
    patches.reduce<T>(
      (current, patch) =>
        patchTargets(patch.target, current) ? (applyManifestPatch(current, patch) as T) : current,
      object,
    ),
  );
}

const SAMPLE = { workload: 'sample', app: 'app', env: 'env' };

/**
 * The objects Pave renders for a sample workload (one container with a variable, a port and a file), as the
 * Kubernetes runtime renders them: what a profile's patches are checked against before it is stored.
 */
export function sampleManifests(): PatchableManifest[] {
  const labels = {
    'app.kubernetes.io/instance': 'app-env',
    'app.kubernetes.io/managed-by': 'pave',
    'app.kubernetes.io/name': SAMPLE.workload,
    'pave.dev/app': SAMPLE.app,
    'pave.dev/env': SAMPLE.env,
    'pave.dev/workload': SAMPLE.workload,
  };
  const metadata = { name: SAMPLE.workload, namespace: 'pave-app-env', labels };
  const selector = { 'pave.dev/app': SAMPLE.app, 'pave.dev/env': SAMPLE.env, 'pave.dev/workload': 'sample' };
  return [
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { ...metadata, annotations: { 'pave.dev/hash': 'sample', 'pave.dev/deployment': '1' } },
      spec: {
        replicas: 1,
        selector: { matchLabels: selector },
        strategy: { type: 'RollingUpdate' },
        template: {
          metadata: { labels, annotations: { 'pave.dev/hash': 'sample' } },
          spec: {
            enableServiceLinks: false,
            containers: [
              {
                name: 'main',
                image: 'registry.example.com/sample:1',
                env: [
                  {
                    name: 'GREETING',
                    valueFrom: { configMapKeyRef: { name: 'sample', key: 'main.GREETING' } },
                  },
                ],
                ports: [{ containerPort: 8080, protocol: 'TCP' }],
                volumeMounts: [
                  { name: 'pave-files', mountPath: '/etc/app.conf', subPath: 'main.file.etc-app.conf' },
                ],
              },
            ],
            volumes: [
              { name: 'pave-files', configMap: { name: 'sample', items: [{ key: 'k', path: 'k' }] } },
            ],
          },
        },
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata,
      spec: {
        type: 'ClusterIP',
        selector,
        ports: [{ name: 'web', port: 80, protocol: 'TCP', targetPort: 8080 }],
      },
    },
    { apiVersion: 'v1', kind: 'ConfigMap', metadata, data: { 'main.GREETING': 'hello' } },
    { apiVersion: 'v1', kind: 'Secret', metadata, type: 'Opaque', data: { 'main.TOKEN': 'c2VjcmV0' } },
  ];
}

/**
 * Every problem of a profile's patches, checked against the objects Pave renders for a sample workload
 * ({@link sampleManifests}, names ignored): placeholders that do not expand (in patches and objects),
 * and operations that cannot apply, each with a JSON pointer into the profile (`/patches/0/ops/1/path`) and
 * a message naming the profile, the patch index, the operation index and the path. Patches for kinds
 * the sample has none of (Ingress, PersistentVolumeClaim) are not checked. Empty: the patches apply.
 */
export function checkProfilePatches(
  profile: Pick<WorkloadProfile, 'id' | 'patches' | 'objects'>,
): FieldProblem[] {
  const problems: FieldProblem[] = [];
  for (const [index, object] of (profile.objects ?? []).entries()) {
    try {
      expandProfileValue(object, SAMPLE);
    } catch (error) {
      problems.push({
        path: `/objects/${index}`,
        message: `profile ${profile.id}, object ${index}: ${(error as Error).message}`,
      });
    }
  }
  const samples = sampleManifests();
  profile.patches.forEach((patch, index) => {
    let ops: JsonPatchOperation[];
    try {
      ops = expandProfileValue(patch.ops, SAMPLE);
      expandProfileValue(patch.target, SAMPLE);
    } catch (error) {
      problems.push({
        path: `/patches/${index}`,
        message: `profile ${profile.id}, patch ${index}: ${(error as Error).message}`,
      });
      return;
    }
    for (const object of samples.filter((candidate) => candidate.kind === patch.target.kind)) {
      try {
        applyManifestPatch(object, { profile: profile.id, index, ops });
      } catch (error) {
        if (!(error instanceof ManifestPatchError)) throw error;
        problems.push({
          path: `/patches/${index}/ops/${error.operation}/path`,
          message:
            `profile ${profile.id}, patch ${index}, operation ${error.operation} (${error.op.op} ${error.op.path}): ` +
            `${error.reason}, on the ${patch.target.kind} Pave renders for a workload`,
        });
        break;
      }
    }
  });
  return problems;
}
