import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync, type DatabaseSyncInstance, type StatementSyncInstance } from '@photostructure/sqlite';
import pg from 'pg';
import {
  Kysely,
  Migrator,
  PostgresDialect,
  SqliteDialect,
  sql,
  type MigrationProvider,
  type SqliteDatabase,
  type SqliteStatement,
  type Transaction,
} from 'kysely';
import {
  ConflictError,
  InputError,
  ServiceUnavailableError,
  StoreVersionError,
  redactUrlPassword,
} from '@pave/core';
import type { Database } from './schema.ts';
import { redactUrl as redactQueryCredentials } from '../http/redact.ts';
import { migrations as knownMigrations, type StoreEngine, type StoreMigration } from './migrations/index.ts';
import { readDirectly, type DirectReads } from './prepared.ts';

export interface StoreOptions {
  /** `postgres://…` for PostgreSQL; absent for SQLite at `<dataDir>/pave.db`. */
  url?: string | undefined;
  dataDir: string;
  /** Migrations to run; tests pass extra ones to simulate a newer Pave. */
  migrations?: readonly StoreMigration[];
}

/** A database transaction, or the database itself outside one. */
export type Executor = Kysely<Database> | Transaction<Database>;

/**
 * Pave's state store: one Kysely query layer over SQLite or PostgreSQL with the same schema. Open it with
 * `openStore()`, which also runs pending migrations.
 */
export interface Store {
  readonly engine: StoreEngine;
  /** Where the store lives, with any password removed: safe to log. */
  readonly location: string;
  readonly db: Kysely<Database>;
  /** Runs `fn` in one transaction: all its writes land together or not at all. */
  transaction<T>(fn: (tx: Transaction<Database>) => Promise<T>): Promise<T>;
  /** Resolves if the store answers a trivial query; rejects with ServiceUnavailableError otherwise. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Opens the store named by `options`, refuses one written by a newer Pave (StoreVersionError), and applies
 * this Pave's pending migrations in order. Rejects with InputError for an unsupported URL and
 * ServiceUnavailableError when the database cannot be reached.
 */
export async function openStore(options: StoreOptions): Promise<Store> {
  const migrations = options.migrations ?? knownMigrations;
  const { engine, location, db, direct } = connect(options);
  try {
    await db.selectNoFrom(sql<number>`1`.as('one')).execute();
  } catch (error) {
    await db.destroy().catch(() => undefined);
    throw new ServiceUnavailableError(`cannot reach the store at ${location}: ${describe(error)}`);
  }
  try {
    await refuseNewerStore(db as unknown as Kysely<unknown>, migrations, location);
    await migrate(db as unknown as Kysely<unknown>, engine, migrations);
  } catch (error) {
    await db.destroy().catch(() => undefined);
    throw error;
  }
  if (direct) readDirectly(db, direct);
  return {
    engine,
    location,
    db,
    transaction: (fn) => db.transaction().execute(fn),
    async ping() {
      try {
        await db.selectNoFrom(sql<number>`1`.as('one')).execute();
      } catch (error) {
        throw new ServiceUnavailableError(`the store at ${location} does not answer: ${describe(error)}`);
      }
    },
    async close() {
      direct?.close();
      await db.destroy();
    },
  };
}

interface Connection {
  engine: StoreEngine;
  location: string;
  db: Kysely<Database>;
  /** The engine's path for prepared reads (prepared.ts); none for an in-memory SQLite database. */
  direct?: DirectReads | undefined;
}

function connect(options: StoreOptions): Connection {
  const url = options.url?.trim();
  if (!url) {
    mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
    const file = join(options.dataDir, 'pave.db');
    return { engine: 'sqlite', location: file, db: sqliteDatabase(file), direct: sqliteReads(file) };
  }
  if (/^postgres(ql)?:\/\//.test(url)) {
    const pool = new pg.Pool({ connectionString: url, max: 10, connectionTimeoutMillis: 5_000 });
    // A client losing its connection emits 'error', which would crash the process with no listener: the pool
    // listens while a client is idle (the next query reports it), and this listener while one is handed out
    // (to a transaction or a prepared read), where the query it runs fails with the same error. The pool drops
    // such a client when it comes back.
    pool.on('error', () => undefined);
    pool.on('connect', (client) => client.on('error', () => undefined));
    return {
      engine: 'postgres',
      location: redactUrl(url),
      db: new Kysely<Database>({ dialect: new PostgresDialect({ pool }) }),
      direct: postgresReads(pool),
    };
  }
  if (url.startsWith('sqlite:')) {
    const file = url.replace(/^sqlite:(\/\/)?/, '');
    const inMemory = file === '' || file === ':memory:' || file.includes('mode=memory');
    return {
      engine: 'sqlite',
      location: file,
      db: sqliteDatabase(file),
      direct: inMemory ? undefined : sqliteReads(file),
    };
  }
  throw new InputError(`unsupported store URL "${redactUrl(url)}"`, [
    {
      path: '--store',
      message:
        'use postgres://USER:PASSWORD@HOST:PORT/DATABASE for PostgreSQL, or leave it out for SQLite in the data directory',
    },
  ]);
}

function sqliteDatabase(file: string): Kysely<Database> {
  return new Kysely<Database>({
    dialect: new SqliteDialect({
      database: async () => {
        const database = new DatabaseSync(file);
        database.exec(
          'PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000',
        );
        return forKysely(database);
      },
    }),
  });
}

/**
 * Prepared reads on SQLite (see prepared.ts): on a read-only connection of their own, opened at the first one,
 * so that they never see the uncommitted writes of a transaction open on the main connection (Kysely's
 * transactions wait between statements), and run synchronously, without waiting for Kysely's lock on the main
 * connection. In WAL mode a reader sees every transaction committed before its query starts.
 */
function sqliteReads(file: string): DirectReads {
  let reader: DatabaseSyncInstance | undefined;
  const statements = new Map<string, StatementSyncInstance>();
  return {
    all<O>(name: string, sqlText: string, parameters: readonly unknown[]): O[] {
      if (!reader) {
        reader = new DatabaseSync(file, { readOnly: true });
        reader.exec('PRAGMA busy_timeout = 5000');
      }
      let statement = statements.get(name);
      if (!statement) {
        statement = reader.prepare(sqlText);
        statements.set(name, statement);
      }
      return statement.all(...(parameters as SqliteValue[])) as O[];
    },
    close() {
      reader?.close();
      reader = undefined;
      statements.clear();
    },
  };
}

/**
 * Why PostgreSQL may refuse a named statement that worked before: a newer replica's migration changed the type
 * of a column it returns (0A000, "cached plan must not change result type"), or the statement is gone from the
 * server connection or there already (26000, 42P05): `DEALLOCATE ALL`, or a pooler such as PgBouncer in
 * transaction mode handing the client another server connection.
 */
const NAMED_STATEMENT_REFUSALS = new Set(['0A000', '26000', '42P05']);

/**
 * Prepared reads on PostgreSQL (see prepared.ts): named statements, which each pooled connection parses and
 * plans once. A query whose named statement PostgreSQL refuses (see NAMED_STATEMENT_REFUSALS) runs unnamed from
 * then on, as Kysely runs every other query.
 */
function postgresReads(pool: pg.Pool): DirectReads {
  const unnamed = new Set<string>();
  return {
    async all<O>(name: string, sqlText: string, parameters: readonly unknown[]): Promise<O[]> {
      const values = [...parameters];
      if (!unnamed.has(name)) {
        try {
          return (await pool.query({ name: `pave_${name}`, text: sqlText, values })).rows as O[];
        } catch (error) {
          if (!NAMED_STATEMENT_REFUSALS.has((error as { code?: string }).code ?? '')) throw error;
          unnamed.add(name);
        }
      }
      return (await pool.query(sqlText, values)).rows as O[];
    },
    close() {},
  };
}

const STATEMENT_CACHE_SIZE = 500;

/** What a SQLite statement binds: Kysely hands over only these. */
type SqliteValue = null | number | bigint | string | Uint8Array;

/**
 * The connection as Kysely's SQLite dialect drives it (better-sqlite3's shape: one parameter array, `reader`
 * for statements that return rows).
 *
 * Kysely's SQLite driver prepares every query anew; preparing costs more than running a small query, so
 * statements are kept by SQL text (bounded; the oldest is dropped first). Kysely runs one query at a time per
 * connection, so a cached statement is never in use twice at once.
 */
function forKysely(database: DatabaseSyncInstance): SqliteDatabase {
  const statements = new Map<string, SqliteStatement>();
  return {
    close: () => database.close(),
    prepare(sqlText: string) {
      let statement = statements.get(sqlText);
      if (!statement) {
        statement = kyselyStatement(database.prepare(sqlText));
        if (statements.size >= STATEMENT_CACHE_SIZE)
          statements.delete(statements.keys().next().value as string);
        statements.set(sqlText, statement);
      }
      return statement;
    },
  };
}

function kyselyStatement(statement: StatementSyncInstance): SqliteStatement {
  return {
    reader: statement.columns().length > 0,
    all: (parameters) => statement.all(...(parameters as SqliteValue[])),
    run: (parameters) => statement.run(...(parameters as SqliteValue[])),
    iterate: (parameters) => statement.iterate(...(parameters as SqliteValue[])),
  };
}

async function refuseNewerStore(
  db: Kysely<unknown>,
  migrations: readonly StoreMigration[],
  location: string,
) {
  const tables = await db.introspection.getTables({ withInternalKyselyTables: true });
  if (!tables.some((table) => table.name === 'kysely_migration')) return;
  const applied = await sql<{ name: string }>`select name from kysely_migration order by name`.execute(db);
  const known = new Set(migrations.map((migration) => migration.name));
  const unknown = applied.rows.map((row) => row.name).filter((name) => !known.has(name));
  if (unknown.length > 0) {
    throw new StoreVersionError(
      `the store at ${location} was written by a newer Pave: it has schema changes this Pave does not know ` +
        `(${unknown.join(', ')}). Upgrade Pave to the version that wrote it, or point --store/--data-dir at another store.`,
    );
  }
}

async function migrate(db: Kysely<unknown>, engine: StoreEngine, migrations: readonly StoreMigration[]) {
  const provider: MigrationProvider = {
    getMigrations: async () =>
      Object.fromEntries(
        migrations.map((migration) => [
          migration.name,
          { up: (d: Kysely<unknown>) => migration.up(d, engine) },
        ]),
      ),
  };
  const { error, results } = await new Migrator({ db, provider }).migrateToLatest();
  if (error) {
    const failed = results?.find((result) => result.status === 'Error')?.migrationName;
    throw new ServiceUnavailableError(
      `could not migrate the store${failed ? ` (migration ${failed})` : ''}: ${describe(error)}`,
    );
  }
}

/**
 * A connection URL fit to log or show: its password `***`, and the value of each credential-like query
 * parameter (`password`, `sslkey`, … as node-postgres takes them) `[redacted]`.
 */
export function redactUrl(url: string): string {
  return redactQueryCredentials(redactUrlPassword(url));
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: string }).code;
    return code && !error.message.includes(code)
      ? `${code} ${error.message}`.trim()
      : error.message || String(code);
  }
  return String(error);
}

/** PostgreSQL's SQLSTATEs for a server that cannot serve now: shutting down, starting up, out of connections. */
const PG_UNAVAILABLE = new Set(['57P01', '57P02', '57P03', '53000', '53100', '53200', '53300', '53400']);
/** The system errors of a connection that cannot be made or was lost. */
const NETWORK_ERRORS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
]);
/** What node-postgres says when it loses a connection or cannot get one in time (its errors have no code). */
const PG_LOST =
  /^(Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error)/;
/** SQLite's primary result codes for a database that cannot serve now: busy, locked, I/O error, full, cannot open. */
const SQLITE_UNAVAILABLE = new Set([5, 6, 10, 13, 14]);

/**
 * Whether an error says the store cannot be reached or cannot serve right now (a lost or refused connection,
 * a server shutting down or out of connections, a locked or full SQLite file), rather than something wrong
 * with the request or with Pave: a client may try again later.
 */
export function isStoreUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const { code, errcode } = error as { code?: unknown; errcode?: unknown };
  if (
    typeof code === 'string' &&
    (code.startsWith('08') || PG_UNAVAILABLE.has(code) || NETWORK_ERRORS.has(code))
  ) {
    return true;
  }
  if (typeof errcode === 'number' && SQLITE_UNAVAILABLE.has(errcode & 0xff)) return true;
  if (PG_LOST.test(error.message)) return true;
  // An AggregateError (a connection tried on several addresses) is unavailable when its parts are.
  return error instanceof AggregateError && error.errors.length > 0 && error.errors.every(isStoreUnavailable);
}

/** SQLite's extended result code for a row that refers to one that is not there. */
const SQLITE_CONSTRAINT_FOREIGNKEY = 787;

/**
 * Whether an error is a foreign-key violation, in either engine: a row written that refers to one deleted at
 * the same moment (on PostgreSQL, after the write's own checks read it).
 */
export function isForeignKeyViolation(error: unknown): boolean {
  const { code, errcode } = (error ?? {}) as { code?: unknown; errcode?: unknown };
  return code === '23503' || errcode === SQLITE_CONSTRAINT_FOREIGNKEY;
}

/** SQLite's extended result codes for a duplicate primary key and a duplicate unique key. */
const SQLITE_CONSTRAINT_PRIMARYKEY = 1555;
const SQLITE_CONSTRAINT_UNIQUE = 2067;

/** Whether an error is a unique/primary-key violation, in either engine. */
export function isUniqueViolation(error: unknown): boolean {
  const { code, errcode } = (error ?? {}) as { code?: unknown; errcode?: unknown };
  return code === '23505' || errcode === SQLITE_CONSTRAINT_PRIMARYKEY || errcode === SQLITE_CONSTRAINT_UNIQUE;
}

/** How many times a declarative apply runs again after breaking a unique key (applyAgainOnConflict). */
const APPLY_ATTEMPTS = 3;

/**
 * Runs `apply`, a declarative apply in a transaction (read what is stored, insert what is new), again when it
 * broke a unique key because another apply inserted the same ids at the same moment: both found none, since
 * PostgreSQL reads committed rows only, and the second to insert waited for the first to commit. Run again, it
 * finds them and changes only what still differs, as it would have on SQLite, which serialises writers. A
 * ConflictError naming `what` at `path` when it still breaks one after APPLY_ATTEMPTS runs.
 */
export async function applyAgainOnConflict<T>(
  apply: () => Promise<T>,
  what: string,
  path: string,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await apply();
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      if (attempt === APPLY_ATTEMPTS) {
        throw new ConflictError(`${what} were applied by others at the same moment, ${attempt} times over`, [
          { path, message: 'apply them again: what is the same then changes nothing' },
        ]);
      }
    }
  }
}
