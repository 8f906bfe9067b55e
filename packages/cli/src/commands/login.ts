import type { Command } from 'commander';
import { configPath, writeConfig } from '../config.ts';
import { connect, createClient, DEFAULT_SERVER, resolveServer } from '../connection.ts';
import { CliUsageError } from '../errors.ts';
import { notPaveAnswerError } from '../server-answers.ts';
import { ssoLogin } from '../sso-login.ts';
import type { CliIo } from '../io.ts';
import type { OutputFormat } from '../output/output.ts';
import { formatTime } from '../output/time.ts';
import { addOutputOption, examples, outputFor } from './client-options.ts';

interface LoginOptions {
  server?: string;
  token?: string;
  tokenStdin?: boolean;
  username?: string;
  passwordStdin?: boolean;
  sso?: boolean;
  browser: boolean;
  output: OutputFormat;
}

/** `pave login`: checks a token (or logs in with a username and password) and saves it for later commands. */
export function registerLoginCommand(program: Command, io: CliIo): void {
  addOutputOption(
    program
      .command('login')
      .description(
        'Check a token with the server, or log in with a username and password, and save the server and ' +
          'token for later commands',
      )
      .option(
        '--server <url>',
        `Pave server URL (env PAVE_SERVER; default: the logged-in server, else ${DEFAULT_SERVER})`,
      )
      .option('--token <token>', 'API token to save (env PAVE_TOKEN)')
      .option('--token-stdin', 'read the token from standard input, keeping it out of shell history')
      .option(
        '--username <name>',
        'log in as this user with their password (asked for on a terminal); saves a token valid for 12 hours',
      )
      .option('--password-stdin', 'with --username: read the password from standard input')
      .option(
        '--sso',
        "sign in with the server's single sign-on in a browser; saves a token valid for 12 hours",
      )
      .option('--no-browser', 'with --sso: only print the sign-in URL, do not open a browser'),
  )
    .addHelpText(
      'after',
      '\nThe server and token are saved (mode 0600) in $PAVE_CONFIG, else $XDG_CONFIG_HOME/pave/config.json,\n' +
        'else ~/.config/pave/config.json. Later commands use the token when they talk to the same server;\n' +
        '`pave logout` forgets them.\n' +
        examples(
          'pave login --server https://pave.example.com --token pave_0123abcd',
          'pave login --server http://127.0.0.1:7300 --token-stdin < ~/.pave/admin.token',
          'pave login --server https://pave.example.com --username alice',
          'pave login --username alice --password-stdin < ~/.pave-password',
          'pave login --server https://pave.example.com --sso',
        ),
    )
    .action(async (options: LoginOptions) => {
      const username = options.username;
      if (username !== undefined && (options.token !== undefined || options.tokenStdin)) {
        throw new CliUsageError(
          '--username and --token/--token-stdin: log in with a password or with a token, not both',
        );
      }
      if (options.sso && (username !== undefined || options.token !== undefined || options.tokenStdin)) {
        throw new CliUsageError(
          '--sso signs in in a browser: leave out --username and --token/--token-stdin',
        );
      }
      if (!options.browser && !options.sso) {
        throw new CliUsageError(
          '--no-browser goes with --sso: it prints the sign-in URL instead of opening it',
        );
      }
      const token = options.sso
        ? await ssoLogin(resolveServer({ server: options.server }, io), io, { openBrowser: options.browser })
        : username === undefined
          ? await loginToken(options, io)
          : await passwordLogin(options, username, io);
      const { client, connection } = await connect({ server: options.server, token }, io);
      const identity = await client.whoami();
      // Another JSON API behind a mistyped --server would not fail here but be saved as the login.
      if (typeof identity.username !== 'string') throw notPaveAnswerError(io);
      writeConfig(configPath(io), { server: connection.server, token });
      outputFor(options, io).show(identity, (body) =>
        username === undefined && !options.sso
          ? `Logged in to ${connection.server} as ${body.username}`
          : `Logged in to ${connection.server} as ${body.username} until ${formatTime(body.token.expiresAt, 'never')}`,
      );
    });
}

async function loginToken(options: LoginOptions, io: CliIo): Promise<string> {
  if (options.passwordStdin) {
    throw new CliUsageError('--password-stdin goes with --username NAME: the password of that user');
  }
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
        : 'no token to log in with; pass --token T or --token-stdin (create one with `pave tokens create NAME`), ' +
            'or --username NAME to log in with a password',
    );
  }
  return token;
}

// Exchanges the username and password for a token; the request needs no token of its own.
async function passwordLogin(options: LoginOptions, username: string, io: CliIo): Promise<string> {
  const password = await readPassword(io, {
    fromStdin: options.passwordStdin === true,
    question: `Password for ${username}: `,
  });
  const server = resolveServer({ server: options.server }, io);
  const client = await createClient(server, undefined, io);
  const result = await client.login({ username, password });
  return result.token;
}

/**
 * Reads a password: the whole of standard input with `fromStdin` (one final newline dropped), otherwise
 * typed unseen on a terminal (`confirm`: asked twice, and both must match). Throws CliUsageError when it is
 * empty, or when there is no terminal to ask on (naming --password-stdin).
 */
export async function readPassword(
  io: CliIo,
  options: { fromStdin: boolean; question: string; confirm?: string },
): Promise<string> {
  if (options.fromStdin) {
    const password = (await io.readStdin()).replace(/\r?\n$/, '');
    if (!password)
      throw new CliUsageError('--password-stdin: standard input was empty; pipe the password in');
    const lines = password.split(/\r?\n/).length;
    if (lines > 1) {
      throw new CliUsageError(
        `--password-stdin: standard input has ${lines} lines; pipe the password alone, on one line`,
      );
    }
    return password;
  }
  if (!io.stdinIsTTY || !io.askSecret) {
    throw new CliUsageError(
      'no password: stdin is not a terminal, so pave cannot ask for one; pass --password-stdin and pipe it in',
    );
  }
  const password = await io.askSecret(options.question);
  if (!password) throw new CliUsageError('no password was typed');
  if (options.confirm !== undefined && (await io.askSecret(options.confirm)) !== password) {
    throw new CliUsageError('the two passwords differ; nothing was changed');
  }
  return password;
}
