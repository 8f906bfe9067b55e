import { rmSync } from 'node:fs';
import { request } from 'node:http';
import { expect } from 'vitest';
import { createTestStoreLocation, type TestStoreLocation } from './stores.ts';
import {
  clientEnv,
  runPave,
  shortenStabilityWindow,
  startPave,
  type CliResult,
  type PaveProcess,
} from './pave.ts';
import { makeAppDir } from './app-dir.ts';

/** Git with no identity configured (no global or system config), as on a fresh machine. */
export const NO_GIT_IDENTITY = { GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1' };

/** A fresh `pave up` (SQLite) to run `pave init` against, with a work directory for the generated projects. */
export interface InitFixture {
  location: TestStoreLocation;
  server: PaveProcess;
  work: string;
  /** Runs the CLI against the server, with no git identity. */
  pave(...args: string[]): Promise<CliResult>;
  /** Runs the CLI and expects it to succeed. */
  ok(...args: string[]): Promise<CliResult>;
  /** Deletes `apps` (with their workloads and resources), stops what `stopEmbedded` names, removes it all. */
  cleanup(apps: string[], stopEmbedded: (dataDir: string) => Promise<unknown>): Promise<void>;
}

/** Starts the fixture: `pave up` on a new data directory, with a short stability window. */
export async function startInitFixture(workPrefix: string): Promise<InitFixture> {
  const location = await createTestStoreLocation('sqlite');
  const server = await startPave(['--data-dir', location.dataDir]);
  await shortenStabilityWindow(server.url, location.dataDir);
  const work = makeAppDir(workPrefix);
  const pave = (...args: string[]) =>
    runPave(args, { ...clientEnv(server.url, location.dataDir), ...NO_GIT_IDENTITY });
  return {
    location,
    server,
    work,
    pave,
    async ok(...args) {
      const result = await pave(...args);
      expect(result.code, `pave ${args.join(' ')}\n${result.stderr}${result.stdout}`).toBe(0);
      return result;
    },
    async cleanup(apps, stopEmbedded) {
      for (const app of apps) await pave('apps', 'delete', app, '--force');
      await server.stop();
      // Embedded servers outlive Pave (workloads use them): stopped before their data directory goes.
      await stopEmbedded(location.dataDir).catch(() => undefined);
      await location.cleanup();
      rmSync(work, { recursive: true, force: true });
    },
  };
}

/**
 * Sends a request to a route's URL as `pave init` printed it: to Pave's address with the URL's host name (so
 * the test needs no resolver for *.localhost).
 */
export function viaUrl(
  pave: string,
  url: string,
  method: string,
  path: string,
  body?: string,
): Promise<{ status: number; type: string; body: string }> {
  const server = new URL(pave);
  const route = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: server.hostname,
        port: server.port,
        method,
        path: new URL(path, route).pathname,
        headers: { host: route.host, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        timeout: 5000,
      },
      (response) => {
        let text = '';
        response.on('data', (chunk: Buffer) => (text += chunk.toString()));
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            type: String(response.headers['content-type'] ?? ''),
            body: text,
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
