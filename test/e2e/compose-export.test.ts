import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { createTestStoreLocation, type TestStoreLocation } from '../support/stores.ts';
import { clientEnv, runPave, shortenStabilityWindow, startPave, type PaveProcess } from '../support/pave.ts';
import { makeAppDir } from '../support/app-dir.ts';
import { checkComposeFile, podmanComposeAvailable } from '../support/compose.ts';

const FIXTURE = fileURLToPath(new URL('../fixtures/two-workloads', import.meta.url));
const SECRET = 'compose-export-secret-7f3a';

// podman-compose proves the file is one Compose reads (.ci/run installs it): with CI set this runs, and fails
// if podman-compose is missing.
const skipReason =
  !podmanComposeAvailable() && !process.env.CI ? ' (skipped: podman-compose is not installed)' : '';

describe.skipIf(skipReason !== '')(
  `pave render --format compose, end to end through the CLI${skipReason}`,
  () => {
    let location: TestStoreLocation;
    let server: PaveProcess;
    let appDir: string;
    let outDir: string;
    const pave = (...args: string[]) => runPave(args, clientEnv(server.url, location.dataDir));

    beforeAll(async () => {
      location = await createTestStoreLocation('sqlite');
      server = await startPave(['--data-dir', location.dataDir]);
      await shortenStabilityWindow(server.url, location.dataDir);
      appDir = makeAppDir('pave-compose-app-');
      outDir = mkdtempSync(join(tmpdir(), 'pave-compose-out-'));
      cpSync(FIXTURE, appDir, { recursive: true });
      // The API also reads a secret value, which the Compose file must never print.
      const api = join(appDir, 'api.score.yaml');
      writeFileSync(
        api,
        readFileSync(api, 'utf8').replace(
          '      GREETING: hello from ${metadata.name}\n',
          '      GREETING: hello from ${metadata.name}\n      API_TOKEN: ${resources.env.API_TOKEN}\n',
        ) + 'resources:\n  env:\n    type: environment\n',
      );
      for (const args of [
        ['apps', 'create', 'shop'],
        ['envs', 'create', 'dev', '--app', 'shop', '--type', 'development'],
        ['values', 'set', `API_TOKEN=${SECRET}`, '--app', 'shop', '--secret'],
      ]) {
        const result = await pave(...args);
        expect(result.code, result.stderr).toBe(0);
      }
    });
    afterAll(async () => {
      await pave('apps', 'delete', 'shop', '--force');
      await server?.stop();
      await location?.cleanup();
      rmSync(appDir, { recursive: true, force: true });
      rmSync(outDir, { recursive: true, force: true });
    });

    it('prints a Compose file of the deployed set that podman-compose reads, without the secret', async () => {
      const deployed = await pave(
        'deploy',
        '-f',
        join(appDir, 'api.score.yaml'),
        '-f',
        join(appDir, 'worker.score.yaml'),
        '--app',
        'shop',
        '--env',
        'dev',
        '--wait',
      );
      expect(deployed.code, deployed.stderr + deployed.stdout).toBe(0);

      const rendered = await pave('render', '--app', 'shop', '--env', 'dev', '--format', 'compose');
      expect(rendered.code, rendered.stderr).toBe(0);
      expect(rendered.stdout).not.toContain(SECRET);
      expect(rendered.stdout).toMatch(/^# Compose file of app shop, environment dev, deployment set /);
      const project = parse(rendered.stdout) as {
        services: Record<string, { environment?: Record<string, string>; ports?: string[] }>;
      };
      expect(Object.keys(project.services)).toEqual(['api', 'worker']);
      expect(project.services.api?.environment?.GREETING).toBe('hello from api');
      expect(project.services.api?.environment?.API_TOKEN).toMatch(/^\$\{API_API_TOKEN:\?/);
      expect(project.services.api?.ports).toEqual([expect.stringMatching(/^127\.0\.0\.1:\d+:8080\/tcp$/)]);
      // The worker reaches the API by its service name on the project's network.
      expect(project.services.worker?.environment?.API_URL).toBe('http://api:8080/');

      const file = join(outDir, 'compose.yaml');
      writeFileSync(file, rendered.stdout);
      const check = checkComposeFile(file, { API_API_TOKEN: 'exported-by-the-developer' });
      expect(check.status, check.output).toBe(0);
      expect(check.services).toEqual(['api', 'worker']);
      expect(check.output).toContain('exported-by-the-developer');

      // The API's JSON says which format it is, and holds no secret either.
      const json = await pave('render', '--app', 'shop', '--env', 'dev', '--format', 'compose', '-o', 'json');
      expect(json.code, json.stderr).toBe(0);
      expect(json.stdout).not.toContain(SECRET);
      expect(JSON.parse(json.stdout)).toMatchObject({ format: 'compose' });
    });
  },
);
