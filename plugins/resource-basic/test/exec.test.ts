import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { detectIsolationHost, isolationFor, type ResourceInputs } from '@pave/plugin-api';
import { describeResourceDriverContract } from '@pave/plugin-api/testing';
import { ExecCommandError, ExecDriver, type ExecRequest } from '../src/index.ts';
import { driverContext, eventually, inputsFor, isRunning } from './support.ts';

const work = mkdtempSync(join(tmpdir(), 'pave-exec-'));
const resources = join(work, 'resources');

/**
 * A command that keeps each "resource" as a directory under $RESOURCE_ROOT, using only sh, cat, mkdir, rm
 * and printf. create and update write the request and the outputs into it; with params.fail it creates the
 * directory and then fails, so only the driver's compensating delete can clean up.
 */
const directoryScript = script(
  'directory.sh',
  String.raw`
set -eu
dir="$RESOURCE_ROOT/$PAVE_APP/$PAVE_ENV/$PAVE_RESOURCE_ADDRESS"
input=$(cat)
case "$PAVE_ACTION" in
  create|update)
    mkdir -p "$dir"
    printf '%s' "$input" > "$dir/request.json"
    printf '%s|%s|%s' "$PAVE_ACTION" "$PAVE_ID" "${'$'}{CONTROL_PLANE_SECRET-unset}" > "$dir/environment"
    printf '{"id":"%s","values":{"source":"%s"},"secrets":{"token":"token-%s"}}' \
      "$PAVE_APP/$PAVE_ENV/$PAVE_RESOURCE_ADDRESS" "$dir" "$PAVE_APP" > "$dir/outputs.json"
    case "$input" in
      *'"fail":true'*) printf 'made %s\ncould not finish it\n' "$dir" >&2; exit 1 ;;
    esac
    cat "$dir/outputs.json"
    ;;
  read)
    if [ -d "$dir" ]; then cat "$dir/outputs.json"; else printf 'null\n'; fi
    ;;
  delete)
    rm -rf "$dir"
    ;;
  *)
    printf 'unknown action %s\n' "$PAVE_ACTION" >&2
    exit 64
    ;;
esac
`,
);

function script(name: string, body: string): string {
  const path = join(work, name);
  writeFileSync(path, `#!/bin/sh\n${body.trimStart()}`, { mode: 0o755 });
  return path;
}

function directoryOf(inputs: ResourceInputs): string {
  return join(resources, inputs.scope.app, inputs.scope.env, inputs.scope.address);
}

function volumeInputs(extra: Partial<ResourceInputs> = {}): ResourceInputs {
  return inputsFor('volume', {
    driverInputs: { command: ['/bin/sh', directoryScript], env: { RESOURCE_ROOT: resources }, region: 'eu' },
    ...extra,
  });
}

/** Inputs that run `body` as a shell script for every action. */
function scriptInputs(
  body: string,
  extra: Partial<ResourceInputs> = {},
  timeoutSeconds?: number,
): ResourceInputs {
  counter += 1;
  const path = script(`inline-${counter}.sh`, body);
  return inputsFor('volume', {
    driverInputs: { command: ['/bin/sh', path], ...(timeoutSeconds ? { timeoutSeconds } : {}) },
    ...extra,
  });
}
let counter = 0;

const driver = ExecDriver.fromConfig(
  { killGraceMs: 500 },
  { hostEnv: { ...process.env, CONTROL_PLANE_SECRET: 'must-not-leak' } },
);

afterAll(() => rmSync(work, { recursive: true, force: true }));

const failing = volumeInputs({ params: { fail: true } });
describeResourceDriverContract('exec (shell script keeping directories)', {
  driver: () => driver,
  validInputs: () => volumeInputs(),
  invalidInputs: {
    inputs: inputsFor('volume', { driverInputs: { command: 'sh -c true' } }),
    property: 'command',
  },
  exists: async (_id, outputs) => existsSync(outputs.values.source!),
  failingCreate: { inputs: failing, exists: async () => existsSync(directoryOf(failing)) },
});

describe('exec driver', () => {
  const ctx = driverContext();
  const cancel = new AbortController();
  const cancellable = driverContext(cancel.signal);

  it('sends the action, scope, params, inputs and secrets as JSON on stdin, and PAVE_* variables', async () => {
    const inputs = volumeInputs({ params: { size: '1Gi' }, driverSecrets: { password: 'pw-1' } });
    const { id, outputs } = await driver.create(inputs, ctx);
    expect(id).toBe(`${inputs.scope.app}/dev/api.volume`);
    expect(outputs).toEqual({
      values: { source: directoryOf(inputs) },
      secrets: { token: `token-${inputs.scope.app}` },
    });
    const request = JSON.parse(
      readFileSync(join(directoryOf(inputs), 'request.json'), 'utf8'),
    ) as ExecRequest;
    expect(request).toEqual({
      action: 'create',
      id: null,
      scope: inputs.scope,
      params: { size: '1Gi' },
      inputs: { region: 'eu' },
      secrets: { password: 'pw-1' },
      previous: null,
    });
    // Only the inherited variables reach the command, not the rest of the control plane's environment.
    expect(readFileSync(join(directoryOf(inputs), 'environment'), 'utf8')).toBe('create||unset');

    const news = { ...inputs, params: { size: '2Gi' }, driverSecrets: { password: 'pw-2' } };
    expect(await driver.diff(id, inputs, news, ctx)).toEqual({
      changes: true,
      replace: false,
      changedProperties: ['driverSecrets.password', 'params.size'],
    });
    await driver.update(id, inputs, news, ctx);
    const update = JSON.parse(readFileSync(join(directoryOf(inputs), 'request.json'), 'utf8')) as ExecRequest;
    expect(update).toMatchObject({
      action: 'update',
      id,
      params: { size: '2Gi' },
      secrets: { password: 'pw-2' },
      previous: { inputs: { region: 'eu' }, secrets: { password: 'pw-1' }, params: { size: '1Gi' } },
    });
    expect(readFileSync(join(directoryOf(inputs), 'environment'), 'utf8')).toBe(`update|${id}|unset`);
    await driver.delete(id, inputs, ctx);
  });

  it('passes cloneFrom to create', async () => {
    const cloneFrom = { values: { source: '/elsewhere' }, secrets: { token: 'old' } };
    const inputs = volumeInputs({ cloneFrom });
    const { id } = await driver.create(inputs, ctx);
    const request = JSON.parse(
      readFileSync(join(directoryOf(inputs), 'request.json'), 'utf8'),
    ) as ExecRequest;
    expect(request.cloneFrom).toEqual(cloneFrom);
    await driver.delete(id, inputs, ctx);
  });

  it('quotes the exit code and the last 20 lines of stderr, never stdout', async () => {
    const inputs = scriptInputs(String.raw`
i=1
while [ $i -le 30 ]; do printf 'problem %s\n' $i >&2; i=$((i+1)); done
printf '{"values":{"leak":"stdout-canary"}}'
exit 7
`);
    const error = (await driver.read('x', inputs, ctx).catch((e: unknown) => e)) as ExecCommandError;
    expect(error).toBeInstanceOf(ExecCommandError);
    expect(error.exitCode).toBe(7);
    expect(error.message).toContain('exited with code 7');
    expect(error.message).toContain('exec read of api.volume');
    expect(error.stderrTail).toEqual(Array.from({ length: 20 }, (_, i) => `problem ${i + 11}`));
    expect(error.message).toMatch(/\| problem 11$/m);
    expect(error.message).toMatch(/\| problem 30$/m);
    expect(error.message).not.toMatch(/\| problem 10$/m);
    expect(error.message).not.toContain('stdout-canary');
  });

  it('masks the secrets in the quoted stderr', async () => {
    const inputs = scriptInputs('cat >&2\nprintf "\\nusing %s\\n" "$TOKEN" >&2\nexit 2', {
      driverSecrets: { apiKey: 'hunter2-"quoted"-key', nested: { token: 'tok-991' } },
    });
    inputs.driverInputs.env = { TOKEN: 'tok-991' };
    const error = (await driver.read('x', inputs, ctx).catch((e: unknown) => e)) as ExecCommandError;
    expect(error.message).toContain('exited with code 2');
    expect(error.message).toContain('"apiKey":"***"');
    expect(error.message).toContain('using ***');
    expect(error.message).not.toContain('hunter2');
    expect(error.message).not.toContain('tok-991');
  });

  it('masks the URL-encoded and base64 forms of the secrets too', async () => {
    const secret = 'p@ss word/+=?';
    const encoded = encodeURIComponent(secret);
    const base64 = Buffer.from(secret).toString('base64');
    const base64url = Buffer.from(secret).toString('base64url');
    const inputs = scriptInputs(
      `printf '%s\\n' 'url postgres://app:${encoded}@db/x' 'basic ${base64}' 'safe ${base64url}' 'bare ${base64.replace(/=+$/, '')}' >&2\nexit 1`,
      { driverSecrets: { password: secret } },
    );
    const error = (await driver.read('x', inputs, ctx).catch((e: unknown) => e)) as ExecCommandError;
    expect(error.stderrTail).toEqual(['url postgres://app:***@db/x', 'basic ***', 'safe ***', 'bare ***']);
  });

  it('kills the whole process group when the command times out, even if it ignores SIGTERM', async () => {
    const pids = join(work, 'timeout.pids');
    const inputs = scriptInputs(`trap '' TERM\nsleep 30 &\nprintf '%s %s' $$ $! > '${pids}'\nwait\n`, {}, 1);
    const started = Date.now();
    const error = (await driver.read('x', inputs, ctx).catch((e: unknown) => e)) as ExecCommandError;
    expect(error.message).toMatch(/timed out after 1 s and was killed \(exit code none, signal SIGKILL\)/);
    expect(Date.now() - started).toBeLessThan(10_000);
    const [shell, sleeper] = readFileSync(pids, 'utf8').split(' ').map(Number);
    expect(await eventually(() => !isRunning(shell!) && !isRunning(sleeper!))).toBe(true);
  });

  it('stops the command when the deployment stops', async () => {
    const pids = join(work, 'abort.pids');
    const inputs = scriptInputs(`sleep 30 &\nprintf '%s %s' $$ $! > '${pids}'\nwait\n`);
    setTimeout(() => cancel.abort(), 300);
    const error = (await driver.read('x', inputs, cancellable).catch((e: unknown) => e)) as Error;
    expect(error.message).toMatch(/the deployment stopped \(the control plane stopping or losing it\)/);
    const [shell, sleeper] = readFileSync(pids, 'utf8').split(' ').map(Number);
    expect(await eventually(() => !isRunning(shell!) && !isRunning(sleeper!))).toBe(true);
  });

  it('says the time given for the work ran out, not that the deployment stopped, when ctx.signal times out', async () => {
    const inputs = scriptInputs(`sleep 30 &\nwait\n`);
    const timingOut = driverContext(AbortSignal.timeout(300));
    const error = (await driver.read('x', inputs, timingOut).catch((e: unknown) => e)) as Error;
    expect(error.message).toMatch(
      /was stopped after \d+(\.\d)? s: the time the control plane gives this work ran out \(a deployment's grows with the definition's timeoutSeconds\)/,
    );
    expect(error.message).not.toMatch(/the deployment stopped/);
    const spent = driverContext(AbortSignal.abort(new DOMException('timed out', 'TimeoutError')));
    const unstarted = (await driver.read('x', inputs, spent).catch((e: unknown) => e)) as Error;
    expect(unstarted.message).toMatch(
      /was not started: the time the control plane gives this work had run out/,
    );
  });

  it('refuses stdout that is not JSON without quoting it, and compensates a create that printed it', async () => {
    const deleted = join(work, 'invalid-json.deleted');
    const inputs = scriptInputs(
      `if [ "$PAVE_ACTION" = delete ]; then printf '%s' "$PAVE_ID" > '${deleted}'; exit 0; fi\n` +
        `printf 'password=hunter3 is not json'\n`,
    );
    const error = (await driver.create(inputs, ctx).catch((e: unknown) => e)) as Error;
    expect(error.message).toMatch(/printed invalid JSON on stdout/);
    expect(error.message).toContain('exit code 0');
    expect(error.message).not.toContain('hunter3');
    expect(existsSync(deleted)).toBe(true);
    expect(readFileSync(deleted, 'utf8')).toBe(''); // the compensating delete gets no id
  });

  it('refuses stdout that is JSON but not an object, or outputs that are not scalars', async () => {
    const array = scriptInputs(`printf '[1, 2]'`);
    await expect(driver.read('x', array, ctx)).rejects.toThrow(
      /printed an array on stdout; expected a JSON object/,
    );
    const nested = scriptInputs(`printf '{"values":{"source":{"path":"/x"}}}'`);
    await expect(driver.read('x', nested, ctx)).rejects.toThrow(/"values.source" as an object/);
  });

  it('says so when the compensating delete fails too', async () => {
    const inputs = scriptInputs(`printf '%s failed\\n' "$PAVE_ACTION" >&2\nexit 1\n`);
    const error = (await driver.create(inputs, ctx).catch((e: unknown) => e)) as ExecCommandError;
    expect(error.message).toMatch(
      /^exec create of api.volume .*exited with code 1; last 1 line\(s\) of stderr:\n {2}\| create failed/s,
    );
    expect(error.message).not.toContain('(exit code');
    expect(error.message).toMatch(/compensating delete failed as well, so the resource may still exist/);
    expect(error.message).toMatch(/exec delete of api.volume .*\n {2}\| delete failed/s);
  });

  it('reports a command that cannot be started, without running a compensating delete', async () => {
    const inputs = inputsFor('volume', { driverInputs: { command: [join(work, 'missing-program')] } });
    const error = (await driver.create(inputs, ctx).catch((e: unknown) => e)) as ExecCommandError;
    expect(error.message).toMatch(/could not be started: spawn .*missing-program ENOENT/);
    expect(error.started).toBe(false);
    expect(error.message).not.toMatch(/compensating/);
  });

  it('names every bad driver input', async () => {
    const inputs = inputsFor('volume', {
      driverInputs: {
        command: [],
        cwd: 'relative',
        timeoutSeconds: 0,
        env: { OK: 'x', NUM: 1, 'BAD-NAME': 'x' },
      },
    });
    const failures = await driver.check(inputs, ctx);
    expect(failures.map((f) => f.property)).toEqual([
      'command',
      'cwd',
      'timeoutSeconds',
      'env.NUM',
      'env.BAD-NAME',
    ]);
    await expect(driver.create(inputs, ctx)).rejects.toMatchObject({ name: 'InputError' });
    expect(
      await driver.check(inputsFor('volume', { driverInputs: { command: ['x'], env: 'A=1' } }), ctx),
    ).toEqual([expect.objectContaining({ property: 'env' })]);
  });
});

describe('exec driver with isolation', () => {
  const root = process.getuid?.() === 0;
  const dataDir = join(work, 'pave-data');
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  writeFileSync(join(dataDir, 'master.key'), 'master-key-canary', { mode: 0o600 });
  const host = detectIsolationHost({ dataDir });
  const ctx = driverContext();
  // Tries to read Pave's master key and /etc/shadow, then prints who it ran as and where.
  const attempt = script(
    'attempt.sh',
    String.raw`
cat >/dev/null
key=$(cat "$DATA_DIR/master.key" 2>/dev/null || echo denied)
shadow=$(head -c 20 /etc/shadow 2>/dev/null || echo denied)
printf '{"values":{"uid":"%s","key":"%s","shadow":"%s","cwd":"%s"}}' "$(id -u)" "$key" "$shadow" "$(pwd)"
`,
  );
  const inputs = () =>
    inputsFor('volume', { driverInputs: { command: [attempt], env: { DATA_DIR: dataDir } } });

  it.skipIf(!host.bwrap)(
    'runs a sandboxed command that cannot read the data directory or /etc/shadow, in a scratch directory',
    async () => {
      const sandboxed = ExecDriver.fromConfig({ isolation: isolationFor(host, 'sandbox') });
      const { outputs } = await sandboxed.create(inputs(), ctx);
      expect(outputs.values.key).toBe('denied');
      if (root) {
        expect(outputs.values.uid).toBe(String(host.identity!.uid));
        expect(outputs.values.shadow).toBe('denied');
      }
      expect(outputs.values.cwd).toMatch(/pave-exec-/);
      expect(existsSync(outputs.values.cwd!)).toBe(false); // removed after the run
    },
  );

  it.skipIf(!root)('runs a command as the workload user with isolation user', async () => {
    const asUser = ExecDriver.fromConfig({ isolation: isolationFor(host, 'user') });
    // The script's directory must be open to the workload user at this level.
    chmodSync(work, 0o755);
    try {
      const { outputs } = await asUser.create(inputs(), ctx);
      expect(outputs.values).toMatchObject({
        uid: String(host.identity!.uid),
        key: 'denied',
        shadow: 'denied',
      });
    } finally {
      chmodSync(work, 0o700);
    }
  });

  it.skipIf(!root)(
    'refuses to start a command the workload user cannot reach, saying how to fix it',
    async () => {
      const asUser = ExecDriver.fromConfig({ isolation: isolationFor(host, 'user') });
      const error = (await asUser.create(inputs(), ctx).catch((e: unknown) => e)) as ExecCommandError;
      expect(error.started).toBe(false);
      expect(error.message).toContain(`cannot read ${work}`);
      expect(error.message).toContain(`chmod o+rx ${work}`);
    },
  );
});
