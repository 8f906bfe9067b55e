import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { hasChromium, launchBrowser } from '../support/browser.ts';
import { createTestStoreLocation, type TestStoreLocation } from '../support/stores.ts';
import { PAVE_BIN, startPave } from '../support/pave.ts';

/** A `pave up` in a terminal: util-linux `script` gives it a pseudo-terminal as stdout. */
interface TerminalPave {
  child: ChildProcess;
  dataDir: string;
  output(): string;
  /** Stops pave up (SIGTERM to pave itself, whose pid its data directory's lock holds) and waits for it. */
  stop(): Promise<void>;
}

/** Starts `pave up ARGS` on a terminal and resolves once `ready` matches what it printed. */
async function startOnTerminal(
  location: TestStoreLocation,
  args: string[],
  ready: RegExp,
): Promise<TerminalPave> {
  const command = [process.execPath, PAVE_BIN, 'up', '--port', '0', '--data-dir', location.dataDir, ...args]
    .map((word) => `'${word}'`)
    .join(' ');
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('PAVE_')));
  const child = spawn('script', ['-qfc', command, '/dev/null'], {
    env: { ...env, NO_COLOR: '1', TERM: 'xterm' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`pave up printed no ${ready} in 20 s:\n${output}`)),
      20_000,
    );
    child.stdout.on('data', () => {
      if (ready.test(output)) {
        clearTimeout(timer);
        resolve();
      }
    });
    void exited.then(() => reject(new Error(`pave up exited:\n${output}`)));
  });
  return {
    child,
    dataDir: location.dataDir,
    output: () => output.replace(/\r\n/g, '\n'),
    async stop() {
      if (child.exitCode !== null) return;
      // The lock names pave up's pid first (then when it started).
      const [pid] = readFileSync(`${location.dataDir}/pave.lock`, 'utf8').trim().split(' ');
      process.kill(Number(pid), 'SIGTERM');
      await exited;
    },
  };
}

describe('pave up speaks to people on a terminal and to machines elsewhere', () => {
  const cleanups: Array<() => unknown> = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });
  const location = async () => {
    const created = await createTestStoreLocation('sqlite');
    cleanups.push(() => created.cleanup());
    return created;
  };

  it('on a terminal: a banner with the URLs, data dir, store, isolation and where the admin token is; human log lines', async () => {
    const store = await location();
    const pave = await startOnTerminal(store, [], /Stop it with Ctrl-C/);
    cleanups.push(() => pave.stop());
    const output = pave.output();
    const url = /Pave is running at (http:\/\/\S+)/.exec(output)?.[1] ?? '';
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(output).toContain(`API:         ${url}/api/v1`);
    expect(output).toContain(`Portal:      ${url}/`);
    expect(output).toContain(`Data dir:    ${store.dataDir}`);
    expect(output).toContain(`Store:       SQLite ${store.dataDir}/pave.db`);
    expect(output).toMatch(/Isolation: +\w+/);
    expect(output).toContain(`Admin token: ${store.dataDir}/admin.token`);
    expect(output).toContain('pave users create');
    // The token itself is never printed.
    expect(output).not.toContain(readFileSync(`${store.dataDir}/admin.token`, 'utf8').trim());
    expect(output).toMatch(/^\d\d:\d\d:\d\d info {2}store ready engine=sqlite/m);
    expect(output).not.toMatch(/^\{"level"/m);
    await pave.stop();
    expect(pave.output()).toMatch(/^\d\d:\d\d:\d\d info {2}stopped$/m);
  });

  it('on a terminal with --log-format json: JSON lines and no banner', async () => {
    const pave = await startOnTerminal(await location(), ['--log-format', 'json'], /is listening on/);
    cleanups.push(() => pave.stop());
    const lines = pave.output().trim().split('\n');
    expect(lines.length).toBeGreaterThan(3);
    for (const line of lines) expect(() => JSON.parse(line), line).not.toThrow();
    expect(pave.output()).not.toContain('Pave is running at');
  });

  it('without a terminal: JSON lines and no banner', async () => {
    const store = await location();
    const pave = await startPave(['--data-dir', store.dataDir]);
    cleanups.push(() => pave.stop());
    const lines = pave.output().trim().split('\n');
    expect(lines.length).toBeGreaterThan(3);
    for (const line of lines) expect(() => JSON.parse(line), line).not.toThrow();
    expect(pave.output()).not.toContain('Pave is running at');
  });

  it.skipIf(!hasChromium)(
    'the portal’s sign-in page says where the admin token is and how to make a password user',
    async () => {
      const store = await location();
      const pave = await startPave(['--data-dir', store.dataDir]);
      cleanups.push(() => pave.stop());
      const browser = await launchBrowser();
      cleanups.push(() => browser.close());
      const page = await browser.newPage();
      await page.goto(`${pave.url}/`);
      const hint = page.getByTestId('sign-in-hint');
      await hint.waitFor();
      const text = await hint.innerText();
      expect(text).toContain('<data dir>/admin.token');
      expect(text).toContain('~/.pave/admin.token');
      expect(text).toContain('pave users create');
      const token = readFileSync(`${store.dataDir}/admin.token`, 'utf8').trim();
      expect(await page.content()).not.toContain(token);
    },
  );
});
