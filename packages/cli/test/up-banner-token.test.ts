import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RunningServer } from '@pave/server';
import { banner } from '../src/commands/up.ts';
import { colorsFor } from '../src/output/colors.ts';
import { temporaryDir } from './helpers.ts';

const plain = colorsFor({ write: () => true, isTTY: false }, {});

/** What `banner` reads of a running server: a replica on a PostgreSQL store. */
const server = {
  url: 'http://127.0.0.1:7300',
  store: { engine: 'postgres', location: 'postgres://pave@db.internal/pave' },
  isolation: 'none',
} as unknown as RunningServer;

/*
 * The banner of a `pave up` replica that did not create the first admin (another replica, with another data
 * directory, did) pointed to `<its data dir>/admin.token`, a file that does not exist.
 */
describe('the admin token line of the pave up banner', () => {
  it('names the admin.token file where this data directory has one', () => {
    const dataDir = temporaryDir();
    writeFileSync(join(dataDir, 'admin.token'), 'pave_secret\n', { mode: 0o600 });
    const text = banner(server, dataDir, plain);
    expect(text).toContain(`Admin token: ${join(dataDir, 'admin.token')} (the CLI on this machine uses it`);
    expect(text).not.toContain('pave_secret');
  });

  it('says where the first admin’s token is instead of naming a file that does not exist', () => {
    const dataDir = temporaryDir();
    const text = banner(server, dataDir, plain);
    expect(text).not.toContain(join(dataDir, 'admin.token ('));
    expect(text).toContain(
      `Admin token: none in ${dataDir}: the first admin's token is in the admin.token of the data dir of the ` +
        'pave up that created this store',
    );
  });
});
