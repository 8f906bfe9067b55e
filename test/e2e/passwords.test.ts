import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestStoreLocation, type TestStoreLocation } from '../support/stores.ts';
import { clientEnv, runPave, startPave, type PaveProcess } from '../support/pave.ts';

const OLD = 'correct horse battery staple';
const NEW = 'a fresh passphrase for alice';

describe('passwords, failed logins and printable names through the real CLI', () => {
  let location: TestStoreLocation;
  let server: PaveProcess;
  /** The admin's environment (the bootstrap token). */
  const admin = () => ({
    ...clientEnv(server.url, location.dataDir),
    PAVE_TOKEN: readFileSync(join(location.dataDir, 'admin.token'), 'utf8').trim(),
  });
  /** alice's environment: her own config file, written by `pave login`. */
  const alice = () => ({
    ...clientEnv(server.url, location.dataDir),
    PAVE_CONFIG: join(location.dataDir, 'alice.json'),
  });
  const loginAlice = (password: string) =>
    runPave(['login', '--username', 'alice', '--password-stdin'], alice(), `${password}\n`);

  beforeAll(async () => {
    location = await createTestStoreLocation('sqlite');
    server = await startPave(['--data-dir', location.dataDir]);
  });
  afterAll(async () => {
    await server?.stop();
    await location?.cleanup();
  });

  it('lets a user change their own password with the current one; the old one stops working', async () => {
    expect((await runPave(['users', 'create', 'alice', '--password-stdin'], admin(), `${OLD}\n`)).code).toBe(
      0,
    );
    expect((await loginAlice(OLD)).code).toBe(0);

    const wrong = await runPave(
      ['users', 'set-password', '--password-stdin'],
      alice(),
      `not it at all\n${NEW}\n`,
    );
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('pave: error: the current password is wrong');

    const changed = await runPave(['users', 'set-password', '--password-stdin'], alice(), `${OLD}\n${NEW}\n`);
    expect(changed).toMatchObject({ code: 0, stdout: 'Changed your password\n', stderr: '' });
    expect((await loginAlice(OLD)).code).toBe(1);
    expect((await loginAlice(NEW)).code).toBe(0);
  });

  it('makes only alice, from this address, wait after failed logins, until an admin unlocks her', async () => {
    // One wrong current password above already counts; four more wrong logins make five.
    for (let attempt = 1; attempt <= 4; attempt++)
      expect((await loginAlice(`wrong ${attempt}`)).code).toBe(1);
    const waiting = await loginAlice(NEW);
    expect(waiting.code).toBe(1);
    expect(waiting.stderr).toMatch(/^pave: error: too many failed logins; try again in \d+ s$/m);

    const unlocked = await runPave(['users', 'unlock', 'alice'], admin());
    expect(unlocked).toMatchObject({
      code: 0,
      stdout: 'Cleared 5 failed logins of alice; they can log in again now\n',
    });
    expect((await loginAlice(NEW)).code).toBe(0);
    const notAdmin = await runPave(['users', 'unlock', 'alice'], alice());
    expect(notAdmin.code).toBe(1);
    expect(notAdmin.stderr).toContain('user.write');
  });

  it('refuses a name with an escape sequence, naming the field, and prints nothing raw', async () => {
    const refused = await runPave(['apps', 'create', 'shop', '--name', 'Shop\u001b[2J'], admin());
    expect(refused.code).toBe(1);
    expect(refused.stderr.split('\n')).toEqual([
      'pave: error: the request body is invalid',
      // The flag, and the value as typed, escaped.
      '  - --name "Shop\\u001b[2J": contains a control character (U+001B) at character 5; remove it: names and messages must be printable text',
      expect.stringMatching(/^ {2}\(request id .+\)$/),
      '',
    ]);
    expect(refused.stderr).not.toContain('\u001b');
  });
});
