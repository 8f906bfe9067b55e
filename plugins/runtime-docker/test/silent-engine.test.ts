import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testDriverContext } from '@pave/plugin-api/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DockerRuntime } from '../src/index.ts';

/*
 * An engine that accepts connections and never answers held `status`, `remove`, `destroy` and `adopt` forever:
 * a deployment's timeout did nothing, and `pave up` never finished starting (its adopt had 30 s).
 */

/** How long each call may take here: the signal it gets aborts then. */
const CALL_TIME_MS = 300;

describe('the docker runtime, its engine silent', () => {
  let silent: Server;
  const sockets: Socket[] = [];
  let runtime: DockerRuntime;
  let dataDir: string;
  const target = { app: 'shop', env: 'dev' };

  beforeAll(async () => {
    silent = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    dataDir = mkdtempSync(join(tmpdir(), 'pave-silent-engine-'));
    runtime = DockerRuntime.fromConfig({
      host: '127.0.0.1',
      port: (silent.address() as AddressInfo).port,
      dataDir,
    });
  });
  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => silent.close(() => resolve()));
    rmSync(dataDir, { recursive: true, force: true });
  });

  const ctx = () => testDriverContext(AbortSignal.timeout(CALL_TIME_MS));

  it.each([
    ['status', () => runtime.status(target, ctx())],
    ['remove', () => runtime.remove(target, 'api', ctx())],
    ['destroy', () => runtime.destroy(target, ctx())],
  ] as const)('gives %s up when the call’s time is up, saying so', async (_name, call) => {
    await expect(call()).rejects.toThrow(/was given up: the call's time is up/u);
  });

  it('lets the control plane start: adopt gives the listing up and says the engine cannot be reached', async () => {
    const warnings: string[] = [];
    const context = testDriverContext(AbortSignal.timeout(CALL_TIME_MS));
    await runtime.adopt!({
      ...context,
      logger: {
        ...context.logger,
        warn: (message, fields) => warnings.push(`${message} ${JSON.stringify(fields)}`),
      },
    });
    expect(warnings).toEqual([expect.stringMatching(/^the container engine cannot be reached .*given up/u)]);
  });
});
