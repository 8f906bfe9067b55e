import { createServer, type Server } from 'node:http';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestStoreLocation, type TestStoreLocation } from '../support/stores.ts';
import { clientEnv, runPave, shortenStabilityWindow, startPave, type PaveProcess } from '../support/pave.ts';
import { makeAppDir } from '../support/app-dir.ts';

/** A span as OTLP/HTTP JSON carries it (the fields this test reads). */
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes?: Array<{ key: string; value: { stringValue?: string; intValue?: string | number } }>;
}

/** The string attributes of a span, by key. */
const attributesOf = (span: OtlpSpan): Record<string, string> =>
  Object.fromEntries(
    (span.attributes ?? []).map((a) => [a.key, String(a.value.stringValue ?? a.value.intValue ?? '')]),
  );

const SECRET = `secret-canary-${Math.random().toString(36).slice(2)}`;
const PLAIN = `plain-canary-${Math.random().toString(36).slice(2)}`;

describe('traces of a deployment, exported with OTLP/HTTP by pave up', () => {
  let location: TestStoreLocation;
  let server: PaveProcess;
  let receiver: Server;
  let appDir: string;
  /** Every request body the receiver got, as sent. */
  const bodies: string[] = [];
  const pave = (...args: string[]) => runPave(args, clientEnv(server.url, location.dataDir));
  const spans = (): OtlpSpan[] =>
    bodies.flatMap(
      (body) =>
        (
          JSON.parse(body) as {
            resourceSpans?: Array<{ scopeSpans?: Array<{ spans?: OtlpSpan[] }> }>;
          }
        ).resourceSpans?.flatMap((r) => r.scopeSpans?.flatMap((s) => s.spans ?? []) ?? []) ?? [],
    );

  beforeAll(async () => {
    // The collector: accepts OTLP/HTTP JSON at POST /v1/traces and keeps what it is sent.
    receiver = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        if (request.method === 'POST' && request.url === '/v1/traces') {
          bodies.push(Buffer.concat(chunks).toString('utf8'));
          response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
        } else {
          response.writeHead(404).end();
        }
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const address = receiver.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    location = await createTestStoreLocation('sqlite');
    server = await startPave(['--data-dir', location.dataDir], {
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
      OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json',
      OTEL_SERVICE_NAME: 'pave-under-test',
    });
    await shortenStabilityWindow(server.url, location.dataDir);
    appDir = makeAppDir('pave-traces-');
    expect((await pave('apps', 'create', 'shop')).code).toBe(0);
    expect((await pave('envs', 'create', 'dev', '--app', 'shop', '--type', 'development')).code).toBe(0);
    expect((await pave('values', 'set', `TOKEN=${SECRET}`, '--app', 'shop', '--secret')).code).toBe(0);
    expect((await pave('values', 'set', `MODE=${PLAIN}`, '--app', 'shop')).code).toBe(0);
  }, 60_000);
  afterAll(async () => {
    if (server) await pave('apps', 'delete', 'shop', '--force');
    await server?.stop();
    await location?.cleanup();
    await new Promise((resolve) => receiver?.close(resolve));
    if (appDir) rmSync(appDir, { recursive: true, force: true });
  });

  it('exports a root deployment span, a child per phase, and driver calls under their phase, without values', async () => {
    const file = join(appDir, 'api.score.yaml');
    writeFileSync(
      file,
      [
        'apiVersion: score.dev/v1b1',
        'metadata:',
        '  name: api',
        'containers:',
        '  main:',
        '    image: node:20',
        "    command: ['node', '-e', 'setInterval(() => {}, 1000)']",
        '    variables:',
        '      TOKEN: ${resources.env.TOKEN}',
        '      MODE: ${resources.env.MODE}',
        'resources:',
        '  env:',
        '    type: environment',
        '  host:',
        '    type: dns',
        '',
      ].join('\n'),
    );
    const result = await pave('deploy', '-f', file, '--app', 'shop', '--env', 'dev', '--wait');
    expect(result.code, result.stderr + result.stdout).toBe(0);

    // The batch exporter sends every second; wait (bounded) for the deployment's root span.
    let root: OtlpSpan | undefined;
    for (let attempt = 0; attempt < 60 && !root; attempt++) {
      root = spans().find((span) => span.name === 'deployment' && attributesOf(span)['pave.outcome']);
      if (!root) await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect(
      root,
      `spans received: ${spans()
        .map((s) => s.name)
        .join(', ')}`,
    ).toBeDefined();
    expect(root!.parentSpanId || undefined).toBeUndefined();
    expect(attributesOf(root!)).toMatchObject({
      'pave.app': 'shop',
      'pave.env': 'dev',
      'pave.deployment.id': '1',
      'pave.deployment.kind': 'deploy',
      'pave.outcome': 'succeeded',
    });
    // Child spans may arrive in a later batch than the root.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const trace = spans().filter((span) => span.traceId === root!.traceId);
    const byId = new Map(trace.map((span) => [span.spanId, span]));
    const phases = trace.filter((span) => span.parentSpanId === root!.spanId);
    expect(phases.map((span) => span.name)).toEqual(
      expect.arrayContaining([
        'phase plan',
        'phase provision',
        'phase render',
        'phase start',
        'phase wait ready',
        'phase prune',
      ]),
    );
    for (const phase of phases) {
      expect(attributesOf(phase)).toMatchObject({ 'pave.app': 'shop', 'pave.env': 'dev' });
      expect(attributesOf(phase)['pave.phase']).toBe(phase.name.slice('phase '.length));
    }
    const parentOf = (span: OtlpSpan) => byId.get(span.parentSpanId ?? '')?.name;
    const create = trace.find((span) => span.name === 'resource create');
    expect(create, trace.map((s) => s.name).join(', ')).toBeDefined();
    expect(parentOf(create!)).toBe('phase provision');
    expect(attributesOf(create!)).toMatchObject({
      'pave.driver': 'dns-localhost',
      'pave.resource.type': 'dns',
      'pave.app': 'shop',
    });
    const deploy = trace.find((span) => span.name === 'runtime deploy');
    expect(deploy).toBeDefined();
    expect(parentOf(deploy!)).toBe('phase start');
    expect(attributesOf(deploy!)).toMatchObject({ 'pave.driver': 'process', 'pave.workload': 'api' });

    // API requests are traced by route pattern.
    expect(spans().some((span) => span.name === 'POST /api/v1/apps/:app/envs/:env/deployments')).toBe(true);
    // The canary: no value reaches any exported span.
    const everything = bodies.join('\n');
    expect(everything).toContain('pave-under-test');
    expect(everything).not.toContain(SECRET);
    expect(everything).not.toContain(PLAIN);
  });
});
