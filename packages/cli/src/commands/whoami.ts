import type { Command } from 'commander';
import type { CliIo } from '../io.ts';
import { formatTime } from '../output/time.ts';
import { addClientOptions, clientFor, examples } from './client-options.ts';
import type { ClientOptions } from './client-options.ts';

/** `pave whoami`: which user and token the server sees. */
export function registerWhoamiCommand(program: Command, io: CliIo): void {
  addClientOptions(program.command('whoami').description('Show the user and token the server sees for you'))
    .addHelpText('after', examples('pave whoami', 'pave whoami --server https://pave.example.com -o json'))
    .action(async (options: ClientOptions) => {
      const { client, connection, output } = await clientFor(options, io);
      output.show(await client.whoami(), (body) =>
        output.details([
          ['user', body.username],
          ['token', body.token.name],
          ['token id', body.token.id],
          ['expires at', formatTime(body.token.expiresAt, 'never')],
          ['server', connection.server],
        ]),
      );
    });
}
