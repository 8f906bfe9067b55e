import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import { ServiceUnavailableError } from '@pave/core';
import type { Database, Executor } from '../store/index.ts';
import type { KeyringSource } from './keyring.ts';

const PREFIX = 'pave';

function seal(key: Buffer, plaintext: Buffer, aad: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64');
}

function open(key: Buffer, sealed: string, aad: string): Buffer {
  const raw = Buffer.from(sealed, 'base64');
  const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
  decipher.setAAD(Buffer.from(aad));
  decipher.setAuthTag(raw.subarray(12, 28));
  return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]);
}

/**
 * Envelope encryption of secret values with AES-256-GCM. Each scope (an app, an environment) has its own
 * random data key, stored wrapped by the master key; a ciphertext names its data key:
 * `pave:<data key id>:<base64(iv | tag | ciphertext)>`. Unwrapped data keys live only in memory.
 */
export class SecretBox {
  private readonly dataKeys = new Map<number, Buffer>();

  constructor(
    private readonly db: Kysely<Database>,
    private readonly keyring: KeyringSource,
  ) {}

  /** Encrypts `plaintext` with the data key of `scope` (created on first use). */
  async encrypt(scope: string, plaintext: string): Promise<string> {
    const { id, key } = await this.dataKeyFor(scope);
    return `${PREFIX}:${id}:${seal(key, Buffer.from(plaintext, 'utf8'), `value:${id}`)}`;
  }

  /** Decrypts a ciphertext made by {@link encrypt}; ServiceUnavailableError if its keys are missing. */
  async decrypt(ciphertext: string): Promise<string> {
    const match = /^pave:(\d+):([A-Za-z0-9+/=]+)$/.exec(ciphertext);
    if (!match) throw new ServiceUnavailableError('a stored secret is not in Pave ciphertext form');
    const id = Number(match[1]);
    const key = await this.dataKeyById(id);
    return open(key, match[2]!, `value:${id}`).toString('utf8');
  }

  private fingerprintKey: Buffer | undefined;

  /** Loads (or creates) the key fingerprints are made with; call once before {@link fingerprint}. */
  async init(): Promise<void> {
    this.fingerprintKey = (await this.dataKeyFor('pave:fingerprints')).key;
  }

  /**
   * A keyed fingerprint of a value (HMAC-SHA-256 under a random key kept wrapped like a data key): tells
   * whether two secret values are equal without decrypting them, and leaves nothing on disk that could be
   * brute-forced back to a secret. Stable across master-key rotations.
   */
  fingerprint(value: string): string {
    if (!this.fingerprintKey) throw new Error('SecretBox.init() was not called');
    return createHmac('sha256', this.fingerprintKey).update(value).digest('hex');
  }

  /**
   * The random key of a keyed MAC (HMAC-SHA-256) for `scope`, e.g. the audit chain's: kept in data_keys
   * wrapped by the master key like a data key, so master-key rotation re-wraps it and it keeps working.
   * Created in `db` when missing (pass a transaction to create it together with what depends on it); never
   * written anywhere unwrapped. Rejects with ServiceUnavailableError when its master key is missing.
   */
  async macKey(scope: string, db: Executor = this.db): Promise<Buffer> {
    const row = await db.selectFrom('data_keys').selectAll().where('scope', '=', scope).executeTakeFirst();
    if (row) return this.unwrap(row.wrapped, row.master_version, row.scope);
    const { key, values } = this.newDataKey(scope);
    const inserted = await db
      .insertInto('data_keys')
      .values(values)
      .onConflict((oc) => oc.column('scope').doNothing())
      .returning('id')
      .executeTakeFirst();
    // Another replica created it first: use theirs.
    return inserted ? key : this.macKey(scope, db);
  }

  /** A new random key for `scope`, and the data_keys row that holds it wrapped by the current master key. */
  private newDataKey(scope: string) {
    const keyring = this.keyring.load();
    const key = randomBytes(32);
    const values = {
      scope,
      master_version: keyring.current,
      wrapped: seal(keyring.keys.get(keyring.current)!, key, `data-key:${scope}`),
      created_at: new Date().toISOString(),
    };
    return { key, values };
  }

  /** Re-wraps every data key with the current master key; returns how many it re-wrapped. */
  async rewrapAll(): Promise<number> {
    const keyring = this.keyring.load();
    const master = keyring.keys.get(keyring.current)!;
    const rows = await this.db.selectFrom('data_keys').selectAll().execute();
    let count = 0;
    for (const row of rows) {
      if (row.master_version === keyring.current) continue;
      const key = this.unwrap(row.wrapped, row.master_version, row.scope);
      const wrapped = seal(master, key, `data-key:${row.scope}`);
      await this.db
        .updateTable('data_keys')
        .set({ wrapped, master_version: keyring.current })
        .where('id', '=', row.id)
        .where('master_version', '=', row.master_version)
        .execute();
      count++;
    }
    return count;
  }

  private unwrap(wrapped: string, masterVersion: number, scope: string): Buffer {
    const master = this.keyring.load().keys.get(masterVersion);
    if (!master) {
      throw new ServiceUnavailableError(
        `the data key of ${scope} is wrapped by master key version ${masterVersion}, which ${this.keyring.description} does not have`,
      );
    }
    return open(master, wrapped, `data-key:${scope}`);
  }

  private async dataKeyById(id: number): Promise<Buffer> {
    const cached = this.dataKeys.get(id);
    if (cached) return cached;
    const row = await this.db.selectFrom('data_keys').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw new ServiceUnavailableError(`data key ${id} of a stored secret is missing`);
    const key = this.unwrap(row.wrapped, row.master_version, row.scope);
    this.dataKeys.set(id, key);
    return key;
  }

  private async dataKeyFor(scope: string): Promise<{ id: number; key: Buffer }> {
    const existing = await this.db
      .selectFrom('data_keys')
      .select(['id'])
      .where('scope', '=', scope)
      .executeTakeFirst();
    if (existing) return { id: Number(existing.id), key: await this.dataKeyById(Number(existing.id)) };
    const { key, values } = this.newDataKey(scope);
    const inserted = await this.db
      .insertInto('data_keys')
      .values(values)
      .onConflict((oc) => oc.column('scope').doNothing())
      .returning('id')
      .executeTakeFirst();
    // Another request created it first: use theirs.
    if (!inserted) return this.dataKeyFor(scope);
    const id = Number(inserted.id);
    this.dataKeys.set(id, key);
    return { id, key };
  }
}
