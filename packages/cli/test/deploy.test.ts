import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { deploymentBody, inlineFileSources, loadScoreFiles, setDotImages } from '../src/commands/deploy.ts';
import { runCli } from '../src/program.ts';
import { cliArgs, deploymentDetail, fakeIo, fakeServer, temporaryDir } from './helpers.ts';

const WEB = `apiVersion: score.dev/v1b1
metadata:
  name: web
containers:
  main:
    image: nginx:1.27
`;

/** One plain value as `GET .../values` lists it. */
function valueItem(key: string) {
  return {
    key,
    value: 'x',
    secret: false,
    source: 'app',
    updatedBy: 'admin',
    updatedAt: '2025-01-31T09:30:00.000Z',
  };
}

function scoreWithFiles(files: string): string {
  return `${WEB}    files:\n${files}`;
}

/** A project directory holding `files` (path -> text or bytes). */
function project(files: Record<string, string | Uint8Array>): string {
  const dir = temporaryDir();
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  return dir;
}

describe('pave deploy: files mounted with `source`', () => {
  it('sends a UTF-8 source file as `content`, byte for byte, keeping the file’s other fields', async () => {
    const text = '\uFEFFgreeting=héllo ${metadata.name}\n';
    const dir = project({
      'svc/score.yaml': scoreWithFiles(
        '      /etc/app.conf:\n        source: ./conf/app.conf\n        mode: "0600"\n        noExpand: true\n',
      ),
      'svc/conf/app.conf': text,
    });
    const { workloads, problems } = await loadScoreFiles(['svc/score.yaml'], dir);
    expect(problems).toEqual([]);
    expect(workloads).toHaveLength(1);
    expect(workloads[0]?.dir).toBe(join(dir, 'svc'));
    // Named in its directory, not as typed: the set is the same however the path was typed.
    expect(workloads[0]?.file).toBe('score.yaml');
    expect(workloads[0]?.spec.containers.main?.files).toEqual({
      '/etc/app.conf': { content: text, mode: '0600', noExpand: true },
    });
  });

  it('sends a source file that is not valid UTF-8 as base64 `binaryContent`', async () => {
    const bytes = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0xff, 0xfe, 0x00, 0x01]);
    const dir = project({
      'score.yaml': scoreWithFiles('      /srv/logo.png:\n        source: logo.png\n'),
      'logo.png': bytes,
    });
    const { workloads } = await loadScoreFiles(['score.yaml'], dir);
    const file = (workloads[0]?.spec.containers.main?.files as Record<string, object>)['/srv/logo.png'];
    expect(file).toEqual({ binaryContent: Buffer.from(bytes).toString('base64') });
  });

  it('inlines the deprecated list form of `files` too, and leaves inline content alone', async () => {
    const dir = project({ 'a.txt': 'A' });
    const { parseScore } = await import('@pave/core');
    const text = scoreWithFiles(
      '      - target: /a\n        source: a.txt\n      - target: /b\n        content: B\n',
    );
    const { workload } = parseScore(text, 'score.yaml');
    const result = await inlineFileSources(workload!, 'score.yaml', text, dir);
    expect(result.problems).toEqual([]);
    expect(result.spec.containers.main?.files).toEqual([
      { target: '/a', content: 'A' },
      { target: '/b', content: 'B' },
    ]);
    // The parsed spec itself is not changed.
    expect(workload!.containers.main?.files).toEqual([
      { target: '/a', source: 'a.txt' },
      { target: '/b', content: 'B' },
    ]);
  });

  it('reports every missing source file at its line and column, with the path in the spec', async () => {
    const dir = project({
      'svc/score.yaml': scoreWithFiles(
        '      /etc/a.conf:\n        source: missing-a.conf\n      /etc/b.conf:\n        source: ../missing-b.conf\n',
      ),
    });
    const { problems } = await loadScoreFiles(['svc/score.yaml'], dir);
    expect(problems).toEqual([
      `svc/score.yaml:9:17: containers.main.files["/etc/a.conf"].source: cannot read "missing-a.conf": ` +
        `no such file (${join(dir, 'svc/missing-a.conf')})`,
      `svc/score.yaml:11:17: containers.main.files["/etc/b.conf"].source: cannot read "../missing-b.conf": ` +
        `no such file (${join(dir, 'missing-b.conf')})`,
    ]);
  });
});

describe('pave deploy: local validation', () => {
  it('reports the problems of every file as file:line:column: path: message', async () => {
    const dir = project({
      'web.yaml': WEB.replace('image: nginx:1.27', 'imag: nginx'),
      'api.yaml': WEB.replace('name: web', 'name: API'),
    });
    const { workloads, problems } = await loadScoreFiles(['web.yaml', 'api.yaml'], dir);
    expect(workloads).toEqual([]);
    expect(
      problems.some((line) =>
        /^web\.yaml:\d+:\d+: containers\.main: missing required key "image"/.test(line),
      ),
    ).toBe(true);
    expect(problems.some((line) => /^api\.yaml:3:9: metadata\.name: /.test(line))).toBe(true);
  });

  it('refuses two files that define the same workload', async () => {
    const dir = project({ 'a.yaml': WEB, 'b.yaml': WEB });
    const { problems } = await loadScoreFiles(['a.yaml', 'b.yaml'], dir);
    expect(problems).toEqual(['b.yaml: workload "web" is also defined by a.yaml; deploy each workload once']);
  });

  it('refuses a broken Score file before contacting the server, exit code 1', async () => {
    const dir = project({
      'score.yaml': WEB.replace('image: nginx:1.27', 'imag: nginx'),
      'ok.yaml': scoreWithFiles('      /x:\n        source: nowhere.txt\n').replace('name: web', 'name: ok'),
    });
    const io = fakeIo({ env: { NO_COLOR: '1' } });
    // Port 9 (discard) on localhost: nothing answers, so any request would fail with "cannot reach Pave".
    const code = await runCli(
      [
        'node',
        'pave',
        'deploy',
        '-f',
        join(dir, 'score.yaml'),
        join(dir, 'ok.yaml'),
        '--app',
        'shop',
        '--env',
        'dev',
        '--server',
        'http://127.0.0.1:9',
        '--token',
        'pave_test',
      ],
      io,
    );
    expect(code).toBe(1);
    expect(io.stderr.text).not.toContain('cannot reach');
    const lines = io.stderr.text.trimEnd().split('\n');
    expect(lines[0]).toMatch(/score\.yaml:5:3: containers\.main: missing required key "image"/);
    expect(lines).toContainEqual(
      expect.stringMatching(/ok\.yaml:9:17: containers\.main\.files\["\/x"\]\.source: cannot read/),
    );
    expect(lines.at(-1)).toMatch(
      /^pave: error: \d problems in the Score files; nothing was sent to the server$/,
    );
    expect(io.stdout.text).toBe('');
  });

  it('refuses a Score file that cannot be read as a usage error naming it', async () => {
    const io = fakeIo();
    const code = await runCli(
      ['node', 'pave', 'deploy', '-f', 'no/such/score.yaml', '--app', 'shop', '--env', 'dev', '--token', 't'],
      io,
    );
    expect(code).toBe(2);
    expect(io.stderr.text).toMatch(
      /^pave: error: cannot read the Score file no\/such\/score\.yaml: no such file/,
    );
  });

  it('asks for a Score file or --remove, and refuses --plan with --wait', async () => {
    const io = fakeIo();
    expect(await runCli(['node', 'pave', 'deploy', '--app', 'shop', '--env', 'dev'], io)).toBe(2);
    expect(io.stderr.text).toContain('give a Score file with -f FILE, or --remove WORKLOAD');
    const both = fakeIo();
    const args = ['deploy', '--remove', 'web', '--app', 'shop', '--env', 'dev', '--plan', '--wait'];
    expect(await runCli(['node', 'pave', ...args], both)).toBe(2);
    expect(both.stderr.text).toContain('--plan only shows what would change');
  });
});

describe('pave deploy: the request', () => {
  it('sends only the fields that were given, with autoRollback always explicit', () => {
    expect(deploymentBody([], { remove: ['worker'], autoRollback: true }, undefined)).toEqual({
      remove: ['worker'],
      autoRollback: true,
    });
    const workload = { spec: { apiVersion: 'score.dev/v1b1' }, dir: '/srv', file: 'score.yaml' } as never;
    expect(deploymentBody([workload], { message: 'm', plan: true, autoRollback: false }, 120)).toEqual({
      workloads: [workload],
      message: 'm',
      timeoutSeconds: 120,
      autoRollback: false,
      plan: true,
    });
  });

  it('sends prune and allowDataLoss only when their flags are given', () => {
    expect(deploymentBody([], { remove: ['worker'], autoRollback: true, prune: true }, undefined)).toEqual({
      remove: ['worker'],
      autoRollback: true,
      prune: true,
    });
    expect(
      deploymentBody(
        [],
        { remove: ['worker'], autoRollback: true, prune: true, allowDataLoss: true },
        undefined,
      ),
    ).toMatchObject({ prune: true, allowDataLoss: true });
  });

  it('sends --allow-data-loss on its own: it also allows replacing a stateful resource', () => {
    expect(
      deploymentBody([], { remove: ['worker'], autoRollback: true, allowDataLoss: true }, undefined),
    ).toEqual({ remove: ['worker'], autoRollback: true, allowDataLoss: true });
  });
});

describe('pave deploy -f -: the Score file from stdin', () => {
  const USES_VALUES = `${WEB}    variables:\n      GREETING: \${resources.env.GREETING}\nresources:\n  env:\n    type: environment\n`;

  it('reads the Score file from stdin, as `pave defs apply -f -` reads its file, and deploys it', async () => {
    const server = await fakeServer((request) =>
      request.url.endsWith('/values')
        ? { status: 200, body: { version: 1, revealed: false, items: [valueItem('GREETING')] } }
        : { status: 202, body: deploymentDetail({ status: 'queued' }) },
    );
    const io = fakeIo({ stdin: USES_VALUES });
    const code = await runCli(cliArgs(server.url, 'deploy', '-f', '-', '--app', 'shop', '--env', 'dev'), io);
    expect(code, io.stderr.text).toBe(0);
    const posted = server.requests.find((request) => request.method === 'POST');
    expect(posted?.body).toMatchObject({
      workloads: [{ spec: { metadata: { name: 'web' } }, dir: process.cwd(), file: '<stdin>' }],
    });
  });

  // Found by a newcomer's review: "1 placeholder name values that …", and a fix without --app/--env.
  it('says which values the environment lacks, with the whole command to set them, and deploys nothing', async () => {
    const server = await fakeServer((request) =>
      request.url.endsWith('/values')
        ? { status: 200, body: { version: 1, revealed: false, items: [] } }
        : { status: 202, body: deploymentDetail({ status: 'queued' }) },
    );
    const io = fakeIo({ stdin: USES_VALUES });
    const code = await runCli(cliArgs(server.url, 'deploy', '-f', '-', '--app', 'shop', '--env', 'dev'), io);
    expect(code).toBe(1);
    expect(io.stderr.text).toContain(
      'pave: error: 1 placeholder names a value that shop/dev does not have; nothing was deployed: set it with ' +
        '`pave values set KEY=… --app shop --env dev` (or without --env for every environment)',
    );
    expect(server.requests.some((request) => request.method === 'POST')).toBe(false);
  });

  it('names stdin as <stdin> in the problems of the Score file, and sends nothing', async () => {
    const server = await fakeServer(() => ({ status: 500, body: {} }));
    const io = fakeIo({ stdin: WEB.replace('image: nginx:1.27', 'image: 42') });
    const code = await runCli(cliArgs(server.url, 'deploy', '-f', '-', '--app', 'shop', '--env', 'dev'), io);
    expect(code).toBe(1);
    expect(io.stderr.text).toMatch(/^<stdin>:6:12: containers\.main\.image: /m);
    expect(server.requests).toEqual([]);
  });

  it('refuses stdin given twice: it can be read once', async () => {
    const io = fakeIo({ stdin: WEB });
    const args = ['deploy', '-f', '-', '-f', '-', '--app', 'shop', '--env', 'dev'];
    expect(await runCli(cliArgs('http://127.0.0.1:9', ...args), io)).toBe(2);
    expect(io.stderr.text).toBe(
      'pave: error: -f - is given 2 times; standard input can be read once: give it once, the other files by name\n',
    );
  });
});

describe('pave deploy --image', () => {
  const BUILT = `apiVersion: score.dev/v1b1
metadata:
  name: api
containers:
  main:
    image: .
  proxy:
    image: envoyproxy/envoy:v1.31
`;
  const WORKER = WEB.replace('name: web', 'name: worker').replace('image: nginx:1.27', 'image: .');
  const IMAGE = 'registry.example.com/shop/api:1f2e3d';

  // A stand-in server that answers every deployment request with a plan of no changes, for `--plan -o json`.
  const noChanges = { setId: null, label: 'the current set' };
  const planServer = () =>
    fakeServer(() => ({
      status: 200,
      body: {
        setId: 'a1b2c3d4e5f6a7b8',
        workloads: [],
        diff: { from: noChanges, to: noChanges, changes: [], values: [], unified: '' },
        resources: [],
      },
    }));
  const imagesSent = (body: unknown) =>
    (
      body as {
        workloads: { spec: { metadata: { name: string }; containers: Record<string, { image: string }> } }[];
      }
    ).workloads.map((workload) => [
      workload.spec.metadata.name,
      Object.fromEntries(Object.entries(workload.spec.containers).map(([name, c]) => [name, c.image])),
    ]);

  it('gives every container whose image is "." the image, in every file, and leaves the others', async () => {
    const dir = project({ 'api.yaml': BUILT, 'worker.yaml': WORKER, 'web.yaml': WEB });
    const server = await planServer();
    const files = ['-f', join(dir, 'api.yaml'), join(dir, 'worker.yaml'), join(dir, 'web.yaml')];
    const args = [
      'deploy',
      ...files,
      '--image',
      IMAGE,
      '--app',
      'shop',
      '--env',
      'dev',
      '--plan',
      '-o',
      'json',
    ];
    const io = fakeIo();
    expect(await runCli(cliArgs(server.url, ...args), io)).toBe(0);
    expect(server.requests.map((request) => `${request.method} ${request.url}`)).toEqual([
      'POST /api/v1/apps/shop/envs/dev/deployments',
    ]);
    expect(imagesSent(server.requests[0]?.body)).toEqual([
      ['api', { main: IMAGE, proxy: 'envoyproxy/envoy:v1.31' }],
      ['worker', { main: IMAGE }],
      ['web', { main: 'nginx:1.27' }],
    ]);
  });

  it('sends "." as it is without --image', async () => {
    const dir = project({ 'api.yaml': BUILT });
    const server = await planServer();
    const args = [
      'deploy',
      '-f',
      join(dir, 'api.yaml'),
      '--app',
      'shop',
      '--env',
      'dev',
      '--plan',
      '-o',
      'json',
    ];
    expect(await runCli(cliArgs(server.url, ...args), fakeIo())).toBe(0);
    expect(imagesSent(server.requests[0]?.body)).toEqual([
      ['api', { main: '.', proxy: 'envoyproxy/envoy:v1.31' }],
    ]);
  });

  it('refuses --image when no container has the image "." or no Score file is given, sending nothing', async () => {
    const dir = project({ 'web.yaml': WEB });
    const file = join(dir, 'web.yaml');
    const unused = fakeIo();
    const args = ['deploy', '-f', file, '--image', IMAGE, '--app', 'shop', '--env', 'dev'];
    expect(await runCli(cliArgs('http://127.0.0.1:9', ...args), unused)).toBe(2);
    expect(unused.stderr.text).toBe(
      `pave: error: --image replaces the image "." and no container in ${file} has it; ` +
        'write `image: .` for the container that runs the image you built\n',
    );
    const alone = fakeIo();
    const remove = ['deploy', '--remove', 'web', '--image', IMAGE, '--app', 'shop', '--env', 'dev'];
    expect(await runCli(cliArgs('http://127.0.0.1:9', ...remove), alone)).toBe(2);
    expect(alone.stderr.text).toContain('--image sets the image of containers in the Score files');
  });

  it('does not change the workloads it is given', () => {
    const spec = {
      apiVersion: 'score.dev/v1b1',
      metadata: { name: 'api' },
      containers: { main: { image: '.' } },
    };
    const workloads = [{ spec, dir: '/srv', file: 'score.yaml' }] as never[];
    const { workloads: built, replaced } = setDotImages(workloads, IMAGE);
    expect(replaced).toBe(1);
    expect((built[0] as unknown as { spec: typeof spec }).spec.containers.main.image).toBe(IMAGE);
    expect(spec.containers.main.image).toBe('.');
  });
});

describe('pave deploy --wait: where the routes serve the workloads', () => {
  const deployment = deploymentDetail({
    status: 'succeeded',
    finishedAt: '2025-01-31T09:30:02.000Z',
  });
  const ROUTE = 'http://web.dev.shop.localhost:7300/';
  const server = () =>
    fakeServer(({ method, url }) => {
      if (method === 'POST') return { status: 202, body: { ...deployment, status: 'queued' } };
      if (url.endsWith('/status')) {
        return {
          status: 200,
          body: {
            appId: 'shop',
            envId: 'dev',
            currentDeployment: deployment,
            pendingDeployment: null,
            health: 'healthy',
            target: { id: 'local', reachable: true },
            workloads: [
              {
                workload: 'web',
                state: 'ready',
                restarts: 0,
                deploymentId: '17',
                ports: [],
                urls: [],
                routes: [ROUTE],
              },
            ],
          },
        };
      }
      return { status: 200, body: deployment };
    });

  it('asks for them, and prints them, when a workload it deploys has a `route` resource', async () => {
    const dir = project({
      'web.yaml': `${WEB}resources:\n  web-route:\n    type: route\n    params: {host: web, path: /, port: 80}\n`,
    });
    const fake = await server();
    const io = fakeIo();
    const args = ['deploy', '-f', join(dir, 'web.yaml'), '--app', 'shop', '--env', 'dev', '--wait'];
    expect(await runCli(cliArgs(fake.url, ...args), io)).toBe(0);
    expect(fake.requests.filter((request) => request.url.endsWith('/status'))).toHaveLength(1);
    expect(io.stdout.text).toContain(`web is served at ${ROUTE}`);
  });

  it('does not make the user wait for them when no workload it deploys has one', async () => {
    const dir = project({ 'web.yaml': WEB });
    const fake = await server();
    const io = fakeIo();
    const args = ['deploy', '-f', join(dir, 'web.yaml'), '--app', 'shop', '--env', 'dev', '--wait'];
    expect(await runCli(cliArgs(fake.url, ...args), io)).toBe(0);
    expect(io.stdout.text).toContain('Deployment 17 succeeded');
    expect(fake.requests.map((request) => request.url).filter((url) => url.endsWith('/status'))).toEqual([]);
  });
});
