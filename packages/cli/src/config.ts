import { chmodSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { makeDirectories, whyUnmade } from './directories.ts';
import { CliUsageError } from './errors.ts';
import { describeFileError } from './file-errors.ts';

/** What `pave login` remembers: one server and the token to use with it. */
export interface CliConfig {
  server: string;
  token: string;
}

/** The environment variables and home directory the CLI reads its settings from. */
export interface CliEnvironment {
  env: Record<string, string | undefined>;
  homeDir: string;
}

/**
 * Where the CLI config lives: `$PAVE_CONFIG` if set, else `$XDG_CONFIG_HOME/pave/config.json`, else
 * `~/.config/pave/config.json`.
 */
export function configPath({ env, homeDir }: CliEnvironment): string {
  if (env.PAVE_CONFIG) return env.PAVE_CONFIG;
  return join(env.XDG_CONFIG_HOME || join(homeDir, '.config'), 'pave', 'config.json');
}

/**
 * Reads the config file. Resolves to undefined when there is none; throws (with the path and how to fix it)
 * when it exists but is not a config `pave login` wrote.
 */
export function readConfig(path: string): CliConfig | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`cannot read the config file ${path}: ${describeFileError(error, path, 'read')}`, {
      cause: error,
    });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  const config = parsed as Partial<CliConfig> | undefined;
  if (typeof config?.server !== 'string' || typeof config.token !== 'string') {
    throw new Error(
      `the config file ${path} is not valid: expected {"server": "...", "token": "..."}; ` +
        'delete it and run `pave login --server URL --token T` again',
    );
  }
  return { server: config.server, token: config.token };
}

/**
 * Saves the config so only the current user can read it: the file gets mode 0600 (also when it existed
 * before with a wider mode) and a directory the CLI creates gets 0700. The file is replaced atomically,
 * so a crash never leaves half a token behind.
 */
export function writeConfig(path: string, config: CliConfig): void {
  try {
    makeDirectories(dirname(path), 0o700);
  } catch (error) {
    throw new CliUsageError(
      `cannot save the config file ${path}: cannot create ${dirname(path)}: ${whyUnmade(error, dirname(path))}; ` +
        'set PAVE_CONFIG to a file in a directory you may write to',
    );
  }
  const temporary = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(temporary, `${JSON.stringify({ server: config.server, token: config.token }, null, 2)}\n`, {
      mode: 0o600,
    });
    // The umask can only remove bits, but the file may have been left over with other bits: be explicit.
    chmodSync(temporary, 0o600);
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw new CliUsageError(
      `cannot save the config file ${path}: ${describeFileError(error, path, 'write')}; ` +
        'set PAVE_CONFIG to a file in a directory you may write to',
    );
  }
}

/**
 * Deletes the config file `pave login` saved (`pave logout`). Resolves to false when there was none; throws
 * CliUsageError, naming the file and why, when it cannot be deleted.
 */
export function forgetConfig(path: string): boolean {
  try {
    rmSync(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw new CliUsageError(
      `cannot delete the config file ${path}: ${describeFileError(error, path, 'write')}; delete it yourself`,
    );
  }
}
