import { describe, expect, it } from 'vitest';
import { DockerRuntime } from '../src/index.ts';

// check() contacts no engine: these run without Podman.
const runtime = DockerRuntime.fromConfig({ socketPath: '/nonexistent/docker.sock', dataDir: '/nonexistent' });

describe('DockerRuntime.check', () => {
  it('refuses the `.` image when a deployment is planned, saying to build an image or use the process runtime', () => {
    const failures = runtime.check({
      containers: [
        { name: 'web', image: '.' },
        { name: 'api', image: 'registry.example.com/shop/api:1.2' },
        { name: 'worker', image: ' ' },
      ],
    });

    expect(failures).toEqual([
      {
        property: 'containers.web.image',
        reason:
          'container "web" has the image ".", which stands for an image built from the Score file\'s ' +
          'directory, and the docker runtime builds no images: build one (e.g. `podman build -t web:dev .` ' +
          'or `docker build -t web:dev .`) and deploy it with `pave deploy --image web:dev`, or deploy to a ' +
          'process target, which runs the container\'s "command" on the host',
      },
      {
        property: 'containers.worker.image',
        reason: 'container "worker" names no image: set its "image" in the Score file',
      },
    ]);
  });

  it('accepts a workload whose containers all name an image, with or without a command', () => {
    expect(
      runtime.check({
        containers: [
          { name: 'main', image: 'nginx:1.27' },
          { name: 'sidecar', image: 'busybox', command: ['/bin/sh', '-c', 'sleep 1'] },
        ],
      }),
    ).toEqual([]);
  });
});
