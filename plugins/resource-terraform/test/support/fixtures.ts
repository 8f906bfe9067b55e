import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll } from 'vitest';
import type { DriverContext, ResourceInputs } from '@pave/plugin-api';
import { testDriverContext } from '@pave/plugin-api/testing';

/** The test modules' directories. */
export const MODULES = {
  postgres: fileURLToPath(new URL('./modules/postgres', import.meta.url)),
  broken: fileURLToPath(new URL('./modules/broken', import.meta.url)),
  generated: fileURLToPath(new URL('./modules/generated', import.meta.url)),
};

/** A logged line. */
export interface LoggedLine {
  level: string;
  message: string;
  fields?: Record<string, unknown>;
}

/** A driver context that records what is logged; its scratch directory is removed after the file's tests. */
export function recordingContext(signal?: AbortSignal): DriverContext & { lines: LoggedLine[] } {
  const ctx = testDriverContext(signal ?? AbortSignal.timeout(120_000));
  afterAll(() => rmSync(ctx.scratchDir, { recursive: true, force: true }));
  const lines: LoggedLine[] = [];
  const at =
    (level: string) =>
    (message: string, fields?: Record<string, unknown>): void => {
      lines.push({ level, message, ...(fields ? { fields } : {}) });
    };
  return {
    ...ctx,
    lines,
    logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') },
  };
}

let counter = 0;

/** A database name no other test run uses. */
export function databaseName(): string {
  counter += 1;
  return `pave_tf_${process.pid}_${counter}`;
}

/** Inputs of the postgres test module for a fresh scope and database. */
export function postgresInputs(
  options: { name?: string; password?: string; variables?: Record<string, unknown>; source?: string } = {},
): ResourceInputs & { name: string } {
  const name = options.name ?? databaseName();
  return {
    name,
    scope: {
      app: `app-${name}`,
      env: 'staging',
      envType: 'staging',
      type: 'postgres',
      class: 'default',
      resId: 'db',
      address: 'shared.db',
    },
    driverInputs: {
      source: options.source ?? MODULES.postgres,
      variables: { name: '${resource.params.database}', ...options.variables },
    },
    driverSecrets: { password: options.password ?? `pw-${name}-s3cret` },
    params: { database: name },
  };
}

function psql(sql: string): string {
  return execFileSync('psql', ['-h', '127.0.0.1', '-U', 'postgres', '-d', 'postgres', '-tAc', sql], {
    encoding: 'utf8',
    env: { ...process.env, PGOPTIONS: '-c client_min_messages=warning' },
  }).trim();
}

/** Whether the PostgreSQL server has database `name`. */
export function databaseExists(name: string): boolean {
  return psql(`SELECT count(*) FROM pg_database WHERE datname = '${name}'`) === '1';
}

/** Drops database `name` by hand, as an operator would, behind Terraform's back. */
export function dropDatabaseByHand(name: string): void {
  psql(`DROP DATABASE IF EXISTS "${name}"`);
}

/** Removes what a test run may have left on the server (its databases and probes). */
export function removeLeftovers(name: string): void {
  psql(`DROP DATABASE IF EXISTS "${name}"`);
  psql(`DROP SCHEMA IF EXISTS pave_probe_${name} CASCADE`);
}
