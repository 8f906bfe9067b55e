import type { Command } from 'commander';
import type { RotationResult } from '@pave/core';
import type { CliIo } from '../io.ts';
import { addClientOptions, clientFor, examples } from './client-options.ts';
import type { ClientOptions } from './client-options.ts';

/** `pave admin rotate-master-key`: operations for the administrators of a Pave server. */
export function registerAdminCommands(program: Command, io: CliIo): void {
  const admin = program
    .command('admin')
    .description('Operate the Pave server itself (administrators only)')
    .addHelpText('after', examples('pave admin rotate-master-key'));

  addClientOptions(
    admin
      .command('rotate-master-key')
      .description(
        'Make a new master key and re-wrap every data key of the stored secrets with it, while Pave keeps ' +
          'serving; the secrets themselves are not re-encrypted',
      ),
  )
    .addHelpText('after', examples('pave admin rotate-master-key', 'pave admin rotate-master-key -o json'))
    .action(async (options: ClientOptions) => {
      const { client, output } = await clientFor(options, io);
      output.show(await client.rotateMasterKey(), renderRotation);
    });
}

/** A master-key rotation's outcome for people: the new master key version and how many data keys were re-wrapped. */
export function renderRotation(result: RotationResult): string {
  const keys = `${result.rewrappedDataKeys} data ${result.rewrappedDataKeys === 1 ? 'key' : 'keys'}`;
  return `Rotated the master key: now version ${result.masterKeyVersion}; re-wrapped ${keys}.`;
}
