// Readiness probes of containers: httpGet from this host to the published port (render maps probe ports to
// host ports), exec through the Engine API inside the container. Every probe is one bounded attempt.
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type Docker from 'dockerode';
import type { RenderedProbe } from '@pave/plugin-api';
import { PUBLISH_HOST_IP } from './container-spec.ts';

/** What one attempt found; `detail` says why for people ("readiness probe GET /health: 500"). */
export interface ProbeOutcome {
  ok: boolean;
  detail: string;
}

const HTTP_TIMEOUT_MS = 2_000;
const EXEC_TIMEOUT_MS = 5_000;

/** Runs `probe` once against `container`: its httpGet if it has one, else its exec. */
export function probeOnce(
  probe: RenderedProbe,
  container: Docker.Container,
  signal: AbortSignal,
): Promise<ProbeOutcome> {
  if (probe.httpGet) return probeHttp(probe.httpGet, signal);
  if (probe.exec) return probeExec(probe.exec.command, container, signal);
  return Promise.resolve({ ok: true, detail: 'no probe' });
}

async function probeHttp(
  httpGet: NonNullable<RenderedProbe['httpGet']>,
  signal: AbortSignal,
): Promise<ProbeOutcome> {
  const what = `readiness probe GET ${httpGet.path} on port ${httpGet.port}`;
  const result = await new Promise<{ status: number } | { error: string }>((resolve) => {
    const request = httpGet.scheme === 'HTTPS' ? httpsRequest : httpRequest;
    const req = request(
      {
        host: httpGet.host ?? PUBLISH_HOST_IP,
        port: httpGet.port,
        path: httpGet.path,
        method: 'GET',
        headers: Object.fromEntries((httpGet.httpHeaders ?? []).map((header) => [header.name, header.value])),
        agent: false,
        timeout: HTTP_TIMEOUT_MS,
        signal,
        // A workload's own development certificate is fine: this asks "is it up?", not "is it who it says?".
        rejectUnauthorized: false,
      },
      (response: IncomingMessage) => {
        response.resume();
        resolve({ status: response.statusCode ?? 0 });
        req.destroy();
      },
    );
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'timed out' })));
    req.on('error', (error: NodeJS.ErrnoException) => resolve({ error: error.code ?? error.message }));
    req.end();
  });
  if ('error' in result) return { ok: false, detail: `${what}: ${result.error}` };
  return { ok: result.status >= 200 && result.status < 400, detail: `${what}: ${result.status}` };
}

async function probeExec(
  command: string[],
  container: Docker.Container,
  signal: AbortSignal,
): Promise<ProbeOutcome> {
  const what = `readiness probe ${command[0] ?? ''}`;
  const deadline = AbortSignal.any([signal, AbortSignal.timeout(EXEC_TIMEOUT_MS)]);
  try {
    const exec = await container.exec({ Cmd: command, AttachStdout: true, AttachStderr: true });
    // Its output is not kept: it may print the environment it runs with.
    const stream = await exec.start({ abortSignal: deadline });
    await new Promise<void>((resolve) => {
      const finish = () => {
        deadline.removeEventListener('abort', finish);
        resolve();
      };
      deadline.addEventListener('abort', finish, { once: true });
      stream.on('end', finish);
      stream.on('close', finish);
      stream.on('error', finish);
      stream.resume();
    });
    stream.destroy();
    if (deadline.aborted) return { ok: false, detail: `${what}: timed out` };
    const { ExitCode: code } = await exec.inspect();
    return { ok: code === 0, detail: `${what}: exited with code ${code}` };
  } catch (error) {
    return { ok: false, detail: `${what}: ${(error as Error).message}` };
  }
}
