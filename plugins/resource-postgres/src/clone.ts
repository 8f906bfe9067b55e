import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { libpqEnvironment } from './connection.ts';
import type { ClientSettings } from './connection.ts';
import { findExecutable } from './executables.ts';

/** How much of a program's standard error an error message quotes. */
const STDERR_TAIL = 2_000;

/**
 * Copies the schema and data of database `source` into `target`: `pg_dump --no-owner --no-privileges` piped
 * into `psql -v ON_ERROR_STOP=1 --single-transaction` connected as `target`'s user, so every copied object
 * belongs to that user and a failed copy leaves the target empty. Credentials reach both programs through
 * libpq's environment variables, never their command lines.
 *
 * Rejects, quoting the programs' error output, when either fails (pg_dump refuses servers newer than itself),
 * and names `pg_dump`/`psql` when they are not on PATH. Stops both programs when `signal` aborts.
 */
export async function copyDatabase(
  source: ClientSettings,
  target: ClientSettings,
  signal: AbortSignal,
  env: NodeJS.ProcessEnv = process.env,
): Promise<void> {
  const pgDump = findExecutable('pg_dump', env);
  const psql = findExecutable('psql', env);
  const missing = [pgDump ? null : 'pg_dump', psql ? null : 'psql'].filter(Boolean);
  if (!pgDump || !psql) {
    throw new Error(
      `copying a database's data (cloneFrom) needs the PostgreSQL client programs pg_dump and psql on PATH; ` +
        `not found: ${missing.join(', ')} (on Debian/Ubuntu: apt-get install postgresql-client)`,
    );
  }
  signal.throwIfAborted();
  const dump = spawn(pgDump, ['--no-owner', '--no-privileges', '--format=plain'], {
    env: { ...env, ...libpqEnvironment(source) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const restore = spawn(
    psql,
    ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '--single-transaction', '-o', '/dev/null'],
    {
      env: { ...env, ...libpqEnvironment(target) },
      stdio: ['pipe', 'ignore', 'pipe'],
    },
  );
  dump.stdout.pipe(restore.stdin);
  // psql exiting early closes the pipe; its own exit status says why.
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
      throw new Error(`copying data from ${where}: pg_dump failed (${dumped.status}): ${dumped.stderr}`);
    }
    if (restored.code !== 0) {
      throw new Error(`copying data from ${where}: psql failed (${restored.status}): ${restored.stderr}`);
    }
  } finally {
    signal.removeEventListener('abort', stop);
  }
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
