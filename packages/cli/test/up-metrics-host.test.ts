import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { runCli } from '../src/program.ts';
import { fakeIo } from './helpers.ts';

describe('pave up --metrics-host without a metrics port', () => {
  let dataDir: string;
  beforeEach(() => {
    dataDir = join(mkdtempSync(join(tmpdir(), 'pave-metrics-host-')), 'data');
  });
  afterEach(() => {
    vi.unstubAllEnvs();
    rmSync(join(dataDir, '..'), { recursive: true, force: true });
  });

  it('exits 2 naming --metrics-host and --metrics-port, and how to fix it, before starting anything', async () => {
    vi.stubEnv('PAVE_METRICS_PORT', '');
    vi.stubEnv('PAVE_METRICS_HOST', '');
    const io = fakeIo();
    expect(
      await runCli(
        ['node', 'pave', 'up', '--port', '0', '--data-dir', dataDir, '--metrics-host', '0.0.0.0'],
        io,
      ),
    ).toBe(2);
    expect(io.stderr.text).toBe(
      'pave: error: --metrics-host: "0.0.0.0" is the address of the metrics port, and no metrics port is set; ' +
        'add --metrics-port (or PAVE_METRICS_PORT), or leave --metrics-host out\n',
    );
    expect(readdirSync(join(dataDir, '..'))).toEqual([]);
  });

  it('names PAVE_METRICS_HOST when the address came from the environment', async () => {
    vi.stubEnv('PAVE_METRICS_PORT', '');
    vi.stubEnv('PAVE_METRICS_HOST', '0.0.0.0');
    const io = fakeIo();
    expect(await runCli(['node', 'pave', 'up', '--port', '0', '--data-dir', dataDir], io)).toBe(2);
    expect(io.stderr.text).toBe(
      'pave: error: PAVE_METRICS_HOST: "0.0.0.0" is the address of the metrics port, and no metrics port is ' +
        'set; add --metrics-port (or PAVE_METRICS_PORT), or unset PAVE_METRICS_HOST\n',
    );
  });
});
