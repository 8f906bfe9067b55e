import { Option } from 'commander';
import type { Command } from 'commander';
import type { PaveClient } from '@pave/core';
import { connect, DEFAULT_SERVER } from '../connection.ts';
import type { Connection, ConnectionFlags } from '../connection.ts';
import type { CliIo } from '../io.ts';
import { colorsFor } from '../output/colors.ts';
import { CommandOutput, OUTPUT_FORMATS } from '../output/output.ts';
import type { OutputFormat } from '../output/output.ts';

// Kept here for the commands that import it with the client options; ../cli.ts takes it from ../help-text.ts.
export { examples } from '../help-text.ts';

/** The options every client command takes: where the server is, how to authenticate, how to print. */
export interface ClientOptions extends ConnectionFlags {
  output: OutputFormat;
}

/** Adds `-o, --output <format>` (table, json or yaml) to `command`. */
export function addOutputOption(command: Command): Command {
  return command.addOption(
    new Option(
      '-o, --output <format>',
      'print a table for people, or the API data for scripts as JSON or YAML',
    )
      .choices(OUTPUT_FORMATS)
      .default('table'),
  );
}

/** Adds the connection flags (--server, --token, --data-dir) and --output to a client command. */
export function addClientOptions(command: Command): Command {
  command
    .option(
      '--server <url>',
      `Pave server URL (env PAVE_SERVER; default: the logged-in server, else ${DEFAULT_SERVER})`,
    )
    .option('--token <token>', 'API token (env PAVE_TOKEN; default: the one saved by `pave login`)')
    .option(
      '--data-dir <dir>',
      'data dir of a local `pave up`, whose admin.token is used last (env PAVE_DATA_DIR; default ~/.pave)',
    );
  return addOutputOption(command);
}

/** How `command`'s results are printed, per its --output flag and whether stdout is a terminal. */
export function outputFor(options: { output: OutputFormat }, io: CliIo): CommandOutput {
  return new CommandOutput(options.output, io.stdout, colorsFor(io.stdout, io.env));
}

/** Resolves the server and token for a client command and returns an API client plus its output. */
export async function clientFor(
  options: ClientOptions,
  io: CliIo,
): Promise<{ client: PaveClient; connection: Connection; output: CommandOutput }> {
  const { client, connection } = await connect(options, io);
  return { client, connection, output: outputFor(options, io) };
}
