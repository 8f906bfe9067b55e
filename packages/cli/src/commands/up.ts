import type { Command } from 'commander';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CliUsageError } from '../errors.ts';

/**
 * `pave up`: runs the control plane in the foreground. This is the one CLI module allowed to import the
 * server (lazily, so client commands start without loading it).
 */
export function registerUpCommand(program: Command): void {
  program
    .command('up')
    .description('Run the Pave control plane in the foreground (API on --host:--port); stop with Ctrl-C')
    .option('--port <port>', 'TCP port to listen on (0 picks a free one)', '7300')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--data-dir <dir>', 'where Pave keeps its state, admin token and keys (env PAVE_DATA_DIR)')
    .option(
      '--store <url>',
      'state store: a postgres:// URL; default SQLite in the data dir (env PAVE_STORE)',
    )
    .option('--log-level <level>', 'fatal, error, warn, info, debug or trace (env PAVE_LOG_LEVEL)', 'info')
    .option(
      '--workload-user <user>',
      'when run as root: the unprivileged user workloads and exec commands run as (env PAVE_WORKLOAD_USER; default pave-workload, created if missing)',
    )
    .addHelpText(
      'after',
      '\nExamples:\n  $ pave up\n  $ pave up --data-dir /tmp/pave --port 7400\n  $ pave up --store postgres://pave@db.internal:5432/pave\n  $ sudo pave up --workload-user svc-apps\n',
    )
    .action(
      async (options: {
        port: string;
        host: string;
        dataDir?: string;
        store?: string;
        logLevel: string;
        workloadUser?: string;
      }) => {
        const port = Number(options.port);
        if (!Number.isInteger(port) || port < 0 || port > 65535) {
          throw new CliUsageError(
            `--port: "${options.port}" is not a TCP port; use a number from 0 to 65535`,
          );
        }
        const { runServer } = await import('@pave/server');
        await runServer({
          port,
          host: options.host,
          dataDir: options.dataDir ?? process.env.PAVE_DATA_DIR ?? join(homedir(), '.pave'),
          store: options.store ?? process.env.PAVE_STORE,
          logLevel: process.env.PAVE_LOG_LEVEL ?? options.logLevel,
          workloadUser: options.workloadUser ?? (process.env.PAVE_WORKLOAD_USER || undefined),
          // Bundled next to this file by scripts/build.mjs.
          supervisorScript: fileURLToPath(new URL('./process-supervisor.js', import.meta.url)),
        });
      },
    );
}
