import type { Command } from 'commander';
import type { Team } from '@pave/core';
import type { CliIo } from '../io.ts';
import type { Column } from '../output/table.ts';
import { formatTime } from '../output/time.ts';
import { addClientOptions, clientFor, examples } from './client-options.ts';
import type { ClientOptions } from './client-options.ts';

const teamColumns: Column<Team>[] = [
  { header: 'id', value: (team) => team.id },
  { header: 'members', value: (team) => team.members.join(',') || '-' },
  { header: 'created by', value: (team) => team.createdBy },
  { header: 'created at', value: (team) => formatTime(team.createdAt) },
];

/** `pave teams create|list|delete|add|remove`: teams of users, which roles can be granted to. */
export function registerTeamsCommands(program: Command, io: CliIo): void {
  const teams = program
    .command('teams')
    .description('Create, list and delete teams, and add and remove their members')
    .addHelpText('after', examples('pave teams create web', 'pave teams add web alice', 'pave teams list'));

  addClientOptions(
    teams
      .command('create')
      .description('Create an empty team; roles granted to the team apply to all its members')
      .argument('<team>', 'team id, a DNS label, e.g. web'),
  )
    .addHelpText('after', examples('pave teams create web', 'pave teams create platform -o json'))
    .action(async (team: string, options: ClientOptions) => {
      const { client, output } = await clientFor(options, io);
      output.show(await client.createTeam({ id: team }), (body) => `Created team ${body.id}`);
    });

  addClientOptions(teams.command('list').description('List teams with their members'))
    .addHelpText('after', examples('pave teams list', 'pave teams list -o json'))
    .action(async (options: ClientOptions) => {
      const { client, output } = await clientFor(options, io);
      output.show(await client.listTeams(), (body) =>
        output.table(body.items, teamColumns, 'No teams yet. Create one with `pave teams create TEAM`.'),
      );
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
    teams
      .command('add')
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
    teams
      .command('remove')
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
