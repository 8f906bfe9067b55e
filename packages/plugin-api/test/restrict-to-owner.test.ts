import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { restrictToOwner } from '../src/index.ts';

const root = mkdtempSync(join(tmpdir(), 'pave-restrict-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const modeOf = (path: string) => statSync(path).mode & 0o7777;

/*
 * Every start of Pave made its data directory owner-only, directories 0700: the directories an embedded
 * PostgreSQL server's own user passes through (made 0711 when it was set up) among them, so the server still
 * running from before the start could no longer reach its files and shut down at its next checkpoint.
 */
describe('restrictToOwner', () => {
  it('takes every access from group and others, but for directories they may only enter (0711)', () => {
    const data = join(root, 'data');
    const postgres = join(data, 'resources', 'postgres');
    mkdirSync(postgres, { recursive: true });
    chmodSync(data, 0o711);
    chmodSync(join(data, 'resources'), 0o711);
    chmodSync(postgres, 0o755);
    const listed = join(data, 'listed');
    mkdirSync(listed, { mode: 0o777 });
    chmodSync(listed, 0o775);
    writeFileSync(join(data, 'master.key'), 'key', { mode: 0o644 });
    chmodSync(join(data, 'master.key'), 0o644);
    writeFileSync(join(postgres, 'script.sh'), '', { mode: 0o755 });
    chmodSync(join(postgres, 'script.sh'), 0o755);

    restrictToOwner(data);

    expect(modeOf(data).toString(8)).toBe('711');
    expect(modeOf(join(data, 'resources')).toString(8)).toBe('711');
    expect(modeOf(postgres).toString(8)).toBe('700');
    expect(modeOf(listed).toString(8)).toBe('700');
    expect(modeOf(join(data, 'master.key')).toString(8)).toBe('600');
    expect(modeOf(join(postgres, 'script.sh')).toString(8)).toBe('700');
  });

  it('leaves a directory that others could not enter owner-only', () => {
    const own = join(root, 'own');
    mkdirSync(own);
    chmodSync(own, 0o740);
    restrictToOwner(own);
    expect(modeOf(own).toString(8)).toBe('700');
  });
});
