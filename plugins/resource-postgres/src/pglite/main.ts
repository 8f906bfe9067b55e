// The PGlite daemon: serves one PGlite database on a loopback port for the postgres-embedded driver's pglite
// engine. Bundled into packages/cli/dist/pglite-server.js and started detached by the driver as
//   node pglite-server.js --dir DATA --port PORT --state STATE.json --snapshot SNAPSHOT.tar.gz [--load TAR]
// `node pglite-server.js --init --dir DATA` only creates the database and exits: the driver runs it first,
// because a process that ran PGlite's initdb keeps about 450 MB more memory than one that did not.
// It writes STATE.json ({ pid, port, startedAt }) once it listens and removes it when it stops (SIGTERM or
// SIGINT). On SIGUSR2 it writes a snapshot of its data directory (PGlite's dumpDataDir, taken between
// queries) to SNAPSHOT.tar.gz, or SNAPSHOT.tar.gz.error if that fails; with --load it starts from one.
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { writeJsonFile } from '../embedded/layout.ts';

/** Concurrent client connections the socket server multiplexes onto PGlite's single session. */
const MAX_CONNECTIONS = 64;

/** The command line, checked; exits with usage help when it is incomplete. */
async function parseOptions(): Promise<{
  dir: string;
  port: number;
  state: string;
  snapshot: string;
  load?: string;
}> {
  const { values } = parseArgs({
    options: {
      init: { type: 'boolean' },
      dir: { type: 'string' },
      port: { type: 'string' },
      state: { type: 'string' },
      snapshot: { type: 'string' },
      load: { type: 'string' },
    },
  });
  const { dir, state, snapshot, load } = values;
  if (values.init && dir) {
    await (await PGlite.create(dir)).close();
    process.exit(0);
  }
  const port = Number(values.port);
  if (!dir || !state || !snapshot || !Number.isInteger(port) || port < 1 || port > 65_535) {
    console.error(
      'usage: pglite-server --dir DATA --port PORT --state STATE.json --snapshot SNAPSHOT.tar.gz [--load TAR] | --init --dir DATA',
    );
    process.exit(2);
  }
  return { dir, port, state, snapshot, ...(load ? { load } : {}) };
}

const { dir, port, state, snapshot, load } = await parseOptions();

function log(message: string): void {
  console.log(`${new Date().toISOString()} ${message}`);
}

const db = await PGlite.create(dir, load ? { loadDataDir: new Blob([readFileSync(load)]) } : {});
const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port, maxConnections: MAX_CONNECTIONS });
await server.start();
writeJsonFile(state, { pid: process.pid, port, startedAt: new Date().toISOString() });
log(`serving ${dir} on 127.0.0.1:${port}`);

let stopping = false;
async function stop(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log(`${signal}: stopping`);
  try {
    await server.stop();
    await db.close();
  } finally {
    rmSync(state, { force: true });
    process.exit(0);
  }
}

async function writeSnapshot(): Promise<void> {
  const temporary = `${snapshot}.${process.pid}.tmp`;
  try {
    const tarball = await db.dumpDataDir('gzip');
    writeFileSync(temporary, Buffer.from(await tarball.arrayBuffer()), { mode: 0o600 });
    renameSync(temporary, snapshot);
    log(`wrote a snapshot (${tarball.size} bytes)`);
  } catch (error) {
    rmSync(temporary, { force: true });
    writeFileSync(`${snapshot}.error`, String(error));
    log(`snapshot failed: ${String(error)}`);
  }
}

process.on('SIGTERM', () => void stop('SIGTERM'));
process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGUSR2', () => void writeSnapshot());
