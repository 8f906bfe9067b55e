import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { InputError, NotFoundError } from '@pave/core';
import type {
  CheckFailure,
  DriverContext,
  ResourceDiff,
  ResourceDriver,
  ResourceInputs,
  ResourceOutputs,
} from '@pave/plugin-api';
import { postgresOutputs } from '../connection.ts';
import { findServerPrograms, SERVER_PROGRAM_LOCATIONS } from '../executables.ts';
import type { ServerPrograms } from '../executables.ts';
import { isResourceObjectName, resourceObjectName } from '../names.ts';
import { PostgresServerDriver } from '../server-driver.ts';
import { embeddedLayout } from './layout.ts';
import type { EmbeddedLayout } from './layout.ts';
import {
  createPgliteInstance,
  ensurePgliteInstance,
  pgliteInstanceByPort,
  removePgliteInstance,
  snapshotPgliteInstance,
  stopPgliteDaemons,
} from './pglite.ts';
import type { PgliteInstanceRecord } from './pglite.ts';
import { ensureSystemServer, stopSystemServer, systemClusterExists } from './system.ts';

/** How the embedded driver runs PostgreSQL (see EmbeddedPostgresDriver). */
export type EmbeddedPostgresEngine = 'auto' | 'system' | 'pglite';

/** The environment variable that picks the engine when the configuration leaves it at `auto`. */
export const EMBEDDED_POSTGRES_ENGINE_VARIABLE = 'PAVE_EMBEDDED_POSTGRES';

/** Configuration of the `postgres-embedded` driver. */
export interface EmbeddedPostgresConfig {
  /** Pave's data directory; the driver keeps everything under `<dataDir>/resources/postgres/`. */
  dataDir: string;
  /**
   * The bundled PGlite daemon, `packages/cli/dist/pglite-server.js` (run with this Node.js); needed by the
   * pglite engine only.
   */
  pgliteScript?: string;
  /** Default `auto`, or what PAVE_EMBEDDED_POSTGRES says (`system` or `pglite`) when it is set. */
  engine?: EmbeddedPostgresEngine;
}

/** What the `postgres-embedded` driver takes from its host process. */
export interface EmbeddedPostgresDeps {
  /** Where PATH and PAVE_EMBEDDED_POSTGRES are read; default `process.env`. */
  env?: NodeJS.ProcessEnv;
}

type Engine = Exclude<EmbeddedPostgresEngine, 'auto'>;

/** Parses `<engine>/<name>`; InputError when `id` is not one this driver made. */
function parseId(id: string): { engine: Engine; name: string } {
  const [engine, name, ...rest] = id.split('/');
  if (
    (engine !== 'system' && engine !== 'pglite') ||
    !name ||
    rest.length > 0 ||
    !isResourceObjectName(name)
  ) {
    throw new InputError(`"${id}" is not the id of a postgres-embedded resource (system/… or pglite/…)`);
  }
  return { engine, name };
}

/** The outputs of a PGlite instance: its one database, `postgres`, as user `postgres`. */
function pgliteOutputs(record: PgliteInstanceRecord): ResourceOutputs {
  return postgresOutputs({
    host: '127.0.0.1',
    port: record.port,
    username: 'postgres',
    password: record.password,
    database: 'postgres',
  });
}

/** Whether `host` is this machine's loopback interface. */
function isLoopback(host: string | undefined): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host ?? '');
}

/**
 * `postgres-embedded`: PostgreSQL that Pave runs itself, the default on a fresh machine. Everything lives
 * under `<dataDir>/resources/postgres/`. Two engines:
 *
 * - `system` (what `auto` picks when PostgreSQL's `initdb` and `postgres` are on PATH or under
 *   /usr/lib/postgresql/<version>/bin): one server per data directory, initialised on first use and started
 *   detached on a loopback port that is then kept for good, so it keeps running when Pave stops and is
 *   started again when found dead (after a reboot). Each resource is a database and role on it, made exactly
 *   as `postgres-server` makes them (same names, SCRAM passwords derived from the server's superuser password,
 *   which is kept in a 0600 file; databases closed to other environments' roles). Outputs name
 *   127.0.0.1 and the server's port. PostgreSQL refuses to run as root: when Pave is root, the server runs as
 *   the `postgres` user (else `nobody`), owns `resources/postgres/system/`, and the data directory and the
 *   directories above it are made traversable by others (execute bit only: Pave's 0700 becomes 0711).
 * - `pglite` (what `auto` picks without those programs, or `engine: 'pglite'`, or PAVE_EMBEDDED_POSTGRES=pglite):
 *   PGlite, PostgreSQL in WebAssembly, needing nothing installed. A PGlite instance holds one database, so each
 *   resource gets its own instance and its own daemon (`pgliteScript`) on its own loopback port, detached and
 *   restarted when dead like the system server. New instances start as a copy of an empty template instance,
 *   so PGlite's initdb runs once per data directory. Its socket server checks no passwords: the outputs carry
 *   user `postgres`, database `postgres` and a random password (kept in the instance's `instance.json`, mode
 *   0600), but anyone on the machine who can reach the port can connect. Environments are isolated by being
 *   separate instances. It is meant for laptops; each daemon takes about 300 MB of memory.
 *
 * `cloneFrom`: the system engine copies the source's data with `pg_dump | psql` (see `postgres-server`).
 * The pglite engine copies a PGlite source served by this driver (same data directory) from a snapshot of its
 * data directory; any other source is ignored with a warning (pg_dump cannot read PGlite's newer server
 * version, and psql may be absent).
 *
 * Ids are `system/<name>` or `pglite/<name>`, so a resource keeps its engine when the configuration changes.
 * `delete` drops the database and role (system) or stops the daemon and removes its directory (pglite). The
 * system server itself is never stopped by the driver; `stopEmbeddedPostgres` stops everything (tests).
 */
export class EmbeddedPostgresDriver implements ResourceDriver {
  readonly name = 'postgres-embedded';
  private readonly layout: EmbeddedLayout;
  private readonly server: PostgresServerDriver;
  private readonly env: NodeJS.ProcessEnv;

  constructor(
    private readonly config: EmbeddedPostgresConfig,
    deps: EmbeddedPostgresDeps = {},
  ) {
    this.env = deps.env ?? process.env;
    this.layout = embeddedLayout(config.dataDir);
    this.server = PostgresServerDriver.fromConfig({}, { env: this.env });
  }

  /** The driver; nothing is started until it is first called. */
  static fromConfig(config: EmbeddedPostgresConfig, deps?: EmbeddedPostgresDeps): EmbeddedPostgresDriver {
    return new EmbeddedPostgresDriver(config, deps);
  }

  /**
   * The engine new resources get: the configured one, else PAVE_EMBEDDED_POSTGRES, else `system` when the
   * server programs are installed and `pglite` when not. Rejects when the chosen engine cannot run here.
   */
  engine(): { engine: 'system'; programs: ServerPrograms } | { engine: 'pglite'; script: string } {
    const configured = this.config.engine && this.config.engine !== 'auto' ? this.config.engine : undefined;
    const fromEnv = this.env[EMBEDDED_POSTGRES_ENGINE_VARIABLE] || undefined;
    const requested = configured ?? fromEnv ?? 'auto';
    if (requested !== 'auto' && requested !== 'system' && requested !== 'pglite') {
      throw new InputError(
        `${EMBEDDED_POSTGRES_ENGINE_VARIABLE}="${requested}" is not an embedded PostgreSQL engine: use system or pglite`,
      );
    }
    const programs = requested === 'pglite' ? null : findServerPrograms(this.env);
    if (programs) return { engine: 'system', programs };
    if (requested === 'system') {
      throw new Error(
        `the embedded PostgreSQL engine "system" needs PostgreSQL's initdb and postgres programs, found in neither ` +
          `${SERVER_PROGRAM_LOCATIONS}: install PostgreSQL (apt-get install postgresql) or use the pglite engine`,
      );
    }
    if (!this.config.pgliteScript) {
      throw new Error(
        'the embedded PostgreSQL engine "pglite" needs the PGlite daemon: set pgliteScript to ' +
          'packages/cli/dist/pglite-server.js (or install PostgreSQL to use the system engine)',
      );
    }
    return { engine: 'pglite', script: this.config.pgliteScript };
  }

  /** The embedded driver takes no driver inputs: nothing can be invalid. */
  async check(_inputs: ResourceInputs, _ctx: DriverContext): Promise<CheckFailure[]> {
    return [];
  }

  /** Never a change: nothing in the inputs shapes an embedded database. */
  async diff(
    _id: string,
    _olds: ResourceInputs,
    _news: ResourceInputs,
    _ctx: DriverContext,
  ): Promise<ResourceDiff> {
    return { changes: false };
  }

  /**
   * Creates the resource on the engine `engine()` picks, starting the server first if needed; with
   * `cloneFrom`, copies its data (see the class comment). If it rejects, the resource does not exist.
   */
  async create(
    inputs: ResourceInputs,
    ctx: DriverContext,
  ): Promise<{ id: string; outputs: ResourceOutputs }> {
    const choice = this.engine();
    if (choice.engine === 'system') {
      const adminUrl = await this.systemServer(choice.programs, ctx);
      const { id, outputs } = await this.server.create(this.serverInputs(inputs, adminUrl), ctx);
      return { id: `system/${id}`, outputs };
    }
    const name = resourceObjectName(inputs.scope);
    const snapshot = inputs.cloneFrom
      ? await this.pgliteSnapshot(inputs.cloneFrom, name, choice.script, ctx)
      : null;
    try {
      const record = await createPgliteInstance(
        this.layout.pgliteDir,
        name,
        choice.script,
        ctx.signal,
        snapshot ?? undefined,
      );
      ctx.logger.info('created a PGlite instance', { instance: name, port: record.port });
      return { id: `pglite/${name}`, outputs: pgliteOutputs(record) };
    } finally {
      if (snapshot) rmSync(snapshot, { force: true });
    }
  }

  /** The current outputs (system: the password is set again, as postgres-server's update does). */
  async update(
    id: string,
    olds: ResourceInputs,
    news: ResourceInputs,
    ctx: DriverContext,
  ): Promise<{ outputs: ResourceOutputs }> {
    const { engine, name } = parseId(id);
    if (engine === 'system') {
      const adminUrl = await this.systemServer(this.systemPrograms(), ctx);
      return this.server.update(
        name,
        this.serverInputs(olds, adminUrl),
        this.serverInputs(news, adminUrl),
        ctx,
      );
    }
    const record = await ensurePgliteInstance(
      this.layout.pgliteDir,
      name,
      this.config.pgliteScript,
      ctx.logger,
      ctx.signal,
    );
    if (!record) throw new NotFoundError(`the PGlite instance ${name} does not exist`);
    return { outputs: pgliteOutputs(record) };
  }

  /** The outputs create returned, starting the server or daemon again if it had stopped; null if gone. */
  async read(
    id: string,
    inputs: ResourceInputs,
    ctx: DriverContext,
  ): Promise<{ outputs: ResourceOutputs } | null> {
    const { engine, name } = parseId(id);
    if (engine === 'system') {
      if (!systemClusterExists(this.layout)) return null;
      const adminUrl = await this.systemServer(this.systemPrograms(), ctx);
      return this.server.read(name, this.serverInputs(inputs, adminUrl), ctx);
    }
    const record = await ensurePgliteInstance(
      this.layout.pgliteDir,
      name,
      this.config.pgliteScript,
      ctx.logger,
      ctx.signal,
    );
    return record ? { outputs: pgliteOutputs(record) } : null;
  }

  /** Drops the database and role, or stops and removes the PGlite instance; succeeds when already gone. */
  async delete(id: string, inputs: ResourceInputs, ctx: DriverContext): Promise<void> {
    const { engine, name } = parseId(id);
    if (ctx.dryRun) return;
    if (engine === 'system') {
      if (!systemClusterExists(this.layout)) return;
      const adminUrl = await this.systemServer(this.systemPrograms(), ctx);
      await this.server.delete(name, this.serverInputs(inputs, adminUrl), ctx);
      return;
    }
    await removePgliteInstance(this.layout.pgliteDir, name);
    ctx.logger.info('removed a PGlite instance', { instance: name });
  }

  private systemPrograms(): ServerPrograms {
    const programs = findServerPrograms(this.env);
    if (!programs) {
      throw new Error(
        `this resource lives on the embedded PostgreSQL server, whose programs (initdb, postgres) are no longer ` +
          `found in ${SERVER_PROGRAM_LOCATIONS}`,
      );
    }
    return programs;
  }

  private systemServer(programs: ServerPrograms, ctx: DriverContext): Promise<string> {
    return ensureSystemServer(this.layout, programs, ctx.logger, ctx.signal);
  }

  /** The inputs postgres-server needs to act on the embedded server. */
  private serverInputs(inputs: ResourceInputs, adminUrl: string): ResourceInputs {
    return { ...inputs, driverInputs: {}, driverSecrets: { adminUrl } };
  }

  /**
   * A snapshot of the PGlite instance `source` describes, in a file beside the instances, or null (with a
   * warning) when the source is not a PGlite instance of this data directory.
   */
  private async pgliteSnapshot(
    source: ResourceOutputs,
    name: string,
    script: string,
    ctx: DriverContext,
  ): Promise<string | null> {
    const instance = isLoopback(source.values.host)
      ? pgliteInstanceByPort(this.layout.pgliteDir, Number(source.values.port))
      : null;
    if (!instance) {
      ctx.logger.warn(
        'cloneFrom ignored: the pglite engine copies data only from PGlite instances of the same data directory',
        { source: `${source.values.host}:${source.values.port}` },
      );
      return null;
    }
    const file = join(this.layout.pgliteDir, `${name}.snapshot.tar.gz`);
    await snapshotPgliteInstance(this.layout.pgliteDir, instance.name, script, file, ctx.logger, ctx.signal);
    return file;
  }
}

/** A server {@link stopEmbeddedPostgres} stopped. */
export interface StoppedPostgresServer {
  /** `PostgreSQL`, or `PGlite <instance>`, for people. */
  name: string;
  pid: number;
  /** Whether it had to be killed (SIGKILL): it had not exited 15 s after it was asked to shut down. */
  killed: boolean;
}

/**
 * Stops the embedded PostgreSQL server and every PGlite daemon of `dataDir`, keeping their data; they start
 * again on the next call that needs them. Only processes running on their own data directory (their command
 * line names it) are signalled, never another process that got a recorded pid. Resolves with what was
 * running; empty (success) when nothing was. For tests and `pave down`.
 */
export async function stopEmbeddedPostgres(dataDir: string): Promise<StoppedPostgresServer[]> {
  const layout = embeddedLayout(dataDir);
  const [system, daemons] = await Promise.all([
    stopSystemServer(layout),
    stopPgliteDaemons(layout.pgliteDir),
  ]);
  return [
    ...(system ? [{ name: 'PostgreSQL', ...system }] : []),
    ...daemons.map(({ instance, pid, killed }) => ({ name: `PGlite ${instance}`, pid, killed })),
  ];
}
