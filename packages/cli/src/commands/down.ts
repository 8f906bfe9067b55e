import type { Command } from 'commander';
import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { claimDataDir, liveReplicas } from '@pave/core/data-dir-lock';
import { resolveDataDir } from '../connection.ts';
import { isPaveDataDir, type DataDirSource } from '../data-dir.ts';
import { CliUsageError } from '../errors.ts';
import { describeFileError } from '../file-errors.ts';
import type { CliIo } from '../io.ts';
import type { OutputFormat } from '../output/output.ts';
import { addOutputOption, examples, outputFor } from './client-options.ts';

/** A process `pave down` stopped: what the plugin that started it calls it, and whether it needed SIGKILL. */
interface StoppedProcess {
  name: string;
  pid: number;
  killed: boolean;
}

/** Stops what one plugin left running on a data directory; see the plugin's function for how. */
interface Stopper {
  /** What it stops, for an error message. */
  what: string;
  load: () => Promise<(dataDir: string) => Promise<StoppedProcess[]>>;
}

/**
 * What `pave up` leaves running on its data directory, each stopped by the plugin that started it: the plugin
 * knows its pid files and how to tell its processes from others that reuse their pids. Workloads go first:
 * they use the servers.
 */
const WORKLOADS: Stopper = {
  what: 'the local workloads',
  load: async () => (await import('@pave/runtime-process')).stopProcessWorkloads,
};
const RESOURCE_SERVERS: Stopper[] = [
  {
    what: 'the embedded PostgreSQL',
    load: async () => (await import('@pave/resource-postgres')).stopEmbeddedPostgres,
  },
  {
    what: 'the embedded redis-server',
    load: async () => (await import('@pave/resource-redis')).stopEmbeddedRedis,
  },
  {
    what: 'the embedded MariaDB/MySQL',
    load: async () => (await import('@pave/resource-mysql')).stopEmbeddedMysql,
  },
  {
    what: 'the embedded RabbitMQ',
    load: async () => (await import('@pave/resource-amqp')).stopEmbeddedRabbitmq,
  },
];

/**
 * `pave down`: stops what `pave up` left running on its data directory (the process runtime's workloads and
 * the servers of embedded resources), keeping every file. Refuses while a `pave up` serves the directory.
 */
export function registerDownCommand(program: Command, io: CliIo): void {
  addOutputOption(
    program
      .command('down')
      .description(
        'Stop what `pave up` left running (local workloads, embedded resource servers), keeping all data',
      )
      .option(
        '--data-dir <dir>',
        'the data directory `pave up` ran with (env PAVE_DATA_DIR; default ~/.pave)',
      ),
  )
    .addHelpText('after', examples('pave down', 'pave down --data-dir /tmp/pave -o json'))
    .action(async (options: { dataDir?: string; output: OutputFormat }) => {
      const output = outputFor(options, io);
      const dataDir = resolve(resolveDataDir({ dataDir: options.dataDir }, io));
      const source: DataDirSource =
        options.dataDir !== undefined ? '--data-dir' : io.env.PAVE_DATA_DIR ? 'PAVE_DATA_DIR' : 'default';
      checkPaveDataDir(dataDir, source);
      const release = holdDataDir(dataDir);
      const failures: string[] = [];
      // Lines for people as each plugin is done; for scripts, in the order of the plugins.
      const stop = async ({ what, load }: Stopper): Promise<StoppedProcess[]> => {
        try {
          const processes = await (await load())(dataDir);
          if (!output.forScripts) for (const entry of processes) io.stdout.write(`${stoppedLine(entry)}\n`);
          return processes;
        } catch (error) {
          failures.push(`could not stop ${what}: ${error instanceof Error ? error.message : String(error)}`);
          return [];
        }
      };
      const stopped: StoppedProcess[] = [];
      try {
        stopped.push(...(await stop(WORKLOADS)));
        for (const processes of await Promise.all(RESOURCE_SERVERS.map(stop))) stopped.push(...processes);
      } finally {
        release();
      }
      if (failures.length > 0) {
        throw new Error(`${failures.join('; ')}; run pave down again once that is put right`);
      }
      if (output.forScripts) {
        output.show({ dataDir, stopped }, () => '');
      } else if (stopped.length === 0) {
        io.stdout.write(`Nothing was running on ${dataDir}: no workloads or embedded resource servers.\n`);
      } else {
        io.stdout.write(
          `Stopped ${stopped.length} process${stopped.length === 1 ? '' : 'es'}; all data in ${dataDir} is kept. ` +
            'The next `pave up` starts the workloads of each environment again (a restart of its current ' +
            'deployment).\n',
        );
      }
    });
}

function stoppedLine(entry: StoppedProcess): string {
  const killed = entry.killed ? ': killed, it did not stop within its grace period' : '';
  return `stopped ${entry.name} (pid ${entry.pid})${killed}`;
}

/**
 * Refuses, naming where the directory came from, a `dir` that does not exist, cannot be written by this user
 * (as `pave up`'s processes must be signalled by the user that started them) or is not Pave's.
 */
function checkPaveDataDir(dir: string, source: DataDirSource): void {
  const where = source === 'default' ? '' : `${source}: `;
  const fix =
    source === 'default'
      ? 'name the data directory `pave up` ran with in --data-dir or PAVE_DATA_DIR'
      : `give ${source} the data directory \`pave up\` ran with`;
  let why: string;
  try {
    if (!statSync(dir).isDirectory()) {
      why = 'it is not a directory';
    } else {
      accessSync(dir, constants.R_OK | constants.W_OK | constants.X_OK);
      if (isPaveDataDir(dir)) return;
      why =
        'it is not a Pave data directory (it holds none of pave.db, master.key, admin.token, pave.lock, runtime/)';
    }
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM') {
      throw new CliUsageError(
        `${where}cannot use ${dir}: permission denied; run pave down as the user that ran pave up`,
      );
    }
    why = code === 'ENOENT' ? 'it does not exist' : describeFileError(error, dir, 'read-directory');
  }
  throw new CliUsageError(`${where}nothing to stop in ${dir}: ${why}; ${fix}`);
}

/**
 * Holds the data directory's lock file while `pave down` works, so that no `pave up` starts on it meanwhile, and
 * returns the function that releases it. Throws naming the pid of the live process that holds it: a `pave up`
 * serving the directory (on PostgreSQL, every replica serving it), to be stopped first, or another `pave down`.
 */
function holdDataDir(dataDir: string): () => void {
  return claimDataDir(dataDir, (holder) => {
    if (commandLineOf(holder).includes('down')) {
      return new DataDirInUseError(
        `another pave down (pid ${holder}) is stopping what runs on ${dataDir}; wait for it to finish`,
      );
    }
    const pids = servingReplicas(dataDir, holder);
    if (pids.length === 1) {
      return new DataDirInUseError(
        `pave up (pid ${holder}) is serving ${dataDir}; stop it first (Ctrl-C where it runs, or kill ${holder}), ` +
          'then run pave down again',
      );
    }
    return new DataDirInUseError(
      `${pids.length} pave up replicas (pids ${pids.join(', ')}) are serving ${dataDir}; stop them all first ` +
        `(Ctrl-C where they run, or kill ${pids.join(' ')}), then run pave down again`,
    );
  });
}

/**
 * The pids of the `pave up` replicas (PostgreSQL store) registered in `dataDir`, sorted, when `holder` is one
 * of them; else `holder` alone (a `pave up` on SQLite holds the lock file by itself).
 */
function servingReplicas(dataDir: string, holder: number): number[] {
  const pids = liveReplicas(dataDir);
  return pids.includes(holder) ? pids.sort((a, b) => a - b) : [holder];
}

/** A live process holds the data directory: `pave up` serving it, or another `pave down`. Exit code 1. */
class DataDirInUseError extends Error {
  override name = 'DataDirInUseError';
}

/** The arguments of process `pid` (Linux /proc); empty when they cannot be read. */
function commandLineOf(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch {
    return [];
  }
}
