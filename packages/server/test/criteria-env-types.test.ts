import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeEngines } from '../../../test/support/stores.ts';
import { idleRuntime, openDeployingApi, type DeployingApi } from './support/deploying-api.ts';

const typo = (path: string) => ({
  path,
  message:
    'environment type "prodution" does not exist (there are: development, production, staging), so this ' +
    'criterion would never match; fix the name, or create the type first (`pave env-types create prodution`)',
});

// A criterion naming a type that does not exist never matches: a typo left a production guardrail, definition
// or runtime target silently unused.
describe.each(storeEngines)('criteria naming an environment type, on %s', (engine) => {
  let api: DeployingApi;
  beforeAll(async () => {
    api = await openDeployingApi(engine, { runtime: idleRuntime });
  });
  afterAll(async () => {
    await api?.cleanup();
  });

  it('refuses a type that does not exist in definitions, policies and runtime targets, applying nothing', async () => {
    const definitions = await api.call('POST', '/resource-definitions/apply', {
      definitions: [
        {
          id: 'prod-bucket',
          type: 'bucket',
          driver: 'static',
          driverInputs: { values: {}, secrets: {} },
          criteria: [{ envType: 'production' }, { envType: 'prodution' }],
        },
      ],
    });
    expect(definitions.statusCode).toBe(400);
    expect(definitions.json().errors).toEqual([typo('/definitions/0/criteria/1/envType')]);

    const policies = await api.call('POST', '/policies/apply', {
      policies: [
        {
          id: 'freeze',
          criteria: [{ envType: 'prodution' }],
          severity: 'deny',
          message: 'frozen',
          freeze: { from: '2026-12-20T00:00:00Z', to: '2027-01-04T00:00:00Z' },
        },
      ],
    });
    expect(policies.statusCode).toBe(400);
    expect(policies.json().errors).toEqual([typo('/policies/0/criteria/0/envType')]);

    const targets = await api.call('POST', '/runtime-targets/apply', {
      targets: [{ id: 'east', type: 'docker', config: {}, criteria: [{ envType: 'prodution' }] }],
    });
    expect(targets.statusCode).toBe(400);
    expect(targets.json().errors).toEqual([typo('/targets/0/criteria/0/envType')]);

    expect((await api.call('GET', '/resource-definitions/prod-bucket')).statusCode).toBe(404);
    expect((await api.call('GET', '/policies/freeze')).statusCode).toBe(404);
  });

  it('refuses a promotion gate from a type that does not exist, with every other problem, applying nothing', async () => {
    const policies = await api.call('POST', '/policies/apply', {
      policies: [
        {
          id: 'staging-first',
          criteria: [{ envType: 'prodution' }],
          severity: 'deny',
          message: 'deploy it to staging first',
          promotionGate: { from: 'stagin', within: '7d' },
        },
      ],
    });
    expect(policies.statusCode, policies.body).toBe(400);
    expect(policies.json().errors).toEqual([
      typo('/policies/0/criteria/0/envType'),
      {
        path: '/policies/0/promotionGate/from',
        message:
          'environment type "stagin" does not exist (there are: development, production, staging), so no ' +
          'deployment could ever pass this gate; fix the name, or create the type first (`pave env-types create stagin`)',
      },
    ]);
    expect((await api.call('GET', '/policies/staging-first')).statusCode).toBe(404);
  });

  it('accepts a type created first', async () => {
    expect((await api.call('POST', '/env-types', { id: 'prodution' })).statusCode).toBe(201);
    const policies = await api.call('POST', '/policies/apply', {
      policies: [
        {
          id: 'freeze',
          criteria: [{ envType: 'prodution' }],
          severity: 'warn',
          message: 'odd',
          rule: 'true',
        },
      ],
    });
    expect(policies.statusCode, policies.body).toBe(200);
  });
});
