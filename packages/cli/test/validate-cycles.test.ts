import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../src/program.ts';
import { cliArgs, fakeIo, fakeServer, temporaryDir } from './helpers.ts';

// The route's params use the DNS record's outputs and the DNS record's params use the route's: the server's
// planner refuses to deploy it, since neither can be provisioned first.
const TWO_RESOURCE_CYCLE = `apiVersion: score.dev/v1b1
metadata:
  name: shop
containers:
  web:
    image: nginx
    command: ['nginx', '-g', 'daemon off;']
    variables:
      API_URL: https://\${resources.api.host}
resources:
  api:
    type: route
    params:
      host: \${resources.dns.host}
      path: /
  dns:
    type: dns
    params:
      target: \${resources.api.host}
`;

// A resource that uses its own outputs, and a cycle through three resources that a fourth depends on.
const SELF_AND_LONGER = `apiVersion: score.dev/v1b1
metadata:
  name: cart
containers:
  web:
    image: nginx
    command: ['nginx', '-g', 'daemon off;']
resources:
  cache:
    type: redis
    params:
      peers: ["\${resources.cache.host}:6379"]
  one:
    type: route
    params: { backend: "\${resources.two.host}" }
  two:
    type: route
    params: { backend: "\${resources.three.host}" }
  three:
    type: route
    params:
      backend: \${resources.one.host}
  four:
    type: route
    params:
      backend: \${resources.one.host}
`;

const FIX =
  'a resource cannot use its own outputs, directly or through other resources: remove one of these ' +
  'references (set that param to a literal value instead)';

/** Writes `text` as `name` into a fresh directory and returns its path. */
function scoreFile(name: string, text: string): string {
  const path = join(temporaryDir(), name);
  writeFileSync(path, text);
  return path;
}

async function run(args: string[]) {
  const io = fakeIo();
  const code = await runCli(['node', 'pave', ...args], io);
  return { code, stdout: io.stdout.text, stderr: io.stderr.text };
}

describe('pave validate, of resources whose params form a cycle', () => {
  it('prints the cycle at the placeholder where it starts, with how to fix it, and exits 1', async () => {
    const shop = scoreFile('score.yaml', TWO_RESOURCE_CYCLE);
    const cart = scoreFile('cart.yaml', SELF_AND_LONGER);
    expect(await run(['validate', '-f', shop, '-f', cart])).toEqual({
      code: 1,
      stdout: '',
      stderr:
        `${shop}:14:13: resources.api.params.host: resource params form a cycle: api -> dns -> api; ${FIX}\n` +
        `${cart}:12:16: resources.cache.params.peers[0]: resource params form a cycle: cache -> cache; ${FIX}\n` +
        `${cart}:15:25: resources.one.params.backend: resource params form a cycle: one -> two -> three -> one; ${FIX}\n` +
        'pave: error: 3 problems in 2 of 2 files\n',
    });
  });

  it('lists the cycle among the problems of the -o json report', async () => {
    const shop = scoreFile('score.yaml', TWO_RESOURCE_CYCLE);
    const result = await run(['validate', '-f', shop, '-o', 'json']);
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout)).toEqual({
      files: [
        {
          file: shop,
          valid: false,
          problems: [
            {
              file: shop,
              line: 14,
              column: 13,
              path: 'resources.api.params.host',
              message: `resource params form a cycle: api -> dns -> api; ${FIX}`,
            },
          ],
          warnings: [],
        },
      ],
    });
  });
});

describe('pave deploy, of resources whose params form a cycle', () => {
  it('refuses the file as validate does and sends nothing to the server', async () => {
    const server = await fakeServer(() => ({ status: 500, body: {} }));
    const shop = scoreFile('score.yaml', TWO_RESOURCE_CYCLE);
    const io = fakeIo();
    const code = await runCli(cliArgs(server.url, 'deploy', '-f', shop, '--app', 'shop', '--env', 'dev'), io);
    expect(code).toBe(1);
    expect(io.stderr.text).toContain(
      `score.yaml:14:13: resources.api.params.host: resource params form a cycle: api -> dns -> api; ${FIX}\n`,
    );
    expect(server.requests).toEqual([]);
  });
});
