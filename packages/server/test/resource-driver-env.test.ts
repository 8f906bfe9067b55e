import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { detectIsolationHost, isolationFor, type DriverContext, type ResourceInputs } from '@pave/plugin-api';
import { testDriverContext } from '@pave/plugin-api/testing';
import { resourceDriverRegistry } from '../src/resource-drivers.ts';

// `pave up --driver-env` reaches the exec and terraform drivers through the server's resource-driver config.
const work = mkdtempSync(join(tmpdir(), 'pave-driver-env-'));
const dataDir = join(work, 'data');
mkdirSync(dataDir, { mode: 0o700 });
const pgliteScript = '/nonexistent/pglite-server.js';
const passed = `PAVE_TEST_PASSED_${process.pid}`;
const withheld = `PAVE_TEST_WITHHELD_${process.pid}`;
process.env[passed] = 'passed-on';
process.env[withheld] = 'held-back';
const ctx: DriverContext = testDriverContext();
afterAll(() => {
  delete process.env[passed];
  delete process.env[withheld];
  rmSync(ctx.scratchDir, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
});

/** A shell script (mode 0755) printing what it sees of the two variables. */
function script(name: string, body: string): string {
  const path = join(work, name);
  writeFileSync(path, `#!/bin/sh\n${body}`, { mode: 0o755 });
  return path;
}

const printsEnvironment = script(
  'exec.sh',
  `cat >/dev/null
printf '{"values":{"passed":"%s","withheld":"%s","path":"%s"}}' "\${${passed}-unset}" "\${${withheld}-unset}" "\${PATH:+set}"
`,
);

let counter = 0;
function execInputs(): ResourceInputs {
  counter += 1;
  const address = `api.bucket${counter}`;
  return {
    scope: {
      app: 'shop',
      env: 'dev',
      envType: 'development',
      type: 'bucket',
      class: 'default',
      resId: address,
      address,
    },
    driverInputs: { command: [printsEnvironment] },
    driverSecrets: {},
    params: {},
  };
}

describe('resource-driver config driverEnv', () => {
  it('passes the named variables of the control plane on to exec commands, besides the default ones', async () => {
    const exec = resourceDriverRegistry({ dataDir, pgliteScript, driverEnv: [passed] }).get('exec');
    const { outputs } = await exec.create(execInputs(), ctx);
    expect(outputs.values).toEqual({ passed: 'passed-on', withheld: 'unset', path: 'set' });
  });

  it('passes none of them without it', async () => {
    const exec = resourceDriverRegistry({ dataDir, pgliteScript }).get('exec');
    const { outputs } = await exec.create(execInputs(), ctx);
    expect(outputs.values).toEqual({ passed: 'unset', withheld: 'unset', path: 'set' });
  });

  const host = detectIsolationHost({ dataDir });
  it.skipIf(!host.bwrap)('passes them on to sandboxed exec commands too', async () => {
    const isolation = isolationFor(host, 'sandbox');
    const exec = resourceDriverRegistry({ dataDir, pgliteScript, isolation, driverEnv: [passed] }).get(
      'exec',
    );
    // As root the sandbox drops to the workload user, who must be able to reach the script.
    chmodSync(work, 0o755);
    try {
      const { outputs } = await exec.create(execInputs(), ctx);
      expect(outputs.values).toEqual({ passed: 'passed-on', withheld: 'unset', path: 'set' });
    } finally {
      chmodSync(work, 0o700);
    }
  });

  it('passes the named variables on to terraform', async () => {
    const seen = join(work, 'terraform-saw');
    // Records what `terraform init` sees, then fails: the driver stops there.
    const terraform = script(
      'terraform',
      `printf '%s|%s|%s' "\${${passed}-unset}" "\${${withheld}-unset}" "$1" > '${seen}'\nexit 1\n`,
    );
    const module = join(work, 'module');
    mkdirSync(module, { recursive: true });
    writeFileSync(join(module, 'main.tf'), 'output "name" {\n  value = "x"\n}\n');
    const driver = resourceDriverRegistry({ dataDir, pgliteScript, driverEnv: [passed] }).get('terraform');
    const inputs: ResourceInputs = {
      ...execInputs(),
      driverInputs: { source: module, terraformBinary: terraform },
    };
    const backend = {
      address: 'http://127.0.0.1:9/state',
      lockAddress: 'http://127.0.0.1:9/lock',
      unlockAddress: 'http://127.0.0.1:9/unlock',
      username: 'u',
      password: 'p',
    };
    await expect(driver.create(inputs, { ...ctx, stateBackend: backend })).rejects.toThrow();
    expect(readFileSync(seen, 'utf8')).toBe('passed-on|unset|init');
  });
});
