import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { PostgresAdapter, type Kysely, type Transaction } from 'kysely';
import { ServiceUnavailableError } from '@pave/core';
import type { Database, Executor, StoreEngine } from '../store/index.ts';
import { lockAdvisory } from '../store/locks.ts';
import type { KeyringSource } from './keyring.ts';

const PREFIX = 'pave';

/** The advisory lock rotations hold exclusive and new data keys shared (see SecretBox.rotateMasterKey). */
const MASTER_KEY_LOCK = 'pave.master-key';

/** What every refusal to open a data key with the master key at hand says to do. */
const SAME_KEY =
  'every replica needs the same PAVE_MASTER_KEY or master.key: give this one the PAVE_MASTER_KEY the others ' +
  'have, or a copy (mode 0600) of the master.key in the data directory of the replica that created the store';

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
    const row = await this.dataKeyRow(db, { scope });
    if (row) return row.key;
    const inserted = await this.insertDataKey(scope, db);
    // Another replica created it first: use theirs.
    return inserted ? inserted.key : this.macKey(scope, db);
  }

  /**
   * Adds a data key for `scope` wrapped by the current master key, in `db`'s transaction or one of its own;
   * undefined when another request added one first. The master-key lock is held shared from before the
   * keyring is read until the row is committed, so no rotation retires the master key that wraps it meanwhile.
   * Creates the key file only for a store without data keys: a new master key could not open existing ones.
   */
  private async insertDataKey(scope: string, db: Executor): Promise<{ id: number; key: Buffer } | undefined> {
    const insert = async (tx: Transaction<Database>) => {
      await lockAdvisory(this.engine(), tx, MASTER_KEY_LOCK, 'shared');
      let keyring = this.keyring.loadExisting();
      if (!keyring) {
        const existing = await tx
          .selectFrom('data_keys')
          .select('master_version')
          .limit(1)
          .executeTakeFirst();
        if (existing) throw this.noKeyFile(existing.master_version);
        keyring = this.keyring.load();
      }
      const key = randomBytes(32);
      const inserted = await tx
        .insertInto('data_keys')
        .values({
          scope,
          master_version: keyring.current,
          wrapped: seal(keyring.keys.get(keyring.current)!, key, `data-key:${scope}`),
          created_at: new Date().toISOString(),
        })
        .onConflict((oc) => oc.column('scope').doNothing())
        .returning('id')
        .executeTakeFirst();
      return inserted ? { id: Number(inserted.id), key } : undefined;
    };
    return db.isTransaction ? insert(db as Transaction<Database>) : db.transaction().execute(insert);
  }

  /**
   * Rotates the master key: adds a new version to the key file, re-wraps every data key with it and retires
   * the versions no data key is wrapped by any more. With PAVE_MASTER_KEY, which Pave cannot add to, it re-wraps
   * the data keys wrapped by older versions with its newest one (ConflictError with the steps when none is).
   *
   * Rotations run one at a time, on every replica of the store: under the master-key lock (exclusive; new data
   * keys take it shared), in two transactions. The first adds the key and re-wraps; the second, after the
   * re-wrapped keys are committed, reads which versions are still referenced and removes only the others from
   * the key file. So the file never lacks a version a committed data key is wrapped by, whatever stops when.
   */
  async rotateMasterKey(): Promise<{ masterKeyVersion: number; rewrappedDataKeys: number }> {
    const run = async () => {
      const result = await this.db.transaction().execute(async (tx) => {
        await lockAdvisory(this.engine(), tx, MASTER_KEY_LOCK, 'exclusive');
        let version: number;
        if (this.keyring.fromEnvironment) {
          version = this.keyring.load().current;
          const older = await tx
            .selectFrom('data_keys')
            .select('id')
            .where('master_version', '!=', version)
            .limit(1)
            .executeTakeFirst();
          // Nothing to re-wrap: refused, with the steps to add a key to PAVE_MASTER_KEY.
          if (!older) this.keyring.addKey();
        } else {
          version = this.keyring.addKey();
        }
        return { masterKeyVersion: version, rewrappedDataKeys: await this.rewrapRows(tx) };
      });
      await this.db.transaction().execute(async (tx) => {
        await lockAdvisory(this.engine(), tx, MASTER_KEY_LOCK, 'exclusive');
        const rows = await tx.selectFrom('data_keys').select('master_version').distinct().execute();
        this.keyring.retireOldKeys(new Set(rows.map((row) => Number(row.master_version))));
      });
      return result;
    };
    // One at a time in this process too, so that waiting rotations do not each hold a store connection.
    const turn = this.rotations.then(run, run);
    this.rotations = turn.catch(() => undefined);
    return turn;
  }

  private rotations: Promise<unknown> = Promise.resolve();

  /**
   * Re-wraps every data key with the current master key, under the master-key lock; returns how many it
   * re-wrapped. It retires no master key: {@link rotateMasterKey} does the whole rotation.
   */
  async rewrapAll(): Promise<number> {
    return this.db.transaction().execute(async (tx) => {
      await lockAdvisory(this.engine(), tx, MASTER_KEY_LOCK, 'exclusive');
      return this.rewrapRows(tx);
    });
  }

  private async rewrapRows(tx: Transaction<Database>): Promise<number> {
    const keyring = this.keyring.load();
    const master = keyring.keys.get(keyring.current)!;
    const rows = await tx.selectFrom('data_keys').selectAll().execute();
    let count = 0;
    for (const row of rows) {
      if (row.master_version === keyring.current) continue;
      const key = this.unwrap(row);
      const wrapped = seal(master, key, `data-key:${row.scope}`);
      await tx
        .updateTable('data_keys')
        .set({ wrapped, master_version: keyring.current })
        .where('id', '=', row.id)
        .where('master_version', '=', row.master_version)
        .execute();
      count++;
    }
    return count;
  }

  /**
   * The data key selected by `where`, unwrapped; undefined when there is no such row. A row read just before a
   * rotation on another replica re-wrapped it and retired its master key is read again once.
   */
  private async dataKeyRow(
    db: Executor,
    by: { id: number } | { scope: string },
  ): Promise<{ id: number; key: Buffer } | undefined> {
    const select = () =>
      'id' in by
        ? db.selectFrom('data_keys').selectAll().where('id', '=', by.id).executeTakeFirst()
        : db.selectFrom('data_keys').selectAll().where('scope', '=', by.scope).executeTakeFirst();
    let row = await select();
    if (!row) return undefined;
    if (!this.keyring.loadExisting()?.keys.has(row.master_version)) {
      const again = await select();
      if (!again) return undefined;
      row = again;
    }
    return { id: Number(row.id), key: this.unwrap(row) };
  }

  /**
   * Unwraps a data key with its master key. ServiceUnavailableError, saying that every replica needs the same
   * master key, when the keyring lacks that version, or has it but it does not open the key (another master
   * key, e.g. a replica given a master.key or PAVE_MASTER_KEY of its own); never creates the key file.
   */
  private unwrap(row: {
    id: number | string;
    scope: string;
    wrapped: string;
    master_version: number;
  }): Buffer {
    const keyring = this.keyring.loadExisting();
    if (!keyring) throw this.noKeyFile(row.master_version);
    const master = keyring.keys.get(row.master_version);
    if (!master) {
      throw new ServiceUnavailableError(
        `the data key of ${row.scope} (data_keys id ${row.id}) is wrapped by master key version ` +
          `${row.master_version}, which ${this.keyring.description} does not have (it has ` +
          `${keyring.keys.size === 1 ? 'version' : 'versions'} ${[...keyring.keys.keys()].join(', ')}); ${SAME_KEY}`,
      );
    }
    try {
      return open(master, row.wrapped, `data-key:${row.scope}`);
    } catch {
      throw new ServiceUnavailableError(
        `master key version ${row.master_version} from ${this.keyring.description} does not open the data key ` +
          `of ${row.scope} (data_keys id ${row.id}): it is not the master key the store's data keys were ` +
          `wrapped with (or the row was changed outside Pave); ${SAME_KEY}`,
      );
    }
  }

  /** Why a replica without a key file cannot use a store that has data keys (and creates no key file). */
  private noKeyFile(masterVersion: number): ServiceUnavailableError {
    return new ServiceUnavailableError(
      `the store's data keys are wrapped by master key version ${masterVersion}, but ${this.keyring.description} ` +
        `does not exist and PAVE_MASTER_KEY is not set; ${SAME_KEY}. Pave did not create a new key file: a new ` +
        'master key cannot open them',
    );
  }

  private async dataKeyById(id: number): Promise<Buffer> {
    const cached = this.dataKeys.get(id);
    if (cached) return cached;
    const row = await this.dataKeyRow(this.db, { id });
    if (!row) throw new ServiceUnavailableError(`data key ${id} of a stored secret is missing`);
    this.dataKeys.set(id, row.key);
    return row.key;
  }

  private async dataKeyFor(scope: string): Promise<{ id: number; key: Buffer }> {
    const existing = await this.db
      .selectFrom('data_keys')
      .select(['id'])
      .where('scope', '=', scope)
      .executeTakeFirst();
    if (existing) return { id: Number(existing.id), key: await this.dataKeyById(Number(existing.id)) };
    const inserted = await this.insertDataKey(scope, this.db);
    // Another request created it first: use theirs.
    if (!inserted) return this.dataKeyFor(scope);
    this.dataKeys.set(inserted.id, inserted.key);
    return inserted;
  }

  private storeEngine: StoreEngine | undefined;

  /** The store's engine, told by its Kysely dialect's adapter. */
  private engine(): StoreEngine {
    this.storeEngine ??= this.db.getExecutor().adapter instanceof PostgresAdapter ? 'postgres' : 'sqlite';
    return this.storeEngine;
  }
}
