import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import type { Deployment, DeploymentDetail, RenderedTemplate, TemplateInstancePlan } from '@pave/core';
import type { CliIo } from '../src/io.ts';

/** A captured stream: everything written to it, and whether it claims to be a terminal. */
export interface CapturedStream {
  text: string;
  isTTY: boolean;
  write(text: string): boolean;
}

/** A stream double that records what is written to it. */
export function capture(isTTY = false): CapturedStream {
  return {
    text: '',
    isTTY,
    write(text: string) {
      this.text += text;
      return true;
    },
  };
}

/**
 * A CliIo with captured streams, the given environment and a temporary home directory; no real process state.
 * `stdinTTY` makes stdin a terminal whose person answers each question with the next of `answers` ('' once
 * they run out); the questions asked are recorded in `questions`.
 */
export function fakeIo(
  options: {
    env?: Record<string, string | undefined>;
    homeDir?: string;
    tty?: boolean;
    stdin?: string;
    stdinTTY?: boolean;
    answers?: string[];
  } = {},
): CliIo & { stdout: CapturedStream; stderr: CapturedStream; questions: string[] } {
  const answers = [...(options.answers ?? [])];
  const questions: string[] = [];
  return {
    stdout: capture(options.tty ?? false),
    stderr: capture(options.tty ?? false),
    env: options.env ?? {},
    homeDir: options.homeDir ?? temporaryDir(),
    readStdin: async () => options.stdin ?? '',
    stdinIsTTY: options.stdinTTY ?? false,
    questions,
    ask: async (question) => {
      questions.push(question);
      return answers.shift() ?? '';
    },
  };
}

const created: string[] = [];
afterEach(() => {
  for (const dir of created.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A fresh directory, removed after the test. */
export function temporaryDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pave-cli-test-'));
  created.push(dir);
  return dir;
}

/** One request a {@link fakeServer} received: method, URL (path and query) and parsed JSON body. */
export interface Recorded {
  method: string;
  url: string;
  body: unknown;
}

let stopServers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(stopServers.map((stop) => stop()));
  stopServers = [];
});

/**
 * A stand-in for the Pave server, stopped after the test: it records every request and answers each with
 * what `answer` returns (as JSON; a 204 has no body).
 */
export async function fakeServer(
  answer: (request: Recorded) => { status: number; body?: unknown },
): Promise<{ url: string; requests: Recorded[] }> {
  const requests: Recorded[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let text = '';
    req.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
    req.on('end', () => {
      const recorded = {
        method: req.method ?? '',
        url: req.url ?? '',
        body: text ? JSON.parse(text) : undefined,
      };
      requests.push(recorded);
      const { status, body } = answer(recorded);
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(status === 204 ? undefined : JSON.stringify(body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  stopServers.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests };
}

/** `pave ARGS` as runCli wants it, pointed at `server` with a test token. */
export function cliArgs(server: string, ...args: string[]): string[] {
  return ['node', 'pave', ...args, '--server', server, '--token', 'pave_test'];
}

/** A fake server's answer for an app that does not exist (problem+json 404). */
export const NO_APP = {
  status: 404,
  body: {
    type: 'about:blank',
    title: 'Not Found',
    status: 404,
    detail: 'no app',
    requestId: 'r',
    errors: [],
  },
};

/**
 * The dry run of instantiating `rendered` (`POST …/instantiate?dryRun=true`, which `pave init` asks before it
 * writes a file): every check passed, what it would create.
 */
export function plannedInstance(rendered: RenderedTemplate): { status: number; body: TemplateInstancePlan } {
  const { setup } = rendered;
  return {
    status: 200,
    body: {
      template: { id: rendered.id, version: rendered.version },
      app: setup.app,
      environments: setup.environments.filter((env) => env.from === undefined),
      pendingEnvironments: setup.environments.filter((env) => env.from !== undefined),
      values: setup.values.map((value) => ({ key: value.key, secret: value.secret })),
      setup,
      files: rendered.files.map((file) => file.path),
    },
  };
}

/** Whether a request to a fake server is the dry run of instantiating a template. */
export function isInstantiateDryRun(request: Recorded): boolean {
  return /\/instantiate\?(.*&)?dryRun=true(&|$)/u.test(request.url);
}

/** A deployment as the API lists it: deployment 17 of shop/dev, running, with `fields` over it. */
export function deployment(fields: Partial<Deployment> = {}): Deployment {
  return {
    id: '17',
    appId: 'shop',
    envId: 'dev',
    kind: 'deploy',
    setId: 'a1b2c3d4e5f6a7b8',
    source: {},
    actor: 'admin',
    message: '',
    status: 'running',
    reason: null,
    rolledBack: false,
    valuesVersion: null,
    artifactId: null,
    commit: null,
    createdAt: '2025-01-31T09:30:00.000Z',
    startedAt: '2025-01-31T09:30:01.000Z',
    finishedAt: null,
    ...fields,
  };
}

/**
 * A deployment as the API shows one: {@link deployment} with its journal (empty) and workloads (`web`, deployed
 * without an artifact).
 */
export function deploymentDetail(fields: Partial<DeploymentDetail> = {}): DeploymentDetail {
  return { ...deployment(), journal: [], workloads: ['web'], workloadArtifacts: { web: null }, ...fields };
}
