import fc from 'fast-check';
import { isDnsLabel } from '@pave/core';
import type { RenderedWorkload } from '@pave/plugin-api';
import { describe, expect, it } from 'vitest';
import { containerSpec, persistableProbe } from '../src/container-spec.ts';
import { joinedDnsLabel } from '@pave/plugin-api';
import { containerName, networkName } from '../src/names.ts';
import { parseMemory, parseNanoCpus } from '../src/quantities.ts';
import { assertValid } from '../src/validation.ts';
import { port } from './support.ts';

const target = { app: 'shop', env: 'prod' };

const rendered = (): RenderedWorkload => ({
  name: 'api',
  hash: 'abc',
  deploymentId: 'd1',
  ports: [port('web', 8080, 20001), { ...port('dns', 53, 20002), protocol: 'UDP' }],
  containers: [
    {
      name: 'main',
      image: 'localhost/api:1',
      command: ['/app/serve.sh'],
      env: { PORT: '8080', GREETING: 'hi' },
      files: [],
      workingDir: '/src',
      volumes: [{ source: '/data/vol', target: '/var/data', readOnly: true }],
      resources: { limits: { memory: '128Mi', cpu: '500m' }, requests: { memory: '64Mi', cpu: '250m' } },
      readinessProbe: { httpGet: { port: 20001, path: '/healthz' } },
    },
  ],
});

describe('naming containers and networks', () => {
  it('joins short names and keeps every name a distinct DNS label', () => {
    expect(containerName(target, 'api', 'main')).toBe('pave-shop-prod-api-main');
    expect(networkName(target)).toBe('pave-shop-prod');
    const label = fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/);
    fc.assert(
      fc.property(
        fc.array(label, { minLength: 1, maxLength: 5 }),
        fc.array(label, { minLength: 1, maxLength: 5 }),
        (a, b) => {
          expect(isDnsLabel(joinedDnsLabel(a))).toBe(true);
          if (a.join('-') !== b.join('-')) expect(joinedDnsLabel(a)).not.toBe(joinedDnsLabel(b));
        },
      ),
    );
  });
});

describe('resource quantities', () => {
  it('reads memory and CPU the way Score (Kubernetes) writes them', () => {
    expect(parseMemory('128Mi')).toBe(128 * 1024 * 1024);
    expect(parseMemory('1G')).toBe(1e9);
    expect(parseMemory('1.5Gi')).toBe(1.5 * 2 ** 30);
    expect(parseMemory('1e6')).toBe(1e6);
    expect(parseMemory('64')).toBe(64);
    expect(parseNanoCpus('500m')).toBe(5e8);
    expect(parseNanoCpus('2')).toBe(2e9);
    expect(parseNanoCpus('0.25')).toBe(2.5e8);
    for (const bad of ['', '12Q', '-1Mi', '0', 'lots']) expect(parseMemory(bad)).toBeNull();
    for (const bad of ['', '1.5k', '-1', '0m']) expect(parseNanoCpus(bad)).toBeNull();
  });
});

describe('the create-container body', () => {
  it('maps command, args, env, mounts, limits, labels, network alias and ports', () => {
    const workload = rendered();
    const spec = containerSpec({
      target,
      workload,
      container: workload.containers[0]!,
      name: 'pave-shop-prod-api-main',
      network: 'pave-shop-prod',
      joins: null,
      files: [{ source: '/data/files/etc/app.conf', target: '/etc/app.conf' }],
    });
    expect(spec).toMatchObject({
      name: 'pave-shop-prod-api-main',
      Image: 'localhost/api:1',
      Entrypoint: ['/app/serve.sh'],
      Cmd: [],
      Env: ['GREETING=hi', 'PORT=8080'],
      Labels: {
        'dev.pave.app': 'shop',
        'dev.pave.env': 'prod',
        'dev.pave.workload': 'api',
        'dev.pave.container': 'main',
        'dev.pave.deployment': 'd1',
        'dev.pave.hash': 'abc',
      },
      ExposedPorts: { '8080/tcp': {}, '53/udp': {} },
      HostConfig: {
        RestartPolicy: { Name: 'unless-stopped' },
        NetworkMode: 'pave-shop-prod',
        Memory: 128 * 1024 * 1024,
        NanoCpus: 5e8,
        MemoryReservation: 64 * 1024 * 1024,
        CpuShares: 256,
        PortBindings: {
          '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: '20001' }],
          '53/udp': [{ HostIp: '127.0.0.1', HostPort: '20002' }],
        },
        Mounts: [
          { Type: 'bind', Source: '/data/files/etc/app.conf', Target: '/etc/app.conf', ReadOnly: true },
          { Type: 'bind', Source: '/data/vol', Target: '/var/data', ReadOnly: true },
        ],
      },
      NetworkingConfig: { EndpointsConfig: { 'pave-shop-prod': { Aliases: ['api'] } } },
    });
  });

  it('puts the other containers of a workload into the first one’s network namespace, without ports', () => {
    const workload = rendered();
    const spec = containerSpec({
      target,
      workload,
      container: { ...workload.containers[0]!, name: 'sidecar', command: undefined, args: ['--verbose'] },
      name: 'pave-shop-prod-api-sidecar',
      network: 'pave-shop-prod',
      joins: 'ownerid',
      files: [],
    });
    expect(spec.HostConfig?.NetworkMode).toBe('container:ownerid');
    expect(spec.HostConfig?.PortBindings).toBeUndefined();
    expect(spec.NetworkingConfig).toBeUndefined();
    expect(spec.Entrypoint).toBeUndefined();
    expect(spec.Cmd).toEqual(['--verbose']);
  });

  it('keeps probe headers, which may be credentials, out of labels', () => {
    const httpGet = { port: 1, path: '/', httpHeaders: [{ name: 'Authorization', value: 'Bearer x' }] };
    expect(persistableProbe({ httpGet })).toBeNull();
    expect(persistableProbe({ httpGet: { port: 1, path: '/' } })).toEqual({
      httpGet: { port: 1, path: '/' },
    });
    expect(persistableProbe({ exec: { command: ['true'] } })).toEqual({ exec: { command: ['true'] } });
  });
});

describe('what the docker runtime refuses', () => {
  it('refuses a path inside a volume: a symbolic link in the volume could point it anywhere on the host', () => {
    const workload = rendered();
    workload.containers[0] = {
      ...workload.containers[0]!,
      volumes: [{ source: '/data/vol', path: 'escape', target: '/host' }],
    };
    expect(() => assertValid({ app: 'shop', env: 'prod' }, workload)).toThrow(
      expect.objectContaining({
        errors: [
          {
            path: 'containers.main.volumes[0].path',
            message:
              'the docker runtime mounts a volume whole, not a path inside it ("escape"): a workload could point ' +
              'that path anywhere on the host with a symbolic link; leave `path` out and use the directory inside ' +
              'the mounted volume',
          },
        ],
      }),
    );
  });

  it('lists every problem at once, with where it is', () => {
    const workload = rendered();
    workload.containers[0] = {
      ...workload.containers[0]!,
      image: '.',
      files: [{ target: '/etc/', content: '', mode: '999' }],
      volumes: [{ source: 'relative', target: 'also-relative', path: '../up' }],
      resources: { limits: { memory: 'lots', cpu: 'many' } },
    };
    let error: unknown;
    try {
      assertValid({ app: 'Shop', env: 'prod' }, workload);
    } catch (caught) {
      error = caught;
    }
    expect(error).toMatchObject({ name: 'InputError' });
    expect((error as { errors: Array<{ path: string }> }).errors.map((problem) => problem.path)).toEqual([
      'app',
      'containers.main.image',
      'containers.main.files[0].target',
      'containers.main.files[0].mode',
      'containers.main.volumes[0].source',
      'containers.main.volumes[0].target',
      'containers.main.volumes[0].path',
      'containers.main.resources.limits.memory',
      'containers.main.resources.limits.cpu',
    ]);
    // The message itself carries every reason, for callers that show only the message.
    const { message, errors } = error as { message: string; errors: Array<{ message: string }> };
    expect(message).toBe(
      `the docker runtime cannot run workload "api": ${errors.map((problem) => problem.message).join('; ')}`,
    );
    expect(message).toContain('deploy it with `pave deploy --image web:dev`');
  });
});
