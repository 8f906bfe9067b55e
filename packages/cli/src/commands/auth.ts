import type { Command } from 'commander';
import type { CanIResult, Permission } from '@pave/core';
import { CanIDeniedError, CliUsageError } from '../errors.ts';
import type { CliIo } from '../io.ts';
import type { Colors } from '../output/colors.ts';
import { colorsFor } from '../output/colors.ts';
import { addClientOptions, clientFor, examples } from './client-options.ts';
import type { ClientOptions } from './client-options.ts';

type CanIOptions = ClientOptions & { app?: string; env?: string; as?: string };

/** The @pave/core module, loaded on demand. */
export type PaveCore = typeof import('@pave/core');

/**
 * Adds help text made from @pave/core's data to the subcommands of `group`. Core (and zod with it) is
 * imported only once `group` is dispatched to (to run a subcommand or show its help, `--help` or
 * `pave GROUP help SUB`), so `pave --help` and every other command start without it. Runs only under
 * `parseAsync`, which is how runCli parses.
 */
export function addHelpFromCore(
  group: Command,
  text: (subcommand: string, core: PaveCore) => string | undefined,
): void {
  group.parent?.hook('preSubcommand', async (_parent, dispatched) => {
    if (dispatched !== group) return;
    const core = await import('../core.ts');
    for (const subcommand of group.commands) {
      const help = text(subcommand.name(), core);
      if (help !== undefined) subcommand.addHelpText('after', help);
    }
  });
}

/** `pave auth can-i`: whether the server would allow an action, and why. */
export function registerAuthCommands(program: Command, io: CliIo): void {
  const auth = program
    .command('auth')
    .description('Ask the server what you (or, for admins, another user) may do')
    .addHelpText(
      'after',
      examples('pave auth can-i deployment.create --app shop --env prod', 'pave auth can-i app.create'),
    );

  addClientOptions(
    auth
      .command('can-i')
      .summary('Ask whether an action is allowed, and which role allows or is missing')
      .description(
        'Ask whether an action is allowed, and why: prints `yes — <reason>` and exits 0, or `no — <reason>` ' +
          'and exits 1 (also with -o json). Actions on an app need --app; with --env the rules of its ' +
          'environment type apply too (restricted types need the deployer role). Admins may ask for another ' +
          'user with --as.',
      )
      .argument('<action>', 'the permission to check, e.g. deployment.create (listed below)')
      .option('--app <app>', 'the application the action concerns')
      .option('--env <env>', "an environment of --app: checks its type's restrictions too")
      .option('--as <user>', 'ask for this user instead of yourself (admins)'),
  )
    .addHelpText(
      'after',
      examples(
        'pave auth can-i deployment.create --app shop --env prod',
        'pave auth can-i values.reveal --app shop --as alice',
        'pave auth can-i app.create -o json',
      ),
    )
    .action(async (action: string, options: CanIOptions) => {
      const { PERMISSIONS, isPermission } = await import('../core.ts');
      if (!isPermission(action)) {
        throw new CliUsageError(unknownActionMessage(action, Object.keys(PERMISSIONS)));
      }
      if (options.env !== undefined && options.app === undefined) {
        throw new CliUsageError('--env names an environment of an app; add --app APP');
      }
      const { client, output } = await clientFor(options, io);
      const answer = await client.canI({
        action,
        ...(options.app !== undefined ? { app: options.app } : {}),
        ...(options.env !== undefined ? { env: options.env } : {}),
        ...(options.as !== undefined ? { as: options.as } : {}),
      });
      output.show(answer, (body) => formatCanIAnswer(body, colorsFor(io.stdout, io.env)));
      if (!answer.allowed) throw new CanIDeniedError(`${answer.as} may not ${answer.action}`);
    });

  addHelpFromCore(auth, (subcommand, core) =>
    subcommand === 'can-i' ? actionsHelp(core.PERMISSIONS) : undefined,
  );
}

/** One line for people: `yes — <reason>` or `no — <reason>`, the answer green or red when colour is on. */
export function formatCanIAnswer(answer: Pick<CanIResult, 'allowed' | 'reason'>, colors: Colors): string {
  return answer.allowed
    ? `${colors.green('yes')} — ${answer.reason}`
    : `${colors.red('no')} — ${answer.reason}`;
}

// The "Actions:" help section: every permission with what it allows, aligned.
function actionsHelp(permissions: Record<Permission, string>): string {
  const entries = Object.entries(permissions);
  const width = Math.max(...entries.map(([name]) => name.length));
  return `\nActions:\n${entries.map(([name, what]) => `  ${name.padEnd(width)}  ${what}`).join('\n')}\n`;
}

// Names the actions that share the mistyped one's resource (`deployment` -> deployment.read, ...), if any.
function unknownActionMessage(action: string, actions: readonly string[]): string {
  const resource = action.split('.')[0] ?? '';
  const near = actions.filter((name) => resource !== '' && name.split('.')[0] === resource);
  const all = '`pave auth can-i --help` lists them all';
  return near.length > 0
    ? `"${action}" is not an action; did you mean ${near.join(', ')}? (${all})`
    : `"${action}" is not an action; ${all}`;
}
