import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestStoreLocation, type TestStoreLocation } from '../support/stores.ts';
import { clientEnv, runPave, startPave, type PaveProcess } from '../support/pave.ts';

const PASSWORD = 'correct horse battery staple';

describe('password login through the real CLI', () => {
  let location: TestStoreLocation;
  let server: PaveProcess;
  const env = () => clientEnv(server.url, location.dataDir);

  beforeAll(async () => {
    location = await createTestStoreLocation('sqlite');
    server = await startPave(['--data-dir', location.dataDir]);
  });
  afterAll(async () => {
    await server?.stop();
    await location?.cleanup();
  });

  it('creates a user, logs in as them with a password, and later commands act as that user', async () => {
    const created = await runPave(['users', 'create', 'alice', '--password-stdin'], env(), `${PASSWORD}\n`);
    expect(created).toMatchObject({ code: 0, stderr: '' });
    expect(created.stdout).toContain('Created user alice');

    const wrong = await runPave(
      ['login', '--username', 'alice', '--password-stdin'],
      env(),
      'not the password\n',
    );
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('pave: error: username or password is wrong');

    const login = await runPave(['login', '--username', 'alice', '--password-stdin'], env(), `${PASSWORD}\n`);
    expect(login).toMatchObject({ code: 0, stderr: '' });
    expect(login.stdout).toMatch(new RegExp(`^Logged in to ${server.url} as alice until \\d{4}-`));
    const saved = JSON.parse(readFileSync(join(location.dataDir, 'client-config.json'), 'utf8'));
    expect(saved.server).toBe(server.url);
    expect(saved.token).toMatch(/^pave_/);
    expect(login.stdout).not.toContain(saved.token);

    const whoami = await runPave(['whoami'], env());
    expect(whoami.code).toBe(0);
    expect(whoami.stdout).toMatch(/^USER\s+alice$/m);

    const users = await runPave(['users', 'list', '-o', 'json'], {
      ...env(),
      PAVE_TOKEN: readFileSync(join(location.dataDir, 'admin.token'), 'utf8').trim(),
    });
    expect(JSON.parse(users.stdout).items.map((user: { username: string }) => user.username)).toEqual([
      'admin',
      'alice',
    ]);
  });
});
