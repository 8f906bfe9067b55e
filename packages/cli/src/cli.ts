import { Command } from 'commander';
import cliPackage from '../package.json' with { type: 'json' };
import { EXIT_USAGE, exitCodeFor, formatError, isCanIDenied } from './errors.ts';
import { examples } from './help-text.ts';
import type { CliIo } from './io.ts';
import { colorsFor } from './output/colors.ts';

const ENVIRONMENT_HELP = `
Environment:
  PAVE_SERVER    server URL for client commands (default: the logged-in server, else http://127.0.0.1:7300)
  PAVE_TOKEN     API token for client commands
  PAVE_DATA_DIR  data directory of \`pave up\` (default ~/.pave); its admin.token is used for a local server
  PAVE_CONFIG    path of the config file \`pave login\` writes
  PAVE_TIMEOUT   seconds allowed to connect, to send each part of a request, and for its whole answer once
                 sent (default 60; 0: no limit); the answers to \`envs delete\`, \`apps delete\`, \`--plan\` and
                 \`resources check\` (the server answers when its drivers are done) and streams (\`logs -f\`,
                 \`events -f\`) have no limit; \`--wait\` allows it to each of its requests
  NO_COLOR       set to turn colour off
  PAVE_DEBUG     set to 1 to print stack traces of unexpected errors

Exit status:
  0  done
  1  failed: the server refused or could not be reached, a deployment failed, a file has problems, or a
     check found something (\`status --exit-code\`, \`audit verify\`, \`auth can-i\`, \`policies test\`)
  2  the command was called the wrong way (a flag, an argument, a value)
  3  \`resources check\` found a resource that is not ok
  4  \`--wait-timeout\` ran out while the deployment was still pending
`;

/** Adds one top-level command (with its subcommands) to the program. */
export type Registration = (program: Command, io: CliIo) => void;

/**
 * Every top-level command, in the order `pave --help` lists them, with how to add it to the program. A command's
 * module (and what it imports: the API client, zod, YAML, ...) is loaded only when that command is about to run
 * or every command's help is asked for, so `pave apps list` does not compile the code of every other command.
 */
export const COMMANDS = {
  up: async () => (await import('./commands/up.ts')).registerUpCommand,
  down: async () => (await import('./commands/down.ts')).registerDownCommand,
  login: async () => (await import('./commands/login.ts')).registerLoginCommand,
  logout: async () => (await import('./commands/logout.ts')).registerLogoutCommand,
  whoami: async () => (await import('./commands/whoami.ts')).registerWhoamiCommand,
  apps: async () => (await import('./commands/apps.ts')).registerAppsCommands,
  'env-types': async () => (await import('./commands/env-types.ts')).registerEnvTypesCommands,
  defs: async () => (await import('./commands/defs.ts')).registerDefsCommands,
  policies: async () => (await import('./commands/policies.ts')).registerPoliciesCommands,
  profiles: async () => (await import('./commands/profiles.ts')).registerProfilesCommands,
  templates: async () => (await import('./commands/templates.ts')).registerTemplatesCommands,
  init: async () => (await import('./commands/init.ts')).registerInitCommand,
  targets: async () => (await import('./commands/targets.ts')).registerTargetsCommands,
  envs: async () => (await import('./commands/envs.ts')).registerEnvsCommands,
  resources: async () => (await import('./commands/resources.ts')).registerResourcesCommands,
  values: async () => (await import('./commands/values.ts')).registerValuesCommands,
  deploy: async () => (await import('./commands/deploy.ts')).registerDeployCommand,
  status: async () => (await import('./commands/status.ts')).registerStatusCommand,
  logs: async () => (await import('./commands/logs.ts')).registerLogsCommand,
  deployments: async () => (await import('./commands/deployments.ts')).registerDeploymentsCommands,
  diff: async () => (await import('./commands/diff.ts')).registerDiffCommand,
  render: async () => (await import('./commands/render.ts')).registerRenderCommand,
  rollback: async () => (await import('./commands/rollback.ts')).registerRollbackCommand,
  promote: async () => (await import('./commands/promote.ts')).registerPromoteCommand,
  approvals: async () => (await import('./commands/approvals.ts')).registerApprovalsCommands,
  insights: async () => (await import('./commands/insights.ts')).registerInsightsCommand,
  tokens: async () => (await import('./commands/tokens.ts')).registerTokensCommands,
  users: async () => (await import('./commands/users.ts')).registerUsersCommands,
  teams: async () => (await import('./commands/teams.ts')).registerTeamsCommands,
  roles: async () => (await import('./commands/roles.ts')).registerRolesCommands,
  auth: async () => (await import('./commands/auth.ts')).registerAuthCommands,
  audit: async () => (await import('./commands/audit.ts')).registerAuditCommand,
  events: async () => (await import('./commands/events.ts')).registerEventsCommand,
  catalog: async () => (await import('./commands/catalog.ts')).registerCatalogCommands,
  webhooks: async () => (await import('./commands/webhooks.ts')).registerWebhooksCommands,
  artifacts: async () => (await import('./commands/artifacts.ts')).registerArtifactsCommands,
  rules: async () => (await import('./commands/rules.ts')).registerRulesCommands,
  admin: async () => (await import('./commands/admin.ts')).registerAdminCommands,
  validate: async () => (await import('./commands/validate.ts')).registerValidateCommand,
} satisfies Record<string, () => Promise<Registration>>;

/** The name of a top-level command. */
export type CommandName = keyof typeof COMMANDS;

/**
 * The `pave` command without its subcommands. Commander is told not to exit the process and to print its own
 * usage errors in Pave's `pave: error: ...` form; {@link runCli} turns what it throws into exit codes.
 */
export function rootCommand(io: CliIo): Command {
  const errorPrefix = colorsFor(io.stderr, io.env).red('pave: error:');
  const program = new Command('pave')
    .description(
      'Pave: an Internal Developer Platform. Run the control plane with `pave up`; the other commands are its clients.',
    )
    .version(cliPackage.version, '-V, --version', 'print the version of pave')
    // `pave --version` before any command; after one, `--version N` is that command's (`pave init --version 1`).
    .enablePositionalOptions()
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      outputError: (text, write) => write(formatCommanderError(text, errorPrefix)),
    })
    .addHelpText(
      'after',
      examples(
        'pave up',
        'pave apps create shop',
        'pave envs create dev --app shop --type development',
        'pave deploy -f score.yaml --app shop --env dev --wait',
        'pave login --server https://pave.example.com --token pave_0123abcd',
      ) + ENVIRONMENT_HELP,
    );

  // Only the command named on the command line; all of them for `pave`, `pave --help`, `pave help ...` or a
  // name that is not a command (so commander can list them or suggest the nearest).
  return program;
}

/**
 * Runs `pave` with `argv` (as in process.argv: node, script, then the arguments) and resolves with the
 * exit code: 0 on success, 1 when the server refused or could not be reached (or anything unexpected
 * failed), 2 for usage errors. Errors are printed to stderr, never thrown.
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  // The command whose action ran: its flags name the route parameters a refusal may point at.
  let ran: Command | undefined;
  try {
    const program = rootCommand(io);
    loadClientAhead(argv);
    // Loaded side by side, added in order.
    const registrations = await Promise.all(commandsFor(argv).map((load) => load()));
    for (const register of registrations) register(program, io);
    program.hook('preAction', async (_program, command) => {
      ran = command;
      if (command.opts().output === 'yaml') await (await import('./output/output.ts')).loadYamlOutput();
    });
    await program.parseAsync([...argv]);
    return 0;
  } catch (error) {
    // Commander has already printed its message (or the help/version it was asked for).
    if (isCommanderError(error)) return error.exitCode === 0 ? 0 : EXIT_USAGE;
    // `pave auth can-i` printed its "no" already; the exit code says the rest.
    if (isCanIDenied(error)) return exitCodeFor(error);
    // A TypeError reading an answer of the server: the server is not Pave (said so, not the TypeError).
    const unreadable = (await import('./server-answers.ts')).unreadableAnswerError(error, io);
    const shown =
      unreadable ?? (ran ? (await import('./field-origins.ts')).namingCommandLine(error, ran) : error);
    const colors = colorsFor(io.stderr, io.env);
    io.stderr.write(formatError(shown, { highlight: colors.red, debug: io.env.PAVE_DEBUG === '1' }));
    if (isUnauthorized(error)) {
      const note = (await import('./connection.ts')).refusedTokenNote(io);
      if (note) io.stderr.write(`  (${note})\n`);
    }
    return exitCodeFor(error);
  }
}

/**
 * The commands the program needs to run `argv`: the top-level command its first operand names; none for
 * `pave --version` (commander prints the version before it looks at commands); every command otherwise, for
 * `pave`, `pave --help`, `pave -h apps`, `pave help ...` and a name that is not a command (commander lists
 * them or suggests the nearest). Only `-V`/`--version` and `-h`/`--help` (short ones also run together, as
 * `-hV`) can come before the command, and they take no value.
 */
function commandsFor(argv: readonly string[]): Array<() => Promise<Registration>> {
  const loaders: Record<string, () => Promise<Registration>> = COMMANDS;
  const args = argv.slice(2);
  const operand = args.findIndex((arg) => !arg.startsWith('-'));
  const leading = operand === -1 ? args : args.slice(0, operand);
  const given = (short: string, long: string) =>
    leading.some((arg) => arg === long || (/^-[^-]/.test(arg) && arg.includes(short)));
  if (given('h', '--help')) return Object.values(loaders);
  const first = operand === -1 ? undefined : args[operand]!;
  if (first !== undefined && Object.hasOwn(loaders, first)) return [loaders[first]!];
  if (first === undefined && given('V', '--version')) return [];
  return Object.values(loaders);
}

/** Top-level commands that do not call the API (`validate` does only with --app and --env). */
const OFFLINE_COMMANDS: ReadonlySet<string> = new Set(['up', 'down', 'logout', 'validate']);

/**
 * Starts loading the API client and the HTTP layer when `argv` names a command that calls the API, so they load
 * while the command's own module does rather than after it (see `connect`, which awaits the same modules).
 */
function loadClientAhead(argv: readonly string[]): void {
  const first = argv.slice(2).find((arg) => !arg.startsWith('-'));
  if (first === undefined || !Object.hasOwn(COMMANDS, first) || OFFLINE_COMMANDS.has(first)) return;
  // A failure shows where the modules are awaited; here it would only be an unhandled rejection.
  import('./api-client.ts').catch(() => undefined);
  import('./http-fetch.ts').catch(() => undefined);
}

// The server refused the token (401): an ApiError, recognised by name as every CLI error is.
function isUnauthorized(error: unknown): boolean {
  return (
    error instanceof Error && error.name === 'ApiError' && (error as { status?: unknown }).status === 401
  );
}

// By code, not by name: commander's errors take their names from their classes, which the bundle shortens.
function isCommanderError(error: unknown): error is { exitCode: number; code: string } {
  const { code, exitCode } = (error ?? {}) as { code?: unknown; exitCode?: unknown };
  return (
    error instanceof Error &&
    typeof code === 'string' &&
    code.startsWith('commander.') &&
    typeof exitCode === 'number'
  );
}

// Commander writes "error: <message>\n(Did you mean …?)\n"; Pave's form is "pave: error: <message>" with any
// further lines indented under it.
function formatCommanderError(text: string, prefix: string): string {
  const [first = '', ...rest] = text.trimEnd().split('\n');
  const lines = [`${prefix} ${first.replace(/^error: /, '')}`, ...rest.map((line) => `  ${line}`)];
  return `${lines.join('\n')}\n`;
}
