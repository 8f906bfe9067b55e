import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../src/program.ts';
import { cliArgs, fakeIo, fakeServer, temporaryDir } from './helpers.ts';

// The examples of docs/profiles.md, as a platform team writes them.
const PROFILES = `# Workload profiles
- id: prod-hardening
  criteria: [{ envType: production }]
  patches:
    - target: { kind: Deployment }
      ops:
        - { op: add, path: /spec/replicas, value: 3 }
        - { op: add, path: /spec/template/spec/securityContext, value: { runAsNonRoot: true } }
  objects:
    - apiVersion: policy/v1
      kind: PodDisruptionBudget
      metadata: { name: "\${workload.name}" }
      spec:
        minAvailable: 1
        selector: { matchLabels: { pave.dev/workload: "\${workload.name}" } }
`;

function file(text: string): string {
  const path = join(temporaryDir(), 'profiles.yaml');
  writeFileSync(path, text);
  return path;
}

describe('pave profiles apply', () => {
  it('plans first, then applies the profiles of the file', async () => {
    const server = await fakeServer((request) => ({
      status: 200,
      body: {
        applied: !(request.body as { dryRun?: boolean }).dryRun,
        changes: [{ id: 'prod-hardening', action: 'create', fields: [] }],
      },
    }));
    const io = fakeIo();
    expect(await runCli(cliArgs(server.url, 'profiles', 'apply', '-f', file(PROFILES)), io)).toBe(0);
    expect(server.requests.map((r) => [r.method, r.url, (r.body as { dryRun?: boolean }).dryRun])).toEqual([
      ['POST', '/api/v1/profiles/apply', true],
      ['POST', '/api/v1/profiles/apply', undefined],
    ]);
    const sent = (server.requests[1]?.body as { profiles: unknown[] }).profiles;
    expect(sent[0]).toMatchObject({ id: 'prod-hardening', criteria: [{ envType: 'production' }] });
    expect(io.stdout.text).toContain('create    prod-hardening');
    expect(io.stdout.text).toContain('Applied 1 change.');
  });

  it('refuses a patch that cannot apply, at its line and column, sending nothing', async () => {
    const server = await fakeServer(() => ({ status: 500 }));
    const broken = PROFILES.replace(
      'op: add, path: /spec/template/spec/securityContext',
      'op: replace, path: /spec/template/spec/securityContext',
    );
    const io = fakeIo();
    const path = file(broken);
    expect(await runCli(cliArgs(server.url, 'profiles', 'apply', '-f', path), io)).toBe(1);
    expect(server.requests).toEqual([]);
    expect(io.stderr.text).toContain(
      `${path}:8:32: prod-hardening.patches[0].ops[1].path: profile prod-hardening, patch 0, operation 1 ` +
        '(replace /spec/template/spec/securityContext): the path does not exist',
    );
    const invalid = fakeIo();
    const pointer = file(PROFILES.replace('path: /spec/replicas', 'path: spec/replicas'));
    expect(await runCli(cliArgs(server.url, 'profiles', 'apply', '-f', pointer), invalid)).toBe(1);
    expect(invalid.stderr.text).toMatch(
      /profiles\.yaml:7:28: \[0\]\.patches\[0\]\.ops\[0\]\.path: a JSON pointer/u,
    );
  });
});

describe('pave profiles match', () => {
  it('shows which profiles apply, most specific first, and the API JSON with -o json', async () => {
    const match = {
      app: 'shop',
      env: 'prod',
      envType: 'production',
      matches: [
        { id: 'shop-prod', criterion: { appId: 'shop', envId: 'prod' }, specificity: 6 },
        { id: 'prod-hardening', criterion: { envType: 'production' }, specificity: 1 },
      ],
    };
    const server = await fakeServer(() => ({ status: 200, body: match }));
    const io = fakeIo();
    expect(await runCli(cliArgs(server.url, 'profiles', 'match', '--app', 'shop', '--env', 'prod'), io)).toBe(
      0,
    );
    expect(server.requests[0]?.url).toBe('/api/v1/profiles/match?app=shop&env=prod');
    expect(io.stdout.text.split('\n').slice(1, 3)).toEqual([
      expect.stringMatching(/^shop-prod\s+appId=shop,envId=prod\s+6$/u),
      expect.stringMatching(/^prod-hardening\s+envType=production\s+1$/u),
    ]);
    const json = fakeIo();
    await runCli(
      cliArgs(server.url, 'profiles', 'match', '--app', 'shop', '--env', 'prod', '-o', 'json'),
      json,
    );
    expect(JSON.parse(json.stdout.text)).toEqual(match);
  });
});
