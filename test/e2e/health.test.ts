import { request } from 'node:http';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Locator } from 'playwright-core';
import type { AppStatus, EnvironmentStatus } from '@pave/core';
import { hasChromium, launchBrowser, SCREENSHOTS_DIR } from '../support/browser.ts';
import { clientEnv, runPave, shortenStabilityWindow, startPave, type PaveProcess } from '../support/pave.ts';
import { eventually } from '../support/processes.ts';
import { makeAppDir } from '../support/app-dir.ts';
import { createTestStoreLocation, type TestStoreLocation } from '../support/stores.ts';

/**
 * An HTTP API that answers "ok" while the file $ALIVE_FILE exists, and exits with code 5 (at start too)
 * once it is gone: deleting the file makes a healthy workload crash-loop.
 */
const SERVER_JS = `const fs = require('node:fs');
const http = require('node:http');
const check = () => {
  if (fs.existsSync(process.env.ALIVE_FILE)) return;
  console.error('the file ' + process.env.ALIVE_FILE + ' is gone');
  process.exit(5);
};
check();
setInterval(check, 200);
http.createServer((req, res) => res.end('ok\\n')).listen(Number(process.env.PORT), '127.0.0.1');
`;

/** The API's Score file for one environment: its own alive file, and a route through Pave's proxy. */
function scoreFile(dir: string, env: string): string {
  const file = join(dir, `api-${env}.score.yaml`);
  writeFileSync(
    file,
    [
      'apiVersion: score.dev/v1b1',
      'metadata:',
      '  name: api',
      'service:',
      '  ports:',
      '    web:',
      '      port: 8080',
      'containers:',
      '  main:',
      '    image: node:20',
      "    command: ['node', 'server.js']",
      '    variables:',
      `      ALIVE_FILE: ${join(dir, `alive-${env}`)}`,
      '    readinessProbe:',
      '      httpGet:',
      '        path: /',
      '        port: 8080',
      'resources:',
      '  dns:',
      '    type: dns',
      '  web:',
      '    type: route',
      '    params:',
      '      host: ${resources.dns.host}',
      '      path: /',
      '      port: 8080',
      '',
    ].join('\n'),
  );
  return file;
}

/** The browser's window, as far as these tests use it (the tests are type-checked without the DOM library). */
type BrowserWindow = { getComputedStyle(element: unknown): { getPropertyValue(name: string): string } };

/** The computed value of CSS `property` of the element `locator` finds, e.g. `rgb(180, 35, 24)`. */
function cssOf(locator: Locator, property: string): Promise<string> {
  return locator.evaluate(
    (element, name) =>
      (globalThis as unknown as BrowserWindow).getComputedStyle(element).getPropertyValue(name),
    property,
  );
}

/** GETs `path` through Pave's reverse proxy with the route's host name; resolves with the body. */
function viaRoute(pave: string, host: string): Promise<string> {
  const url = new URL(pave);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: url.hostname, port: url.port, path: '/', headers: { host }, timeout: 5000 },
      (response) => {
        let body = '';
        response.on('data', (chunk: Buffer) => (body += chunk.toString()));
        response.on('end', () => resolve(body.trim()));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('health apart from sync: a workload that starts crash-looping after a successful deployment', () => {
  let location: TestStoreLocation;
  let server: PaveProcess;
  let appDir: string;
  const pave = (...args: string[]) => runPave(args, clientEnv(server.url, location.dataDir));
  const port = () => new URL(server.url).port;
  const routeOf = (env: string) => `http://api.${env}.shop.localhost:${port()}/`;

  beforeAll(async () => {
    location = await createTestStoreLocation('sqlite');
    server = await startPave(['--data-dir', location.dataDir]);
    await shortenStabilityWindow(server.url, location.dataDir);
    appDir = makeAppDir('pave-health-');
    writeFileSync(join(appDir, 'server.js'), SERVER_JS);
    expect((await pave('apps', 'create', 'shop')).code).toBe(0);
    for (const [env, type] of [
      ['dev', 'development'],
      ['prod', 'production'],
    ] as const) {
      writeFileSync(join(appDir, `alive-${env}`), 'yes\n');
      expect((await pave('envs', 'create', env, '--app', 'shop', '--type', type)).code).toBe(0);
    }
  }, 60_000);
  afterAll(async () => {
    // Deleting the app stops its workloads; the control plane alone would leave them running.
    if (server) await pave('apps', 'delete', 'shop', '--force');
    await server?.stop();
    await location?.cleanup();
    rmSync(appDir, { recursive: true, force: true });
  }, 60_000);

  it('deploys to dev and prod; the deploy log ends with the route URL on the port pave up listens on', async () => {
    for (const env of ['dev', 'prod']) {
      const deployed = await pave(
        'deploy',
        '-f',
        scoreFile(appDir, env),
        '--app',
        'shop',
        '--env',
        env,
        '--wait',
      );
      expect(deployed.code, deployed.stderr + deployed.stdout).toBe(0);
      expect(deployed.stdout.trimEnd().split('\n').at(-1)).toBe(`api is served at ${routeOf(env)}`);
      expect(await viaRoute(server.url, `api.${env}.shop.localhost`)).toBe('ok');
    }
  }, 120_000);

  it('`pave status --app shop --exit-code` exits 0 and shows every environment healthy', async () => {
    const result = await pave('status', '--app', 'shop', '--exit-code');
    expect(result.code, result.stderr + result.stdout).toBe(0);
    expect(result.stdout).toContain('shop: health: healthy');
    const rows = result.stdout.split('\n').filter((line) => /^(dev|prod) /.test(line));
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatch(/^dev\s+development\s+healthy\s+\d+ \(deploy, succeeded\)\s+succeeded\s+1\/1/);
    expect(rows[0]).toContain(routeOf('dev'));
    expect(rows[1]).toMatch(/^prod\s+production \(restricted\)\s+healthy/);

    const env = await pave('status', '--app', 'shop', '--env', 'dev', '--exit-code');
    expect(env.code, env.stderr).toBe(0);
    expect(env.stdout.split('\n')[1]).toMatch(/^sync: succeeded \(deployment \d+\); health: healthy$/);
    expect(env.stdout).toContain(`${routeOf('dev')} http://127.0.0.1:`);

    const containers = await pave('status', '--app', 'shop', '--env', 'dev', '--containers');
    expect(containers.code, containers.stderr).toBe(0);
    expect(containers.stdout).toMatch(/^WORKLOAD\s+CONTAINER\s+STATE\s+RESTARTS\s+PID\s+LAST EXIT$/m);
    const row = /^api\s+main\s+running\s+0\s+(\d+)\s+-$/m.exec(containers.stdout);
    expect(row, containers.stdout).not.toBeNull();
    // The process id is the workload's own process: it answers on its port.
    expect(() => process.kill(Number(row![1]), 0)).not.toThrow();
    const everyEnv = await pave('status', '--app', 'shop', '--containers');
    expect(everyEnv.code).toBe(2);
    expect(everyEnv.stderr).toMatch(/--containers shows the containers of one environment: add --env <env>/);
  }, 60_000);

  it('once dev crash-loops, exits 1 and shows it degraded with the reason; prod stays healthy', async () => {
    rmSync(join(appDir, 'alive-dev'));
    const degraded = await eventually(
      async () => {
        const result = await pave('status', '--app', 'shop', '--exit-code', '-o', 'json');
        const status = JSON.parse(result.stdout) as AppStatus;
        return status.health === 'degraded' ? { result, status } : undefined;
      },
      30_000,
      'dev to be degraded',
    );
    // -o json still prints the JSON; the exit code and stderr say it is not healthy.
    expect(degraded.result.code).toBe(1);
    expect(degraded.result.stderr).toMatch(
      /^pave: error: shop is degraded: dev degraded \(api: crash-looping/,
    );
    const [dev, prod] = degraded.status.environments;
    expect(dev).toMatchObject({ envId: 'dev', health: 'degraded', type: 'development' });
    expect(dev?.healthDetail).toMatch(/^api: crash-looping \(\d+ restarts?\)$/);
    // Sync and health are apart: the deployment succeeded, the workload is degraded now.
    expect(dev?.latestDeployment?.status).toBe('succeeded');
    expect(prod).toMatchObject({ envId: 'prod', health: 'healthy', restricted: true });

    const table = await pave('status', '--app', 'shop', '--exit-code');
    expect(table.code).toBe(1);
    expect(table.stdout).toContain('shop: health: degraded');
    expect(table.stdout).toMatch(/^dev\s+development\s+degraded\s.*api: crash-looping/m);

    const env = await pave('status', '--app', 'shop', '--env', 'dev', '--exit-code', '-o', 'json');
    expect(env.code).toBe(1);
    const status = JSON.parse(env.stdout) as EnvironmentStatus;
    expect(status.workloads[0]).toMatchObject({
      workload: 'api',
      state: 'crash-looping',
      health: 'degraded',
    });
    expect(status.workloads[0]?.routes).toEqual([routeOf('dev')]);
    // Why it crashes: the container's last exit, with the code the server exits with.
    expect(status.workloads[0]?.containers).toEqual([
      expect.objectContaining({
        name: 'main',
        lastExit: expect.stringMatching(/^exited with code 5 at \d{4}-/),
      }),
    ]);
    const text = await pave('status', '--app', 'shop', '--env', 'dev');
    expect(text.code).toBe(0);
    expect(text.stdout.split('\n')[1]).toMatch(
      /^sync: succeeded \(deployment \d+\); health: degraded \(api: crash-looping \(\d+ restarts?\)\)$/,
    );
  }, 60_000);

  it.skipIf(!hasChromium)(
    "shows the degraded environment, in red with its reason, on the portal's apps list",
    async () => {
      const errors: string[] = [];
      const browser = await launchBrowser({ errors });
      try {
        browser.context.setDefaultTimeout(30_000);
        const page = await browser.newPage();
        await page.goto(`${server.url}/#/apps`);
        await page.getByRole('tab', { name: 'Token' }).click();
        const token = readFileSync(join(location.dataDir, 'admin.token'), 'utf8').trim();
        await page.getByLabel('Token').fill(token);
        await page.getByRole('button', { name: 'Sign in' }).click();
        await page.getByRole('heading', { name: 'Apps', level: 1 }).waitFor();
        const row = page
          .getByRole('row')
          .filter({ has: page.getByRole('link', { name: 'shop', exact: true }) });
        const dev = row.getByRole('listitem').filter({ has: page.getByRole('link', { name: 'dev' }) });
        const prod = row.getByRole('listitem').filter({ has: page.getByRole('link', { name: 'prod' }) });
        await dev.getByText('degraded', { exact: true }).waitFor();
        await prod.getByText('healthy', { exact: true }).waitFor();
        const reason = dev.getByText(/^api: crash-looping \(\d+ restarts?\)$/);
        await reason.waitFor();
        // Degraded reads red: the badge is filled with the danger colour, the reason written in it.
        const badge = dev.getByText('degraded', { exact: true });
        expect(await cssOf(badge, 'background-color')).toBe('rgb(180, 35, 24)');
        expect(await cssOf(reason, 'color')).toBe('rgb(180, 35, 24)');
        expect(await badge.getAttribute('title')).toMatch(/^api: crash-looping/);
        await browser.screenshot(page, 'apps-health');
        expect(existsSync(join(SCREENSHOTS_DIR, 'apps-health.png'))).toBe(true);

        // The environment's page says why under its workloads: the container's last exit.
        await dev.getByRole('link', { name: 'dev' }).click();
        await page.getByText(/^Containers \(1, some have exited\)$/).click();
        const container = page.getByRole('table', { name: 'Containers' }).getByRole('row', { name: /main/ });
        await container.getByText(/^exited with code 5 at /).waitFor();
        expect(errors).toEqual([]);
      } finally {
        await browser.close();
      }
    },
    90_000,
  );
});
