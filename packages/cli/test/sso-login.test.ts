import { describe, expect, it } from 'vitest';
import { ssoLogin } from '../src/sso-login.ts';
import { fakeIo, fakeServer } from './helpers.ts';

/** Resolves with the loopback redirect once `ssoLogin` has printed its sign-in URL. */
async function printedRedirect(io: ReturnType<typeof fakeIo>): Promise<URL> {
  for (;;) {
    const match = /(http:\/\/\S+\/auth\/sso\/start\S*)/.exec(io.stderr.text);
    if (match?.[1]) return new URL(new URL(match[1]).searchParams.get('redirect') ?? '');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('pave login --sso’s loopback server', () => {
  it('takes a token only at the secret path its sign-in URL names, not from any local caller', async () => {
    const server = await fakeServer(() => ({
      status: 200,
      body: { password: true, sso: { issuer: 'https://idp.example', startUrl: '/api/v1/auth/sso/start' } },
    }));
    const io = fakeIo();
    const login = ssoLogin(server.url, io, { openBrowser: false });
    const redirect = await printedRedirect(io);
    expect(redirect.origin).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(redirect.pathname).toMatch(/^\/callback\/[\w-]{32}$/);

    // Another process on this machine can reach the port, but knows no secret: its token is not taken.
    for (const path of ['/callback', '/callback/guess', `${redirect.pathname}x`]) {
      const forged = await fetch(`${redirect.origin}${path}?token=pave_forged`);
      expect(forged.status, path).toBe(404);
    }
    const posted = await fetch(`${redirect.href}?token=pave_forged`, { method: 'POST' });
    expect(posted.status).toBe(404);

    const page = await fetch(`${redirect.href}?token=pave_real`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('Signed in to Pave');
    await expect(login).resolves.toBe('pave_real');
  });

  it('ends with the server’s reason when the sign-in came back refused', async () => {
    const server = await fakeServer(() => ({
      status: 200,
      body: { password: true, sso: { issuer: 'https://idp.example', startUrl: '/api/v1/auth/sso/start' } },
    }));
    const io = fakeIo();
    const login = ssoLogin(server.url, io, { openBrowser: false });
    const refused = expect(login).rejects.toThrow(
      'the SSO sign-in failed: the ID token was issued for another client',
    );
    const redirect = await printedRedirect(io);
    const page = await fetch(
      `${redirect.href}?error=${encodeURIComponent('the ID token was issued for another client')}`,
    );
    expect(await page.text()).toContain('The SSO sign-in failed: the ID token was issued for another client');
    await refused;
  });
});
