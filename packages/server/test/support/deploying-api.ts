import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { pino, type Logger } from 'pino';
import { expect } from 'vitest';
import type { ResourceDriver, RuntimeDriver, WorkloadStatus } from '@pave/plugin-api';
import type { ExecRequest } from '@pave/resource-basic';
import type { DeploymentDetail } from '@pave/core';
import { bootstrapAdmin, buildApi, type BuildApiOptions, type Store } from '../../src/index.ts';
import { keyringSource } from '../../src/secrets/keyring.ts';
import { SecretBox } from '../../src/secrets/secret-box.ts';
import { resourceDriverRegistry } from '../../src/resource-drivers.ts';
import { RuntimeRouter } from '../../src/runtime-router.ts';
import { runtimeRegistry, type RuntimeRegistryConfig } from '../../src/runtimes.ts';
import { DeploymentWorker } from '../../src/domain/deployments/worker.ts';
import { openTestStore, type TestEngine } from '../../../../test/support/stores.ts';

/** Where the workloads of a test's deployments run. */
type DeployingRuntime =
  | {
      /** This runtime runs every environment; runtime targets are not consulted. */
      runtime: RuntimeDriver;
    }
  | {
      /**
       * The process runtime of a runtime router like the server's, built from the data dir: it runs the
       * built-in `local` target and every `process` target, while docker and kubernetes targets get Pave's
       * own runtimes. The router chooses each environment's target when a deployment is queued and when it
       * runs, and renders environments.
       */
      processRuntime(dataDir: string): RuntimeRegistryConfig['local'];
    };

export type DeployingApiOptions = DeployingRuntime & {
  /** Resource drivers of the test, registered next to the ones Pave ships. */
  resourceDrivers?: ResourceDriver[];
  /**
   * Run queued deployments with a started worker, poked as each one is queued. Without it they stay queued:
   * a test that runs deployments itself wants no worker racing it.
   */
  worker?: boolean;
  /** Where the worker logs (what runs deployments); default nowhere. */
  logger?: Logger;
  /** More options for buildApi. */
  api?: Partial<BuildApiOptions>;
};

/** An HTTP method the API serves. */
type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** An in-process API on a fresh store, with the admin's token and helpers to call it and deploy through it. */
export interface DeployingApi {
  app: FastifyInstance;
  store: Store;
  /** The store's secret box, for tests that run deployments themselves. */
  box: SecretBox;
  dataDir: string;
  /** The bootstrapped admin's token. */
  token: string;
  /** Sends a request to `/api/v1<url>` as the admin; `payload` is the JSON body. */
  call(method: Method, url: string, payload?: object): Promise<LightMyRequestResponse>;
  /** The same as the holder of `token`. */
  callAs(token: string, method: Method, url: string, payload?: object): Promise<LightMyRequestResponse>;
  /**
   * Creates the user `username` (as the admin, with USER_PASSWORD) and signs in as them; resolves with their
   * token. Roles granted later reach a token within a second (the actor cache): grant them first.
   */
  createUser(username: string): Promise<string>;
  /**
   * Queues a deployment of `app`/`env` with `body` (expecting 202) and polls it until it succeeded or failed;
   * resolves with its record, whatever the outcome, and rejects if it has not finished after 15 s.
   */
  deploy(app: string, env: string, body: object): Promise<DeploymentDetail>;
  /**
   * Polls deployment `id` of `app`/`env` until it succeeded, failed or was cancelled; resolves with its record,
   * and rejects if it has not finished after 15 s.
   */
  finished(app: string, env: string, id: string): Promise<DeploymentDetail>;
  /** Stops the worker, closes the API and removes the store. */
  cleanup(): Promise<void>;
}

/** The password of the users `createUser` makes. */
const USER_PASSWORD = 'a long enough password';

/**
 * A runtime that runs nothing and answers ready, for tests about what a deployment does around its workloads
 * (the resources it provisions, the targets it moves between).
 */
export const idleRuntime: RuntimeDriver = {
  name: 'idle',
  deploy: async () => undefined,
  waitReady: async () => ({ ready: true }),
  remove: async () => undefined,
  status: async (): Promise<WorkloadStatus[]> => [],
  destroy: async () => undefined,
};

const POLL_MS = 50;
const POLLS = 300;

/**
 * Builds the API the way the server does, on a migrated store of `engine` in a temp data dir: the admin
 * bootstrapped, encrypted values, the resource drivers Pave ships (the pglite script does not exist, so an
 * embedded postgres cannot start) plus the test's, and the runtime of `options`.
 */
export async function openDeployingApi(
  engine: TestEngine,
  options: DeployingApiOptions,
): Promise<DeployingApi> {
  const opened = await openTestStore(engine);
  const { store } = opened;
  const dataDir = opened.location.dataDir;
  const token = readFileSync((await bootstrapAdmin(store, dataDir))!, 'utf8').trim();
  const keyring = keyringSource(dataDir, {});
  const box = new SecretBox(store.db, keyring);
  await box.init();
  const resourceDrivers = resourceDriverRegistry({ dataDir, pgliteScript: '/nonexistent/pglite-server.js' });
  for (const driver of options.resourceDrivers ?? []) resourceDrivers.register(driver);
  const { runtime, targets, renderer } = runtimeOf(options, store, dataDir);
  const worker = options.worker
    ? new DeploymentWorker({
        store,
        runtime,
        box,
        resourceDrivers,
        targets,
        logger: options.logger ?? pino({ level: 'silent' }),
      })
    : undefined;
  const app = await buildApi({
    store,
    secrets: { box },
    runtime,
    targets,
    renderer,
    resourceDrivers,
    onDeploymentQueued: worker && (() => worker.poke()),
    ...options.api,
  });
  await app.ready();
  worker?.start();

  const callAs: DeployingApi['callAs'] = (as, method, url, payload) =>
    app.inject({
      method,
      url: `/api/v1${url}`,
      headers: { authorization: `Bearer ${as}` },
      ...(payload ? { payload } : {}),
    });
  const call: DeployingApi['call'] = (method, url, payload) => callAs(token, method, url, payload);
  const finished = async (app: string, env: string, id: string): Promise<DeploymentDetail> => {
    for (let attempt = 0; attempt < POLLS; attempt++) {
      const shown = (
        await call('GET', `/apps/${app}/envs/${env}/deployments/${id}`)
      ).json() as DeploymentDetail;
      if (['succeeded', 'failed', 'cancelled'].includes(shown.status)) return shown;
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
    throw new Error(`deployment ${id} of ${app}/${env} did not finish in ${(POLLS * POLL_MS) / 1000} s`);
  };
  return {
    app,
    store,
    box,
    dataDir,
    token,
    call,
    callAs,
    async createUser(username) {
      const created = await call('POST', '/users', { username, password: USER_PASSWORD });
      expect(created.statusCode, created.body).toBe(201);
      const login = await app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { username, password: USER_PASSWORD },
      });
      expect(login.statusCode, login.body).toBe(200);
      return login.json().token as string;
    },
    async deploy(app, env, body) {
      const queued = await call('POST', `/apps/${app}/envs/${env}/deployments`, body);
      expect(queued.statusCode, queued.body).toBe(202);
      return finished(app, env, queued.json().id as string);
    },
    finished,
    async cleanup() {
      await worker?.stop();
      await app.close();
      await opened.cleanup();
    },
  };
}

/** The runtime `options` ask for; a router also chooses each environment's target and renders. */
function runtimeOf(
  options: DeployingRuntime,
  store: Store,
  dataDir: string,
): { runtime: RuntimeDriver } & Pick<BuildApiOptions, 'targets' | 'renderer'> {
  if ('runtime' in options) return { runtime: options.runtime };
  const router = new RuntimeRouter(
    store,
    runtimeRegistry({ local: options.processRuntime(dataDir), dataDir }),
  );
  return { runtime: router, targets: router, renderer: router };
}

/** An exec command that logs every request it is sent, for the `command` of an exec resource definition. */
export interface ExecLoggingScript {
  /** The command's path. */
  script: string;
  /** The requests the command was sent, oldest first; with `env`, only those for that environment. */
  requests(env?: string): ExecRequest[];
}

/**
 * Writes an exec command into `dataDir` that appends the request it reads on stdin to a log and, unless
 * asked to delete, answers with a `host` output named after the environment (`<env>.example.test`).
 */
export function execLoggingScript(dataDir: string): ExecLoggingScript {
  const log = join(dataDir, 'exec-requests.jsonl');
  const script = join(dataDir, 'exec-logging.sh');
  writeFileSync(
    script,
    [
      '#!/bin/sh',
      'request=$(cat)',
      `printf '%s\\n' "$request" >> '${log}'`,
      '[ "$PAVE_ACTION" = delete ] || printf \'{"values":{"host":"%s.example.test"}}\' "$PAVE_ENV"',
      '',
    ].join('\n'),
  );
  chmodSync(script, 0o755);
  return {
    script,
    requests(env) {
      if (!existsSync(log)) return [];
      return readFileSync(log, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as ExecRequest)
        .filter((request) => env === undefined || request.scope.env === env);
    },
  };
}
