import { Command } from 'commander';
import cliPackage from '../package.json' with { type: 'json' };
import { registerAdminCommands } from './commands/admin.ts';
import { registerAppsCommands } from './commands/apps.ts';
import { registerAuditCommand } from './commands/audit.ts';
import { isCanIDenied, registerAuthCommands } from './commands/auth.ts';
import { examples } from './commands/client-options.ts';
import { registerDefsCommands } from './commands/defs.ts';
import { registerPoliciesCommands } from './commands/policies.ts';
import { registerProfilesCommands } from './commands/profiles.ts';
import { registerTemplatesCommands } from './commands/templates.ts';
import { registerInitCommand } from './commands/init.ts';
import { registerDeployCommand } from './commands/deploy.ts';
import { registerDeploymentsCommands } from './commands/deployments.ts';
import { registerDiffCommand } from './commands/diff.ts';
import { registerEnvTypesCommands } from './commands/env-types.ts';
import { registerEnvsCommands } from './commands/envs.ts';
import { registerLoginCommand } from './commands/login.ts';
import { registerLogsCommand } from './commands/logs.ts';
import { registerEventsCommand } from './commands/events.ts';
import { registerCatalogCommands } from './commands/catalog.ts';
import { registerArtifactsCommands } from './commands/artifacts.ts';
import { registerRulesCommands } from './commands/rules.ts';
import { registerPromoteCommand } from './commands/promote.ts';
import { registerRenderCommand } from './commands/render.ts';
import { registerResourcesCommands } from './commands/resources.ts';
import { registerRolesCommands } from './commands/roles.ts';
import { registerRollbackCommand } from './commands/rollback.ts';
import { registerStatusCommand } from './commands/status.ts';
import { registerTargetsCommands } from './commands/targets.ts';
import { registerTokensCommands } from './commands/tokens.ts';
import { registerTeamsCommands } from './commands/teams.ts';
import { registerUsersCommands } from './commands/users.ts';
import { registerUpCommand } from './commands/up.ts';
import { registerValidateCommand } from './commands/validate.ts';
import { registerValuesCommands } from './commands/values.ts';
import { registerWhoamiCommand } from './commands/whoami.ts';
import { registerWebhooksCommands } from './commands/webhooks.ts';
import { registerApprovalsCommands } from './commands/approvals.ts';
import { registerInsightsCommand } from './commands/insights.ts';
import { EXIT_USAGE, exitCodeFor, formatError } from './errors.ts';
import type { CliIo } from './io.ts';
import { colorsFor } from './output/colors.ts';

const ENVIRONMENT_HELP = `
Environment:
  PAVE_SERVER    server URL for client commands (default: the logged-in server, else http://127.0.0.1:7300)
  PAVE_TOKEN     API token for client commands
  PAVE_DATA_DIR  data directory of \`pave up\` (default ~/.pave); its admin.token is used for a local server
  PAVE_CONFIG    path of the config file \`pave login\` writes
  NO_COLOR       set to turn colour off
  PAVE_DEBUG     set to 1 to print stack traces of unexpected errors
`;

/**
 * Builds the `pave` command tree. Commander is told not to exit the process and to print its own usage
 * errors in Pave's `pave: error: ...` form; {@link runCli} turns what it throws into exit codes.
 */
export function createProgram(io: CliIo): Command {
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

  registerUpCommand(program);
  registerLoginCommand(program, io);
  registerWhoamiCommand(program, io);
  registerAppsCommands(program, io);
  registerEnvTypesCommands(program, io);
  registerDefsCommands(program, io);
  registerPoliciesCommands(program, io);
  registerProfilesCommands(program, io);
  registerTemplatesCommands(program, io);
  registerInitCommand(program, io);
  registerTargetsCommands(program, io);
  registerEnvsCommands(program, io);
  registerResourcesCommands(program, io);
  registerValuesCommands(program, io);
  registerDeployCommand(program, io);
  registerStatusCommand(program, io);
  registerLogsCommand(program, io);
  registerDeploymentsCommands(program, io);
  registerDiffCommand(program, io);
  registerRenderCommand(program, io);
  registerRollbackCommand(program, io);
  registerPromoteCommand(program, io);
  registerApprovalsCommands(program, io);
  registerInsightsCommand(program, io);
  registerTokensCommands(program, io);
  registerUsersCommands(program, io);
  registerTeamsCommands(program, io);
  registerRolesCommands(program, io);
  registerAuthCommands(program, io);
  registerAuditCommand(program, io);
  registerEventsCommand(program, io);
  registerCatalogCommands(program, io);
  registerWebhooksCommands(program, io);
  registerArtifactsCommands(program, io);
  registerRulesCommands(program, io);
  registerAdminCommands(program, io);
  registerValidateCommand(program, io);
  return program;
}

/**
 * Runs `pave` with `argv` (as in process.argv: node, script, then the arguments) and resolves with the
 * exit code: 0 on success, 1 when the server refused or could not be reached (or anything unexpected
 * failed), 2 for usage errors. Errors are printed to stderr, never thrown.
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const program = createProgram(io);
  try {
    await program.parseAsync([...argv]);
    return 0;
  } catch (error) {
    // Commander has already printed its message (or the help/version it was asked for).
    if (isCommanderError(error)) return error.exitCode === 0 ? 0 : EXIT_USAGE;
    // `pave auth can-i` printed its "no" already; the exit code says the rest.
    if (isCanIDenied(error)) return exitCodeFor(error);
    const colors = colorsFor(io.stderr, io.env);
    io.stderr.write(formatError(error, { highlight: colors.red, debug: io.env.PAVE_DEBUG === '1' }));
    return exitCodeFor(error);
  }
}

function isCommanderError(error: unknown): error is { exitCode: number; code: string } {
  return (
    error instanceof Error &&
    (error.name === 'CommanderError' || error.name === 'InvalidArgumentError') &&
    typeof (error as { exitCode?: unknown }).exitCode === 'number'
  );
}

// Commander writes "error: <message>\n(Did you mean …?)\n"; Pave's form is "pave: error: <message>" with any
// further lines indented under it.
function formatCommanderError(text: string, prefix: string): string {
  const [first = '', ...rest] = text.trimEnd().split('\n');
  const lines = [`${prefix} ${first.replace(/^error: /, '')}`, ...rest.map((line) => `  ${line}`)];
  return `${lines.join('\n')}\n`;
}
