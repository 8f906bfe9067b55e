import { describe, expect, it } from 'vitest';
import { ExecDriver } from '../src/index.ts';
import { driverContext, inputsFor } from './support.ts';

describe('exec driver timeoutSeconds', () => {
  const driver = ExecDriver.fromConfig();
  const ctx = driverContext();
  const failuresWith = async (timeoutSeconds: unknown) =>
    (
      await driver.check(
        inputsFor('volume', { driverInputs: { command: ['/bin/true'], timeoutSeconds } }),
        ctx,
      )
    ).filter((failure) => failure.property === 'timeoutSeconds');

  it('takes up to a day', async () => {
    expect(await failuresWith(86_400)).toEqual([]);
    expect(await failuresWith(0.5)).toEqual([]);
  });

  it('refuses more than a day, which a timer cannot keep (it would stop the command at once)', async () => {
    expect(await failuresWith(30 * 86_400)).toEqual([
      {
        property: 'timeoutSeconds',
        reason: 'must be a positive number of seconds, at most 86400 (a day); default 300',
      },
    ]);
  });
});
