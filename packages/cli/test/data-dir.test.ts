import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dataDirFailure, prepareDataDir } from '../src/data-dir.ts';
import { describeFileError } from '../src/file-errors.ts';
import { temporaryDir } from './helpers.ts';

const FIX = 'give --data-dir a directory that pave up may create and write to';

describe('the data directory of pave up', () => {
  it('is created with its missing parents, each private to its owner, and an existing one is kept', () => {
    const dir = join(temporaryDir(), 'a', 'b', 'pave');
    prepareDataDir(dir, '--data-dir');
    expect(statSync(dir).isDirectory()).toBe(true);
    expect(statSync(join(dir, '..')).mode & 0o777).toBe(0o700);
    expect(() => prepareDataDir(dir, '--data-dir')).not.toThrow();
  });

  it("is refused when it holds others' directories or hidden files and none of Pave's, not for plain files", () => {
    const dir = temporaryDir();
    expect(() => prepareDataDir(dir, 'default')).not.toThrow();
    // A log the service's output is redirected to, the OIDC client secret: plain files are no sign of a home.
    writeFileSync(join(dir, 'pave.log'), '');
    writeFileSync(join(dir, 'oidc-client-secret'), '');
    expect(() => prepareDataDir(dir, 'default')).not.toThrow();
    writeFileSync(join(dir, '.bashrc'), '');
    for (const name of ['projects', 'Downloads', 'src']) mkdirSync(join(dir, name));
    expect(() => prepareDataDir(dir, '--data-dir')).toThrow(
      `--data-dir: cannot use ${dir} as the data directory: it holds directories or hidden files that are ` +
        "not Pave's (.bashrc, Downloads/, projects/, … (4 in all)), as a home or a project does",
    );
    writeFileSync(join(dir, 'master.key'), '');
    expect(() => prepareDataDir(dir, '--data-dir')).not.toThrow();
  });

  it('is taken again when a first start left only its replicas directory (the store could not be reached)', () => {
    const dir = temporaryDir();
    // A `pave up` on PostgreSQL registers under replicas/ before it reaches the store.
    mkdirSync(join(dir, 'replicas'));
    expect(() => prepareDataDir(dir, '--data-dir')).not.toThrow();
  });

  it('is refused on or under a file, naming where it came from and the part that is a file', () => {
    const file = join(temporaryDir(), 'notes.txt');
    writeFileSync(file, '');
    expect(() => prepareDataDir(join(file, 'pave'), 'PAVE_DATA_DIR')).toThrow(
      `PAVE_DATA_DIR: cannot use ${join(file, 'pave')} as the data directory: ${file} is not a directory; ` +
        'give PAVE_DATA_DIR a directory that pave up may create and write to',
    );
    expect(() => prepareDataDir(file, 'default')).toThrow(
      `cannot use ${file} as the data directory: it is not a directory; choose another with --data-dir or PAVE_DATA_DIR`,
    );
  });

  it.runIf(existsSync('/proc/self'))(
    'is refused at once where the file system allows no new directory',
    () => {
      expect(() => prepareDataDir('/proc/pave/data', '--data-dir')).toThrow(
        'cannot use /proc/pave/data as the data directory: cannot create /proc/pave: /proc does not allow ' +
          `directories to be created in it; ${FIX}`,
      );
    },
  );

  it('turns a file-system error of the start inside it into the same message, and leaves other errors', () => {
    const error = Object.assign(new Error("EPERM: operation not permitted, chmod '/srv/pave/x'"), {
      code: 'EPERM',
      syscall: 'chmod',
      path: '/srv/pave/x',
    });
    expect(dataDirFailure(error, '/srv/pave', '--data-dir')?.message).toBe(
      `--data-dir: cannot use /srv/pave as the data directory: chmod /srv/pave/x: permission denied; ${FIX}`,
    );
    expect(dataDirFailure({ ...error, path: '/srv/pavement/x' }, '/srv/pave', '--data-dir')).toBeUndefined();
    expect(dataDirFailure(new Error('port in use'), '/srv/pave', '--data-dir')).toBeUndefined();
  });
});

describe('describeFileError', () => {
  it('says why in words, never with Node’s code and path', () => {
    const error = (code: string, message = `${code}: some text, open '/x/y'`) =>
      Object.assign(new Error(message), { code });
    expect(describeFileError(error('ENOENT'), '/x/y', 'read')).toBe('no such file');
    expect(describeFileError(error('ENOENT'), '/x/y', 'write')).toBe('the directory /x does not exist');
    expect(describeFileError(error('EACCES'), '/x/y', 'write')).toBe('permission denied');
    expect(describeFileError(error('EROFS'), '/x/y', 'write')).toBe('the file system is read-only');
    expect(describeFileError(error('EIO', "EIO: i/o error, write '/x/y'"), '/x/y', 'write')).toBe(
      'i/o error (EIO)',
    );
  });
});
