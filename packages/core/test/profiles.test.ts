import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { WorkloadProfile, expandProfileValue, expandProfiles, matchProfiles } from '../src/profiles.ts';
import { applyManifestPatch, checkProfilePatches, sampleManifests } from '../src/profile-patch.ts';

/** The example of docs/profiles.md. */
const PROD_HARDENING = {
  id: 'prod-hardening',
  criteria: [{ envType: 'production' }],
  patches: [
    {
      target: { kind: 'Deployment' },
      ops: [
        { op: 'add', path: '/spec/replicas', value: 3 },
        { op: 'add', path: '/spec/template/spec/securityContext', value: { runAsNonRoot: true } },
      ],
    },
  ],
  objects: [
    {
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: { name: '${workload.name}' },
      spec: { minAvailable: 1, selector: { matchLabels: { 'pave.dev/workload': '${workload.name}' } } },
    },
  ],
};

const issues = (value: unknown) => {
  const result = WorkloadProfile.safeParse(value);
  return result.success
    ? []
    : result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
};

describe('the workload profile schema', () => {
  it('takes the documented example', () => {
    expect(issues(PROD_HARDENING)).toEqual([]);
  });

  it('refuses operations that are not RFC 6902, paths that are not JSON pointers and objects without kind or name', () => {
    expect(
      issues({
        id: 'Bad_Id',
        criteria: [{ envType: 'production', resId: 'x' }],
        patches: [
          {
            target: { kind: 'deployment' },
            ops: [
              { op: 'add', path: 'spec/replicas', value: 3 },
              { op: 'replace', path: '/spec/replicas' },
              { op: 'move', path: '/a' },
              { op: 'merge', path: '/a' },
            ],
          },
        ],
        objects: [{ apiVersion: 'v1', metadata: {} }],
      }),
    ).toEqual([
      expect.stringMatching(/^id: /u),
      expect.stringMatching(/^criteria\.0: .*resId/u),
      expect.stringMatching(/^patches\.0\.target\.kind: a Kubernetes kind/u),
      expect.stringMatching(/^patches\.0\.ops\.0\.path: a JSON pointer/u),
      'patches.0.ops.1.value: `replace` needs a value',
      'patches.0.ops.2.from: `move` needs from: where to move from',
      expect.stringMatching(/^patches\.0\.ops\.3\.op: /u),
      'objects.0.kind: an object needs kind',
      'objects.0.metadata.name: an object needs metadata.name, e.g. ${workload.name}-pdb',
    ]);
    expect(issues({ id: 'empty', criteria: [] })).toEqual([
      'patches: a profile needs at least one patch or one object',
    ]);
  });
});

describe('matching profiles to an environment', () => {
  const profiles = [
    { id: 'everywhere', criteria: [] },
    { id: 'prod', criteria: [{ envType: 'production' }] },
    { id: 'shop-prod', criteria: [{ envType: 'staging' }, { appId: 'shop', envId: 'prod' }] },
    { id: 'other-app', criteria: [{ appId: 'blog' }] },
  ];

  it('lists every profile that applies, most specific first', () => {
    const matched = matchProfiles(profiles, { appId: 'shop', envId: 'prod', envType: 'production' });
    expect(matched.map((m) => [m.profile.id, m.specificity])).toEqual([
      ['shop-prod', 6],
      ['prod', 1],
      ['everywhere', 0],
    ]);
    expect(matched[0]?.criterion).toEqual({ appId: 'shop', envId: 'prod' });
    expect(
      matchProfiles(profiles, { appId: 'shop', envId: 'dev', envType: 'development' }).map(
        (m) => m.profile.id,
      ),
    ).toEqual(['everywhere']);
  });
});

describe('profile placeholders', () => {
  const scope = { workload: 'api', app: 'shop', env: 'prod' };

  it('expands ${workload.name}, ${app} and ${env} in every string, keeps escapes literal and refuses others', () => {
    expect(
      expandProfileValue(
        { name: '${workload.name}-pdb', list: ['${app}/${env}', 3, true, null], keep: '$${app}' },
        scope,
      ),
    ).toEqual({ name: 'api-pdb', list: ['shop/prod', 3, true, null], keep: '${app}' });
    expect(() => expandProfileValue('${resources.db.host}', scope)).toThrow(
      '${resources.db.host} is not a profile placeholder; use ${workload.name}, ${app}, ${env}',
    );
    const effects = expandProfiles([WorkloadProfile.parse(PROD_HARDENING)], scope);
    expect(effects?.ids).toEqual(['prod-hardening']);
    expect(effects?.objects[0]).toMatchObject({
      source: 'profile prod-hardening',
      manifest: { metadata: { name: 'api' } },
    });
    expect(expandProfiles([], scope)).toBeUndefined();
  });

  it('leaves text without placeholders as it is', () => {
    fc.assert(
      fc.property(
        fc.string().filter((text) => !text.includes('$')),
        (text) => {
          expect(expandProfileValue(text, scope)).toBe(text);
        },
      ),
    );
  });
});

describe('applying and checking profile patches', () => {
  it('patches a copy, and names the profile, patch, operation and path of an operation that cannot apply', () => {
    const [deployment] = sampleManifests();
    const patched = applyManifestPatch(deployment!, {
      profile: 'prod-hardening',
      index: 0,
      ops: PROD_HARDENING.patches[0]!.ops as never,
    });
    expect(patched).toMatchObject({
      spec: { replicas: 3, template: { spec: { securityContext: { runAsNonRoot: true } } } },
    });
    expect(deployment).toMatchObject({ spec: { replicas: 1 } });
    expect(() =>
      applyManifestPatch(deployment!, {
        profile: 'prod-hardening',
        index: 2,
        ops: [
          { op: 'add', path: '/spec/replicas', value: 3 },
          { op: 'add', path: '/spec/template/spec/nope/securityContext', value: {} },
        ],
      }),
    ).toThrow(
      'profile prod-hardening, patch 2, operation 1 (add /spec/template/spec/nope/securityContext): the path does not exist',
    );
  });

  it('refuses a profile whose patches do not apply to the objects Pave renders', () => {
    const broken = WorkloadProfile.parse({
      ...PROD_HARDENING,
      patches: [
        PROD_HARDENING.patches[0],
        { target: { kind: 'Service' }, ops: [{ op: 'remove', path: '/spec/externalName' }] },
        { target: { kind: 'Ingress' }, ops: [{ op: 'remove', path: '/spec/anything' }] },
      ],
    });
    expect(checkProfilePatches(WorkloadProfile.parse(PROD_HARDENING))).toEqual([]);
    expect(checkProfilePatches(broken)).toEqual([
      {
        path: '/patches/1/ops/0/path',
        message: expect.stringMatching(
          /^profile prod-hardening, patch 1, operation 0 \(remove \/spec\/externalName\): the path does not exist/u,
        ),
      },
    ]);
  });
});
