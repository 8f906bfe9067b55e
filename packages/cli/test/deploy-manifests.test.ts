import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { SetDiff } from '@pave/core';
import { loadScoreFiles } from '../src/commands/deploy.ts';
import { renderSetDiff } from '../src/commands/diff.ts';
import { parseManifests } from '../src/manifests-dir.ts';
import { colorsFor } from '../src/output/colors.ts';
import { runCli } from '../src/program.ts';
import { fakeIo, temporaryDir } from './helpers.ts';

const API = `apiVersion: score.dev/v1b1
metadata:
  name: api
containers:
  main:
    image: nginx:1.27
`;

const CONFIG = `apiVersion: v1
kind: ConfigMap
metadata:
  name: api-config
data:
  LEVEL: debug
`;

const POLICIES = `---
# the first document is empty
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: api-ingress
spec:
  podSelector: {}
`;

function project(files: Record<string, string>): string {
  const dir = temporaryDir();
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  return dir;
}

describe('pave deploy --manifests', () => {
  it("attaches every *.yaml and *.yml document of the directory to the Score file's workload, in name order", async () => {
    const dir = project({
      'api.score.yaml': API,
      'k8s/b-policies.yml': POLICIES,
      'k8s/a-config.yaml': CONFIG,
      'k8s/notes.txt': 'not yaml: ignored',
    });
    const { workloads, problems } = await loadScoreFiles(['api.score.yaml'], dir, {}, ['k8s']);
    expect(problems).toEqual([]);
    expect(workloads[0]?.manifests).toEqual([
      {
        file: 'k8s/a-config.yaml',
        document: 1,
        manifest: {
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { name: 'api-config' },
          data: { LEVEL: 'debug' },
        },
      },
      {
        file: 'k8s/b-policies.yml',
        document: 2,
        manifest: {
          apiVersion: 'networking.k8s.io/v1',
          kind: 'NetworkPolicy',
          metadata: { name: 'api-ingress' },
          spec: { podSelector: {} },
        },
      },
    ]);
  });

  it('reports YAML errors and manifests without kind or name as file:line:column, sending nothing', async () => {
    const dir = project({
      'api.score.yaml': API,
      'k8s/broken.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: [unclosed\n',
      'k8s/nameless.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  labels: {}\n',
    });
    const io = fakeIo({ env: { NO_COLOR: '1' } });
    const code = await runCli(
      [
        'node',
        'pave',
        'deploy',
        '-f',
        join(dir, 'api.score.yaml'),
        '--manifests',
        join(dir, 'k8s'),
        '--app',
        'shop',
        '--env',
        'dev',
        '--server',
        'http://127.0.0.1:9',
        '--token',
        'pave_test',
      ],
      io,
    );
    expect(code).toBe(1);
    const lines = io.stderr.text.trimEnd().split('\n');
    expect(lines[0]).toMatch(
      new RegExp(`^${escape(join(dir, 'k8s/broken.yaml'))}:\\d+:\\d+: YAML syntax error: `),
    );
    expect(lines).toContain(
      `${join(dir, 'k8s/nameless.yaml')}:4:3: metadata.name: a Kubernetes manifest needs \`metadata.name\` (a string)`,
    );
    expect(lines.at(-1)).toMatch(/nothing was sent to the server$/);
    expect(io.stderr.text).not.toContain('cannot reach');
  });

  it('counts the lines after a flow collection the YAML parser cannot make sense of', () => {
    // The parser's own line count misses the line break inside the broken `{`.
    const { manifests, problems } = parseManifests('{]---\nid: amessage: m', 'k8s/broken.yaml');
    expect(manifests).toEqual([]);
    expect(problems).toContainEqual(
      expect.stringMatching(/^k8s\/broken\.yaml:2:5: YAML syntax error: Nested mappings are not allowed/),
    );
  });

  it('needs one --manifests per Score file, and a directory with YAML in it', async () => {
    const dir = project({
      'a.yaml': API,
      'b.yaml': API.replace('name: api', 'name: web'),
      'empty/x.txt': '',
    });
    const twoFiles = fakeIo();
    const args = ['--app', 'shop', '--env', 'dev', '--token', 't'];
    expect(
      await runCli(
        [
          'node',
          'pave',
          'deploy',
          '-f',
          join(dir, 'a.yaml'),
          join(dir, 'b.yaml'),
          '--manifests',
          dir,
          ...args,
        ],
        twoFiles,
      ),
    ).toBe(2);
    expect(twoFiles.stderr.text).toContain(
      '--manifests is given 1 time for 2 Score files; give one --manifests DIR per -f FILE, in the same order',
    );
    const empty = fakeIo();
    expect(
      await runCli(
        ['node', 'pave', 'deploy', '-f', join(dir, 'a.yaml'), '--manifests', join(dir, 'empty'), ...args],
        empty,
      ),
    ).toBe(2);
    expect(empty.stderr.text).toContain('the directory has no *.yaml or *.yml file');
  });

  it('shows the manifests a set diff adds, removes and changes, per workload', () => {
    const diff: SetDiff = {
      from: { setId: 'a', label: 'shop/dev@1' },
      to: { setId: 'b', label: 'shop/dev@2' },
      changes: [
        {
          workload: 'api',
          action: 'update',
          fields: ['manifests'],
          manifests: [
            { action: 'add', manifest: 'ConfigMap/api-config', source: 'k8s/config.yaml#1' },
            { action: 'remove', manifest: 'NetworkPolicy/api-ingress', source: 'k8s/netpol.yaml#2' },
            { action: 'update', manifest: 'Role/api', source: 'k8s/rbac.yaml#1' },
          ],
        },
      ],
      values: [],
      unified: '',
    };
    expect(renderSetDiff(diff, colorsFor(fakeIo().stdout, { NO_COLOR: '1' }))).toBe(
      [
        'Manifests:',
        '  api: + ConfigMap/api-config (k8s/config.yaml#1)',
        '  api: - NetworkPolicy/api-ingress (k8s/netpol.yaml#2)',
        '  api: ~ Role/api (k8s/rbac.yaml#1)',
      ].join('\n'),
    );
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/gu, '\\$&');
}
