import { describe, expect, it } from 'vitest';
import { testDriverContext } from '@pave/plugin-api/testing';
import { TerraformDriver } from '../src/index.ts';

describe('terraform driver timeout', () => {
  const driver = TerraformDriver.fromConfig();
  const failuresWith = async (timeout: unknown) =>
    (
      await driver.check(
        {
          scope: {
            app: 'shop',
            env: 'dev',
            envType: 'development',
            type: 'postgres',
            class: 'default',
            resId: 'api.db',
            address: 'api.db',
          },
          driverInputs: { timeout },
          driverSecrets: {},
          params: {},
        },
        testDriverContext(),
      )
    ).filter((failure) => failure.property === 'timeout');

  it('takes up to a day', async () => {
    expect(await failuresWith(86_400)).toEqual([]);
    expect(await failuresWith(2400)).toEqual([]);
  });

  it('refuses more than a day, which a timer cannot keep (it would stop Terraform at once)', async () => {
    expect(await failuresWith(30 * 86_400)).toEqual([
      {
        property: 'timeout',
        reason: 'must be a positive number of seconds, at most 86400 (a day); default 600; got 2592000',
      },
    ]);
  });
});
