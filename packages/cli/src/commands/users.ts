import type { Command } from 'commander';
import type { User } from '@pave/core';
import { confirmOrRefuse } from '../confirm.ts';
import { CliUsageError } from '../errors.ts';
import { aliasApiFields, withFieldOrigins } from '../field-origins.ts';
import type { CliIo } from '../io.ts';
import type { Column } from '../output/table.ts';
import { formatTime } from '../output/time.ts';
import { addClientOptions, clientFor, examples } from './client-options.ts';
import type { ClientOptions } from './client-options.ts';
import { readPassword } from './login.ts';
import { emptyPageLine, pageQuery, withMoreLine } from './paging.ts';

/**
 * Reads the current password (empty when the user has none) and the new one: two lines of standard input with
 * `fromStdin`, otherwise asked for on a terminal, unseen (the new one twice).
 */
async function readOwnPasswords(
  io: CliIo,
  username: string,
  fromStdin: boolean,
): Promise<{ currentPassword: string; password: string }> {
  if (fromStdin) {
    const lines = (await io.readStdin()).replace(/\r?\n$/, '').split(/\r?\n/);
    if (lines.length !== 2 || !lines[1]) {
      throw new CliUsageError(
        '--password-stdin: to change your own password, pipe two lines: your current password (an empty ' +
          `line if you have none), then the new one${lines.length > 2 ? `; standard input has ${lines.length} lines` : ''}`,
      );
    }
    return { currentPassword: lines[0]!, password: lines[1] };
  }
  if (!io.stdinIsTTY || !io.askSecret) {
    throw new CliUsageError(
      'no password: stdin is not a terminal, so pave cannot ask for one; pass --password-stdin and pipe ' +
        'your current password and the new one in, one a line',
    );
  }
  const currentPassword = await io.askSecret(`Current password of ${username} (Enter if you have none): `);
  const password = await readPassword(io, {
    fromStdin: false,
    question: `New password for ${username}: `,
    confirm: 'Repeat the new password: ',
  });
  return { currentPassword, password };
}

const userColumns: Column<User>[] = [
  { header: 'username', value: (user) => user.username },
  { header: 'kind', value: (user) => user.kind },
  { header: 'password', value: (user) => (user.hasPassword ? 'set' : 'none') },
  { header: 'teams', value: (user) => user.teams.join(',') || '-' },
  { header: 'created at', value: (user) => formatTime(user.createdAt) },
];

type CreateOptions = ClientOptions & { service?: boolean; passwordStdin?: boolean };

/**
 * `pave users create|list|delete|set-password|unlock`: users (who log in with a password) and service
 * accounts (tokens only).
 */
export function registerUsersCommands(program: Command, io: CliIo): void {
  const users = program
    .command('users')
    .description('Create, list and delete users and service accounts; change passwords; clear failed logins')
    .addHelpText(
      'after',
      examples(
        'pave users create alice',
        'pave users create deploy-bot --service',
        'pave users list',
        'pave users set-password',
        'pave users unlock alice',
      ),
    );

  addClientOptions(
    users
      .command('create')
      .description(
        'Create a user, who logs in with `pave login --username NAME`, or with --service a service ' +
          'account, which has no password and uses tokens only. A password (at least 12 characters) is ' +
          'asked for twice on a terminal; otherwise pass it with --password-stdin.',
      )
      .argument('<name>', 'username, a DNS label, e.g. alice')
      .option('--service', 'create a service account (no password; tokens only)')
      .option('--password-stdin', "read the user's password from standard input"),
  )
    .addHelpText(
      'after',
      examples(
        'pave users create alice',
        'pave users create bob --password-stdin < bob-password.txt',
        'pave users create deploy-bot --service -o json',
      ),
    )
    .action(async (name: string, options: CreateOptions) => {
      if (options.service && options.passwordStdin) {
        throw new CliUsageError('--service and --password-stdin: a service account has no password');
      }
      const { client, output } = await clientFor(options, io);
      const password = options.service
        ? undefined
        : await readPassword(io, {
            fromStdin: options.passwordStdin === true,
            question: `Password for ${name}: `,
            confirm: 'Repeat the password: ',
          });
      // The password is never shown, only named.
      const created = await withFieldOrigins(
        {
          '/username': { name: '<name>', value: name },
          '/kind': { name: '--service' },
          '/password': { name: options.passwordStdin ? 'the password (--password-stdin)' : 'the password' },
        },
        () =>
          client.createUser({
            username: name,
            ...(options.service ? { kind: 'service' as const } : {}),
            ...(password !== undefined ? { password } : {}),
          }),
      );
      output.show(created, (body) =>
        body.kind === 'service'
          ? `Created service account ${body.username}; it has no password and uses tokens only`
          : `Created user ${body.username}; they log in with \`pave login --username ${body.username}\``,
      );
    });

  addClientOptions(
    users
      .command('list')
      .description('List users and service accounts, with their teams, ordered by username, a page at a time')
      .option('--limit <n>', 'at most this many (100 unless given; at most 500)')
      .option('--cursor <cursor>', 'continue from a previous page (its nextCursor)'),
  )
    .addHelpText(
      'after',
      examples('pave users list', 'pave users list --limit 20 -o json', 'pave users list --cursor alice'),
    )
    .action(async (options: ClientOptions & { limit?: string; cursor?: string }) => {
      const query = pageQuery(options, 'users');
      const { client, output } = await clientFor(options, io);
      output.show(await client.listUsers(query), (page) => {
        const table = output.table(
          page.items,
          userColumns,
          emptyPageLine('No users yet. Create one with `pave users create NAME`.', options.cursor, 'users'),
        );
        return withMoreLine(table, page.nextCursor, {
          items: 'users',
          command: 'pave users list',
          limit: options.limit,
        });
      });
    });

  addClientOptions(
    aliasApiFields(users.command('delete'), { 'path.username': '<name>' })
      .summary('Delete a user or service account with its tokens (asks first)')
      .description(
        'Delete a user or service account: its tokens stop working, and its team memberships and roles ' +
          'are removed. You cannot delete yourself or the last org admin. Asks first; without a terminal ' +
          'to ask on it needs --yes.',
      )
      .argument('<name>', 'username')
      .option('--yes', 'delete without asking')
      .option('--force', 'the same as --yes (kept for scripts that pass it)'),
  )
    .addHelpText('after', examples('pave users delete alice', 'pave users delete deploy-bot --yes'))
    .action(async (name: string, options: ClientOptions & { yes?: boolean; force?: boolean }) => {
      const { client, output } = await clientFor(options, io);
      await confirmOrRefuse(io, {
        question: `Delete user ${name}, their tokens, team memberships and roles?`,
        flag: '--yes',
        action: `delete user ${name}`,
        confirmed: options.yes === true || options.force === true,
      });
      await client.deleteUser(name);
      output.confirm(`Deleted user ${name}; their tokens no longer work`);
    });

  addClientOptions(
    aliasApiFields(users.command('set-password'), { 'path.username': '<name>' })
      .summary("Change your password, or as an admin set another user's (revokes their other tokens)")
      .description(
        'Change your own password (without NAME, or with your own): you give your current one first, if you ' +
          "have one. An admin can set another user's password without it. Either way every other token of " +
          'the user is revoked, so whoever knew the old password is signed out; the token you use keeps ' +
          'working. Passwords are asked for on a terminal, unseen; otherwise pass --password-stdin and pipe ' +
          'the new password in, preceded, for your own, by a line with your current one (empty if none).',
      )
      .argument('[name]', 'the user; default: you')
      .option('--password-stdin', 'read the password(s) from standard input'),
  )
    .addHelpText(
      'after',
      examples(
        'pave users set-password',
        'printf "%s\\n%s\\n" "$OLD" "$NEW" | pave users set-password --password-stdin',
        'pave users set-password bob --password-stdin < bob-password.txt',
      ),
    )
    .action(async (name: string | undefined, options: ClientOptions & { passwordStdin?: boolean }) => {
      const { client, output } = await clientFor(options, io);
      const me = (await client.whoami()).username;
      const username = name ?? me;
      const own = username === me;
      const fromStdin = options.passwordStdin === true;
      const { currentPassword, password } = own
        ? await readOwnPasswords(io, username, fromStdin)
        : {
            currentPassword: '',
            password: await readPassword(io, {
              fromStdin,
              question: `New password for ${username}: `,
              confirm: 'Repeat the new password: ',
            }),
          };
      const changed = await client.setPassword(username, {
        password,
        ...(currentPassword ? { currentPassword } : {}),
      });
      output.show(changed, (body) => {
        const count = body.tokensRevoked;
        const tokens = `${count} ${count === 1 ? 'token' : 'tokens'}`;
        const were = count === 1 ? 'was' : 'were';
        if (own) {
          return count === 0
            ? 'Changed your password'
            : `Changed your password; ${count} other ${count === 1 ? 'token' : 'tokens'} of yours ${were} revoked`;
        }
        return `Set the password of ${body.username}; ${tokens} of theirs ${were} revoked, so they log in again with the new password`;
      });
    });

  addClientOptions(
    aliasApiFields(users.command('unlock'), { 'path.username': '<name>' })
      .summary("Clear a user's failed logins so that they may log in again now (admins)")
      .description(
        'After 5 failed logins for a user from one address within 5 minutes, logins for that user from that ' +
          "address wait until the failures are 5 minutes old. This clears the user's failed logins from " +
          'every address at once. Needs the admin role.',
      )
      .argument('<name>', 'username'),
  )
    .addHelpText('after', examples('pave users unlock alice'))
    .action(async (name: string, options: ClientOptions) => {
      const { client, output } = await clientFor(options, io);
      output.show(await client.unlockUser(name), (body) =>
        body.failuresCleared === 0
          ? `${body.username} had no failed logins to clear; nothing was changed`
          : `Cleared ${body.failuresCleared} failed login${body.failuresCleared === 1 ? '' : 's'} of ` +
            `${body.username}; they can log in again now`,
      );
    });
}
