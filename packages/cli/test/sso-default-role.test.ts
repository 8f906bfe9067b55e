import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ORG_ROLES } from '@pave/core';
import { ssoServerOptions } from '../src/sso-options.ts';
import { runCli } from '../src/program.ts';
import { fakeIo } from './helpers.ts';

describe('the default role of a first SSO sign-in', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pave-sso-role-'));
  const secretFile = join(dir, 'secret');
  writeFileSync(secretFile, 'the-client-secret\n');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const env = (role: string) => ({
    PAVE_OIDC_ISSUER: 'https://login.example.com',
    PAVE_OIDC_CLIENT_ID: 'pave',
    PAVE_OIDC_CLIENT_SECRET_FILE: secretFile,
    PAVE_OIDC_DEFAULT_ROLE: role,
  });

  it("is one of core's org roles or none, and nothing else", () => {
    for (const role of [...ORG_ROLES, 'none']) {
      expect(ssoServerOptions({}, env(role)).sso?.defaultRole).toBe(role);
    }
    expect(() => ssoServerOptions({}, env('owner'))).toThrow(
      'PAVE_OIDC_DEFAULT_ROLE: "owner" is not admin, platform, member or none',
    );
  });

  it('is offered as those choices by --oidc-default-role', async () => {
    const io = fakeIo();
    expect(await runCli(['node', 'pave', 'up', '--oidc-default-role', 'owner'], io)).toBe(2);
    expect(io.stderr.text).toContain('Allowed choices are admin, platform, member, none');
  });
});
