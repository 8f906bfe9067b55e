import type { AddressInfo } from 'node:net';
import { chmodSync, chownSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { dirname, join, resolve } from 'node:path';
import { constants as osConstants } from 'node:os';
import {
  describeIsolation,
  detectIsolationHost,
  isolationFor,
  restrictToOwner,
  strongestIsolation,
  type Isolation,
  type IsolationHost,
  type RuntimeDriver,
} from '@pave/plugin-api';
import pino, { type Logger } from 'pino';
import type { FastifyInstance } from 'fastify';
import { openStore, type Store, type StoreMigration } from './store/index.ts';
import { bootstrapAdmin } from './domain/bootstrap.ts';
import { seedBuiltInTemplates } from './domain/templates.ts';
import { buildApi } from './http/app.ts';
import { REDACTED, redactUrl } from './http/redact.ts';
import { PAVE_VERSION } from './version.ts';
import { ProcessRuntime } from '@pave/runtime-process';
import { DeploymentWorker } from './domain/deployments/worker.ts';
import { usersWithReservedNames } from './domain/users.ts';
import { queueRestarts } from './domain/deployments/restart.ts';
import { keyringSource } from './secrets/keyring.ts';
import { SecretBox } from './secrets/secret-box.ts';
import { loadAuditKey } from './domain/audit-key.ts';
import { driverContext, environmentTeardown } from './domain/deployments/orchestrator.ts';
import { resourceDriverRegistry } from './resource-drivers.ts';
import { RuntimeRouter } from './runtime-router.ts';
import { composeRenderer, runtimeRegistry } from './runtimes.ts';
import { WebhookDispatcher } from './domain/webhooks/dispatcher.ts';
import { WebhookAllowList, parseAllowList } from './domain/webhooks/ssrf.ts';
import { EnvironmentJanitor, EVENT_RETENTION_MS, JANITOR_INTERVAL_MS } from './domain/janitor.ts';
import { setApprovalTtlMs } from './domain/deployments/approvals.ts';
import { setTemplateTimeLimitSeconds } from './domain/template-jobs.ts';
import { RouteTable } from './domain/resources/routes.ts';
import { StateCredentials, withStateBackends } from './domain/resources/state.ts';
import { claimDataDir, recordPort, registerReplica } from '@pave/core/data-dir-lock';
import { listenProblem, listenerPortInUseError, reachableUrl, type Listener } from '@pave/core/ports';
import { ConflictError, InputError } from '@pave/core';
import { PaveMetrics } from './observability/metrics.ts';
import { runtimeWorkloads } from './observability/workload-source.ts';
import {
  DeploymentTelemetry,
  instrumentResourceDrivers,
  instrumentRuntimes,
} from './observability/telemetry.ts';
import { startTracing } from './observability/tracing.ts';
import { listenForMetrics, type MetricsListener } from './http/metrics.ts';
import { OidcSignOn, checkSsoSettings, type SsoSettings } from './domain/sso.ts';

export interface ServerOptions {
  port: number;
  host: string;
  /** Where Pave keeps SQLite state, the admin token and keys; created if missing (mode 0700). */
  dataDir: string;
  /** A postgres:// URL; SQLite in the data directory when absent. */
  store?: string | undefined;
  logLevel?: string;
  /** Where logs go; stdout by default. */
  logDestination?: NodeJS.WritableStream;
  /** Store migrations, for tests that simulate another Pave version. */
  migrations?: readonly StoreMigration[];
  /** Where PAVE_MASTER_KEY is read from; process.env by default. */
  env?: NodeJS.ProcessEnv;
  /** The bundled process supervisor (packages/cli/dist/process-supervisor.js); `pave up` passes it. */
  supervisorScript: string;
  /** How often expired environments are looked for; default PAVE_JANITOR_INTERVAL_MS, else 10 s. */
  janitorIntervalMs?: number;
  /** How long events are kept before the janitor deletes them; default EVENT_RETENTION_MS (30 days). */
  eventRetentionMs?: number | undefined;
  /** How long a deployment may await approval before the janitor expires it; default 24 hours. */
  approvalTtlMs?: number | undefined;
  /**
   * How long one check or rendering of a template may take, in whole seconds from 1 to 600 (`pave up
   * --template-time-limit`); default TEMPLATE_TIME_LIMIT_SECONDS (5).
   */
  templateTimeLimitSeconds?: number | undefined;
  /**
   * The unprivileged user workloads and exec commands run as when Pave runs as root; default
   * `pave-workload`, created as a system user when missing.
   */
  workloadUser?: string | undefined;
  /**
   * CIDRs webhooks may reach although they are loopback, private or link-local (`pave up --webhook-allow`);
   * default PAVE_WEBHOOK_ALLOW (comma-separated), else none.
   */
  webhookAllow?: readonly string[] | undefined;
  /**
   * Variables of the control plane's environment passed on to the exec and terraform resource drivers'
   * commands besides PATH, HOME and the other defaults (`pave up --driver-env`); default none.
   */
  driverEnv?: readonly string[] | undefined;
  /**
   * The built-in templates to seed (one directory each); default `templates` beside the supervisor script,
   * where scripts/build.mjs bundles packages/server/templates.
   */
  templatesDir?: string | undefined;
  /**
   * Also serve `GET /metrics` without a token on this port (`pave up --metrics-port`; 0 picks a free one);
   * without it, metrics are only at `/metrics` on the API port, for tokens holding metrics.read.
   */
  metricsPort?: number | undefined;
  /** The address of the metrics port; default 127.0.0.1 (`--metrics-host`). Unused without `metricsPort`. */
  metricsHost?: string | undefined;
  /** Single sign-on with an OIDC provider (`pave up --oidc-issuer …`); none when absent. */
  sso?: SsoSettings | undefined;
  /** False refuses password logins (`pave up --disable-password-login`); default true. */
  passwordLogin?: boolean | undefined;
}

/** A control plane that is listening. */
export interface RunningServer {
  /** Base URL, e.g. http://127.0.0.1:7300 */
  url: string;
  app: FastifyInstance;
  store: Store;
  logger: Logger;
  /** How workloads and exec commands are isolated, in words, e.g. "sandbox: bubblewrap, …". */
  isolation: string;
  /** The unauthenticated metrics URL of `metricsPort`, when one was asked for. */
  metricsUrl?: string | undefined;
  /** Stops accepting requests, finishes the ones in flight, and closes the store. */
  close(): Promise<void>;
}

/**
 * Starts the control plane: claims the data directory (SQLite: one control plane each), opens (and migrates)
 * the store, listens on host:port, and only then creates the first admin on an empty store, adopts the
 * running workloads and queues a restart of the environments whose current set it finds stopped. Rejects with
 * a domain error (StoreVersionError, ServiceUnavailableError, InputError; ConflictError for a port in use or a
 * data directory another `pave up` holds) when it cannot start, having released what it opened.
 */
export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const logger = pino(
    {
      level: options.logLevel ?? 'info',
      base: { service: 'pave' },
      // An error's type is its name: the bundle shortens class names (scripts/build.mjs), and Pave's errors
      // name themselves.
      serializers: { err: logError },
      // Credentials never reach the log: auth headers whole, and credential-like query parameters of URLs.
      redact: {
        paths: ['req.headers.authorization', 'headers.authorization', 'req.headers.cookie', 'url', 'req.url'],
        censor: (value: unknown, path: string[]) =>
          path[path.length - 1] === 'url' && typeof value === 'string' ? redactUrl(value) : REDACTED,
      },
    },
    // Buffered writes keep logging off the request path; close() and signals flush the buffer.
    options.logDestination ?? pino.destination({ dest: 1, sync: false }),
  );
  // A bad CIDR stops the start before anything is opened (InputError naming the flag).
  const webhookAllow = new WebhookAllowList(
    options.webhookAllow ?? parseAllowList((options.env ?? process.env).PAVE_WEBHOOK_ALLOW),
    options.webhookAllow ? '--webhook-allow' : 'PAVE_WEBHOOK_ALLOW',
  );
  // Bad SSO settings stop the start before anything is opened (InputError naming the flag).
  if (options.sso) checkSsoSettings(options.sso);
  const dataDir = resolve(options.dataDir);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  // SQLite: one control plane per data directory; PostgreSQL: replicas share it, and each registers there, so
  // that `pave down` does not stop the workloads they run. A start refused here changes nothing in it.
  const releaseDataDir = options.store
    ? registerReplica(dataDir, refuseReplica(dataDir))
    : claimDataDir(dataDir, refuseSecondServer(dataDir));
  let isolation: Isolation;
  let isolationHost: IsolationHost;
  let isolationDescription: string;
  let store: Store;
  try {
    ownDataDirectory(dataDir);
    // What workloads and exec commands are isolated with: the strongest level this host offers, unless a
    // process runtime target chooses another.
    isolationHost = detectIsolationHost({
      dataDir,
      workloadUser: options.workloadUser,
      env: options.env ?? process.env,
    });
    isolation = isolationFor(isolationHost, strongestIsolation(isolationHost));
    isolationDescription = describeIsolation(isolation, isolationHost);
    logger.info(
      { isolation: isolation.level, workloadUser: isolation.identity?.user ?? null },
      `workloads and exec commands run with isolation ${isolationDescription}`,
    );
    store = await openStore({
      url: options.store,
      dataDir,
      ...(options.migrations ? { migrations: options.migrations } : {}),
    });
  } catch (error) {
    releaseDataDir();
    throw error;
  }
  // SQLite creates its files (and their -wal and -shm companions) with the process umask: Pave's alone too.
  for (const entry of readdirSync(dataDir, { withFileTypes: true })) {
    if (entry.isFile()) restrictToOwner(join(dataDir, entry.name));
  }
  logger.info({ engine: store.engine, store: store.location }, 'store ready');
  let app: FastifyInstance | undefined;
  let ipv6Loopback: Server | null = null;
  // Workloads keep running while the control plane is down; on start it takes them back, and deploys again
  // the current sets it finds stopped (after a reboot or `pave down`).
  const processes = ProcessRuntime.fromConfig({
    dataDir,
    supervisorScript: options.supervisorScript,
    isolationHost,
  });
  // Each environment runs on the runtime target it matches (local processes by default).
  // Metrics in a registry of this control plane's own; driver calls are timed (and traced) through wrappers.
  const metrics: PaveMetrics = new PaveMetrics({
    store,
    workloads: runtimeWorkloads(store, (): RuntimeDriver => runtime, logger.child({ component: 'metrics' })),
  });
  const runtime = new RuntimeRouter(
    store,
    instrumentRuntimes(runtimeRegistry({ local: processes, dataDir }), metrics),
    composeRenderer,
  );
  const keyring = keyringSource(dataDir, options.env ?? process.env);
  const box = new SecretBox(store.db, keyring);
  // Drivers that keep state in the control plane (terraform) get their resource's state backend in every call.
  const stateCredentials = new StateCredentials(box);
  const resourceDrivers = instrumentResourceDrivers(
    withStateBackends(
      resourceDriverRegistry({
        dataDir,
        // Bundled beside the supervisor by scripts/build.mjs.
        pgliteScript: join(dirname(options.supervisorScript), 'pglite-server.js'),
        isolation,
        driverEnv: options.driverEnv,
      }),
      stateCredentials,
    ),
    metrics,
  );
  const worker = new DeploymentWorker({
    store,
    runtime,
    box,
    resourceDrivers,
    targets: runtime,
    logger: logger.child({ component: 'deployments' }),
    telemetry: new DeploymentTelemetry(store, metrics),
  });
  const webhooks = new WebhookDispatcher({
    store,
    box,
    allow: webhookAllow,
    logger: logger.child({ component: 'webhooks' }),
    replicaId: worker.replicaId,
    onAttempt: (result) => metrics.webhookDeliveries.inc({ outcome: result.ok ? 'succeeded' : 'failed' }),
  });
  if (options.approvalTtlMs !== undefined) setApprovalTtlMs(options.approvalTtlMs);
  if (options.templateTimeLimitSeconds !== undefined) {
    setTemplateTimeLimitSeconds(options.templateTimeLimitSeconds);
  }
  // Aborted first when the control plane stops: environment deletions under way give up (see close()).
  const stopping = new AbortController();
  const janitor = new EnvironmentJanitor({
    store,
    teardown: environmentTeardown(runtime, { store, box, drivers: resourceDrivers }, logger, stopping.signal),
    stopping: stopping.signal,
    logger: logger.child({ component: 'janitor' }),
    replicaId: worker.replicaId,
    eventRetentionMs: options.eventRetentionMs ?? EVENT_RETENTION_MS,
    approvalTtlMs: options.approvalTtlMs,
    intervalMs:
      options.janitorIntervalMs ??
      (Number((options.env ?? process.env).PAVE_JANITOR_INTERVAL_MS) || JANITOR_INTERVAL_MS),
  });
  let metricsListener: MetricsListener | undefined;
  // Spans are exported only when OTEL_EXPORTER_OTLP_ENDPOINT is set; otherwise the SDK is not even loaded.
  const tracing = await startTracing(options.env ?? process.env, logger);
  try {
    // Before anything is audited: entries are hashed with the audit key (created on the first start).
    const audit = await loadAuditKey(store.db, box);
    logger.info(
      { keyedFrom: audit.keyedFrom, created: audit.created },
      audit.created
        ? `created the audit key: the audit chain is keyed from entry ${audit.keyedFrom} on`
        : 'the audit chain is keyed with the audit key',
    );
    keyring.load();
    await box.init();
    await stateCredentials.init();
    logger.info({ masterKey: keyring.description }, 'secrets are encrypted with the master key');
    app = await buildApi({
      store,
      loggerInstance: logger,
      runtime,
      targets: runtime,
      renderer: runtime,
      secrets: { box },
      resourceDrivers,
      stateCredentials,
      routes: new RouteTable(store.db),
      // Bundled beside the supervisor by scripts/build.mjs.
      portalDir: join(dirname(options.supervisorScript), 'portal'),
      onDeploymentQueued: () => worker.poke(),
      stopping: stopping.signal,
      webhookAllow: webhookAllow.cidrs,
      metrics,
      sso: options.sso ? new OidcSignOn(store, options.sso, box) : undefined,
      passwordLogin: options.passwordLogin,
    });
    // Bind before anything changes: a busy port fails the start with no user created and no workload adopted.
    await app.listen({ port: options.port, host: options.host }).catch((error: unknown) => {
      throw listenError(error, options.host, options.port, 'api');
    });
    // The CLI sends this data directory's admin token to this port only (listeningPorts); written before any
    // request is served.
    recordPort(dataDir, (app.server.address() as AddressInfo).port);
    ipv6Loopback = await listenOnIpv6Loopback(app, options.host, logger);
    if (options.metricsPort !== undefined) {
      const metricsHost = options.metricsHost ?? '127.0.0.1';
      metricsListener = await listenForMetrics(metrics, metricsHost, options.metricsPort).catch(
        (error: unknown) => {
          throw listenError(error, metricsHost, options.metricsPort!, 'metrics');
        },
      );
      logger.info(
        { metricsUrl: metricsListener.url },
        `serving metrics without a token at ${metricsListener.url}`,
      );
    }
    stateCredentials.setBaseUrl(localUrl(app, options.host));
    const tokenFile = await bootstrapAdmin(store, dataDir);
    const seeded = await seedBuiltInTemplates(
      store,
      options.templatesDir ?? join(dirname(options.supervisorScript), 'templates'),
    );
    if (seeded.length) {
      logger.info({ templates: seeded }, `seeded the built-in templates ${seeded.join(', ')}`);
    }
    if (tokenFile) {
      logger.info({ file: tokenFile }, `created the admin user; its token is in ${tokenFile} (mode 0600)`);
    }
    const reserved = await usersWithReservedNames(store.db);
    if (reserved.length) {
      logger.warn(
        { users: reserved },
        `users named like Pave's own actors (${reserved.join(', ')}) exist: the audit log cannot tell their ` +
          "actions from Pave's; create each of them again under another name, move their roles, and delete them",
      );
    }
    const ctx = driverContext(logger, AbortSignal.timeout(30_000));
    try {
      await runtime.adopt?.(ctx);
    } finally {
      ctx.dispose();
    }
    await restartStoppedWorkloads(store, box, runtime, logger, worker.replicaId);
    worker.start();
    janitor.start();
    webhooks.start();
  } catch (error) {
    stopping.abort();
    await webhooks.stop();
    await janitor.stop();
    await worker.stop();
    await metricsListener?.close();
    await tracing?.shutdown().catch(() => undefined);
    await app?.close().catch(() => undefined);
    ipv6Loopback?.close();
    await store.close();
    releaseDataDir();
    throw error;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  const url = `http://${host}:${port}`;
  logger.info({ url, version: PAVE_VERSION }, `Pave ${PAVE_VERSION} is listening on ${url}`);
  const running = app;
  return {
    url,
    app: running,
    store,
    logger,
    isolation: isolationDescription,
    metricsUrl: metricsListener?.url,
    async close() {
      stopping.abort();
      // The requests under way end soon (an environment's deletion gives up, see `stopping`): their connections
      // close as they end rather than idle for the keep-alive timeout (Fastify's 72 s), which closing waits for.
      running.server.keepAliveTimeout = 1;
      ipv6Loopback?.closeAllConnections();
      ipv6Loopback?.close();
      await metricsListener?.close();
      await running.close();
      await webhooks.stop();
      await janitor.stop();
      await worker.stop();
      // Flushes the spans still buffered (the deployments' last ones).
      await tracing?.shutdown().catch(() => undefined);
      await store.close();
      releaseDataDir();
      logger.flush();
    },
  };
}

/**
 * Queues a restart of every environment whose current set the runtimes report stopped (see queueRestarts). It
 * never stops the start: a failure is logged, and the workloads stay as they are until the next deployment.
 */
async function restartStoppedWorkloads(
  store: Store,
  box: SecretBox,
  runtime: RuntimeDriver,
  logger: Logger,
  replicaId: string,
): Promise<void> {
  const ctx = driverContext(logger.child({ component: 'restarts' }), AbortSignal.timeout(30_000));
  try {
    await queueRestarts(store, box, runtime, ctx, `start:${replicaId}`);
  } catch (error) {
    logger.error({ err: error }, 'could not look for workloads to restart; they stay as they are');
  } finally {
    ctx.dispose();
  }
}

/**
 * Makes the data directory Pave's alone: owned by Pave's user, and everything Pave keeps in it without read
 * or write access for group or others, whatever a pre-existing directory's modes were (workloads must not
 * read the admin token, the master key or the store); a directory they may only enter (0711, as Pave makes
 * those that embedded servers' and workloads' users pass through) stays so. What belongs to the workload
 * user (workloads' files and volumes) keeps its owner.
 */
function ownDataDirectory(dataDir: string): void {
  const uid = process.getuid?.();
  const gid = process.getgid?.();
  if (uid === 0 && gid !== undefined && statSync(dataDir).uid !== 0) chownSync(dataDir, 0, gid);
  // Owner rwx; group and others keep an execute bit only when it is all they have (see restrictToOwner).
  const mode = statSync(dataDir).mode;
  chmodSync(dataDir, 0o700 | ((mode & 0o066) === 0 ? mode & 0o011 : 0));
  restrictToOwner(dataDir);
}

/**
 * The URL drivers on this host reach the API at: the listening address, or loopback when Pave listens on every
 * address (drivers run on the replica that calls them).
 */
function localUrl(app: FastifyInstance, host: string): string {
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return reachableUrl(host, port);
}

/**
 * The error for an address Pave cannot listen on for `listener`: for a port in use, which process holds it
 * (when this host shows it) and the flag that fixes it (see listenerPortInUseError); for a host that is not this
 * machine's or a port that needs privileges, an InputError naming the flag (see listenProblem); anything else
 * as it came.
 */
function listenError(error: unknown, host: string, port: number, listener: Listener): unknown {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE') return listenerPortInUseError(listener, host, port);
  const problem = listenProblem(code, host, port, listener);
  return problem ? new InputError(`cannot listen on ${host}:${port}: ${problem.message}`, [problem]) : error;
}

/**
 * When Pave serves loopback (127.0.0.1 or localhost), it serves [::1] on the same port too: browsers that
 * resolve `localhost` to ::1 must reach Pave, not a workload that took [::1] at Pave's port. Null when
 * the host has no IPv6 loopback; rejects (naming the fix) when something else holds the port there.
 */
async function listenOnIpv6Loopback(
  app: FastifyInstance,
  host: string,
  logger: Logger,
): Promise<Server | null> {
  if (host !== '127.0.0.1' && host !== 'localhost') return null;
  const address = app.server.address();
  if (typeof address !== 'object' || !address) return null;
  const server = createServer((request, response) => app.server.emit('request', request, response));
  server.on('upgrade', (...args) => app.server.emit('upgrade', ...args));
  try {
    await new Promise<void>((resolveListen, reject) => {
      server.once('error', reject);
      server.listen({ port: address.port, host: '::1', ipv6Only: true }, () => resolveListen());
    });
    return server;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRNOTAVAIL' || code === 'EAFNOSUPPORT') {
      logger.info('no IPv6 loopback on this host: listening on 127.0.0.1 only');
      return null;
    }
    throw new Error(
      `cannot listen on [::1]:${address.port} as well as 127.0.0.1 (${code ?? String(error)}): another ` +
        `process holds that port on the IPv6 loopback; stop it, or start Pave with another --port`,
      { cause: error },
    );
  }
}

/**
 * Runs the control plane in the foreground until SIGINT or SIGTERM, then stops cleanly. This is `pave up`;
 * `onStarted` is called once it listens (it prints the banner on a terminal). The signal handlers are in place
 * before anything is started: a signal that comes while Pave starts (even right after it said it listens)
 * stops it cleanly once started, and a second one ends the start at once.
 */
export async function runServer(
  options: ServerOptions,
  onStarted?: (server: RunningServer) => void,
): Promise<void> {
  let requested: NodeJS.Signals | undefined;
  let stop: ((signal: NodeJS.Signals) => void) | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stop) stop(signal);
    else if (requested) process.exit(128 + (osConstants.signals[signal] ?? 0));
    else requested = signal;
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const ignoreSignals = () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
  let server: RunningServer;
  try {
    server = await startServer(options);
  } catch (error) {
    ignoreSignals();
    throw error;
  }
  await new Promise<void>((resolveStop) => {
    stop = (signal) => {
      ignoreSignals();
      server.logger.info({ signal }, 'stopping');
      server
        .close()
        .then(() => server.logger.info('stopped'))
        .catch((error: unknown) => server.logger.error({ err: error }, 'error while stopping'))
        .finally(resolveStop);
    };
    if (requested) stop(requested);
    else onStarted?.(server);
  });
}

/**
 * pino's error serializer, with an error's `name` as its type rather than its class's name, which the bundle
 * shortens (see startServer).
 */
export function logError(error: Error): ReturnType<typeof pino.stdSerializers.err> {
  const serialized = pino.stdSerializers.err(error);
  if (error instanceof Error) serialized.type = error.name;
  return serialized;
}

/**
 * The refusal of a `pave up` on SQLite on a data directory another live process uses: another `pave up` (on
 * SQLite, or a replica on PostgreSQL), or a `pave down`.
 */
function refuseSecondServer(dataDir: string): (holder: number) => Error {
  return (holder) => {
    const fix =
      'stop that one first, give this one another --data-dir, or run several replicas on one PostgreSQL --store';
    return new ConflictError(
      `another pave up (pid ${holder}) already uses the data directory ${dataDir} (with a SQLite store, or as ` +
        `a replica on PostgreSQL), or a pave down is stopping what runs there; ${fix}`,
      [{ path: '--data-dir', message: fix }],
    );
  };
}

/** The refusal of a replica (PostgreSQL store) on a data directory another live process holds alone. */
function refuseReplica(dataDir: string): (holder: number) => Error {
  return (holder) => {
    const fix = 'wait for it to finish (pave down), or stop it (a pave up on SQLite) first';
    return new ConflictError(
      `process ${holder} holds the data directory ${dataDir} alone (a pave down, or a pave up on SQLite); ${fix}`,
      [{ path: '--data-dir', message: fix }],
    );
  };
}
