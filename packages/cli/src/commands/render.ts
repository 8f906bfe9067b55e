import { Command, Option } from 'commander';
import type { ApiError } from '@pave/core';
import type { CliIo } from '../io.ts';
import { addClientOptions, clientFor, examples } from './client-options.ts';
import type { ClientOptions } from './client-options.ts';

/** How `pave render` prints: the manifests as YAML (the default), or the API's JSON for scripts. */
export type RenderOutput = 'yaml' | 'json';

/** What `pave render` renders: a kubernetes target's manifests (`yaml`, the default), or a Compose file. */
export type RenderTextFormat = 'yaml' | 'compose';

type RenderOptions = Omit<ClientOptions, 'output'> & {
  app: string;
  env: string;
  target?: string;
  format: RenderTextFormat;
  output: RenderOutput;
};

/**
 * `pave render`: an environment's current deployment set as the manifests a runtime target would apply, or
 * (`--format compose`) as a Compose file for Docker Compose or podman-compose.
 */
export function registerRenderCommand(program: Command, io: CliIo): void {
  const render = program
    .command('render')
    .summary('Print the manifests an environment would apply on a runtime target, or a Compose file')
    .description(
      "Render an environment's current deployment set for a runtime target and print the manifests as " +
        'multi-document YAML, keys sorted, ready for `kubectl apply -f -` or a diff. Nothing is applied. ' +
        'The target defaults to the one the environment runs on (see `pave targets match`).\n\n' +
        'With --format compose, print the set as a Compose file instead, whatever target it runs on, for ' +
        '`docker compose` or `podman-compose`: one service per container, ports published on 127.0.0.1 at ' +
        "Pave's host ports, files as configs. Secret values are never printed: they are ${VAR} references, " +
        'and the header says which variables to export and what was left out (routes, liveness probes).',
    )
    .requiredOption('--app <app>', 'the application')
    .requiredOption('--env <env>', 'the environment')
    .option(
      '--target <id>',
      'render for this runtime target instead (see `pave targets list`; one the environment neither runs on nor matches needs target.read)',
    )
    .addOption(
      new Option('--format <format>', 'the manifests of a kubernetes target (yaml), or a Compose file')
        .choices(['yaml', 'compose'] satisfies RenderTextFormat[])
        .default('yaml'),
    );
  addConnectionOptions(render)
    .addOption(
      new Option('-o, --output <format>', 'print the manifests as YAML, or the API JSON for scripts')
        .choices(['yaml', 'json'] satisfies RenderOutput[])
        .default('yaml'),
    )
    .addHelpText(
      'after',
      examples(
        'pave render --app shop --env prod',
        'pave render --app shop --env prod --target prod-cluster | kubectl diff -f -',
        'pave render --app shop --env dev -o json',
        'pave render --app shop --env dev --format compose > compose.yaml && docker compose -f compose.yaml up',
      ),
    );
  render.action(async (options: RenderOptions) => {
    // The shared output helper knows `table` and `json`: YAML is this command's text for people, so it is
    // passed as `table`, and `-o json` prints the API's JSON like every other command.
    const format = options.output === 'json' ? 'json' : 'table';
    const { client, output } = await clientFor({ ...options, output: format }, io);
    const result = await client
      .render(options.app, options.env, {
        target: options.target,
        ...(options.format === 'compose' ? { format: 'compose' as const } : {}),
      })
      .catch((error: unknown) => {
        throw inFlags(error);
      });
    // The manifests as they came: `show` adds the final newline, so theirs is taken off first.
    output.show(result, (body) => body.manifests.replace(/\n$/, ''));
  });
}

// The server's refusals of the target (`query.target`, printed as `--target`) told in this command's flags:
// for manifests, a target that is no kubernetes one (given, or the one the environment runs on) is refused,
// and the ways out are another target or a Compose file; a Compose file takes no target. Other refusals of
// the target (not a DNS label) are left as they are.
function inFlags(error: unknown): unknown {
  // By name, not instanceof: the bundle may hold a copy of @pave/core of its own.
  if (!(error instanceof Error) || error.name !== 'ApiError') return error;
  const apiError = error as ApiError;
  const told = (field: { path: string; message: string }): string | undefined => {
    if (field.path !== 'query.target') return undefined;
    if (field.message.startsWith('name a kubernetes target')) {
      return (
        'name a kubernetes target with --target ID (`pave targets list` shows them), or print a Compose ' +
        'file with --format compose'
      );
    }
    if (field.message.startsWith('leave the target out')) {
      return 'leave --target out with --format compose: a Compose file does not depend on a runtime target';
    }
    return undefined;
  };
  const fields = apiError.problem.errors ?? [];
  if (!fields.some((field) => told(field) !== undefined)) return error;
  const errors = fields.map((field) => ({ ...field, message: told(field) ?? field.message }));
  // A new error of the same class rather than a change: `problem` is read-only.
  const ApiErrorClass = apiError.constructor as typeof ApiError;
  return new ApiErrorClass(apiError.status, { ...apiError.problem, errors });
}

// The connection flags of every client command (--server, --token, --data-dir), taken from the shared helper
// so that they read the same here; its -o (table or json) is left out for this command's own (yaml or json).
function addConnectionOptions(command: Command): Command {
  const shared = addClientOptions(new Command());
  for (const option of shared.options) {
    if (option.long !== '--output') command.addOption(option);
  }
  return command;
}
