import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CliUsageError } from './errors.ts';
import type { CliIo } from './io.ts';
import { createClient } from './connection.ts';

/** How long `pave login --sso` waits for the browser to come back. */
export const SSO_LOGIN_TIMEOUT_MS = 5 * 60 * 1000;

/**
 * Signs in with the server's SSO: listens on 127.0.0.1 (a random port) for the server's redirect, prints
 * the sign-in URL (and opens it in a browser with `openBrowser`), and resolves with the token the
 * redirect brings. The redirect's path holds a random secret that only the sign-in URL carries: any other
 * local process can reach the port, but not hand this CLI a token of its choosing. Rejects with
 * CliUsageError when the server offers no SSO, the sign-in was refused (with the server's reason), or nothing
 * came back within 5 minutes.
 */
export async function ssoLogin(
  server: string,
  io: CliIo,
  options: { openBrowser: boolean },
): Promise<string> {
  const methods = await (await createClient(server, undefined, io)).authMethods();
  if (!methods.sso) {
    throw new CliUsageError(
      `${server} offers no single sign-on; log in with --username NAME or --token-stdin instead`,
    );
  }
  let settle!: { resolve: (token: string) => void; reject: (error: Error) => void };
  const result = new Promise<string>((resolve, reject) => (settle = { resolve, reject }));
  const callbackPath = `/callback/${randomBytes(24).toString('base64url')}`;
  const loopback = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    if (request.method !== 'GET' || url.pathname !== callbackPath) {
      response.writeHead(404).end();
      return;
    }
    const token = url.searchParams.get('token');
    const error = url.searchParams.get('error');
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    response.end(
      token
        ? '<!doctype html><title>Pave</title><p>Signed in to Pave. You can close this tab and go back to the terminal.</p>'
        : `<!doctype html><title>Pave</title><p>The SSO sign-in failed: ${escapeHtml(error ?? 'no token came back')}</p>`,
    );
    if (token) settle.resolve(token);
    else settle.reject(new CliUsageError(`the SSO sign-in failed: ${error ?? 'no token came back'}`));
  });
  await new Promise<void>((resolve) => loopback.listen(0, '127.0.0.1', resolve));
  const timer = setTimeout(
    () =>
      settle.reject(
        new CliUsageError('no SSO sign-in came back within 5 minutes; run `pave login --sso` again'),
      ),
    SSO_LOGIN_TIMEOUT_MS,
  );
  try {
    const port = (loopback.address() as AddressInfo).port;
    const redirect = `http://127.0.0.1:${port}${callbackPath}`;
    const start = new URL(`${server.replace(/\/+$/, '')}${methods.sso.startUrl}`);
    start.searchParams.set('redirect', redirect);
    io.stderr.write(
      `To sign in with SSO, open this URL in a browser:\n\n  ${start.toString()}\n\nWaiting for the sign-in…\n`,
    );
    if (options.openBrowser) openInBrowser(start.toString());
    return await result;
  } finally {
    clearTimeout(timer);
    loopback.closeAllConnections();
    loopback.close();
  }
}

/** Opens `url` with the desktop's opener (`open` on macOS, else `xdg-open`), when there is one. */
function openInBrowser(url: string): void {
  const opener = process.platform === 'darwin' ? 'open' : 'xdg-open';
  try {
    const child = spawn(opener, [url], { stdio: 'ignore', detached: true });
    // No opener, or no display: the printed URL is the way.
    child.on('error', () => undefined);
    child.unref();
  } catch {
    // As above.
  }
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
