import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { createProgram, runCli } from '../src/program.ts';
import { cliArgs, fakeIo, fakeServer } from './helpers.ts';

// `--yes` skips the "are you sure" question on every command that asks one.

function commandAt(path: string[]): Command {
  let command: Command = createProgram(fakeIo());
  for (const name of path) {
    const sub = command.commands.find((candidate) => candidate.name() === name);
    if (!sub) throw new Error(`no command ${path.join(' ')}`);
    command = sub;
  }
  return command;
}

async function helpOf(path: string[]): Promise<string> {
  const io = fakeIo();
  expect(await runCli(['node', 'pave', ...path, '--help'], io)).toBe(0);
  return io.stdout.text;
}

describe('pave users delete', () => {
  it('deletes without asking with --yes', async () => {
    const server = await fakeServer(() => ({ status: 204 }));
    const io = fakeIo({ stdinTTY: true, answers: ['n'] });
    expect(await runCli(cliArgs(server.url, 'users', 'delete', 'bob', '--yes'), io)).toBe(0);
    expect(io.questions).toEqual([]);
    expect(server.requests.map((request) => `${request.method} ${request.url}`)).toEqual([
      'DELETE /api/v1/users/bob',
    ]);
  });

  it('still deletes without asking with --force, as scripts pass it', async () => {
    const server = await fakeServer(() => ({ status: 204 }));
    const io = fakeIo();
    expect(await runCli(cliArgs(server.url, 'users', 'delete', 'bob', '--force'), io)).toBe(0);
    expect(server.requests).toHaveLength(1);
  });

  it('tells a script to pass --yes', async () => {
    const server = await fakeServer(() => ({ status: 204 }));
    const io = fakeIo();
    expect(await runCli(cliArgs(server.url, 'users', 'delete', 'bob'), io)).toBe(2);
    expect(io.stderr.text).toContain('pass --yes to go ahead');
    expect(server.requests).toEqual([]);
  });

  it('documents --yes in its help and examples', async () => {
    const help = await helpOf(['users', 'delete']);
    expect(help).toContain('--yes');
    expect(help).toContain('pave users delete deploy-bot --yes');
    expect(help).not.toMatch(/needs --force/);
  });
});

describe('every command that asks before it changes something', () => {
  for (const path of [
    ['users', 'delete'],
    ['apps', 'delete'],
    ['defs', 'apply'],
    ['targets', 'apply'],
  ]) {
    it(`pave ${path.join(' ')} takes --yes`, () => {
      expect(commandAt(path).options.map((option) => option.long)).toContain('--yes');
    });
  }
});

describe('a --force that does not skip the question', () => {
  it('says so in the help of pave defs delete and pave apps delete', () => {
    for (const path of [
      ['defs', 'delete'],
      ['apps', 'delete'],
    ]) {
      const force = commandAt(path).options.find((option) => option.long === '--force');
      expect(force?.description, path.join(' ')).toMatch(/--yes/);
    }
  });
});
