import { Option, type Command } from 'commander';
import { existsSync } from 'node:fs';
import { isIP } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { redactUrlPassword } from '@pave/core';
import type { RunningServer } from '@pave/server';
import { resolveDataDir } from '../connection.ts';
import { dataDirFailure, isPaveDataDir, prepareDataDir } from '../data-dir.ts';
import { DURATION_FORMAT, parseDuration } from '../duration.ts';
import { CliUsageError } from '../errors.ts';
import { colorsFor, type Colors } from '../output/colors.ts';
import { humanLogStream } from '../output/log-lines.ts';
import { checkPortsFree } from '../port-check.ts';
import { addSsoOptions, ssoServerOptions, type SsoUpOptions } from '../sso-options.ts';

/**
 * `pave up`: runs the control plane in the foreground. This is the one CLI module allowed to import the
 * server (lazily, so client commands start without loading it).
 */
export function registerUpCommand(program: Command): void {
  const up = program
    .command('up')
    .description('Run the Pave control plane in the foreground (API on --host:--port); stop with Ctrl-C')
    .option('--port <port>', 'TCP port to listen on (0 picks a free one)', '7300')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--data-dir <dir>', 'where Pave keeps its state, admin token and keys (env PAVE_DATA_DIR)')
    .option(
      '--store <url>',
      'state store: a postgres:// URL; default SQLite in the data dir (env PAVE_STORE)',
    )
    .option(
      '--log-level <level>',
      'fatal, error, warn, info, debug, trace or silent (env PAVE_LOG_LEVEL; default info)',
    )
    .addOption(
      new Option(
        '--log-format <format>',
        'json: one JSON object a line; pretty: a banner, then one readable line a record (default pretty on a terminal, else json)',
      ).choices(['json', 'pretty']),
    )
    .option(
      '--workload-user <user>',
      'when run as root: the unprivileged user workloads and exec commands run as (env PAVE_WORKLOAD_USER; default pave-workload, created if missing)',
    )
    .option(
      '--event-retention <duration>',
      `how long events are kept before they are deleted (${DURATION_FORMAT}; env PAVE_EVENT_RETENTION; default 30d)`,
    )
    .option(
      '--approval-ttl <duration>',
      `how long a deployment may await approval before it expires (${DURATION_FORMAT}; env PAVE_APPROVAL_TTL; default 24h)`,
    )
    .option(
      '--template-time-limit <duration>',
      'how long one check or rendering of a template may take before it is stopped, from 1s to 10m (env PAVE_TEMPLATE_TIME_LIMIT; default 5s)',
    )
    .option(
      '--webhook-allow <cidrs>',
      'CIDRs webhooks may reach although they are loopback, private or link-local, comma-separated, e.g. 10.0.0.0/8,127.0.0.1/32 (env PAVE_WEBHOOK_ALLOW; default none)',
    )
    .option(
      '--driver-env <names>',
      "environment variables of pave up passed on to the exec and terraform resource drivers' commands besides PATH, HOME, USER, LOGNAME, SHELL, LANG, LC_ALL, LC_CTYPE, TZ and TMPDIR, comma-separated names, e.g. AWS_PROFILE,KUBECONFIG (env PAVE_DRIVER_ENV; default none)",
    )
    .option(
      '--metrics-port <port>',
      'also serve Prometheus metrics at /metrics on this port without a token (0 picks a free one; env PAVE_METRICS_PORT; default: only /metrics on the API port, for tokens with metrics.read)',
    )
    .option(
      '--metrics-host <host>',
      'the address of --metrics-port, which it needs (env PAVE_METRICS_HOST; default 127.0.0.1)',
    )
    .addHelpText(
      'after',
      '\nExamples:\n  $ pave up\n  $ pave up --data-dir /tmp/pave --port 7400\n  $ pave up --store postgres://pave@db.internal:5432/pave\n  $ sudo pave up --workload-user svc-apps\n  $ AWS_PROFILE=platform pave up --driver-env AWS_PROFILE,AWS_REGION\n',
    )
    .action(
      async (options: {
        port: string;
        host: string;
        dataDir?: string;
        store?: string;
        logLevel?: string;
        logFormat?: 'json' | 'pretty';
        workloadUser?: string;
        eventRetention?: string;
        approvalTtl?: string;
        templateTimeLimit?: string;
        webhookAllow?: string;
        driverEnv?: string;
        metricsPort?: string;
        metricsHost?: string;
      }) => {
        const port = Number(options.port);
        if (!Number.isInteger(port) || port < 0 || port > 65535) {
          throw new CliUsageError(
            `--port: "${options.port}" is not a TCP port; use a number from 0 to 65535`,
          );
        }
        const fromEnv = options.eventRetention === undefined && process.env.PAVE_EVENT_RETENTION;
        const eventRetentionMs = fromEnv
          ? parseDuration(fromEnv, 'PAVE_EVENT_RETENTION')
          : parseDuration(options.eventRetention ?? '30d', '--event-retention');
        const ttlFromEnv = options.approvalTtl === undefined && process.env.PAVE_APPROVAL_TTL;
        const approvalTtlMs = ttlFromEnv
          ? parseDuration(ttlFromEnv, 'PAVE_APPROVAL_TTL')
          : parseDuration(options.approvalTtl ?? '24h', '--approval-ttl');
        const templateTimeLimitSeconds = templateTimeLimit(
          options.templateTimeLimit,
          process.env.PAVE_TEMPLATE_TIME_LIMIT,
        );
        const webhookAllow =
          options.webhookAllow !== undefined
            ? parseCidrs(options.webhookAllow, '--webhook-allow')
            : parseCidrs(process.env.PAVE_WEBHOOK_ALLOW ?? '', 'PAVE_WEBHOOK_ALLOW');
        const driverEnv = driverEnvNames(options.driverEnv, process.env.PAVE_DRIVER_ENV);
        const metricsPortText = options.metricsPort ?? (process.env.PAVE_METRICS_PORT || undefined);
        const metricsPort = metricsPortText === undefined ? undefined : Number(metricsPortText);
        if (
          metricsPort !== undefined &&
          (!Number.isInteger(metricsPort) || metricsPort < 0 || metricsPort > 65535)
        ) {
          const source = options.metricsPort !== undefined ? '--metrics-port' : 'PAVE_METRICS_PORT';
          throw new CliUsageError(
            `${source}: "${metricsPortText}" is not a TCP port; use a number from 0 to 65535`,
          );
        }
        const metricsHostText = options.metricsHost ?? (process.env.PAVE_METRICS_HOST || undefined);
        if (metricsHostText !== undefined && metricsPort === undefined) {
          // The address only says where the metrics port listens: without a port it would silently do nothing.
          const fromFlag = options.metricsHost !== undefined;
          throw new CliUsageError(
            `${fromFlag ? '--metrics-host' : 'PAVE_METRICS_HOST'}: "${metricsHostText}" is the address of the ` +
              'metrics port, and no metrics port is set; add --metrics-port (or PAVE_METRICS_PORT), or ' +
              (fromFlag ? 'leave --metrics-host out' : 'unset PAVE_METRICS_HOST'),
          );
        }
        const logLevel = checkLogLevel(options.logLevel, process.env.PAVE_LOG_LEVEL);
        const store = checkStoreUrl(options.store, process.env.PAVE_STORE);
        const pretty = (options.logFormat ?? (process.stdout.isTTY ? 'pretty' : 'json')) === 'pretty';
        const colors = colorsFor(process.stdout, process.env);
        // Found as client commands find it (`~` expanded), so they find the admin token written there.
        const dataDir = resolve(
          resolveDataDir({ dataDir: options.dataDir }, { env: process.env, homeDir: homedir() }),
        );
        const dataDirSource =
          options.dataDir !== undefined
            ? '--data-dir'
            : process.env.PAVE_DATA_DIR
              ? 'PAVE_DATA_DIR'
              : 'default';
        // The --oidc-* options are added by addSsoOptions below.
        const sso = ssoServerOptions(options as SsoUpOptions, process.env);
        // A busy port is refused before a new data directory is initialised (store, keys, admin user). One that
        // is Pave's already is left to the server, which refuses a second pave up on it (its lock) first.
        if (!holdsPaveData(dataDir)) {
          const metricsHost = metricsHostText ?? '127.0.0.1';
          await checkPortsFree([
            { host: options.host, port, serves: 'api' },
            ...(metricsPort !== undefined
              ? [{ host: metricsHost, port: metricsPort, serves: 'metrics' as const }]
              : []),
          ]);
        }
        // Created once every flag is known to be good, and before the server, whose mkdir may never return.
        prepareDataDir(dataDir, dataDirSource);
        keepYoungGenerationSmall();
        const { runServer } = await import('@pave/server');
        await runServer(
          {
            port,
            host: options.host,
            dataDir,
            store,
            logLevel,
            workloadUser: options.workloadUser ?? (process.env.PAVE_WORKLOAD_USER || undefined),
            eventRetentionMs,
            approvalTtlMs,
            templateTimeLimitSeconds,
            webhookAllow,
            driverEnv,
            ...sso,
            metricsPort,
            metricsHost: metricsHostText,
            // scripts/build.mjs bundles this command into dist/chunks/ and the supervisor into dist/.
            supervisorScript: fileURLToPath(new URL('../process-supervisor.js', import.meta.url)),
            ...(pretty ? { logDestination: humanLogStream(process.stdout, colors) } : {}),
          },
          (server) => {
            letYoungGenerationGrow();
            boundOldGeneration();
            if (pretty) process.stdout.write(banner(server, dataDir, colors));
          },
        ).catch((error: unknown) => {
          throw dataDirFailure(error, dataDir, dataDirSource) ?? error;
        });
      },
    );
  addSsoOptions(up);
}

// Whether `dir` exists and holds Pave's data already; false for a new, empty or unreadable one.
function holdsPaveData(dir: string): boolean {
  try {
    return isPaveDataDir(dir);
  } catch {
    return false;
  }
}

/**
 * The store URL of `pave up`: --store, else PAVE_STORE, else none (SQLite in the data directory). A usage error,
 * before the data directory is made, for a URL of a kind the server does not take (its password not repeated).
 */
export function checkStoreUrl(flag: string | undefined, env: string | undefined): string | undefined {
  const [url, source] = flag !== undefined ? [flag, '--store'] : [env || undefined, 'PAVE_STORE'];
  if (!url?.trim()) return undefined;
  if (/^(postgres(ql)?:\/\/|sqlite:)/u.test(url.trim())) return url;
  const shown = redactUrlPassword(url);
  throw new CliUsageError(
    `${source}: "${shown}" is not a store Pave can use; give postgres://USER:PASSWORD@HOST:PORT/DATABASE for ` +
      'PostgreSQL, or leave it out for SQLite in the data directory',
  );
}

/** The log levels `--log-level` (and PAVE_LOG_LEVEL) accept: pino's. */
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/**
 * The log level of `pave up`: --log-level, else PAVE_LOG_LEVEL, else info. A usage error naming where a level
 * that is not one of {@link LOG_LEVELS} came from.
 */
export function checkLogLevel(flag: string | undefined, env: string | undefined): string {
  const [level, source] =
    flag !== undefined ? [flag, '--log-level'] : env ? [env, 'PAVE_LOG_LEVEL'] : ['info', ''];
  if (!LOG_LEVELS.includes(level)) {
    throw new CliUsageError(
      `${source}: "${level}" is not a log level; use fatal, error, warn, info, debug, trace or silent`,
    );
  }
  return level;
}

/** The longest `--template-time-limit`: a running job holds a worker thread, and a core, that long. */
const TEMPLATE_TIME_LIMIT_MAX = '10m';

/**
 * The seconds of `--template-time-limit` (else PAVE_TEMPLATE_TIME_LIMIT), or undefined for the server's
 * default; a usage error naming where a duration that is not one, or is over 10 minutes, came from.
 */
export function templateTimeLimit(flag: string | undefined, env: string | undefined): number | undefined {
  const [text, source] =
    flag !== undefined ? [flag, '--template-time-limit'] : env ? [env, 'PAVE_TEMPLATE_TIME_LIMIT'] : [];
  if (text === undefined || source === undefined) return undefined;
  const ms = parseDuration(text, source);
  if (ms > parseDuration(TEMPLATE_TIME_LIMIT_MAX)) {
    throw new CliUsageError(`${source}: "${text}" is too long; use at most ${TEMPLATE_TIME_LIMIT_MAX}`);
  }
  return ms / 1000;
}

/** The CIDRs of `--webhook-allow` (comma or space separated); a usage error naming `source` for a bad one. */
export function parseCidrs(text: string, source: string): string[] {
  const cidrs = text
    .split(/[\s,]+/)
    .map((part) => part.trim())
    .filter(Boolean);
  const bad = cidrs.filter((cidr) => {
    const match = /^([^/]+)\/(\d{1,3})$/.exec(cidr);
    const family = match ? isIP(match[1]!) : 0;
    return family === 0 || Number(match![2]) > (family === 6 ? 128 : 32);
  });
  if (bad.length > 0) {
    throw new CliUsageError(
      `${source}: not a CIDR: ${bad.join(', ')}; give addresses in CIDR form, comma-separated, e.g. 10.0.0.0/8,127.0.0.1/32,fd00::/8`,
    );
  }
  return cidrs;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * The names of `--driver-env` (else PAVE_DRIVER_ENV), comma-separated: variables of `pave up`'s environment
 * the exec and terraform drivers pass on to their commands. A usage error naming where a name that is not
 * one of an environment variable came from.
 */
export function driverEnvNames(flag: string | undefined, env: string | undefined): string[] {
  const [text, source] = flag !== undefined ? [flag, '--driver-env'] : [env ?? '', 'PAVE_DRIVER_ENV'];
  const names = text
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  const bad = names.filter((name) => !ENV_NAME.test(name));
  if (bad.length > 0) {
    throw new CliUsageError(
      `${source}: not an environment variable name: ${bad.map((name) => `"${name}"`).join(', ')}; give names of letters, digits and _ that do not start with a digit, comma-separated, e.g. AWS_PROFILE,KUBECONFIG`,
    );
  }
  return [...new Set(names)];
}

/**
 * What a person starting `pave up` in a terminal needs first: where the API and the portal are, where
 * Pave keeps its state, how to sign in (the admin token's file where this data directory has one, never the
 * token) and how workloads run. Exported for its tests.
 */
export function banner(server: RunningServer, dataDir: string, colors: Colors): string {
  const store = server.store.engine === 'sqlite' ? `SQLite ${server.store.location}` : server.store.location;
  const tokenFile = join(dataDir, 'admin.token');
  const rows: Array<[string, string]> = [
    ['API', `${server.url}/api/v1`],
    ['Portal', `${server.url}/`],
    ['Data dir', dataDir],
    ['Store', store],
    ['Isolation', server.isolation],
    ...(server.metricsUrl ? [['Metrics', server.metricsUrl] as [string, string]] : []),
    [
      'Admin token',
      // Written by the pave up that created the store, to its own data dir: a replica beside it has none.
      existsSync(tokenFile)
        ? `${tokenFile} (the CLI on this machine uses it; paste it on the portal's sign-in page)`
        : `none in ${dataDir}: the first admin's token is in the admin.token of the data dir of the pave up ` +
          'that created this store (unless deleted since)',
    ],
    ['Users', 'pave users create <name> makes a user who signs in with a password'],
  ];
  const lines = rows.map(([label, value]) => `  ${colors.dim(`${label}:`.padEnd(13))}${value}`);
  return `\n${colors.bold(`Pave is running at ${server.url}`)}\n${lines.join('\n')}\n  Stop it with Ctrl-C; workloads keep running until \`pave down\`.\n\n`;
}

/**
 * Keeps V8's young generation at its initial size while Pave starts. Loading the server's code would make V8
 * grow it to its 32 MB maximum, which it then keeps for good: a fifth of an idle control plane's memory. The
 * one V8 setting that can still change once the process runs is the growth factor; 1 means no growth.
 */
function keepYoungGenerationSmall(): void {
  setFlagsFromString('--semi-space-growth-factor=1');
}

/**
 * Once Pave has started, the young generation may grow again (V8's default factor, 2) when load needs it:
 * kept at its initial size, it made the API serve 20–30 % fewer requests a second (docs/benchmarks.md,
 * "Start-up and memory of pave up").
 */
function letYoungGenerationGrow(): void {
  setFlagsFromString('--semi-space-growth-factor=2');
}

/**
 * Lets V8's old generation grow to 1.5 times what a full collection left alive before it collects again.
 * V8's own factor climbs to 4 in a process that allocates fast and collects quickly, which is what walking
 * the audit chain does (`pave audit verify`): rows of PostgreSQL answers outlive two young-generation
 * collections and end up in the old generation as garbage, which V8 then lets reach four times the live
 * heap. Bounded, the walk of 122 000 entries peaked at 145–149 instead of 182–192 MiB RSS, and the API served
 * as many requests a second (docs/benchmarks.md, "A year of history").
 */
function boundOldGeneration(): void {
  setFlagsFromString('--heap-growing-percent=50');
}
