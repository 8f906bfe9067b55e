import { describe, expect, it } from 'vitest';
import type { AuditHead, AuditVerification } from '@pave/core';
import { runCli } from '../src/program.ts';
import { cliArgs, fakeIo, fakeServer } from './helpers.ts';

const HASH = '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08';
const OFFLINE = 'http://127.0.0.1:9';

const verification = (fields: Partial<AuditVerification> = {}): AuditVerification => ({
  ok: true,
  entries: 42,
  firstProblem: null,
  keyedFrom: 1,
  publishedHead: null,
  ...fields,
});

describe('pave audit head', () => {
  // stdout is the head alone (found by a review of the CLI: `H=$(pave audit head)` caught the explanation too).
  it('prints SEQ:HASH alone on stdout, and how to check it later on stderr', async () => {
    const head: AuditHead = { seq: 42, hash: HASH, head: `42:${HASH}`, keyedFrom: 1 };
    const server = await fakeServer(() => ({ status: 200, body: head }));
    const io = fakeIo();
    expect(await runCli(cliArgs(server.url, 'audit', 'head'), io)).toBe(0);
    expect(server.requests).toEqual([{ method: 'GET', url: '/api/v1/audit/head', body: undefined }]);
    expect(io.stdout.text).toBe(`42:${HASH}\n`);
    expect(io.stderr.text).toContain(`pave audit verify --head 42:${HASH}`);
  });

  it('refuses listing options', async () => {
    const io = fakeIo();
    expect(await runCli(cliArgs(OFFLINE, 'audit', 'head', '--app', 'shop'), io)).toBe(2);
    expect(io.stderr.text).toContain('--app: only for listing entries');
  });
});

describe('pave audit verify --head', () => {
  it('sends the published head and says the log still holds it', async () => {
    const server = await fakeServer(() => ({ status: 200, body: verification({ publishedHead: 40 }) }));
    const io = fakeIo();
    expect(await runCli(cliArgs(server.url, 'audit', 'verify', '--head', `40:${HASH}`), io)).toBe(0);
    expect(server.requests[0]?.url).toBe(`/api/v1/audit/verify?head=40%3A${HASH}`);
    expect(io.stdout.text).toBe(
      'Audit log intact: 42 entries, chain verified; it still holds the published head #40\n',
    );
  });

  it('exits 1 with where and why when the published head is gone', async () => {
    const message = 'the log ends at entry #39 (…), before the head published earlier, #40';
    const server = await fakeServer(() => ({
      status: 200,
      body: verification({
        ok: false,
        entries: 39,
        publishedHead: 40,
        firstProblem: { seq: 40, id: null, problem: 'published-head', message },
      }),
    }));
    const io = fakeIo();
    expect(await runCli(cliArgs(server.url, 'audit', 'verify', '--head', `40:${HASH}`), io)).toBe(1);
    expect(io.stderr.text).toContain(`Audit log BROKEN at entry #40 (missing): ${message}`);
  });

  it('tells the unkeyed start of a log upgraded from before keying', async () => {
    const server = await fakeServer(() => ({ status: 200, body: verification({ keyedFrom: 7 }) }));
    const io = fakeIo();
    expect(await runCli(cliArgs(server.url, 'audit', 'verify'), io)).toBe(0);
    expect(io.stdout.text).toContain(
      '(keyed from entry #7; the entries before it are checked with the unkeyed hash)',
    );
  });

  it('refuses a head that is not SEQ:HASH before asking the server', async () => {
    for (const head of ['42', `x:${HASH}`, '42:abc', `42:${HASH.toUpperCase()}`]) {
      const io = fakeIo();
      expect(await runCli(cliArgs(OFFLINE, 'audit', 'verify', '--head', head), io)).toBe(2);
      expect(io.stderr.text).toContain(`--head: "${head}" is not a head of the audit log; give SEQ:HASH`);
    }
  });

  it('refuses --head without verify', async () => {
    const io = fakeIo();
    expect(await runCli(cliArgs(OFFLINE, 'audit', '--head', `1:${HASH}`), io)).toBe(2);
    expect(io.stderr.text).toContain('--head: only for `pave audit verify`');
  });
});

describe('pave audit --all-incarnations', () => {
  it('asks for every incarnation of the app', async () => {
    const server = await fakeServer(() => ({ status: 200, body: { items: [], nextCursor: null } }));
    const io = fakeIo();
    expect(await runCli(cliArgs(server.url, 'audit', '--app', 'shop', '--all-incarnations'), io)).toBe(0);
    expect(server.requests[0]?.url).toBe('/api/v1/audit?app=shop&incarnation=all');
  });

  it('needs --app', async () => {
    const io = fakeIo();
    expect(await runCli(cliArgs(OFFLINE, 'audit', '--all-incarnations'), io)).toBe(2);
    expect(io.stderr.text).toContain('--all-incarnations: only with --app');
  });
});
