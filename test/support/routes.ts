import { request } from 'node:http';

/**
 * Sends a request through Pave's embedded reverse proxy at `pave` (its URL) with `host` as the Host header, as a
 * browser resolving the route's `*.localhost` name would; resolves with the status and the trimmed body.
 */
export function viaRoute(
  pave: string,
  host: string,
  method: string,
  path: string,
): Promise<{ status: number; body: string }> {
  const url = new URL(pave);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: url.hostname, port: url.port, method, path, headers: { host }, timeout: 5000 },
      (response) => {
        let body = '';
        response.on('data', (chunk: Buffer) => (body += chunk.toString()));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body: body.trim() }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}
