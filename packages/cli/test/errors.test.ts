import { ApiError, ConnectionError } from '@pave/core';
import { describe, expect, it } from 'vitest';
import { CliUsageError, exitCodeFor, formatError } from '../src/errors.ts';
import { NotHealthyError } from '../src/commands/status.ts';
import { runCli } from '../src/program.ts';
import { fakeIo } from './helpers.ts';

const validationProblem = new ApiError(400, {
  type: 'https://pave.dev/problems/invalid-input',
  title: 'Invalid input',
  status: 400,
  detail: 'the request body is invalid',
  requestId: 'req-7f3a',
  errors: [
    { path: '/id', message: 'must be a DNS label' },
    { path: '/name', message: 'must be at most 200 characters' },
  ],
});

describe('formatError', () => {
  it('prints an API error as one line, then each field error, then the request id', () => {
    expect(formatError(validationProblem)).toBe(
      [
        'pave: error: the request body is invalid',
        '  - /id: must be a DNS label',
        '  - /name: must be at most 200 characters',
        '  (request id req-7f3a)',
        '',
      ].join('\n'),
    );
  });

  it('prints a refusal once: its permission field repeats the detail after the permission', () => {
    const reason = 'deployment.create on app shop needs owner or developer; you have viewer on app shop';
    const refusal = new ApiError(403, {
      type: 'urn:pave:problem:403',
      title: 'Forbidden',
      status: 403,
      detail: `you may not do this: ${reason}`,
      requestId: 'req-1',
      errors: [{ path: 'permission', message: `deployment.create: ${reason}` }],
    });
    expect(formatError(refusal)).toBe(`pave: error: you may not do this: ${reason}\n  (request id req-1)\n`);
    // A permission field that says more than the detail is kept.
    const other = new ApiError(403, {
      ...refusal.problem,
      detail: 'you may not grant this role',
      errors: [{ path: 'permission', message: 'user.write: org roles are granted by admins' }],
    });
    expect(formatError(other)).toContain('  - permission: user.write: org roles are granted by admins\n');
  });

  it('leaves out the request id line when the problem has none', () => {
    const error = new ApiError(502, {
      ...validationProblem.problem,
      detail: 'bad gateway',
      requestId: '',
      errors: [],
    });
    expect(formatError(error)).toBe('pave: error: bad gateway\n');
  });

  it('never shows a stack for expected errors, even with debug on', () => {
    for (const error of [
      new ConnectionError('cannot reach Pave'),
      new CliUsageError('--limit: bad'),
      new NotHealthyError('shop is degraded: dev degraded (api: crash-looping (5 restarts))'),
      validationProblem,
    ]) {
      const text = formatError(error, { debug: true });
      expect(text).not.toMatch(/\n\s+at /);
      expect(text.startsWith('pave: error: ')).toBe(true);
    }
  });

  it('shows the stack of an unexpected error only in debug mode (PAVE_DEBUG=1)', () => {
    const error = new TypeError('boom');
    expect(formatError(error)).toBe('pave: error: boom\n');
    expect(formatError(error, { debug: true })).toMatch(/^pave: error: boom\nTypeError: boom\n\s+at /);
  });

  it('exits 2 for usage errors and 1 for API, connection and unexpected errors', () => {
    expect(exitCodeFor(new CliUsageError('x'))).toBe(2);
    expect(exitCodeFor(validationProblem)).toBe(1);
    expect(exitCodeFor(new ConnectionError('x'))).toBe(1);
    expect(exitCodeFor(new Error('x'))).toBe(1);
  });
});

describe('runCli usage errors (no server needed)', () => {
  it('exits 2 with one `pave: error:` line when a required argument is missing', async () => {
    const io = fakeIo();
    expect(await runCli(['node', 'pave', 'apps', 'create'], io)).toBe(2);
    expect(io.stderr.text).toBe("pave: error: missing required argument 'app'\n");
    expect(io.stdout.text).toBe('');
  });

  it('exits 2 for an unknown option and for a bad --output value', async () => {
    const unknown = fakeIo();
    expect(await runCli(['node', 'pave', 'apps', 'list', '--bogus'], unknown)).toBe(2);
    expect(unknown.stderr.text).toMatch(/^pave: error: unknown option '--bogus'/);
    const badOutput = fakeIo();
    expect(await runCli(['node', 'pave', 'apps', 'list', '-o', 'xml'], badOutput)).toBe(2);
    expect(badOutput.stderr.text).toMatch(
      /^pave: error: option '-o, --output <format>' argument 'xml' is invalid/,
    );
  });

  it('exits 2 for a bad --expires-in before contacting any server, naming the flag and the format', async () => {
    const io = fakeIo();
    const code = await runCli(
      [
        'node',
        'pave',
        'tokens',
        'create',
        'ci',
        '--expires-in',
        '3y',
        '--server',
        'http://127.0.0.1:1',
        '--token',
        't',
      ],
      io,
    );
    expect(code).toBe(2);
    expect(io.stderr.text).toBe(
      'pave: error: --expires-in: "3y" is not a duration; use a whole number followed by s (seconds), ' +
        'm (minutes), h (hours) or d (days), e.g. 30m, 12h, 90d\n',
    );
  });

  it('exits 2 with instructions when no token can be found', async () => {
    const io = fakeIo({ env: { PAVE_CONFIG: '/nonexistent/pave/config.json' } });
    expect(await runCli(['node', 'pave', 'apps', 'list', '--data-dir', '/nonexistent'], io)).toBe(2);
    expect(io.stderr.text).toMatch(
      /^pave: error: no API token for http:\/\/127\.0\.0\.1:7300; log in with `pave login/,
    );
    expect(io.stderr.text.split('\n')).toHaveLength(2);
  });

  it('prints help with an example to stdout and exits 0', async () => {
    const io = fakeIo();
    expect(await runCli(['node', 'pave', 'envs', 'create', '--help'], io)).toBe(0);
    expect(io.stdout.text).toContain('Usage: pave envs create [options] <env>');
    expect(io.stdout.text).toContain('$ pave envs create dev --app shop --type development');
  });
});
