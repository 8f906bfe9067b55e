import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeRuntimeDriverContract } from '@pave/plugin-api/testing';
import type { RenderedWorkload } from '@pave/plugin-api';
import { ProcessRuntime } from '../src/index.ts';
import { copySupervisor } from './support.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'pave-process-contract-'));
let nextPort = 21_000 + (process.pid % 5_000);
let environments = 0;

/**
 * A workload of one container running `node -e script` (or `command`) with `GREETING` in its environment,
 * and a readiness probe GET / on a new host port.
 */
function nodeWorkload(
  name: string,
  options: { script?: string; command?: string[]; greeting?: string },
): RenderedWorkload {
  const hostPort = nextPort++;
  const command = options.command ?? [process.execPath, '-e', options.script ?? ''];
  return {
    name,
    deploymentId: '1',
    hash: createHash('sha256')
      .update(JSON.stringify([name, command, options.greeting, hostPort]))
      .digest('hex'),
    ports: [{ name: 'web', port: 8080, targetPort: 8080, protocol: 'TCP', hostPort }],
    containers: [
      {
        name: 'main',
        image: 'node:20',
        command,
        env: options.greeting === undefined ? {} : { GREETING: options.greeting },
        files: [],
        workingDir: dataDir,
        readinessProbe: { httpGet: { port: hostPort, path: '/' } },
      },
    ],
  };
}

describeRuntimeDriverContract('process', {
  driver: async () => ProcessRuntime.fromConfig({ dataDir, supervisorScript: await copySupervisor(dataDir) }),
  target: () => ({ app: 'contract', env: `env-${++environments}` }),
  workload: (name, greeting) =>
    nodeWorkload(name, {
      greeting,
      script:
        "require('node:http').createServer((q, s) => s.end(process.env.GREETING)).listen(Number(process.env.PORT), '127.0.0.1', () => console.log('listening'))",
    }),
  unstartable: (name) => nodeWorkload(name, { command: [join(dataDir, 'no-such-command')] }),
  crashing: (name) => nodeWorkload(name, { script: "console.error('something broke'); process.exit(3)" }),
  neverReady: (name) => nodeWorkload(name, { script: 'setInterval(() => {}, 1000)' }),
  cleanup: async () => rmSync(dataDir, { recursive: true, force: true }),
});
