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

describeRuntimeDriverContract('process', {
  driver: async () => ProcessRuntime.fromConfig({ dataDir, supervisorScript: await copySupervisor(dataDir) }),
  target: () => ({ app: 'contract', env: `env-${++environments}` }),
  workload: (name, greeting): RenderedWorkload => {
    const hostPort = nextPort++;
    return {
      name,
      deploymentId: '1',
      hash: createHash('sha256').update(`${name}:${greeting}:${hostPort}`).digest('hex'),
      ports: [{ name: 'web', port: 8080, targetPort: 8080, protocol: 'TCP', hostPort }],
      containers: [
        {
          name: 'main',
          image: 'node:20',
          command: [
            process.execPath,
            '-e',
            "require('node:http').createServer((q, s) => s.end(process.env.GREETING)).listen(Number(process.env.PORT), '127.0.0.1', () => console.log('listening'))",
          ],
          env: { GREETING: greeting },
          files: [],
          workingDir: dataDir,
          readinessProbe: { httpGet: { port: hostPort, path: '/' } },
        },
      ],
    };
  },
  cleanup: async () => rmSync(dataDir, { recursive: true, force: true }),
});
