import { describe, expect, it } from 'vitest';
import { driverEnvNames } from '../src/commands/up.ts';
import { runCli } from '../src/program.ts';
import { fakeIo } from './helpers.ts';

describe('pave up --driver-env', () => {
  it('takes comma-separated names from the flag, else PAVE_DRIVER_ENV, else none', () => {
    expect(driverEnvNames('AWS_PROFILE, KUBECONFIG,_X1,AWS_PROFILE', 'IGNORED')).toEqual([
      'AWS_PROFILE',
      'KUBECONFIG',
      '_X1',
    ]);
    expect(driverEnvNames(undefined, 'TF_PLUGIN_CACHE_DIR,GOOGLE_APPLICATION_CREDENTIALS')).toEqual([
      'TF_PLUGIN_CACHE_DIR',
      'GOOGLE_APPLICATION_CREDENTIALS',
    ]);
    expect(driverEnvNames(undefined, undefined)).toEqual([]);
    expect(driverEnvNames('', 'AWS_PROFILE')).toEqual([]);
  });

  it('refuses a name that is not one of an environment variable, naming it and where it came from', () => {
    expect(() => driverEnvNames('AWS_PROFILE,AWS-REGION,1ST', undefined)).toThrow(
      '--driver-env: not an environment variable name: "AWS-REGION", "1ST"',
    );
    expect(() => driverEnvNames(undefined, 'KUBECONFIG=/x')).toThrow(
      'PAVE_DRIVER_ENV: not an environment variable name: "KUBECONFIG=/x"',
    );
  });

  it('exits 2 with a usage error before starting anything', async () => {
    const io = fakeIo();
    expect(await runCli(['node', 'pave', 'up', '--port', '0', '--driver-env', 'AWS PROFILE'], io)).toBe(2);
    expect(io.stderr.text).toContain('--driver-env: not an environment variable name: "AWS PROFILE"');
  });

  it('is described in pave up --help', async () => {
    const io = fakeIo();
    await runCli(['node', 'pave', 'up', '--help'], io);
    expect(io.stdout.text).toMatch(/--driver-env <names>[\s\S]*exec and terraform[\s\S]*PAVE_DRIVER_ENV/);
  });
});
