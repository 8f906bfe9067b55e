import { createServer } from 'node:net';
import type { DriverContext, RenderedContainer, RenderedPort, RenderedWorkload } from '@pave/plugin-api';

/** A driver context whose logger keeps everything it is given, for assertions. */
export function testContext(options: { signal?: AbortSignal } = {}): DriverContext & {
  logged: string[];
} {
  const logged: string[] = [];
  const record =
    (level: string) =>
    (message: string, fields?: Record<string, unknown>): void => {
      logged.push(`${level} ${message} ${JSON.stringify(fields ?? {})}`);
    };
  return {
    logger: { debug: record('debug'), info: record('info'), warn: record('warn'), error: record('error') },
    signal: options.signal ?? new AbortController().signal,
    scratchDir: '/tmp',
    dryRun: false,
    logged,
  };
}

/** A port that was free a moment ago (bound to port 0, then released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject()));
    });
  });
}

/** A TCP port `targetPort` published at `hostPort`. */
export function port(name: string, targetPort: number, hostPort: number): RenderedPort {
  return { name, port: targetPort, targetPort, protocol: 'TCP', hostPort };
}

/** A one-container workload (container `main`) running `image`. */
export function workload(
  name: string,
  hash: string,
  container: Partial<RenderedContainer> & { image: string },
  ports: RenderedPort[] = [],
): RenderedWorkload {
  return {
    name,
    hash,
    deploymentId: `dep-${hash}`,
    ports,
    containers: [{ name: 'main', env: {}, files: [], workingDir: '/', ...container }],
  };
}

/** Polls `check` every 200 ms until it returns a value, or fails after `timeoutMs` naming `what`. */
export async function eventually<T>(
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs: number,
  what: string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** The body of GET `url`, or why there was none. */
export async function httpText(url: string): Promise<string> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(3_000) });
    return `${response.status} ${(await response.text()).trim()}`;
  } catch (error) {
    return `no answer (${(error as Error).message})`;
  }
}
