import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../src/program.ts';
import { cliArgs, fakeIo, fakeServer, temporaryDir } from './helpers.ts';

// The four examples of docs/policies.md, as a platform team writes them.
const POLICIES = `# Policies every deployment is checked against
- id: no-latest-images
  criteria:
    - envType: production
  severity: deny
  message: pin container images to a tag or digest other than latest
  each: container
  rule: container.image.contains("@") || (container.image.matches(":[^/:]+$") && !container.image.endsWith(":latest"))
- id: memory-limits
  severity: warn
  message: declare resources.limits.memory for every container
  each: container
  rule: |
    has(container.resources) &&
    has(container.resources.limits) &&
    has(container.resources.limits.memory)
- id: route-hosts
  severity: deny
  message: routes must use a host under example.com
  rule: plan.resources.all(r, r.type != "route" || (has(r.params.host) && r.params.host.endsWith(".example.com")))
- id: no-data-loss-in-production
  criteria:
    - envType: production
  severity: deny
  message: no --allow-data-loss in production
  rule: "!deployment.allowDataLoss"
`;

const score = (image: string, host = 'shop.example.com') => `apiVersion: score.dev/v1b1
metadata:
  name: api
containers:
  main:
    image: ${image}
    command: [node, server.js]
resources:
  web:
    type: route
    params:
      host: ${host}
      path: /
      port: 8080
`;

async function pave(args: string[]) {
  const io = fakeIo();
  const code = await runCli(['node', 'pave', ...args], io);
  return { code, stdout: io.stdout.text, stderr: io.stderr.text };
}

function files(entries: Record<string, string>): string {
  const dir = temporaryDir();
  for (const [name, text] of Object.entries(entries)) writeFileSync(join(dir, name), text);
  return dir;
}

describe('pave policies test (offline)', () => {
  it('gives the verdicts the server gives: a :latest image denies in production, exit 1', async () => {
    const dir = files({
      'policies.yaml': POLICIES,
      'api.score.yaml': score('nginx:latest', 'shop.evil.com'),
    });
    const args = ['policies', 'test', '-f', join(dir, 'policies.yaml'), '-f', join(dir, 'api.score.yaml')];
    const result = await pave([...args, '--env-type', 'production', '-o', 'json']);
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout).verdicts).toEqual([
      {
        policy: 'memory-limits',
        severity: 'warn',
        outcome: 'warn',
        message: 'declare resources.limits.memory for every container',
        workload: 'api',
        container: 'main',
      },
      {
        policy: 'no-data-loss-in-production',
        severity: 'deny',
        outcome: 'pass',
        message: 'no --allow-data-loss in production',
      },
      {
        policy: 'no-latest-images',
        severity: 'deny',
        outcome: 'deny',
        message: 'pin container images to a tag or digest other than latest',
        workload: 'api',
        container: 'main',
      },
      {
        policy: 'route-hosts',
        severity: 'deny',
        outcome: 'deny',
        message: 'routes must use a host under example.com',
      },
    ]);
    expect(result.stderr).toContain('2 policy checks deny: no-latest-images, route-hosts');

    const dev = await pave([...args, '--env-type', 'development']);
    expect(dev.code).toBe(1); // the route host is refused everywhere
    expect(dev.stdout).not.toContain('no-latest-images');
    expect(dev.stdout).toMatch(/route-hosts\s+deny/);
  });

  it('passes (exit 0) and prints a table for a compliant workload', async () => {
    const dir = files({ 'policies.yaml': POLICIES, 'api.score.yaml': score('nginx:1.27') });
    const result = await pave([
      'policies',
      'test',
      '-f',
      join(dir, 'policies.yaml'),
      '-f',
      join(dir, 'api.score.yaml'),
      '--env-type',
      'production',
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.split('\n')[0]).toMatch(/^POLICY\s+OUTCOME\s+MESSAGE\s+WORKLOAD\s+CONTAINER/);
    expect(result.stdout).toMatch(/no-latest-images\s+pass/);
  });

  it('refuses a rule naming an unknown field at file:line:column of the expression, evaluating nothing', async () => {
    const broken = POLICIES.replace('!deployment.allowDataLoss', '!deployment.allowDataLos').replace(
      'has(container.resources.limits) &&',
      'has(container.resources.limits) && (',
    );
    const dir = files({ 'policies.yaml': broken, 'api.score.yaml': score('nginx:1.27') });
    const result = await pave([
      'policies',
      'test',
      '-f',
      join(dir, 'policies.yaml'),
      '-f',
      join(dir, 'api.score.yaml'),
      '--env-type',
      'production',
    ]);
    expect(result.code).toBe(1);
    const lines = result.stderr.trim().split('\n');
    // The `|` block rule: its error is on a line of the block; the quoted one: line 26, after `rule: "!deployment.`.
    expect(lines.some((line) => /policies\.yaml:1[4-6]:\d+: memory-limits\.rule: /.test(line))).toBe(true);
    expect(lines).toContain(
      `${join(dir, 'policies.yaml')}:26:22: no-data-loss-in-production.rule: No such key: allowDataLos`,
    );
    expect(result.stdout).toBe('');
  });

  it('needs --reason with --override-policy on deploy, rollback and promote', async () => {
    for (const command of [
      ['deploy', '-f', 'x.yaml', '--app', 'shop', '--env', 'prod'],
      ['rollback', '--app', 'shop', '--env', 'prod'],
      ['promote', '--app', 'shop', '--from', 'staging', '--to', 'prod'],
    ]) {
      const result = await pave([
        ...command,
        '--override-policy',
        'release-freeze',
        '--server',
        'http://127.0.0.1:9',
      ]);
      expect(result.code, result.stderr).toBe(2);
      expect(result.stderr).toContain('--override-policy needs --reason');
    }
  });

  it('names the --override-policy the server does not know, on deploy, rollback and promote', async () => {
    const server = await fakeServer(() => ({
      status: 400,
      body: {
        type: 'about:blank',
        title: 'Bad Request',
        status: 400,
        detail: 'a policy to override does not exist',
        errors: [
          {
            path: '/overridePolicies/1/id',
            message:
              'there is no policy "no-such" to override (there are: release-freeze); fix the id, or leave the ' +
              'override out (`pave policies list` shows the policies)',
          },
        ],
      },
    }));
    const dir = temporaryDir();
    writeFileSync(join(dir, 'score.yaml'), score('nginx:1.27'));
    for (const command of [
      ['deploy', '-f', join(dir, 'score.yaml'), '--app', 'shop', '--env', 'prod'],
      ['rollback', '--app', 'shop', '--env', 'prod'],
      ['promote', '--app', 'shop', '--from', 'staging', '--to', 'prod'],
    ]) {
      const io = fakeIo();
      const args = [...command, '--override-policy', 'release-freeze', '--override-policy', 'no-such'];
      expect(await runCli(cliArgs(server.url, ...args, '--reason', 'INC-42'), io)).toBe(1);
      expect(io.stderr.text).toContain(
        '  - --override-policy "no-such": there is no policy "no-such" to override (there are: release-freeze)',
      );
    }
  });

  it('apply shows what the server refuses at the line of the policies file, e.g. a gate from an unknown type', async () => {
    const unknownType = (name: string, consequence: string) =>
      `environment type "${name}" does not exist (there are: development, production, staging), so ` +
      `${consequence}; fix the name, or create the type first (\`pave env-types create ${name}\`)`;
    const server = await fakeServer(() => ({
      status: 400,
      body: {
        type: 'about:blank',
        title: 'Bad Request',
        status: 400,
        detail: 'the policies cannot be applied',
        errors: [
          {
            path: '/policies/1/criteria/0/envType',
            message: unknownType('prodution', 'this criterion would never match'),
          },
          {
            path: '/policies/1/promotionGate/from',
            message: unknownType('stagin', 'no deployment could ever pass this gate'),
          },
        ],
      },
    }));
    const file = join(temporaryDir(), 'policies.yaml');
    writeFileSync(
      file,
      `- id: memory-limits
  severity: warn
  message: declare memory limits
  each: container
  rule: has(container.resources)
- id: staging-first
  criteria:
    - envType: prodution
  severity: deny
  message: deploy it to staging first
  promotionGate: { from: stagin, within: 7d }
`,
    );
    const io = fakeIo();
    expect(await runCli(cliArgs(server.url, 'policies', 'apply', '-f', file), io)).toBe(1);
    expect(io.stderr.text).toBe(
      `${file}:8:16: staging-first.criteria[0].envType: ${unknownType('prodution', 'this criterion would never match')}\n` +
        `${file}:11:26: staging-first.promotionGate.from: ${unknownType('stagin', 'no deployment could ever pass this gate')}\n` +
        `pave: error: 2 problems in ${file}, found by the server; nothing was applied\n`,
    );
    expect(server.requests).toHaveLength(1);
  });
});
