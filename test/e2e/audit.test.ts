import { join } from 'node:path';
import { DatabaseSync } from '@photostructure/sqlite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUDIT_GENESIS_HASH, auditEntryHash } from '../../packages/server/src/domain/audit.ts';
import { createTestStoreLocation, type TestStoreLocation } from '../support/stores.ts';
import { clientEnv, runPave, startPave, type PaveProcess } from '../support/pave.ts';

interface Row {
  id: number;
  at: string;
  actor: string;
  action: string;
  target: string;
  app_id: string | null;
  request_id: string;
  summary: string;
}

/**
 * What a workload with write access to the store (but not to the master key) does to hide that it revealed
 * a secret: delete the entry and recompute the chain with the unkeyed formula, which anyone can compute.
 */
function deleteRevealAndRechain(dataDir: string): void {
  const db = new DatabaseSync(join(dataDir, 'pave.db'));
  try {
    db.exec('begin');
    db.prepare("delete from audit_entries where action = 'values.reveal'").run();
    const rows = db.prepare('select * from audit_entries order by seq').all() as Row[];
    let previous = AUDIT_GENESIS_HASH;
    rows.forEach((row, index) => {
      const seq = index + 1;
      const hash = auditEntryHash(previous, {
        seq,
        at: row.at,
        actor: row.actor,
        action: row.action,
        target: row.target,
        appId: row.app_id,
        requestId: row.request_id,
        summary: row.summary,
      });
      db.prepare('update audit_entries set seq = ?, prev_hash = ?, hash = ? where id = ?').run(
        seq,
        previous,
        hash,
        row.id,
      );
      previous = hash;
    });
    db.prepare('update audit_chain set seq = ?, last_hash = ? where id = 1').run(rows.length, previous);
    db.exec('commit');
  } finally {
    db.close();
  }
}

describe('a keyed audit log end to end: pave audit head, verify --head, and rotation', () => {
  let location: TestStoreLocation;
  let server: PaveProcess;
  const pave = (...args: string[]) => runPave(args, clientEnv(server.url, location.dataDir));
  const ok = async (result: Promise<{ code: number | null; stdout: string; stderr: string }>) => {
    const done = await result;
    expect(done.code, done.stderr + done.stdout).toBe(0);
    return done;
  };

  beforeAll(async () => {
    location = await createTestStoreLocation('sqlite');
    server = await startPave(['--data-dir', location.dataDir]);
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
    await location?.cleanup();
  });

  it('catches an entry deleted and the chain recomputed, also against a published head', async () => {
    await ok(pave('apps', 'create', 'shop'));
    await ok(pave('values', 'set', 'API_TOKEN=not-for-workloads', '--app', 'shop', '--secret'));
    // Rotating the master key re-wraps the audit key; a restart must verify with the rotated key alone.
    await ok(pave('admin', 'rotate-master-key'));
    await server.stop();
    server = await startPave(['--data-dir', location.dataDir]);
    await ok(pave('values', 'list', '--app', 'shop', '--reveal'));
    const intact = await ok(pave('audit', 'verify'));
    expect(intact.stdout).toMatch(/^Audit log intact: \d+ entries, chain verified\n$/);

    const head = (await ok(pave('audit', 'head'))).stdout.split('\n')[0]!;
    expect(head).toMatch(/^\d+:[0-9a-f]{64}$/);
    expect((await ok(pave('audit', 'verify', '--head', head))).stdout).toContain(
      `it still holds the published head #${head.split(':')[0]}`,
    );

    deleteRevealAndRechain(location.dataDir);
    const broken = await pave('audit', 'verify');
    expect(broken.code).toBe(1);
    expect(broken.stderr).toContain('Audit log BROKEN at entry #1');
    expect(broken.stderr).toContain('without the audit key');
    const againstHead = await pave('audit', 'verify', '--head', head);
    expect(againstHead.code).toBe(1);
    expect(againstHead.stderr).toContain('BROKEN');
  }, 120_000);
});
