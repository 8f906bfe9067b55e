import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ssoServerOptions } from '../src/sso-options.ts';

describe('the SSO options of `pave up`', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pave-sso-options-'));
  const secretFile = join(dir, 'secret');
  writeFileSync(secretFile, 'the-client-secret\n');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('offers no SSO and takes passwords by default', () => {
    expect(ssoServerOptions({}, {})).toEqual({ passwordLogin: true });
  });

  it('reads the issuer, client and secret file from flags or the environment', () => {
    const fromFlags = ssoServerOptions(
      { oidcIssuer: 'https://login.example.com', oidcClientId: 'pave', oidcClientSecretFile: secretFile },
      {},
    );
    const fromEnv = ssoServerOptions(
      {},
      {
        PAVE_OIDC_ISSUER: 'https://login.example.com',
        PAVE_OIDC_CLIENT_ID: 'pave',
        PAVE_OIDC_CLIENT_SECRET_FILE: secretFile,
        PAVE_DISABLE_PASSWORD_LOGIN: '1',
      },
    );
    const sso = {
      issuer: 'https://login.example.com',
      clientId: 'pave',
      clientSecret: 'the-client-secret',
      groupsClaim: 'groups',
      defaultRole: 'member',
    };
    expect(fromFlags).toEqual({ passwordLogin: true, sso });
    expect(fromEnv).toEqual({ passwordLogin: false, sso });
  });

  it('says what is missing: a client id or secret file, or an issuer', () => {
    expect(() => ssoServerOptions({ oidcIssuer: 'https://login.example.com' }, {})).toThrow(
      '--oidc-issuer needs --oidc-client-id ID and --oidc-client-secret-file PATH',
    );
    expect(() => ssoServerOptions({ oidcClientId: 'pave' }, {})).toThrow('go with --oidc-issuer URL');
    expect(() =>
      ssoServerOptions(
        { oidcIssuer: 'https://x', oidcClientId: 'pave', oidcClientSecretFile: join(dir, 'none') },
        {},
      ),
    ).toThrow(`--oidc-client-secret-file: cannot read ${join(dir, 'none')}`);
  });
});
