import type { AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../src/program.ts';
import { openFullApi } from '../../server/test/support/full-api.ts';
import { fakeIo, temporaryDir } from './helpers.ts';

// Two templates in one file; the second deploys an environment it does not create, which only the server checks.
const TEMPLATES = `id: good-one
title: Good one
parameters: { type: object, properties: { name: { type: string } }, required: [name] }
files: []
---
id: bad-two
title: Bad two
parameters: { type: object, properties: { name: { type: string } }, required: [name] }
files: []
setup:
  deploy: prod
`;

/*
 * `pave templates apply -f` sent a file's templates one after the other and stopped at the first the server
 * refused, leaving those before it applied; it checks them all first now (a dry run), and stores none when one
 * is refused.
 */
describe('pave templates apply of a file whose second template the server refuses', () => {
  it('applies none of them, with --dry-run or without', async () => {
    const api = await openFullApi('sqlite');
    try {
      await api.app.listen({ port: 0, host: '127.0.0.1' });
      const server = `http://127.0.0.1:${(api.app.server.address() as AddressInfo).port}`;
      const file = join(temporaryDir(), 'templates.yaml');
      writeFileSync(file, TEMPLATES);
      const apply = async (...extra: string[]) => {
        const io = fakeIo();
        const code = await runCli(
          [
            'node',
            'pave',
            'templates',
            'apply',
            '-f',
            file,
            ...extra,
            '--server',
            server,
            '--token',
            api.token,
          ],
          io,
        );
        return { code, stderr: io.stderr.text };
      };

      const dryRun = await apply('--dry-run');
      expect(dryRun.code).toBe(1);
      expect(dryRun.stderr).toMatch(/; nothing was applied\n$/);
      expect((await api.call('GET', '/templates/good-one')).statusCode).toBe(404);

      const applied = await apply();
      expect(applied.code).toBe(1);
      expect(applied.stderr).toMatch(
        /template "bad-two" cannot be applied: 1 problem\(s\); nothing was applied\n$/,
      );
      expect((await api.call('GET', '/templates/good-one')).statusCode).toBe(404);
    } finally {
      await api.cleanup();
    }
  });
});
