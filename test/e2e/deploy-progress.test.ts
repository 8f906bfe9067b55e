import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientEnv, runPave, shortenStabilityWindow, startPave, type PaveProcess } from '../support/pave.ts';
import { makeAppDir } from '../support/app-dir.ts';
import { createTestStoreLocation, type TestStoreLocation } from '../support/stores.ts';

/** A workload whose process runs but never listens, so its readiness probe is refused until the timeout. */
const NEVER_READY = [
  'apiVersion: score.dev/v1b1',
  'metadata:',
  '  name: never',
  'service:',
  '  ports:',
  '    web:',
  '      port: 8080',
  'containers:',
  '  main:',
  '    image: node:20',
  "    command: ['node', '-e', 'setInterval(() => {}, 1000)']",
  '    readinessProbe:',
  '      httpGet:',
  '        path: /healthz',
  '        port: 8080',
  '',
].join('\n');

describe('pave deploy --wait of a workload that never becomes ready, on the process runtime', () => {
  let location: TestStoreLocation;
  let server: PaveProcess;
  let appDir: string;
  const pave = (...args: string[]) => runPave(args, clientEnv(server.url, location.dataDir));

  beforeAll(async () => {
    location = await createTestStoreLocation('sqlite');
    server = await startPave(['--data-dir', location.dataDir]);
    await shortenStabilityWindow(server.url, location.dataDir);
    appDir = makeAppDir('pave-never-');
    writeFileSync(join(appDir, 'never.score.yaml'), NEVER_READY);
    expect((await pave('apps', 'create', 'samp')).code).toBe(0);
    expect((await pave('envs', 'create', 'nr', '--app', 'samp', '--type', 'development')).code).toBe(0);
  });
  afterAll(async () => {
    await pave('apps', 'delete', 'samp', '--force');
    await server?.stop();
    await location?.cleanup();
    rmSync(appDir, { recursive: true, force: true });
  });

  it('prints how long it has waited and why while it waits, then what to try', async () => {
    const file = join(appDir, 'never.score.yaml');
    const result = await pave(
      'deploy',
      '-f',
      file,
      '--app',
      'samp',
      '--env',
      'nr',
      '--wait',
      '--timeout',
      '15s',
    );
    expect(result.code, result.stdout + result.stderr).toBe(1);
    // The phase journals every 10 s (once here, with time to spare before the timeout); the CLI prints each
    // line as it appears, on stderr (progress is for people; stdout keeps the result).
    expect(result.stderr).toMatch(
      /wait ready\s+never\s+info\s+not ready yet after 1\d s of the 15 s timeout: readiness probe GET \/healthz on port \d+: .*ECONNREFUSED/,
    );
    expect(result.stderr).toMatch(
      /timed out after the 15 s timeout and the \d+ s stability window: readiness probe GET \/healthz on port \d+/,
    );
    // What to try is in the failure's journal line, printed above; the error gives the reason's first line.
    expect(result.stderr).toContain('deploy again with a longer --timeout (e.g. --timeout 5m)');
    expect(result.stderr).toContain('listens on the port its readiness probe names');
    expect(result.stderr).toContain('(the journal above has the rest)');
  }, 60_000);
});
