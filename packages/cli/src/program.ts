import type { Command } from 'commander';
import { registerAdminCommands } from './commands/admin.ts';
import { registerAppsCommands } from './commands/apps.ts';
import { registerAuditCommand } from './commands/audit.ts';
import { registerAuthCommands } from './commands/auth.ts';
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
import { registerLogoutCommand } from './commands/logout.ts';
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
import { registerDownCommand } from './commands/down.ts';
import { registerValidateCommand } from './commands/validate.ts';
import { registerValuesCommands } from './commands/values.ts';
import { registerWhoamiCommand } from './commands/whoami.ts';
import { registerWebhooksCommands } from './commands/webhooks.ts';
import { registerApprovalsCommands } from './commands/approvals.ts';
import { registerInsightsCommand } from './commands/insights.ts';
import { COMMANDS, rootCommand } from './cli.ts';
import type { CommandName, Registration } from './cli.ts';
import type { CliIo } from './io.ts';

export { runCli } from './cli.ts';

// Every command's registration, loaded up front; the compiler keeps this list and cli.ts's COMMANDS the same.
const REGISTRATIONS = {
  up: registerUpCommand,
  down: registerDownCommand,
  login: registerLoginCommand,
  logout: registerLogoutCommand,
  whoami: registerWhoamiCommand,
  apps: registerAppsCommands,
  'env-types': registerEnvTypesCommands,
  defs: registerDefsCommands,
  policies: registerPoliciesCommands,
  profiles: registerProfilesCommands,
  templates: registerTemplatesCommands,
  init: registerInitCommand,
  targets: registerTargetsCommands,
  envs: registerEnvsCommands,
  resources: registerResourcesCommands,
  values: registerValuesCommands,
  deploy: registerDeployCommand,
  status: registerStatusCommand,
  logs: registerLogsCommand,
  deployments: registerDeploymentsCommands,
  diff: registerDiffCommand,
  render: registerRenderCommand,
  rollback: registerRollbackCommand,
  promote: registerPromoteCommand,
  approvals: registerApprovalsCommands,
  insights: registerInsightsCommand,
  tokens: registerTokensCommands,
  users: registerUsersCommands,
  teams: registerTeamsCommands,
  roles: registerRolesCommands,
  auth: registerAuthCommands,
  audit: registerAuditCommand,
  events: registerEventsCommand,
  catalog: registerCatalogCommands,
  webhooks: registerWebhooksCommands,
  artifacts: registerArtifactsCommands,
  rules: registerRulesCommands,
  admin: registerAdminCommands,
  validate: registerValidateCommand,
} satisfies Record<CommandName, Registration>;

/**
 * Builds the whole `pave` command tree at once, in the order `pave --help` lists it (for tests and tools that
 * walk it). The `pave` executable does not use this: {@link runCli} loads only the command it runs.
 */
export function createProgram(io: CliIo): Command {
  const program = rootCommand(io);
  for (const name of Object.keys(COMMANDS) as CommandName[]) REGISTRATIONS[name](program, io);
  return program;
}
