import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DriverContext, ResourceInputs } from '@pave/plugin-api';
import { TerraformDriver } from '../src/index.ts';
import {
  MODULES,
  databaseExists,
  dropDatabaseByHand,
  postgresInputs,
  recordingContext,
  removeLeftovers,
} from './support/fixtures.ts';
import { TestStateServer, stateKey } from './support/state-server.ts';

let server: TestStateServer;
const used: string[] = [];

beforeAll(async () => {
  server = await TestStateServer.start();
});
afterAll(async () => {
  for (const name of used) removeLeftovers(name);
  await server.stop();
});

const driver = TerraformDriver.fromConfig({ killGraceMs: 5_000 });

/** Inputs of the postgres module whose database is removed after the tests whatever happens. */
function inputs(options: Parameters<typeof postgresInputs>[0] = {}): ReturnType<typeof postgresInputs> {
  const made = postgresInputs(options);
  used.push(made.name);
  return made;
}

/** The error `promise` rejects with (failing the test when it resolves). */
async function rejection(promise: Promise<unknown>): Promise<Error> {
  const outcome = await promise.then(
    () => new Error('expected a rejection'),
    (error: unknown) => ({ rejected: error as Error }),
  );
  if (outcome instanceof Error) throw outcome;
  return outcome.rejected;
}

/** `ctx` with the state store of the resource of `resource` (as the control plane serves it). */
function withState<T extends DriverContext>(ctx: T, resource: ResourceInputs): T {
  return { ...ctx, stateBackend: server.backendFor(stateKey(resource.scope)) };
}

describe('terraform driver', () => {
  it('creates the database, splits outputs into values and secrets, and never logs a secret', async () => {
    const ctx = recordingContext();
    const resource = inputs();
    const state = withState(ctx, resource);
    const { id, outputs } = await driver.create(resource, state);

    expect(databaseExists(resource.name)).toBe(true);
    expect(id).toMatch(/^tf-[0-9a-f]{16}$/);
    expect(outputs.values).toEqual({
      host: '127.0.0.1',
      port: '5432',
      name: resource.name,
      database: resource.name,
      username: 'postgres',
      exists: 'true',
    });
    const password = resource.driverSecrets.password as string;
    expect(outputs.secrets).toEqual({
      password,
      url: `postgres://postgres:${password}@127.0.0.1:5432/${resource.name}`,
    });
    expect(ctx.lines.some((line) => line.message.includes('Apply complete!'))).toBe(true);
    const logged = JSON.stringify(ctx.lines);
    expect(logged).not.toContain(password);
    expect(logged).not.toContain(state.stateBackend!.password);
    // The state lives in the control plane, and the run's working directory is gone.
    expect(server.state(stateKey(resource.scope))?.resources.length).toBeGreaterThan(0);
    expect(readdirSync(ctx.scratchDir)).toEqual([]);

    expect(await driver.read(id, resource, withState(ctx, resource))).toEqual({ outputs });
  });

  it('deletes the database, and deleting again succeeds', async () => {
    const ctx = recordingContext();
    const resource = inputs();
    const { id } = await driver.create(resource, withState(ctx, resource));
    await driver.delete(id, resource, withState(ctx, resource));

    expect(databaseExists(resource.name)).toBe(false);
    expect(await driver.read(id, resource, withState(ctx, resource))).toBeNull();
    await driver.delete(id, resource, withState(ctx, resource));
  });

  it('reports a database dropped by hand as drift, naming what the refresh found', async () => {
    const ctx = recordingContext();
    const resource = inputs();
    const { id, outputs } = await driver.create(resource, withState(ctx, resource));
    dropDatabaseByHand(resource.name);

    expect(await driver.read(id, resource, withState(ctx, resource))).toEqual({
      outputs,
      drift: [
        'output exists: true -> false on refresh',
        `check.database_exists: database ${resource.name} is gone`,
      ],
    });
    await driver.delete(id, resource, withState(ctx, resource));
  });

  it('rejects a module with a syntax error naming its file and line, leaving no state and no database', async () => {
    const ctx = recordingContext();
    const resource = inputs({ source: MODULES.broken, variables: {} });
    resource.driverSecrets = {};
    resource.driverInputs = { source: MODULES.broken, variables: { name: resource.name } };

    const error = await rejection(driver.create(resource, withState(ctx, resource)));
    expect(error.message).toContain(`on ${join(MODULES.broken, 'main.tf')} line 6`);
    expect(error.message).toContain('terraform init of shared.db');
    expect(server.state(stateKey(resource.scope))).toBeUndefined();
    expect(databaseExists(resource.name)).toBe(false);
  });

  it('removes what a create that failed part way made, and rejects with the apply error', async () => {
    const ctx = recordingContext();
    const resource = inputs({ variables: { fail: true } });

    const error = await rejection(driver.create(resource, withState(ctx, resource)));
    expect(error.message).toContain('terraform apply of shared.db');
    expect(error.message).toContain('failing on purpose');
    expect(databaseExists(resource.name)).toBe(false);
    expect(server.state(stateKey(resource.scope))?.resources).toEqual([]);
    expect(ctx.lines.some((line) => line.fields?.terraform === 'destroy')).toBe(true);
  });

  it('makes a second concurrent apply wait for the state lock, and never corrupts the state', async () => {
    const ctx = recordingContext();
    const resource = inputs({ variables: { delay_seconds: 3 } });
    const key = stateKey(resource.scope);

    const [first, second] = await Promise.all([
      driver.create(resource, withState(ctx, resource)),
      driver.create(resource, withState(ctx, resource)),
    ]);
    expect(second).toEqual(first);
    expect(server.requests.some((r) => r.key === key && r.method === 'LOCK' && r.status === 423)).toBe(true);
    expect(server.violations).toEqual([]);
    expect(server.locked(key)).toBe(false);
    expect(databaseExists(resource.name)).toBe(true);
    // One database resource: the second apply found it in the state and changed nothing.
    const log = ctx.lines.map((line) => line.message).join('\n');
    expect(log).toContain('Apply complete! Resources: 0 added, 0 changed, 0 destroyed.');
    await driver.delete(first.id, resource, withState(ctx, resource));
  }, 60_000);

  it('diffs by inputs and by a plan, shown as a "plan: +add ~change -destroy" property', async () => {
    const ctx = recordingContext();
    const resource = inputs();
    const { id } = await driver.create(resource, withState(ctx, resource));
    const renamed = { ...resource, params: { database: `${resource.name}_b` } };

    expect(await driver.diff(id, resource, renamed, withState(ctx, renamed))).toEqual({
      changes: true,
      replace: false,
      changedProperties: ['params.database', 'plan: +1 ~0 -1'],
    });
    expect(await driver.diff(id, resource, resource, withState(ctx, resource))).toEqual({
      changes: false,
      replace: false,
      changedProperties: ['plan: +0 ~0 -0'],
    });
    // Without a state store (a dry run outside `pave up`) the inputs still tell.
    expect(await driver.diff(id, resource, renamed, ctx)).toEqual({
      changes: true,
      replace: false,
      changedProperties: ['params.database'],
    });
    await driver.delete(id, resource, withState(ctx, resource));
  });

  it('updates in place with the new inputs', async () => {
    const ctx = recordingContext();
    const resource = inputs();
    const { id } = await driver.create(resource, withState(ctx, resource));
    const newPassword = 'rotated-p4ssword';
    const rotated = { ...resource, driverSecrets: { password: newPassword } };

    const { outputs } = await driver.update(id, resource, rotated, withState(ctx, rotated));
    expect(outputs.secrets.password).toBe(newPassword);
    expect(JSON.stringify(ctx.lines)).not.toContain(newPassword);
    await driver.delete(id, rotated, withState(ctx, rotated));
  });

  it("logs no output's value, as Terraform prints them after an apply and in plans", async () => {
    // A module's own secret in an output it did not mark sensitive: only the control plane knows it is one
    // (a postgres resource's `password`), and learns it after the apply printed it.
    const ctx = recordingContext();
    const resource = inputs();
    const generated = (label: string): ResourceInputs => ({
      ...resource,
      scope: { ...resource.scope, type: 'token' },
      driverInputs: { source: MODULES.generated, variables: { label } },
      driverSecrets: {},
    });
    const first = generated('first');
    const { id, outputs } = await driver.create(first, withState(ctx, first));
    const token = outputs.values.password as string;
    expect(token).toMatch(/^[0-9a-f]{24}$/);
    expect(JSON.parse(outputs.values.settings as string)).toEqual({
      label: 'first',
      url: `postgres://app:${token}@127.0.0.1:5432/app`,
    });
    const second = generated('second');
    await driver.update(id, first, second, withState(ctx, second));
    const beforeDelete = ctx.lines.length;
    await driver.delete(id, second, withState(ctx, second));

    const logged = ctx.lines.map((line) => line.message);
    // The delete's plan shows the module's own resource with the token as an attribute: by then the control
    // plane knows the output is a secret and masks it in the driver's lines (see masking.ts).
    const creating = logged.slice(0, beforeDelete).join('\n');
    for (const value of [token, 'hello-first', 'hello-second']) expect(creating).not.toContain(value);
    expect(logged.join('\n')).not.toContain('hello-second');
    // Each output keeps its line, by name: after the apply, and in the update's and the delete's plans.
    const leftOut = '(value not logged: `pave resources get` shows the outputs, secrets masked)';
    expect(logged).toContain('Outputs:');
    expect(logged).toContain(`password = ${leftOut}`);
    expect(logged).toContain(`settings = ${leftOut}`);
    expect(logged).toContain('Changes to Outputs:');
    expect(logged.filter((line) => line.trim() === `~ greeting = ${leftOut}`)).toHaveLength(1);
    expect(logged.filter((line) => line.trim() === `- password = ${leftOut}`)).toHaveLength(1);
    expect(logged.some((line) => line.includes('Apply complete!'))).toBe(true);
    expect(logged.some((line) => line.includes('Destroy complete!'))).toBe(true);
  });

  it('applies a module fetched from git', async () => {
    const repo = mkdtempSync(join(tmpdir(), 'pave-tf-module-'));
    cpSync(MODULES.postgres, repo, { recursive: true });
    const git = (...args: string[]) =>
      execFileSync('git', ['-c', 'user.email=pave@example.com', '-c', 'user.name=pave', ...args], {
        cwd: repo,
      });
    git('init', '-q');
    git('add', '.');
    git('commit', '-qm', 'module');
    const ctx = recordingContext();
    const resource = inputs({ source: `git::file://${repo}` });
    try {
      expect(await driver.check(resource, ctx)).toEqual([]);
      const { id, outputs } = await driver.create(resource, withState(ctx, resource));
      expect(outputs.values.name).toBe(resource.name);
      expect(databaseExists(resource.name)).toBe(true);
      await driver.delete(id, resource, withState(ctx, resource));
      expect(databaseExists(resource.name)).toBe(false);
    } finally {
      rmSync(repo, { recursive: true, force: true });
    }
  });

  it("stops terraform after the definition's timeout", async () => {
    const ctx = recordingContext();
    const resource = inputs({ variables: { delay_seconds: 30 } });
    resource.driverInputs.timeout = 3;
    const started = Date.now();

    const error = await rejection(driver.create(resource, withState(ctx, resource)));
    expect(error.message).toContain('timed out (driverInputs.values.timeout is 3 s) and was stopped');
    expect(Date.now() - started).toBeLessThan(25_000);
    expect(server.locked(stateKey(resource.scope))).toBe(false);
    expect(databaseExists(resource.name)).toBe(false);
  }, 60_000);

  it('refuses to run without the control plane state store, saying why', async () => {
    const ctx = recordingContext();
    await expect(driver.create(inputs(), ctx)).rejects.toThrow(
      'the terraform driver keeps its state in the control plane; run it under `pave up`',
    );
  });

  it('stops terraform when the deployment stops', async () => {
    const controller = new AbortController();
    const ctx = recordingContext(controller.signal);
    const resource = inputs({ variables: { delay_seconds: 30 } });
    setTimeout(() => controller.abort(), 4_000);
    const started = Date.now();

    const error = await rejection(driver.create(resource, withState(ctx, resource)));
    expect(error.message).toContain(
      'was stopped: the deployment stopped (the control plane stopping or losing it)',
    );
    expect(error.message).not.toContain('the time the control plane gives this work');
    expect(Date.now() - started).toBeLessThan(25_000);
    expect(server.locked(stateKey(resource.scope))).toBe(false);
    expect(databaseExists(resource.name)).toBe(false);
  }, 60_000);

  it('says the time the control plane gives the work ran out, not that the deployment stopped, when ctx.signal times out', async () => {
    const controller = new AbortController();
    const ctx = recordingContext(controller.signal);
    const resource = inputs({ variables: { delay_seconds: 30 } });
    setTimeout(() => controller.abort(new DOMException('timed out', 'TimeoutError')), 4_000);

    const error = await rejection(driver.create(resource, withState(ctx, resource)));
    expect(error.message).toMatch(
      /was stopped after \d+(\.\d)? s: the time the control plane gives this work ran out \(a deployment's grows with the definition's driverInputs\.values\.timeout\)/,
    );
    expect(error.message).not.toContain('the deployment stopped');
    expect(server.locked(stateKey(resource.scope))).toBe(false);
    expect(databaseExists(resource.name)).toBe(false);

    const spent = recordingContext(AbortSignal.abort(new DOMException('timed out', 'TimeoutError')));
    const unstarted = inputs();
    const refused = await rejection(driver.create(unstarted, withState(spent, unstarted)));
    expect(refused.message).toMatch(
      /was not started: the time the control plane gives this work had run out/,
    );
  }, 60_000);
});

describe('terraform driver check', () => {
  const ctx = recordingContext();

  it('accepts the postgres module', async () => {
    expect(await driver.check(inputs(), ctx)).toEqual([]);
  });

  it('reports every failure at once, each naming its property', async () => {
    const resource = inputs();
    resource.driverInputs = {
      variables: { name: '${context.app}-${context.nope}', size: '${resource.params.size}' },
      timeout: -5,
      terraformBinary: '/nonexistent/terraform',
      varibles: {},
    };
    const failures = await driver.check(resource, ctx);
    const byProperty = Object.fromEntries(failures.map((f) => [f.property, f.reason]));

    expect(Object.keys(byProperty).sort()).toEqual([
      'source',
      'terraformBinary',
      'timeout',
      'variables.name',
      'variables.size',
      'varibles',
    ]);
    expect(byProperty['variables.name']).toContain('${context.nope}');
    expect(byProperty['variables.size']).toContain('${resource.params.size}');
    expect(byProperty.terraformBinary).toContain(
      'install Terraform (https://developer.hashicorp.com/terraform/install) or set driverInputs.values.terraformBinary to its path',
    );
  });

  it('refuses a module that does not exist, declares its own backend, or lacks a variable', async () => {
    const missing = inputs({ source: '/nonexistent/module' });
    expect(await driver.check(missing, ctx)).toEqual([
      {
        property: 'source',
        reason: 'the module directory /nonexistent/module does not exist on the Pave host',
      },
    ]);
    const extra = inputs({ variables: { colour: 'blue' } });
    const failures = await driver.check(extra, ctx);
    expect(failures.map((f) => f.property)).toEqual(['variables.colour']);
    expect(failures[0]!.reason).toContain('declares no variable "colour"');
  });

  it('names the missing terraform and how to install it', async () => {
    const noTerraform = TerraformDriver.fromConfig({}, { hostEnv: { PATH: '/nonexistent' } });
    const resource = inputs();
    const failures = await noTerraform.check(resource, ctx);
    expect(failures).toEqual([
      {
        property: 'terraformBinary',
        reason:
          'terraform is not on PATH: install Terraform (https://developer.hashicorp.com/terraform/install) or ' +
          'set driverInputs.values.terraformBinary to its path',
      },
    ]);
    await expect(noTerraform.create(resource, withState(ctx, resource))).rejects.toThrow(
      'install Terraform (https://developer.hashicorp.com/terraform/install)',
    );
  });

  it('finds the module files it copied nowhere after a run', () => {
    expect(existsSync(ctx.scratchDir) ? readdirSync(ctx.scratchDir) : []).toEqual([]);
  });
});
