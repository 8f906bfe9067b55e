import { randomBytes } from 'node:crypto';
import { chmodSync, linkSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConflictError, InputError } from '@pave/core';

/** The file, under the data directory, that holds the master keys when PAVE_MASTER_KEY is not set. */
export const MASTER_KEY_FILE = 'master.key';

/** Master keys by version; `current` wraps new data keys. */
export interface Keyring {
  current: number;
  keys: Map<number, Buffer>;
}

/** Where the master keys come from: the PAVE_MASTER_KEY variable, or the key file. */
export interface KeyringSource {
  /**
   * The keyring as it is now (re-read from the file when it changed, e.g. after another replica rotated);
   * creates the key file with a new random key when there is none yet.
   */
  load(): Keyring;
  /** Like {@link load}, but undefined instead of creating the key file when there is none. */
  loadExisting(): Keyring | undefined;
  /**
   * Adds a new current master key and returns its version; ConflictError when keys come from the environment.
   * Read-modify-write of the key file: call it only under the master-key lock (SecretBox.rotateMasterKey).
   */
  addKey(): number;
  /**
   * Removes every key but the current one and the versions in `referenced` (those data keys are still wrapped
   * by); returns the versions removed. Call it only under the master-key lock, with `referenced` read there.
   */
  retireOldKeys(referenced?: ReadonlySet<number>): number[];
  /** True when the keys come from PAVE_MASTER_KEY, which Pave cannot add keys to. */
  readonly fromEnvironment: boolean;
  /** Where the keys come from: `PAVE_MASTER_KEY`, or the key file's path. */
  readonly description: string;
}

function decodeKey(text: string, where: string): Buffer {
  const key = /^[0-9a-f]{64}$/i.test(text) ? Buffer.from(text, 'hex') : Buffer.from(text, 'base64');
  if (key.length !== 32) {
    throw new InputError(`the master key in ${where} is not 32 bytes`, [
      { path: where, message: 'use 32 random bytes, base64 or hex encoded, e.g. `openssl rand -base64 32`' },
    ]);
  }
  return key;
}

/**
 * The master keyring: from PAVE_MASTER_KEY (one key, base64 or hex; or `VERSION:KEY,VERSION:KEY` with the
 * highest version current), else from `<dataDir>/master.key`, which {@link KeyringSource.load} creates (mode
 * 0600) when it is missing. Every change of the file is atomic (a temporary file renamed over it); a new file
 * is linked into place only if there is none yet, so replicas starting at once on a new data directory agree.
 */
export function keyringSource(dataDir: string, env: NodeJS.ProcessEnv = process.env): KeyringSource {
  const fromEnv = env.PAVE_MASTER_KEY?.trim();
  if (fromEnv) {
    const keys = new Map<number, Buffer>();
    for (const part of fromEnv.split(',')) {
      const match = /^(\d+):(.+)$/.exec(part.trim());
      keys.set(match ? Number(match[1]) : 1, decodeKey(match ? match[2]! : part.trim(), 'PAVE_MASTER_KEY'));
    }
    const keyring = { current: Math.max(...keys.keys()), keys };
    return {
      description: 'PAVE_MASTER_KEY',
      fromEnvironment: true,
      load: () => keyring,
      loadExisting: () => keyring,
      addKey() {
        throw new ConflictError(
          `the master key comes from PAVE_MASTER_KEY, so Pave cannot add a new one itself, and every data key is ` +
            `wrapped by its newest version (${keyring.current}) already`,
          [
            {
              path: 'PAVE_MASTER_KEY',
              message:
                `add a new key as "${keyring.current}:OLD,${keyring.current + 1}:NEW" in PAVE_MASTER_KEY on every ` +
                'replica and restart them; rotating then re-wraps every data key with the new one, after which ' +
                'the old one may be left out of PAVE_MASTER_KEY',
            },
          ],
        );
      },
      retireOldKeys: () => [],
    };
  }
  const file = join(dataDir, MASTER_KEY_FILE);
  let cached: { text: string; keyring: Keyring } | undefined;
  /** Writes `keyring` to a new temporary file beside the key file and returns its path. */
  const writeTemporary = (keyring: Keyring): string => {
    const text = `${JSON.stringify(
      {
        current: keyring.current,
        keys: Object.fromEntries(
          [...keyring.keys].map(([version, key]) => [version, key.toString('base64')]),
        ),
      },
      null,
      2,
    )}\n`;
    const temporary = `${file}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`;
    writeFileSync(temporary, text, { mode: 0o600, flag: 'wx' });
    chmodSync(temporary, 0o600);
    return temporary;
  };
  const replace = (keyring: Keyring) => {
    const temporary = writeTemporary(keyring);
    try {
      renameSync(temporary, file);
    } catch (error) {
      rmSync(temporary, { force: true });
      throw error;
    }
  };
  const read = (): string | undefined => {
    try {
      return readFileSync(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  };
  const parse = (text: string): Keyring => {
    if (cached?.text === text) return cached.keyring;
    let parsed: { current: number; keys: Record<string, string> };
    try {
      parsed = JSON.parse(text) as typeof parsed;
    } catch {
      throw new InputError(`${file} is not a Pave master key file`, [
        { path: file, message: 'restore it from a backup; without it no secret can be read' },
      ]);
    }
    const keys = new Map(
      Object.entries(parsed.keys).map(([v, k]) => [Number(v), decodeKey(k, file)] as const),
    );
    cached = { text, keyring: { current: parsed.current, keys } };
    return cached.keyring;
  };
  const loadExisting = (): Keyring | undefined => {
    const text = read();
    return text === undefined ? undefined : parse(text);
  };
  const load = (): Keyring => {
    const existing = loadExisting();
    if (existing) return existing;
    // Linked into place only if no other process (a replica starting at once) created one meanwhile.
    const temporary = writeTemporary({ current: 1, keys: new Map([[1, randomBytes(32)]]) });
    try {
      linkSync(temporary, file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    } finally {
      rmSync(temporary, { force: true });
    }
    return parse(readFileSync(file, 'utf8'));
  };
  return {
    description: file,
    fromEnvironment: false,
    load,
    loadExisting,
    addKey() {
      const keyring = load();
      const version = Math.max(...keyring.keys.keys()) + 1;
      replace({ current: version, keys: new Map([...keyring.keys, [version, randomBytes(32)]]) });
      return version;
    },
    retireOldKeys(referenced = new Set<number>()) {
      const keyring = load();
      const retired = [...keyring.keys.keys()].filter(
        (version) => version !== keyring.current && !referenced.has(version),
      );
      if (retired.length > 0) {
        replace({
          current: keyring.current,
          keys: new Map([...keyring.keys].filter(([version]) => !retired.includes(version))),
        });
      }
      return retired;
    },
  };
}
