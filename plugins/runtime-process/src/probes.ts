// Readiness checks against processes on this host. Every check is one bounded attempt; callers repeat.
import { spawn } from 'node:child_process';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';

/** One way to tell that a workload is ready. */
export type ReadinessCheck =
  | {
      kind: 'httpGet';
      port: number;
      path: string;
      host?: string;
      scheme: 'HTTP' | 'HTTPS';
      headers: Array<{ name: string; value: string }>;
    }
  | {
      kind: 'exec';
      /** The probe's command, isolated like its container (see isolatedCommand). */
      command: string[];
      cwd: string;
      env: Record<string, string>;
      uid?: number;
      gid?: number;
    }
  | { kind: 'tcp'; port: number }
  /** Nothing to probe: the processes run (and the stability window of waitForReady decides). */
  | { kind: 'running' };

/** What one attempt found; `detail` says why for people ("readiness probe GET /health: 500"). */
export interface ProbeOutcome {
  ok: boolean;
  detail: string;
}

const CONNECT_TIMEOUT_MS = 1_000;
const HTTP_TIMEOUT_MS = 2_000;
const EXEC_TIMEOUT_MS = 5_000;
/** Processes listen on "localhost", which may be either family: try IPv4 first, then IPv6. */
const LOOPBACK_HOSTS = ['127.0.0.1', '::1'];

/** Runs one network or exec check once (`running` is judged by the caller, from the state files). */
export function probeOnce(
  check: Exclude<ReadinessCheck, { kind: 'running' }>,
  signal: AbortSignal,
): Promise<ProbeOutcome> {
  switch (check.kind) {
    case 'httpGet':
      return probeHttp(check, signal);
    case 'tcp':
      return probeTcp(check.port, signal);
    case 'exec':
      return probeExec(check, signal);
  }
}

async function probeHttp(
  check: Extract<ReadinessCheck, { kind: 'httpGet' }>,
  signal: AbortSignal,
): Promise<ProbeOutcome> {
  const what = `readiness probe GET ${check.path} on port ${check.port}`;
  let outcome: ProbeOutcome = { ok: false, detail: what };
  for (const host of check.host ? [check.host] : LOOPBACK_HOSTS) {
    const result = await httpGet(check, host, signal);
    if ('status' in result) {
      const ok = result.status >= 200 && result.status < 400;
      return { ok, detail: `${what}: ${result.status}` };
    }
    outcome = { ok: false, detail: `${what}: ${result.error}` };
    if (result.error !== 'ECONNREFUSED') break;
  }
  return outcome;
}

function httpGet(
  check: Extract<ReadinessCheck, { kind: 'httpGet' }>,
  host: string,
  signal: AbortSignal,
): Promise<{ status: number } | { error: string }> {
  return new Promise((resolve) => {
    const request = check.scheme === 'HTTPS' ? httpsRequest : httpRequest;
    const req = request(
      {
        host,
        port: check.port,
        path: check.path,
        method: 'GET',
        headers: Object.fromEntries(check.headers.map((header) => [header.name, header.value])),
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
}

async function probeTcp(port: number, signal: AbortSignal): Promise<ProbeOutcome> {
  let error = '';
  for (const host of LOOPBACK_HOSTS) {
    error = await tcpConnect(host, port, signal);
    if (!error) return { ok: true, detail: `port ${port} accepts connections` };
  }
  return { ok: false, detail: `nothing accepts connections on port ${port} (${error})` };
}

/** Connects and disconnects; '' on success, else the error code. */
function tcpConnect(host: string, port: number, signal: AbortSignal): Promise<string> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve('aborted');
    const socket = connect({ host, port, timeout: CONNECT_TIMEOUT_MS });
    const finish = (result: string) => {
      signal.removeEventListener('abort', onAbort);
      socket.destroy();
      resolve(result);
    };
    const onAbort = () => finish('aborted');
    signal.addEventListener('abort', onAbort, { once: true });
    socket.once('connect', () => finish(''));
    socket.once('timeout', () => finish('timed out'));
    socket.once('error', (error: NodeJS.ErrnoException) => finish(error.code ?? error.message));
  });
}

function probeExec(
  check: Extract<ReadinessCheck, { kind: 'exec' }>,
  signal: AbortSignal,
): Promise<ProbeOutcome> {
  const [command = '', ...args] = check.command;
  const what = `readiness probe ${command}`;
  return new Promise((resolve) => {
    // Its output is not kept: it may print the environment it runs with.
    const child = spawn(command, args, {
      cwd: check.cwd,
      env: check.env,
      ...(check.uid !== undefined ? { uid: check.uid } : {}),
      ...(check.gid !== undefined ? { gid: check.gid } : {}),
      stdio: 'ignore',
      timeout: EXEC_TIMEOUT_MS,
      killSignal: 'SIGKILL',
      signal,
    });
    child.once('error', (error: NodeJS.ErrnoException) => {
      if (child.pid === undefined) resolve({ ok: false, detail: `${what}: ${error.code ?? error.message}` });
    });
    child.once('exit', (code, exitSignal) =>
      resolve({
        ok: code === 0,
        detail: exitSignal ? `${what}: killed by ${exitSignal}` : `${what}: exited with code ${code}`,
      }),
    );
  });
}
