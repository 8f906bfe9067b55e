import { describe, expect, it } from 'vitest';
import type { AppStatus, Deployment, EnvironmentStatus } from '@pave/core';
import { renderAppStatus, renderStatus } from '../src/commands/status.ts';
import { colorsFor } from '../src/output/colors.ts';
import { capture, deployment as sharedDeployment } from './helpers.ts';

const plain = colorsFor(capture(true), { NO_COLOR: '1' });

function deployment(fields: Partial<Deployment> = {}): Deployment {
  return sharedDeployment({
    setId: '0123456789abcdef0123',
    actor: 'alice',
    status: 'succeeded',
    finishedAt: '2025-01-31T09:30:05.250Z',
    ...fields,
  });
}

const dev: EnvironmentStatus = {
  appId: 'shop',
  envId: 'dev',
  currentDeployment: deployment(),
  pendingDeployment: null,
  latestDeployment: deployment({ id: '18', status: 'failed', rolledBack: true }),
  health: 'degraded',
  healthDetail: 'api: crash-looping (5 restarts)',
  target: { id: 'local', reachable: true },
  workloads: [
    {
      workload: 'api',
      state: 'crash-looping',
      restarts: 5,
      deploymentId: '17',
      ports: [{ name: 'web', port: 8080, hostPort: 41001 }],
      urls: ['http://127.0.0.1:41001'],
      routes: ['http://api.dev.shop.localhost:7300/'],
      health: 'degraded',
      healthDetail: 'api: crash-looping (5 restarts)',
    },
  ],
};

describe('pave status: sync and health', () => {
  it("says the latest deployment's result (the sync) apart from the health, and lists routes first", () => {
    const lines = renderStatus(dev, plain).split('\n');
    expect(lines[0]).toBe('shop/dev: current deployment 17 (deploy, succeeded)');
    expect(lines[1]).toBe(
      'sync: failed (deployment 18, rolled back); health: degraded (api: crash-looping (5 restarts))',
    );
    expect(lines[3]).toMatch(/^WORKLOAD\s+STATE\s+HEALTH\s+RESTARTS/);
    expect(lines[4]).toMatch(
      /^api\s+crash-looping\s+degraded\s+5\s+web:41001\s+http:\/\/api\.dev\.shop\.localhost:7300\/ http:\/\/127\.0\.0\.1:41001\s+17$/,
    );
  });

  it('lists every environment of an app with its type, health, current deployment, sync and reason', () => {
    const status: AppStatus = {
      appId: 'shop',
      health: 'degraded',
      environments: [
        { ...dev, type: 'development', restricted: false },
        {
          appId: 'shop',
          envId: 'prod',
          type: 'production',
          restricted: true,
          currentDeployment: null,
          pendingDeployment: null,
          latestDeployment: null,
          health: 'unknown',
          healthDetail: 'nothing deployed yet',
          target: { id: 'local', reachable: true },
          workloads: [],
        },
      ],
    };
    const lines = renderAppStatus(status, plain).split('\n');
    expect(lines[0]).toBe('shop: health: degraded');
    expect(lines[2]).toMatch(
      /^ENVIRONMENT\s+TYPE\s+HEALTH\s+CURRENT DEPLOYMENT\s+SYNC\s+READY\s+URLS\s+DETAIL$/,
    );
    expect(lines[3]).toMatch(
      /^dev\s+development\s+degraded\s+17 \(deploy, succeeded\)\s+failed \(18, rolled back\)\s+0\/1\s+http:\/\/api\.dev\.shop\.localhost:7300\/ http:\/\/127\.0\.0\.1:41001\s+api: crash-looping \(5 restarts\)$/,
    );
    expect(lines[4]).toMatch(
      /^prod\s+production \(restricted\)\s+unknown\s+-\s+-\s+0\/0\s+-\s+nothing deployed yet$/,
    );
  });

  it('shows an environment whose first deployment failed as unknown, not healthy, saying nothing is deployed', () => {
    const fresh: EnvironmentStatus = {
      appId: 'orders',
      envId: 'dev',
      currentDeployment: null,
      pendingDeployment: null,
      latestDeployment: deployment({ id: '3', status: 'failed' }),
      health: 'unknown',
      healthDetail: 'nothing deployed yet',
      target: { id: 'local', reachable: true },
      workloads: [],
    };
    const lines = renderStatus(fresh, plain).split('\n');
    expect(lines.slice(0, 2)).toEqual([
      'orders/dev: nothing deployed yet',
      'sync: failed (deployment 3); health: unknown (nothing deployed yet)',
    ]);
  });
});
