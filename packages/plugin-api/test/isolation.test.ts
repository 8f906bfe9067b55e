import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detectIsolationHost, isolatedCommand, isolationFor, type IsolationHost } from '../src/index.ts';

// A checkout under /tmp (where CI and tests clone), its app directory linking to dependencies elsewhere in
// the checkout, and Pave's data directory in /tmp too: the sandbox's private /tmp must keep the first two
// usable and the third invisible.
const root = mkdtempSync(join(tmpdir(), 'pave-sandbox-tmp-'));
const checkout = join(root, 'checkout');
const appDir = join(checkout, 'apps', 'api');
const dataDir = join(root, 'data');
let host: IsolationHost;

beforeAll(() => {
  chmodSync(root, 0o755);
  mkdirSync(join(checkout, 'node_modules', 'greeting'), { recursive: true, mode: 0o755 });
  writeFileSync(join(checkout, 'node_modules', 'greeting', 'index.js'), "module.exports = 'hello';\n");
  mkdirSync(appDir, { recursive: true, mode: 0o755 });
  symlinkSync('../../node_modules', join(appDir, 'node_modules'));
  writeFileSync(
    join(appDir, 'main.js'),
    [
      "const fs = require('node:fs');",
      "let data = 'hidden';",
      `try { fs.readFileSync(${JSON.stringify(join(dataDir, 'master.key'))}); data = 'visible'; } catch {}`,
      "console.log(require('greeting') + ' ' + data);",
    ].join('\n'),
  );
  mkdirSync(dataDir, { mode: 0o700 });
  writeFileSync(join(dataDir, 'master.key'), 'canary', { mode: 0o600 });
  host = detectIsolationHost({ dataDir });
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('the sandbox with a private /tmp', () => {
  it('runs a program from a checkout under /tmp by absolute path, with the dependencies it links to, and without the data directory', (context) => {
    if (!host.bwrap) context.skip(`no sandbox on this host: ${host.bwrapProblem ?? 'bwrap missing'}`);
    const command = isolatedCommand(isolationFor(host, 'sandbox'), {
      argv: [process.execPath, join(appDir, 'main.js')],
      cwd: appDir,
      writable: [],
    });
    const run = spawnSync(command.file, command.args, { cwd: command.cwd, encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.stdout.trim()).toBe('hello hidden');
  });

  it('does not follow a link from the working directory into the data directory', (context) => {
    if (!host.bwrap) context.skip(`no sandbox on this host: ${host.bwrapProblem ?? 'bwrap missing'}`);
    const sneaky = join(checkout, 'apps', 'sneaky');
    mkdirSync(sneaky, { mode: 0o755 });
    symlinkSync(dataDir, join(sneaky, 'keys'));
    const command = isolatedCommand(isolationFor(host, 'sandbox'), {
      argv: ['/bin/cat', join(sneaky, 'keys', 'master.key')],
      cwd: sneaky,
      writable: [],
    });
    const run = spawnSync(command.file, command.args, { cwd: command.cwd, encoding: 'utf8' });
    expect(run.status).not.toBe(0);
    expect(run.stdout).not.toContain('canary');
  });

  it('keeps the data directory hidden when it lies inside the working directory', (context) => {
    if (!host.bwrap) context.skip(`no sandbox on this host: ${host.bwrapProblem ?? 'bwrap missing'}`);
    // `pave up --data-dir ./.pave` in the project that is then deployed from its own directory.
    const project = mkdtempSync(join(root, 'project-'));
    chmodSync(project, 0o755);
    const inner = join(project, '.pave');
    // Readable by the workload user: only the sandbox's hiding keeps it out (as when Pave does not run as root,
    // and its workloads run as its own user).
    mkdirSync(inner, { mode: 0o755 });
    writeFileSync(join(inner, 'master.key'), 'canary', { mode: 0o644 });
    for (const writable of [[], [project]]) {
      const command = isolatedCommand(
        { ...isolationFor(host, 'sandbox'), hidden: [inner] },
        {
          argv: ['/bin/sh', '-c', `cat ${join(inner, 'master.key')} || echo hidden`],
          cwd: project,
          writable,
        },
      );
      const run = spawnSync(command.file, command.args, { cwd: command.cwd, encoding: 'utf8' });
      expect(run.stdout.trim(), `writable: ${JSON.stringify(writable)}`).toBe('hidden');
    }
  });
});
