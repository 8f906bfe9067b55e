import { chmodSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A fresh temporary directory to deploy an app's Score files from. mkdtemp makes it 0700, which the
 * unprivileged workload user (Pave running as root isolates workloads) could not read: like a checkout, it
 * is made 0755.
 */
export function makeAppDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(dir, 0o755);
  return dir;
}

/** One workload whose route takes its host from its dns resource, both provided by the embedded defaults. */
export const EDGE_SCORE = [
  'apiVersion: score.dev/v1b1',
  'metadata:',
  '  name: edge',
  'containers:',
  '  main:',
  '    image: node:20',
  "    command: ['node', '-e', 'setInterval(() => {}, 1000)']",
  'resources:',
  '  dns:',
  '    type: dns',
  '  route:',
  '    type: route',
  '    params:',
  '      host: ${resources.dns.host}',
  '      path: /',
  '      port: 8080',
  '',
].join('\n');
