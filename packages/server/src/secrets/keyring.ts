import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
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
  /** The keyring as it is now (re-read from the file when it changed, e.g. after another replica rotated). */
  load(): Keyring;
  /** Adds a new current master key and returns its version; ConflictError when keys come from the environment. */
  addKey(): number;
  /** Removes every key but the current one, once nothing is wrapped by them any more. */
  retireOldKeys(): void;
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
 * highest version current), else from `<dataDir>/master.key`, which is created on first start (mode 0600).
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
      load: () => keyring,
      addKey() {
        throw new ConflictError(
          'the master key comes from PAVE_MASTER_KEY, so Pave cannot rotate it itself',
          [
            {
              path: 'PAVE_MASTER_KEY',
              message:
                'add a new key as "1:OLD,2:NEW" in PAVE_MASTER_KEY on every replica, restart them, then rotate again to re-wrap',
            },
          ],
        );
      },
      retireOldKeys: () => undefined,
    };
  }
  const file = join(dataDir, MASTER_KEY_FILE);
  let cached: { text: string; keyring: Keyring } | undefined;
  const write = (keyring: Keyring) => {
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
    const temporary = `${file}.tmp-${process.pid}`;
    writeFileSync(temporary, text, { mode: 0o600 });
    chmodSync(temporary, 0o600);
    renameSync(temporary, file);
  };
  const load = (): Keyring => {
    if (!existsSync(file)) {
      write({ current: 1, keys: new Map([[1, randomBytes(32)]]) });
    }
    const text = readFileSync(file, 'utf8');
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
  return {
    description: file,
    load,
    addKey() {
      const keyring = load();
      const version = Math.max(...keyring.keys.keys()) + 1;
      write({ current: version, keys: new Map([...keyring.keys, [version, randomBytes(32)]]) });
      return version;
    },
    retireOldKeys() {
      const keyring = load();
      const current = keyring.keys.get(keyring.current);
      if (current) write({ current: keyring.current, keys: new Map([[keyring.current, current]]) });
    },
  };
}
