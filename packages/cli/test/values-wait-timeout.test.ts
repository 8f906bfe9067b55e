import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { DeploymentDetail, ValuesChanged } from '@pave/core';
import { runCli } from '../src/program.ts';
import { cliArgs, deployment, deploymentDetail, fakeIo, fakeServer, temporaryDir } from './helpers.ts';

/** The redeploy of shop/prod, awaiting approval: production needs someone else to approve it. */
const awaiting = (): DeploymentDetail =>
  deploymentDetail({
    envId: 'prod',
    status: 'awaiting-approval',
    startedAt: null,
    setId: null,
    workloads: null,
  });

const changed: ValuesChanged = {
  changes: [{ key: 'G', action: 'added', secret: false, from: null, to: 'x' }],
  versions: [{ envId: 'prod', version: 4 }],
};

/**
 * A server on which shop/prod runs deployment 12 and every redeploy awaits approval: the values commands
 * change values, the redeploy is queued as deployment 17 and stays awaiting approval.
 */
function approvalServer() {
  return fakeServer((request) => {
    if (request.url.endsWith('/status')) {
      return {
        status: 200,
        body: {
          appId: 'shop',
          envId: 'prod',
          currentDeployment: deployment({ id: '12', envId: 'prod', status: 'succeeded' }),
          pendingDeployment: null,
          latestDeployment: null,
          target: { id: 'local', reachable: true },
          workloads: [],
        },
      };
    }
    if (request.method === 'POST' && request.url.endsWith('/deployments')) {
      const {
        journal: _journal,
        workloads: _workloads,
        workloadArtifacts: _artifacts,
        ...queued
      } = awaiting();
      return { status: 202, body: queued };
    }
    if (request.method === 'GET' && request.url.includes('/deployments/'))
      return { status: 200, body: awaiting() };
    return { status: 200, body: changed };
  });
}

const env = ['--app', 'shop', '--env', 'prod'];

/**
 * `pave values set|unset|import|rollback --deploy --wait` waited forever for a redeploy awaiting approval, and
 * refused `--wait-timeout` ("unknown option"), which deploy, rollback and promote have.
 */
describe('pave values … --deploy --wait --wait-timeout', () => {
  const dotenv = () => {
    const file = join(temporaryDir(), 'prod.env');
    writeFileSync(file, 'G=x\n');
    return file;
  };
  const commands: Array<[string, () => string[]]> = [
    ['set', () => ['values', 'set', 'G=x']],
    ['unset', () => ['values', 'unset', 'G']],
    ['import', () => ['values', 'import', dotenv()]],
    ['rollback', () => ['values', 'rollback', '3']],
  ];

  it.each(commands)(
    '`values %s` stops waiting for a redeploy awaiting approval after --wait-timeout, exit code 4',
    async (_name, command) => {
      const server = await approvalServer();
      const io = fakeIo();
      const args = [...command(), ...env, '--deploy', '--wait', '--wait-timeout', '1s'];
      expect(await runCli(cliArgs(server.url, ...args), io), io.stderr.text).toBe(4);
      expect(io.stderr.text).toContain('waiting for approval 17');
      expect(io.stderr.text).toContain('stopped waiting for deployment 17');
      expect(io.stderr.text).toContain('(--wait-timeout); it is left as it is');
      expect(
        server.requests.filter((r) => r.method === 'POST' && r.url.endsWith('/deployments')),
      ).toHaveLength(1);
    },
  );

  it('with -o json prints the values and the deployment still awaiting approval, then exits 4', async () => {
    const server = await approvalServer();
    const io = fakeIo();
    const args = ['values', 'set', 'G=x', ...env, '--deploy', '--wait', '--wait-timeout', '1s', '-o', 'json'];
    expect(await runCli(cliArgs(server.url, ...args), io)).toBe(4);
    expect(JSON.parse(io.stdout.text)).toMatchObject({
      values: { versions: [{ envId: 'prod', version: 4 }] },
      deployment: { id: '17', status: 'awaiting-approval' },
    });
  });

  it('refuses --wait-timeout without --deploy, or without --wait, before anything is sent', async () => {
    const server = await approvalServer();
    const withoutDeploy = fakeIo();
    expect(
      await runCli(
        cliArgs(server.url, 'values', 'set', 'G=x', ...env, '--wait-timeout', '1s'),
        withoutDeploy,
      ),
    ).toBe(2);
    expect(withoutDeploy.stderr.text).toMatch(/^pave: error: --wait-timeout goes with --deploy/);
    const withoutWait = fakeIo();
    const args = ['values', 'set', 'G=x', ...env, '--deploy', '--wait-timeout', '1s'];
    expect(await runCli(cliArgs(server.url, ...args), withoutWait)).toBe(2);
    expect(withoutWait.stderr.text).toMatch(/^pave: error: --wait-timeout goes with --wait/);
    const malformed = fakeIo();
    const bad = ['values', 'set', 'G=x', ...env, '--deploy', '--wait', '--wait-timeout', 'soon'];
    expect(await runCli(cliArgs(server.url, ...bad), malformed)).toBe(2);
    expect(malformed.stderr.text).toMatch(/^pave: error: --wait-timeout: "soon"/);
    expect(server.requests).toEqual([]);
  });
});
