import type { Command } from 'commander';
import type { Team } from '@pave/core';
import { CliUsageError } from '../errors.ts';
import { aliasApiFields } from '../field-origins.ts';
import type { CliIo } from '../io.ts';
import type { Column } from '../output/table.ts';
import { formatTime } from '../output/time.ts';
import { addClientOptions, clientFor, examples } from './client-options.ts';
import type { ClientOptions } from './client-options.ts';
import { emptyPageLine, pageQuery, withMoreLine } from './paging.ts';

const teamColumns: Column<Team>[] = [
  { header: 'id', value: (team) => team.id },
  { header: 'members', value: (team) => team.members.join(',') || '-' },
  { header: 'sso group', value: (team) => team.oidcGroup ?? '-' },
  { header: 'created by', value: (team) => team.createdBy },
  { header: 'created at', value: (team) => formatTime(team.createdAt) },
];

/** `pave teams create|update|list|delete|add|remove`: teams of users, which roles can be granted to. */
export function registerTeamsCommands(program: Command, io: CliIo): void {
  const teams = program
    .command('teams')
    .description('Create, list and delete teams, and add and remove their members')
    .addHelpText('after', examples('pave teams create web', 'pave teams add web alice', 'pave teams list'));

  addClientOptions(
    aliasApiFields(teams.command('create'), { '/id': '<team>' })
      .description('Create an empty team; roles granted to the team apply to all its members')
      .argument('<team>', 'team id, a DNS label, e.g. web')
      .option(
        '--oidc-group <group>',
        'follow this SSO group: at each SSO sign-in its members join the team and others leave it',
      ),
  )
    .addHelpText(
      'after',
      examples(
        'pave teams create web',
        'pave teams create backend --oidc-group backend-devs',
        'pave teams create platform -o json',
      ),
    )
    .action(async (team: string, options: ClientOptions & { oidcGroup?: string }) => {
      const { client, output } = await clientFor(options, io);
      const body = { id: team, ...(options.oidcGroup ? { oidcGroup: options.oidcGroup } : {}) };
      output.show(await client.createTeam(body), (created) =>
        created.oidcGroup
          ? `Created team ${created.id}, following SSO group ${created.oidcGroup}`
          : `Created team ${created.id}`,
      );
    });

  addClientOptions(
    teams
      .command('update')
      .description('Change a team: the SSO group whose members are its members')
      .argument('<team>', 'team id')
      .option('--oidc-group <group>', 'follow this SSO group from the next sign-in of each user on')
      .option('--no-oidc-group', 'stop following an SSO group: members are then managed by hand'),
  )
    .addHelpText(
      'after',
      examples(
        'pave teams update backend --oidc-group backend-devs',
        'pave teams update backend --no-oidc-group',
      ),
    )
    .action(async (team: string, options: ClientOptions & { oidcGroup?: string | boolean }) => {
      if (options.oidcGroup === undefined || options.oidcGroup === true) {
        throw new CliUsageError(
          'pave teams update: say what to change, e.g. --oidc-group GROUP or --no-oidc-group',
        );
      }
      const { client, output } = await clientFor(options, io);
      const oidcGroup = typeof options.oidcGroup === 'string' ? options.oidcGroup : null;
      output.show(await client.updateTeam(team, { oidcGroup }), (body) =>
        body.oidcGroup
          ? `Team ${body.id} follows SSO group ${body.oidcGroup}`
          : `Team ${body.id} follows no SSO group; its members are managed by hand`,
      );
    });

  addClientOptions(
    teams
      .command('list')
      .description('List teams with their members, ordered by id, a page at a time')
      .option('--limit <n>', 'at most this many (100 unless given; at most 500)')
      .option('--cursor <cursor>', 'continue from a previous page (its nextCursor)'),
  )
    .addHelpText(
      'after',
      examples('pave teams list', 'pave teams list --limit 20 -o json', 'pave teams list --cursor web'),
    )
    .action(async (options: ClientOptions & { limit?: string; cursor?: string }) => {
      const query = pageQuery(options, 'teams');
      const { client, output } = await clientFor(options, io);
      output.show(await client.listTeams(query), (page) => {
        const table = output.table(
          page.items,
          teamColumns,
          emptyPageLine('No teams yet. Create one with `pave teams create TEAM`.', options.cursor, 'teams'),
        );
        return withMoreLine(table, page.nextCursor, {
          items: 'teams',
          command: 'pave teams list',
          limit: options.limit,
        });
      });
    });

  addClientOptions(
    teams
      .command('delete')
      .description('Delete a team and the roles granted to it; its members stay users')
      .argument('<team>', 'team id'),
  )
    .addHelpText('after', examples('pave teams delete web'))
    .action(async (team: string, options: ClientOptions) => {
      const { client, output } = await clientFor(options, io);
      await client.deleteTeam(team);
      output.confirm(`Deleted team ${team}`);
    });

  addClientOptions(
    aliasApiFields(teams.command('add'), { 'path.username': '<user>' })
      .description('Add a user or service account to a team (nothing changes if already a member)')
      .argument('<team>', 'team id')
      .argument('<user>', 'username'),
  )
    .addHelpText('after', examples('pave teams add web alice'))
    .action(async (team: string, user: string, options: ClientOptions) => {
      const { client, output } = await clientFor(options, io);
      output.show(
        await client.addTeamMember(team, user),
        (body) => `Added ${user} to team ${body.id} (members: ${body.members.join(', ')})`,
      );
    });

  addClientOptions(
    aliasApiFields(teams.command('remove'), { 'path.username': '<user>' })
      .description('Remove a user or service account from a team')
      .argument('<team>', 'team id')
      .argument('<user>', 'username'),
  )
    .addHelpText('after', examples('pave teams remove web alice'))
    .action(async (team: string, user: string, options: ClientOptions) => {
      const { client, output } = await clientFor(options, io);
      await client.removeTeamMember(team, user);
      output.confirm(`Removed ${user} from team ${team}`);
    });
}
