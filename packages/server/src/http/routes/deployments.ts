import {
  CreateDeploymentBody,
  Deployment,
  DeploymentDetail,
  DeploymentListQuery,
  DeploymentPage,
  DeploymentParams,
  DeploymentPlan,
  DiffQuery,
  EnvParams,
  EnvironmentStatus,
  LogsQuery,
  NotFoundError,
  RollbackBody,
  SetDiff,
  type AccessTarget,
  type FieldProblem,
} from '@pave/core';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RuntimeDriver, RuntimeTarget } from '@pave/plugin-api';
import type { ApiServer } from '../app.ts';
import { eventStream, noContent } from '../responses.ts';
import { API_SECURITY_HEADERS } from '../headers.ts';
import type { Store } from '../../store/index.ts';
import { environmentRow, getEnvironment } from '../../domain/environments.ts';
import { decideFor, environmentAccess } from '../../domain/access.ts';
import { getDeployment, listDeployments } from '../../domain/deployments/records.ts';
import { createDeployment, diffDeployments, rollback } from '../../domain/deployments/service.ts';
import { cancelDeployment } from '../../domain/deployments/cancel.ts';
import { driverContext, type EnvironmentTargets } from '../../domain/deployments/orchestrator.ts';
import { environmentStatus } from '../../domain/deployments/status.ts';
import {
  environmentLogs,
  environmentMasker,
  environmentSecrets,
  environmentSecretsMark,
  requireLoggedWorkload,
} from '../../domain/logs.ts';
import { maskSecrets } from '../../domain/resources/masking.ts';
import type { Actor } from '../../domain/context.ts';
import type { SecretBox } from '../../secrets/secret-box.ts';
import { loadSet } from '../../domain/deployments/sets.ts';
import { listeningPort } from './app-status.ts';
import type { ResourceDeps } from '../../domain/resources/provision.ts';
import { arrivals, callerCheck, streamSignals } from '../streams.ts';

/** What the deployment routes need besides the store. */
export interface DeploymentRouteDeps {
  store: Store;
  /**
   * The runtime of every environment. One that serves several targets (the RuntimeRouter) says per
   * environment whether it can stream logs (`streamsLogs`); for another, having `logs` says so for all.
   */
  runtime: RuntimeDriver & { streamsLogs?(target: RuntimeTarget): Promise<boolean> };
  /** Tells the local worker that work was queued, so it starts without waiting for its next poll. */
  onQueued: () => void;
  /** The resource drivers and the secret box: plans ask drivers what a change means (diff, read). */
  resources?: Pick<ResourceDeps, 'box' | 'drivers'> | undefined;
  /** Which runtime each environment deploys to; without it, `runtime` for all. */
  targets?: EnvironmentTargets | undefined;
  /** Opens the environment's secrets, which log streams mask for callers who may not reveal them. */
  box?: SecretBox | undefined;
}

/**
 * The least time between two of a log stream's checks of its caller and of the secrets it masks (see the logs
 * route): a stream of many lines checks once for each batch of lines that arrived during this time.
 */
const LOG_CHECK_SPACING_MS = 100;

/** Deployments, rollback, promote, status, diff and logs of an environment. */

export function deploymentRoutes(api: ApiServer, deps: DeploymentRouteDeps): void {
  const streamSignal = streamSignals(api);
  const { store, runtime } = deps;
  const tags = ['deployments'];
  api.post(
    '/apps/:app/envs/:env/deployments',
    {
      config: {
        permission: 'deployment.create',
        // Redeploying an earlier deployment's set is a rollback, whatever route asks for it.
        access: async (request) =>
          (request.body as { fromDeployment?: unknown } | undefined)?.fromDeployment === undefined
            ? []
            : [{ permission: 'deployment.rollback', target: request.accessTarget }],
      },
      schema: {
        tags,
        summary: 'Deploy workloads, promote another environment, or redeploy an earlier set',
        params: EnvParams,
        body: CreateDeploymentBody,
        response: { 200: DeploymentPlan, 202: Deployment },
      },
    },
    async (request, reply) => {
      const result = await createDeployment(
        store,
        request.pave,
        request.params.app,
        request.params.env,
        request.body,
        {
          resources: deps.resources,
          logger: request.log,
          runtimeOf: async (target) => (deps.targets ? (await deps.targets.plan(target)).runtime : runtime),
          targetOf: async (target) =>
            deps.targets ? ((await deps.targets.plan(target)).next ?? null) : null,
        },
      );
      if ('diff' in result) return reply.code(200).send(result);
      deps.onQueued();
      return reply.code(202).send(result);
    },
  );
  api.post(
    '/apps/:app/envs/:env/rollback',
    {
      config: { permission: 'deployment.rollback' },
      schema: {
        tags,
        summary: "Redeploy an earlier deployment's set (default: the previous successful one)",
        params: EnvParams,
        body: RollbackBody.nullish(),
        response: { 202: Deployment },
      },
    },
    async (request, reply) => {
      const result = await rollback(
        store,
        request.pave,
        request.params.app,
        request.params.env,
        request.body ?? {},
      );
      deps.onQueued();
      return reply.code(202).send(result);
    },
  );
  api.get(
    '/apps/:app/envs/:env/deployments',
    {
      config: { permission: 'deployment.read' },
      schema: {
        tags,
        summary: "List an environment's deployments, newest first",
        params: EnvParams,
        querystring: DeploymentListQuery,
        response: { 200: DeploymentPage },
      },
    },
    async (request) => {
      await getEnvironment(store.db, request.params.app, request.params.env);
      return listDeployments(store.db, request.params.app, request.params.env, request.query);
    },
  );
  api.get(
    '/apps/:app/envs/:env/deployments/:id',
    {
      config: { permission: 'deployment.read' },
      schema: {
        tags,
        summary: 'Get a deployment with its journal',
        params: DeploymentParams,
        response: { 200: DeploymentDetail },
      },
    },
    async (request) => getDeployment(store.db, request.params.app, request.params.env, request.params.id),
  );
  api.post(
    '/apps/:app/envs/:env/deployments/:id/cancel',
    {
      config: { permission: 'deployment.create' },
      schema: {
        tags,
        summary: 'Cancel a queued deployment, or withdraw one awaiting approval (409 once it has started)',
        params: DeploymentParams,
        response: { 200: DeploymentDetail },
      },
    },
    async (request) =>
      cancelDeployment(store, request.pave, request.params.app, request.params.env, request.params.id),
  );
  api.get(
    '/apps/:app/envs/:env/diff',
    {
      config: { permission: 'deployment.read' },
      schema: {
        tags,
        summary: 'Compare deployment sets (default: previous successful vs current)',
        params: EnvParams,
        querystring: DiffQuery,
        response: { 200: SetDiff },
      },
    },
    async (request) => {
      const { app, env } = request.params;
      const { toEnv } = request.query;
      await getEnvironment(store.db, app, env);
      if (toEnv) {
        // Its problem names the query parameter, not the path's environment.
        await getEnvironment(store.db, app, toEnv).catch((error: unknown) => {
          if (!(error instanceof Error) || error.name !== 'NotFoundError') throw error;
          const { errors = [] } = error as { errors?: FieldProblem[] };
          throw new NotFoundError(
            error.message,
            errors.map((problem) => ({ ...problem, path: 'query.toEnv' })),
          );
        });
      }
      // Whether two environments' secrets are equal tells something about them: only for who may see both.
      let mayCompareSecrets = false;
      if (toEnv) {
        mayCompareSecrets = true;
        for (const side of [env, toEnv]) {
          const access = await environmentAccess(store.db, app, side);
          if (!decideFor(request.pave.actor, 'values.reveal', { app, ...access }).allowed) {
            mayCompareSecrets = false;
          }
        }
      }
      return diffDeployments(store.db, app, env, request.query, mayCompareSecrets);
    },
  );
  api.get(
    '/apps/:app/envs/:env/status',
    {
      config: { permission: 'deployment.read' },
      schema: {
        tags,
        summary: "Live status of an environment's workloads",
        params: EnvParams,
        response: { 200: EnvironmentStatus },
      },
    },
    async (request) =>
      environmentStatus(store, runtime, request.params, request.log, {
        proxyPort: listeningPort(request.server),
        box: deps.box,
      }),
  );
  api.get(
    '/apps/:app/envs/:env/logs',
    {
      config: { permission: 'logs.read' },
      schema: {
        tags,
        summary: 'Stream workload logs as Server-Sent Events (event: log, data: LogEvent JSON)',
        params: EnvParams,
        querystring: LogsQuery,
        response: {
          200: eventStream('The log stream: an `event: log` with LogEvent JSON for each line'),
          204: noContent("The environment's runtime cannot stream logs"),
        },
      },
    },
    async (request, reply) => {
      const { app, env } = request.params;
      const environment = await environmentRow(store.db, app, env);
      const streams = runtime.streamsLogs ? await runtime.streamsLogs({ app, env }) : true;
      if (!streams || !runtime.logs) {
        return reply.code(204).send(null);
      }
      if (request.query.workload) {
        const expected = environment.current_set_id
          ? Object.keys((await loadSet(store.db, environment.current_set_id)).workloads)
          : [];
        const check = driverContext(request.log, AbortSignal.timeout(10_000));
        try {
          await requireLoggedWorkload(runtime, { app, env }, request.query.workload, expected, check);
        } finally {
          check.dispose();
        }
      }
      const signal = streamSignal(request);
      const mayStillRead = callerCheck(store, request);
      reply.hijack();
      reply.raw.writeHead(200, {
        ...API_SECURITY_HEADERS,
        'content-type': 'text/event-stream; charset=utf-8',
        connection: 'keep-alive',
        'x-request-id': String(request.id),
      });
      const refusedNow = new AbortController();
      const ctx = driverContext(request.log, AbortSignal.any([signal, refusedNow.signal]));
      // Lines are sent in batches, each after a check that began once its last line had arrived, of the caller
      // (see callerCheck) and, for a caller who may not reveal the environment's secrets, of the secrets Pave
      // knows, which are masked in the lines: a workload prints only a secret Pave recorded before it gave it
      // to the workload, so the check that follows the line finds it (a value set, a deployment, a resource
      // provisioned; environmentSecretsMark says whether to look them up again). A heartbeat checks too: a
      // quiet stream whose caller lost access ends at its next one.
      let ended = false;
      // The secrets last looked up, and the mark they were looked up at.
      let known: { secrets: string[]; mark: string } | undefined;
      const secretsFor = async (actor: Actor, target: AccessTarget) => {
        const { box } = deps;
        if (!box || decideFor(actor, 'values.reveal', target).allowed) return [];
        const mark = await environmentSecretsMark(store.db, { app, env });
        if (known?.mark !== mark)
          known = { secrets: await environmentSecrets(box, store.db, { app, env }), mark };
        return known.secrets;
      };
      /** Checks the caller again: the secrets to mask in what is sent next, or undefined once the stream ends. */
      const checkAgain = async (): Promise<string[] | undefined> => {
        if (ended) return undefined;
        const check = await mayStillRead();
        if (ended) return undefined;
        if ('actor' in check) {
          const secrets = await secretsFor(check.actor, check.target);
          return ended ? undefined : secrets;
        }
        ended = true;
        const message = `${check.refusal}; reconnect once you may read these logs`;
        reply.raw.write(`event: error\ndata: ${JSON.stringify({ message })}\n\n`);
        refusedNow.abort();
        return undefined;
      };
      const heartbeat = setInterval(() => {
        checkAgain().then(
          (secrets) => secrets && reply.raw.write(': keep-alive\n\n'),
          (error: unknown) => request.log.error({ err: error }, 'log stream check failed'),
        );
      }, 15_000);
      try {
        const lines = environmentLogs(
          runtime.logs.bind(runtime),
          { app, env },
          {
            ...(request.query.workload ? { workload: request.query.workload } : {}),
            tail: request.query.tail ?? 100,
            ...(request.query.since ? { since: request.query.since } : {}),
            follow: request.query.follow === 'true',
          },
          ctx,
        );
        const arrived = arrivals(lines);
        try {
          for (let checkedAt = 0; ;) {
            const spacing = checkedAt + LOG_CHECK_SPACING_MS - Date.now();
            if (spacing > 0) await sleep(spacing);
            const batch = await arrived.take();
            if (!batch || signal.aborted || ended) break;
            checkedAt = Date.now();
            const secrets = await checkAgain();
            if (!secrets) break;
            const shown = batch.map((line) =>
              secrets.length > 0 ? { ...line, line: maskSecrets(line.line, secrets) } : line,
            );
            reply.raw.write(shown.map((line) => `event: log\ndata: ${JSON.stringify(line)}\n\n`).join(''));
          }
        } finally {
          arrived.close();
        }
        if (!signal.aborted && !ended) reply.raw.write('event: end\ndata: {}\n\n');
      } catch (error) {
        if (!signal.aborted && !ended) {
          // The runtime's error may quote the workloads' environment: masked for everyone, in the log too.
          const { box } = deps;
          const said = (error as Error).message;
          const message = box ? (await environmentMasker(box, store.db, { app, env }))(said) : said;
          request.log.error({ error: message }, 'log stream failed');
          reply.raw.write(`event: error\ndata: ${JSON.stringify({ message })}\n\n`);
        }
      } finally {
        ended = true;
        clearInterval(heartbeat);
        ctx.dispose();
        reply.raw.end();
      }
    },
  );
}
