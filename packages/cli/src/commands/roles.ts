import type { Command } from 'commander';
import type { RoleGrant, RoleGrantBody } from '@pave/core';
import { CliUsageError } from '../errors.ts';
import type { CliIo } from '../io.ts';
import type { Column } from '../output/table.ts';
import { formatTime } from '../output/time.ts';
import { addHelpFromCore } from './auth.ts';
import type { PaveCore } from './auth.ts';
import { addClientOptions, clientFor, examples } from './client-options.ts';
import type { ClientOptions } from './client-options.ts';
import { emptyPageLine, pageQuery, withMoreLine } from './paging.ts';

type GrantOptions = ClientOptions & { user?: string; team?: string; app?: string; envType?: string };
type ListOptions = ClientOptions & { app?: string; user?: string; limit?: string; cursor?: string };

/** Where a grant is held, for tables: `org`, `app shop`, `env-type production`. */
export function formatRoleScope(scope: RoleGrant['scope']): string {
  return scope.kind === 'org' ? 'org' : `${scope.kind} ${scope.id ?? ''}`.trimEnd();
}

/** Who holds a grant: `user alice` or `team web`. */
export function formatRoleSubject(subject: RoleGrant['subject']): string {
  return `${subject.kind} ${subject.name}`;
}

const roleColumns: Column<RoleGrant>[] = [
  { header: 'role', value: (grant) => grant.role },
  { header: 'scope', value: (grant) => formatRoleScope(grant.scope) },
  { header: 'subject', value: (grant) => formatRoleSubject(grant.subject) },
  { header: 'granted by', value: (grant) => grant.createdBy },
  { header: 'granted at', value: (grant) => formatTime(grant.createdAt) },
];

/** `pave roles grant|revoke|list`: who holds which role, on the organisation, an app or an environment type. */
export function registerRolesCommands(program: Command, io: CliIo): void {
  const roles = program
    .command('roles')
    .summary('Grant, revoke and list roles of users and teams')
    .description(
      'Grant, revoke and list roles. A role is held by a user or a team, on the organisation (admin, ' +
        'platform, member), on one app (owner, developer, viewer) or on one environment type (deployer: ' +
        'needed besides an app role to deploy to a restricted type such as production; approver: approves ' +
        'deployments into a type that requires approval).',
    )
    .addHelpText(
      'after',
      examples(
        'pave roles grant developer --team web --app shop',
        'pave roles grant deployer --user alice --env-type production',
        'pave roles list --app shop',
      ),
    );

  addGrantOptions(
    roles
      .command('grant')
      .summary('Grant a role to a user or a team')
      .description(
        'Grant ROLE to a user or a team. The role decides where it is held: organisation roles take neither ' +
          '--app nor --env-type, app roles need --app, deployer and approver need --env-type. App owners grant app ' +
          'roles; admins grant the others.',
      ),
  )
    .addHelpText(
      'after',
      examples(
        'pave roles grant developer --team web --app shop',
        'pave roles grant viewer --user bob --app shop',
        'pave roles grant deployer --user alice --env-type production',
        'pave roles grant approver --user bob --env-type production',
        'pave roles grant platform --team infra',
      ),
    )
    .action(async (role: string, options: GrantOptions) => {
      const body = await roleGrantBody(role, options, 'grant');
      const { client, output } = await clientFor(options, io);
      output.show(
        await client.grantRole(body),
        (grant) =>
          `Granted ${grant.role} on ${grantScope(grant.scope)} to ${formatRoleSubject(grant.subject)}`,
      );
    });

  addGrantOptions(
    roles
      .command('revoke')
      .summary('Revoke a role from a user or a team')
      .description(
        'Revoke ROLE from a user or a team, naming it as it was granted (see `pave roles list`); the last ' +
          'org admin cannot be revoked.',
      ),
  )
    .addHelpText(
      'after',
      examples(
        'pave roles revoke developer --team web --app shop',
        'pave roles revoke deployer --user alice --env-type production',
      ),
    )
    .action(async (role: string, options: GrantOptions) => {
      const body = await roleGrantBody(role, options, 'revoke');
      const { client, output } = await clientFor(options, io);
      await client.revokeRole(body);
      const subject = body.user !== undefined ? `user ${body.user}` : `team ${body.team ?? ''}`;
      const scope: RoleGrant['scope'] =
        body.app !== undefined
          ? { kind: 'app', id: body.app }
          : body.envType !== undefined
            ? { kind: 'env-type', id: body.envType }
            : { kind: 'org' };
      output.confirm(`Revoked ${role} on ${grantScope(scope)} from ${subject}`);
    });

  addClientOptions(
    roles
      .command('list')
      .summary("List role grants: all, one app's or one user's, a page at a time")
      .description(
        'List role grants, in the order they were granted: with --app those on one app (its owners and ' +
          "developers may), with --user one user's own grants (not those through teams); without either " +
          'all of them (admins). A page at a time (--limit, --cursor)',
      )
      .option('--app <app>', 'only the grants on this app')
      .option('--user <user>', "only this user's direct grants")
      .option('--limit <n>', 'at most this many (100 unless given; at most 500)')
      .option('--cursor <cursor>', 'continue from a previous page (its nextCursor)'),
  )
    .addHelpText(
      'after',
      examples(
        'pave roles list --app shop',
        'pave roles list --user alice',
        'pave roles list --limit 20 -o json',
      ),
    )
    .action(async (options: ListOptions) => {
      const filters = {
        ...(options.app !== undefined ? { app: options.app } : {}),
        ...(options.user !== undefined ? { user: options.user } : {}),
      };
      const query = {
        ...filters,
        ...pageQuery(options, 'grants'),
      };
      const { client, output } = await clientFor(options, io);
      output.show(await client.listRoles(query), (page) => {
        const table = output.table(page.items, roleColumns, emptyListMessage(options));
        // The next page needs the same filters as this one.
        const filterFlags = [
          ...(filters.app !== undefined ? [` --app ${filters.app}`] : []),
          ...(filters.user !== undefined ? [` --user ${filters.user}`] : []),
        ];
        return withMoreLine(table, page.nextCursor, {
          items: 'grants',
          command: `pave roles list${filterFlags.join('')}`,
          limit: options.limit,
        });
      });
    });

  addHelpFromCore(roles, (subcommand, core) =>
    subcommand === 'grant' || subcommand === 'revoke' ? rolesHelp(core) : undefined,
  );
}

function addGrantOptions(command: Command): Command {
  return addClientOptions(
    command
      .argument('<role>', 'the role, e.g. developer (listed below)')
      .option('--user <user>', 'the user who holds the role')
      .option('--team <team>', 'the team that holds the role (its members have it)')
      .option('--app <app>', 'the app an app role is held on')
      .option('--env-type <type>', 'the environment type deployer or approver is held on'),
  );
}

/**
 * The body of a grant or revoke request, from ROLE and the flags; a CliUsageError (exit 2, nothing sent)
 * when the role is unknown, not exactly one of --user and --team is given, or the scope flags do not fit the
 * role.
 */
async function roleGrantBody(
  role: string,
  options: GrantOptions,
  verb: 'grant' | 'revoke',
): Promise<RoleGrantBody> {
  const core = await import('../core.ts');
  if (!core.isRole(role)) {
    throw new CliUsageError(`"${role}" is not a role; use ${roleList(core)}`);
  }
  if (options.user !== undefined && options.team !== undefined) {
    throw new CliUsageError(`--user and --team: ${verb} a role to one of them at a time`);
  }
  if (options.user === undefined && options.team === undefined) {
    throw new CliUsageError(
      `say who ${verb === 'grant' ? 'gets' : 'loses'} the role: add --user USER or --team TEAM`,
    );
  }
  const kind = core.roleScopeKind(role);
  if (kind === 'org' && (options.app !== undefined || options.envType !== undefined)) {
    const flag = options.app !== undefined ? '--app' : '--env-type';
    throw new CliUsageError(
      `${flag}: ${role} is an organisation role, held everywhere; drop --app and --env-type`,
    );
  }
  if (kind === 'app' && (options.app === undefined || options.envType !== undefined)) {
    throw new CliUsageError(
      options.app === undefined
        ? `${role} is an app role: name the app with --app APP`
        : `--env-type: ${role} is an app role, held on --app only; drop --env-type`,
    );
  }
  if (kind === 'env-type' && (options.envType === undefined || options.app !== undefined)) {
    throw new CliUsageError(
      options.envType === undefined
        ? `${role} is an environment-type role: name the type with --env-type TYPE`
        : `--app: ${role} is an environment-type role, held on --env-type only; drop --app`,
    );
  }
  return {
    role,
    ...(options.user !== undefined ? { user: options.user } : { team: options.team }),
    ...(options.app !== undefined ? { app: options.app } : {}),
    ...(options.envType !== undefined ? { envType: options.envType } : {}),
  };
}

// Where a grant is held, in a sentence: "app shop", "environment type production", "the organisation".
function grantScope(scope: RoleGrant['scope']): string {
  if (scope.kind === 'org') return 'the organisation';
  return scope.kind === 'app' ? `app ${scope.id ?? ''}` : `environment type ${scope.id ?? ''}`;
}

function roleList(core: PaveCore): string {
  return (
    `an organisation role (${core.ORG_ROLES.join(', ')}), an app role with --app ` +
    `(${core.APP_ROLES.join(', ')}) or an environment-type role with --env-type (${core.ENV_TYPE_ROLES.join(', ')})`
  );
}

// The "Roles:" help section of grant and revoke: each kind of role and the flag that says where it is held.
function rolesHelp(core: PaveCore): string {
  return [
    '',
    'Roles:',
    `  organisation (no --app, no --env-type)  ${core.ORG_ROLES.join(', ')}`,
    `  app (--app APP)                         ${core.APP_ROLES.join(', ')}`,
    `  environment type (--env-type TYPE)      ${core.ENV_TYPE_ROLES.join(', ')}`,
    '',
  ].join('\n');
}

function emptyListMessage(options: ListOptions): string {
  if (options.app !== undefined) {
    return emptyPageLine(
      `No roles granted on app ${options.app}. ` +
        `Grant one with \`pave roles grant developer --user USER --app ${options.app}\`.`,
      options.cursor,
      `roles granted on app ${options.app}`,
    );
  }
  if (options.user !== undefined) {
    return emptyPageLine(
      `User ${options.user} holds no roles directly (roles through teams are not listed).`,
      options.cursor,
      `roles granted to user ${options.user}`,
    );
  }
  return emptyPageLine(
    'No roles granted yet. Grant one with `pave roles grant ROLE --user USER`.',
    options.cursor,
    'roles granted',
  );
}
