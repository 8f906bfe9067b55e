import type { Command } from 'commander';
import { configPath, writeConfig } from '../config.ts';
import { connect, DEFAULT_SERVER } from '../connection.ts';
import { CliUsageError } from '../errors.ts';
import type { CliIo } from '../io.ts';
import type { OutputFormat } from '../output/output.ts';
import { addOutputOption, examples, outputFor } from './client-options.ts';

interface LoginOptions {
  server?: string;
  token?: string;
  tokenStdin?: boolean;
  output: OutputFormat;
}

/** `pave login`: checks a token against a server and saves both for later commands. */
export function registerLoginCommand(program: Command, io: CliIo): void {
  addOutputOption(
    program
      .command('login')
      .description('Check a token with the server and save both for later commands')
      .option('--server <url>', `Pave server URL (env PAVE_SERVER; default ${DEFAULT_SERVER})`)
      .option('--token <token>', 'API token to save (env PAVE_TOKEN)')
      .option('--token-stdin', 'read the token from standard input, keeping it out of shell history'),
  )
    .addHelpText(
      'after',
      '\nThe server and token are saved (mode 0600) in $PAVE_CONFIG, else $XDG_CONFIG_HOME/pave/config.json,\n' +
        'else ~/.config/pave/config.json. Later commands use the token when they talk to the same server.\n' +
        examples(
          'pave login --server https://pave.example.com --token pave_0123abcd',
          'pave login --server http://127.0.0.1:7300 --token-stdin < ~/.pave/admin.token',
        ),
    )
    .action(async (options: LoginOptions) => {
      const token = await loginToken(options, io);
      const { client, connection } = await connect({ server: options.server, token }, io);
      const identity = await client.whoami();
      writeConfig(configPath(io), { server: connection.server, token });
      outputFor(options, io).show(
        identity,
        (body) => `Logged in to ${connection.server} as ${body.username}`,
      );
    });
}

async function loginToken(options: LoginOptions, io: CliIo): Promise<string> {
  if (options.tokenStdin && options.token !== undefined) {
    throw new CliUsageError('--token and --token-stdin: pass the token one way, not both');
  }
  const token = options.tokenStdin
    ? (await io.readStdin()).trim()
    : (options.token ?? io.env.PAVE_TOKEN)?.trim();
  if (!token) {
    throw new CliUsageError(
      options.tokenStdin
        ? '--token-stdin: standard input was empty; pipe the token in'
        : 'no token to log in with; pass --token T or --token-stdin (create one with `pave tokens create NAME`)',
    );
  }
  return token;
}
