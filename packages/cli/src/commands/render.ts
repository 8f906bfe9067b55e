import { Command, Option } from 'commander';
import type { CliIo } from '../io.ts';
import { addClientOptions, clientFor, examples } from './client-options.ts';
import type { ClientOptions } from './client-options.ts';

/** How `pave render` prints: the manifests as YAML (the default), or the API's JSON for scripts. */
export type RenderFormat = 'yaml' | 'json';

type RenderOptions = Omit<ClientOptions, 'output'> & {
  app: string;
  env: string;
  target?: string;
  output: RenderFormat;
};

/** `pave render`: an environment's current deployment set as the manifests a runtime target would apply. */
export function registerRenderCommand(program: Command, io: CliIo): void {
  const render = program
    .command('render')
    .summary('Print the manifests an environment would apply on a runtime target, applying nothing')
    .description(
      "Render an environment's current deployment set for a runtime target and print the manifests as " +
        'multi-document YAML, keys sorted, ready for `kubectl apply -f -` or a diff. Nothing is applied. ' +
        'The target defaults to the one the environment runs on (see `pave targets match`).',
    )
    .requiredOption('--app <app>', 'the application')
    .requiredOption('--env <env>', 'the environment')
    .option('--target <id>', 'render for this runtime target instead (see `pave targets list`)');
  addConnectionOptions(render)
    .addOption(
      new Option('-o, --output <format>', 'print the manifests as YAML, or the API JSON for scripts')
        .choices(['yaml', 'json'] satisfies RenderFormat[])
        .default('yaml'),
    )
    .addHelpText(
      'after',
      examples(
        'pave render --app shop --env prod',
        'pave render --app shop --env prod --target prod-cluster | kubectl diff -f -',
        'pave render --app shop --env dev -o json',
      ),
    );
  render.action(async (options: RenderOptions) => {
    // The shared output helper knows `table` and `json`: YAML is this command's text for people, so it is
    // passed as `table`, and `-o json` prints the API's JSON like every other command.
    const format = options.output === 'json' ? 'json' : 'table';
    const { client, output } = await clientFor({ ...options, output: format }, io);
    const result = await client.render(options.app, options.env, { target: options.target });
    // The manifests as they came: `show` adds the final newline, so theirs is taken off first.
    output.show(result, (body) => body.manifests.replace(/\n$/, ''));
  });
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
