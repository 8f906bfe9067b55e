import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { createProgram } from '../../packages/cli/src/program.ts';
import { processIo } from '../../packages/cli/src/io.ts';
import { runPave } from '../support/pave.ts';

function commandPaths(command: Command, prefix: string[] = []): string[][] {
  return command.commands.flatMap((sub) => {
    const path = [...prefix, sub.name()];
    return [path, ...commandPaths(sub, path)];
  });
}

const paths = commandPaths(createProgram(processIo())).filter((path) => path[0] !== 'help');

describe('pave --help', () => {
  it('covers the commands the README tour uses', () => {
    const names = paths.map((path) => path.join(' '));
    expect(names).toEqual(
      expect.arrayContaining([
        'up',
        'login',
        'logout',
        'apps create',
        'envs create',
        'env-types list',
        'tokens revoke',
        'audit',
      ]),
    );
  });

  it.each(paths.map((path) => [path.join(' '), path]))(
    '`pave %s --help` describes the command and shows an example',
    async (_name, path) => {
      const result = await runPave([...(path as string[]), '--help']);
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/^Usage: pave /);
      expect(result.stdout).toMatch(/Examples?:\n\s+\$ pave /);
    },
  );
});
