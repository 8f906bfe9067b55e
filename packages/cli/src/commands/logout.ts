import type { Command } from 'commander';
import { redactUrlPassword } from '@pave/core';
import { configPath, forgetConfig, readConfig } from '../config.ts';
import { resolveServer, sameServer } from '../connection.ts';
import type { CliIo } from '../io.ts';
import type { OutputFormat } from '../output/output.ts';
import { addOutputOption, examples, outputFor } from './client-options.ts';

interface LogoutOptions {
  server?: string;
  output: OutputFormat;
}

/** What `pave logout -o json` prints: the server, the config file, and whether a login to it was forgotten. */
export interface LogoutResult {
  server: string | null;
  config: string;
  loggedOut: boolean;
}

/**
 * `pave logout`: forgets the server and token `pave login` saved. Saying so when there is nothing to forget
 * (none saved, or saved for another server) is not an error: logging out twice ends the same way as once.
 */
export function registerLogoutCommand(program: Command, io: CliIo): void {
  addOutputOption(
    program
      .command('logout')
      .description(
        'Forget the server and token `pave login` saved (the token itself stays valid until it expires or ' +
          'is revoked with `pave tokens revoke`); nothing to forget is not an error',
      )
      .option(
        '--server <url>',
        'forget the login only if it is for this server (env PAVE_SERVER; default: the logged-in server)',
      ),
  )
    .addHelpText('after', examples('pave logout', 'pave logout --server https://pave.example.com'))
    .action((options: LogoutOptions) => {
      const path = configPath(io);
      // An invalid file is refused (by readConfig), not deleted: PAVE_CONFIG may name a file of something else.
      const saved = readConfig(path);
      const named =
        options.server !== undefined || io.env.PAVE_SERVER
          ? resolveServer({ server: options.server }, io)
          : undefined;
      const server = named ?? saved?.server ?? null;
      const loggedOut =
        saved !== undefined && (named === undefined || sameServer(saved.server, named)) && forgetConfig(path);
      // A server URL may carry a password (https://user:pass@host): never shown.
      const result: LogoutResult = { server: server && redactUrlPassword(server), config: path, loggedOut };
      outputFor(options, io).show(result, () => {
        const savedServer = saved && redactUrlPassword(saved.server);
        if (loggedOut) return `Logged out of ${savedServer}: forgot the token saved in ${path}.`;
        if (saved === undefined) return `Not logged in: no login is saved in ${path}; nothing to forget.`;
        return (
          `Not logged in to ${named && redactUrlPassword(named)}: the login saved in ${path} is for ` +
          `${savedServer} (\`pave logout --server ${savedServer}\` forgets it); nothing changed.`
        );
      });
      if (io.env.PAVE_TOKEN?.trim()) {
        io.stderr.write(
          'pave: note: PAVE_TOKEN is set in the environment, and later commands use it; unset it too\n',
        );
      }
    });
}
