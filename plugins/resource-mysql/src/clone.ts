import { spawn, type ChildProcess } from 'node:child_process';
import type { MysqlEndpoint } from './connection.ts';
import { findExecutable, pathDirectories } from './executables.ts';

/** How much of a program's standard error an error message quotes. */
const STDERR_TAIL = 2_000;

/** The dump and client programs, under their MySQL names first (MariaDB installs both names). */
const DUMP_PROGRAMS = ['mysqldump', 'mariadb-dump'];
const CLIENT_PROGRAMS = ['mysql', 'mariadb'];

/**
 * Copies the tables, views, triggers and data of database `source.database` into `target.database`:
 * `mysqldump --single-transaction` piped into `mysql`, each connected over TCP as its endpoint's user, so the
 * copy needs no more rights than the two resources' own users have. Passwords reach the programs through the
 * `MYSQL_PWD` environment variable of each, never their command lines, and `--no-defaults` keeps the machine's
 * option files out. Rejects, quoting the programs' error output, when either fails, and names the programs
 * (and the Debian package `mariadb-client`) when they are not on PATH. Stops both when `signal` aborts.
 */
export async function copyDatabase(
  source: MysqlEndpoint,
  target: MysqlEndpoint,
  signal: AbortSignal,
  env: NodeJS.ProcessEnv = process.env,
): Promise<void> {
  const dirs = pathDirectories(env.PATH);
  const dumpProgram = findExecutable(DUMP_PROGRAMS, dirs);
  const clientProgram = findExecutable(CLIENT_PROGRAMS, dirs);
  if (!dumpProgram || !clientProgram) {
    const missing = [dumpProgram ? null : 'mysqldump', clientProgram ? null : 'mysql'].filter(Boolean);
    throw new Error(
      "copying a database's data (cloneFrom) needs the MySQL client programs mysqldump and mysql on PATH; " +
        `not found: ${missing.join(', ')} (on Debian/Ubuntu: apt-get install mariadb-client)`,
    );
  }
  signal.throwIfAborted();
  const dump = spawn(
    dumpProgram,
    [
      '--no-defaults',
      ...connectionArguments(source),
      '--single-transaction',
      '--skip-lock-tables',
      '--no-tablespaces',
      '--triggers',
      '--skip-comments',
      source.database,
    ],
    { env: { ...env, MYSQL_PWD: source.password }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const restore = spawn(
    clientProgram,
    ['--no-defaults', ...connectionArguments(target), '--connect-timeout=10', '--batch', target.database],
    { env: { ...env, MYSQL_PWD: target.password }, stdio: ['pipe', 'ignore', 'pipe'] },
  );
  dump.stdout.pipe(restore.stdin);
  // mysql exiting early closes the pipe; its own exit status says why.
  restore.stdin.on('error', () => undefined);
  const stop = () => {
    dump.kill('SIGTERM');
    restore.kill('SIGTERM');
  };
  signal.addEventListener('abort', stop, { once: true });
  try {
    const [dumped, restored] = await Promise.all([finished(dump), finished(restore)]);
    signal.throwIfAborted();
    const where = `${source.host}:${source.port}/${source.database}`;
    if (dumped.code !== 0) {
      throw new Error(`copying data from ${where}: mysqldump failed (${dumped.status}): ${dumped.stderr}`);
    }
    if (restored.code !== 0) {
      throw new Error(`copying data from ${where}: mysql failed (${restored.status}): ${restored.stderr}`);
    }
  } finally {
    signal.removeEventListener('abort', stop);
  }
}

/** Host, port and user, over TCP (never the password). */
function connectionArguments(endpoint: MysqlEndpoint): string[] {
  return [
    '--protocol=TCP',
    `--host=${endpoint.host}`,
    `--port=${endpoint.port}`,
    `--user=${endpoint.username}`,
  ];
}

interface Finished {
  code: number | null;
  status: string;
  stderr: string;
}

/** Waits for `child` to end, keeping the end of its standard error. */
function finished(child: ChildProcess): Promise<Finished> {
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-STDERR_TAIL);
  });
  return new Promise((resolve) => {
    child.once('error', (error) => resolve({ code: null, status: error.message, stderr }));
    child.once('close', (code, signal) =>
      resolve({ code, status: signal ? `killed by ${signal}` : `exit code ${code}`, stderr: stderr.trim() }),
    );
  });
}
