import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeEngines } from '../../../test/support/stores.ts';
import { idleRuntime, openDeployingApi, type DeployingApi } from './support/deploying-api.ts';

// A definition's `driverInputs.values` are stored and shown in plain text (`pave defs get`); a password there
// was accepted and only refused when a deployment first used the definition.
describe.each(storeEngines)('secrets in the plain values of a resource definition, on %s', (engine) => {
  let api: DeployingApi;
  beforeAll(async () => {
    api = await openDeployingApi(engine, { runtime: idleRuntime });
  });
  afterAll(async () => {
    await api?.cleanup();
  });

  const apply = (values: Record<string, unknown>, type = 'postgres', driver = 'static') =>
    api.call('POST', '/resource-definitions/apply', {
      definitions: [{ id: 'plain', type, driver, driverInputs: { values, secrets: {} }, criteria: [{}] }],
    });

  it('refuses a secret output of the type, or a URL with a password, naming the field; stores nothing', async () => {
    const refused = await apply({ host: 'db', port: 5432, username: 'app', password: 'hunter2' });
    expect(refused.statusCode).toBe(400);
    expect(refused.json().errors).toEqual([
      {
        path: '/definitions/0/driverInputs/values/password',
        message:
          '"password" is a secret of postgres resources: move it to driverInputs.secrets, which Pave stores ' +
          'encrypted and never shows',
      },
    ]);
    const admin = await apply(
      { adminUrl: 'postgres://pave_admin:s3cret@db:5432/postgres' },
      'postgres',
      'postgres-server',
    );
    expect(admin.statusCode).toBe(400);
    expect(admin.json().errors).toEqual([
      {
        path: '/definitions/0/driverInputs/values/adminUrl',
        message:
          'holds a URL with a password in it: move it to driverInputs.secrets, which Pave stores encrypted and never shows',
      },
    ]);
    expect(JSON.stringify(refused.json()) + JSON.stringify(admin.json())).not.toMatch(/hunter2|s3cret/);
    expect((await api.call('GET', '/resource-definitions/plain')).statusCode).toBe(404);
  });

  // Found by a review of secrets: only the top level of the values was looked at.
  it("refuses them nested in the values too (an exec command's env, a Terraform variable), at their pointer", async () => {
    const refused = await apply(
      {
        command: ['/usr/local/bin/provision'],
        env: { ADMIN_URL: 'postgres://admin:nested-s3cret@db:5432/x' },
        nested: { list: [{ password: 'nested-hunter2' }] },
      },
      'postgres',
      'exec',
    );
    expect(refused.statusCode).toBe(400);
    expect(refused.json().errors.map((error: { path: string }) => error.path)).toEqual([
      '/definitions/0/driverInputs/values/env/ADMIN_URL',
      '/definitions/0/driverInputs/values/nested/list/0/password',
    ]);
    expect(refused.body).not.toMatch(/nested-s3cret|nested-hunter2/);
    expect((await api.call('GET', '/resource-definitions/plain')).statusCode).toBe(404);
  });

  it('accepts what is not a secret: a URL without a password, or with a placeholder for it', async () => {
    const accepted = await apply(
      { url: 'https://example.com/x', template: 'postgres://app:${secret}@db/x' },
      'bucket',
    );
    expect(accepted.statusCode, accepted.body).toBe(200);
  });
});
