import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { listLogSources, tailLog } from '../src/log-reader.ts';

const root = mkdtempSync(join(tmpdir(), 'pave-log-sources-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const line = (n: number) =>
  `${JSON.stringify({ at: `2026-12-07T10:00:${String(n).padStart(2, '0')}.000Z`, stream: 'stdout', line: `line ${n}` })}\n`;

/*
 * Right after the supervisor rotates a container's log, only `main.jsonl.1` is there until it writes again: the
 * container had no log source then, and `pave logs --tail 60` answered nothing (seen once in CI).
 */
describe('the log sources of a workload', () => {
  it('include a container whose log was just rotated, and its last lines come from the rotated file', async () => {
    const logs = join(root, 'api', 'logs');
    mkdirSync(logs, { recursive: true });
    writeFileSync(join(logs, 'main.jsonl.1'), [1, 2, 3].map(line).join(''));
    writeFileSync(join(logs, 'sidecar.jsonl'), line(4));
    const sources = await listLogSources(root, ['api']);
    expect(sources.map((source) => source.container)).toEqual(['main', 'sidecar']);
    expect(sources[0]!.path).toBe(join(logs, 'main.jsonl'));
    const tail = await tailLog(sources[0]!, 2);
    expect(tail.map((entry) => entry.line)).toEqual(['line 2', 'line 3']);
  });
});
