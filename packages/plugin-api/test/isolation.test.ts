import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  detectIsolationHost,
  isolatedCommand,
  isolationFor,
  type IsolatedRun,
  type IsolationHost,
} from '../src/index.ts';

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
});

describe('the sandbox with files and volumes at other paths', () => {
  /** Runs `script` with /bin/sh in the sandbox with `mounts`; its output, or bwrap's complaint. */
  function runWith(mounts: IsolatedRun['mounts'], script: string, writable: string[] = []) {
    const command = isolatedCommand(isolationFor(host, 'sandbox'), {
      argv: ['/bin/sh', '-c', script],
      cwd: appDir,
      writable,
      mounts,
    });
    const run = spawnSync(command.file, command.args, { cwd: command.cwd, encoding: 'utf8' });
    return { status: run.status, output: `${run.stdout}${run.stderr}`.trim() };
  }

  it('shows a file at a path the host lacks, at / and inside the read-only /etc, and leaves the host as it was', (context) => {
    if (!host.bwrap) context.skip(`no sandbox on this host: ${host.bwrapProblem ?? 'bwrap missing'}`);
    const file = join(root, 'rendered.txt');
    writeFileSync(file, 'rendered\n', { mode: 0o644 });
    const run = runWith(
      [
        { source: file, target: '/pave-test-file.txt', readOnly: true },
        { source: file, target: '/etc/pave-test/nested/app.conf', readOnly: true },
      ],
      [
        'cat /pave-test-file.txt /etc/pave-test/nested/app.conf',
        'head -c 5 /etc/passwd; echo', // the rest of /etc is still there
        'ls /usr/bin/env', // and the rest of /
        '(touch /etc/new-file) 2>/dev/null || echo etc-read-only',
        '(touch /new-file) 2>/dev/null || echo root-read-only',
        '(echo x > /etc/pave-test/nested/app.conf) 2>/dev/null || echo file-read-only',
      ].join('; '),
    );
    expect(run).toEqual({
      status: 0,
      output: [
        'rendered',
        'rendered',
        'root:',
        '/usr/bin/env',
        'etc-read-only',
        'root-read-only',
        'file-read-only',
      ].join('\n'),
    });
    expect(existsSync('/pave-test-file.txt')).toBe(false);
    expect(existsSync('/etc/pave-test')).toBe(false);
  });

  it('shows a file over one the host has, and a writable volume at a new path, without the data directory', (context) => {
    if (!host.bwrap) context.skip(`no sandbox on this host: ${host.bwrapProblem ?? 'bwrap missing'}`);
    const file = join(root, 'hostname');
    writeFileSync(file, 'from-score\n', { mode: 0o644 });
    const volume = mkdtempSync(join(root, 'volume-'));
    chmodSync(volume, 0o777);
    const run = runWith(
      [
        { source: file, target: '/etc/hostname', readOnly: true },
        { source: volume, target: '/var/pave-test-volume', readOnly: false },
      ],
      `cat /etc/hostname; echo kept > /var/pave-test-volume/out; cat ${join(dataDir, 'master.key')} 2>/dev/null || echo hidden`,
    );
    expect(run).toEqual({ status: 0, output: 'from-score\nhidden' });
    expect(readFileSync(join(volume, 'out'), 'utf8')).toBe('kept\n');
    expect(readFileSync('/etc/hostname', 'utf8')).not.toBe('from-score\n');
  });

  it("places nothing in /proc, which stays the sandbox's own, nor below a host file, and places a file in /dev", (context) => {
    if (!host.bwrap) context.skip(`no sandbox on this host: ${host.bwrapProblem ?? 'bwrap missing'}`);
    const file = join(root, 'device-note.txt');
    writeFileSync(file, 'note\n', { mode: 0o644 });
    const run = runWith(
      [
        { source: file, target: '/proc/pave-test', readOnly: true },
        { source: file, target: '/dev/pave-test', readOnly: true },
        { source: file, target: '/etc/passwd/pave-test', readOnly: true },
      ],
      `cat /dev/pave-test; test -e /proc/pave-test || echo not-in-proc; test -e /proc/${process.pid} || echo own-pids`,
    );
    expect(run).toEqual({ status: 0, output: 'note\nnot-in-proc\nown-pids' });
  });

  it('keeps the data directory hidden when it lies inside the working directory', (context) => {
    if (!host.bwrap) context.skip(`no sandbox on this host: ${host.bwrapProblem ?? 'bwrap missing'}`);
    const project = mkdtempSync(join(root, 'project-'));
    chmodSync(project, 0o755);
    const inner = join(project, '.pave');
    mkdirSync(inner, { mode: 0o700 });
    writeFileSync(join(inner, 'master.key'), 'canary', { mode: 0o600 });
    const command = isolatedCommand(
      { ...isolationFor(host, 'sandbox'), hidden: [inner] },
      {
        argv: ['/bin/sh', '-c', `cat ${join(inner, 'master.key')} || echo hidden`],
        cwd: project,
        writable: [],
      },
    );
    const run = spawnSync(command.file, command.args, { cwd: command.cwd, encoding: 'utf8' });
    expect(run.stdout.trim()).toBe('hidden');
  });
});
