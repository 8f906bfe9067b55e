import type { Command } from 'commander';
import type { TokenInfo } from '@pave/core';
import { DURATION_FORMAT, expiresAtAfter } from '../duration.ts';
import { CliUsageError } from '../errors.ts';
import { withFieldOrigins } from '../field-origins.ts';
import type { CliIo } from '../io.ts';
import type { Column } from '../output/table.ts';
import { formatTime } from '../output/time.ts';
import { addClientOptions, clientFor, examples } from './client-options.ts';
import type { ClientOptions } from './client-options.ts';
import { emptyPageLine, pageQuery, withMoreLine } from './paging.ts';

/** Whether a token still works: revoked and expired tokens are refused by the server. */
export function tokenStatus(
  token: Pick<TokenInfo, 'revokedAt' | 'expiresAt'>,
  now: Date = new Date(),
): string {
  if (token.revokedAt !== null) return 'revoked';
  if (token.expiresAt !== null && new Date(token.expiresAt).getTime() <= now.getTime()) return 'expired';
  return 'active';
}

const tokenColumns: Column<TokenInfo>[] = [
  { header: 'id', value: (token) => token.id },
  { header: 'name', value: (token) => token.name },
  { header: 'user', value: (token) => token.username },
  { header: 'scope', value: (token) => token.scope ?? '-' },
  { header: 'prefix', value: (token) => token.prefix },
  { header: 'status', value: (token) => tokenStatus(token) },
  { header: 'created at', value: (token) => formatTime(token.createdAt) },
  { header: 'expires at', value: (token) => formatTime(token.expiresAt, 'never') },
  { header: 'last used', value: (token) => formatTime(token.lastUsedAt, 'never') },
];

type CreateOptions = ClientOptions & { expiresIn?: string; scope?: string; user?: string };

/** `pave tokens create|list|revoke`: API tokens of the current user (admins: of other users too). */
export function registerTokensCommands(program: Command, io: CliIo): void {
  const tokens = program
    .command('tokens')
    .description('Create, list and revoke API tokens')
    .addHelpText(
      'after',
      examples(
        'pave tokens create ci --expires-in 90d',
        'pave tokens create shop-ci --scope app:shop:developer',
        'pave tokens list',
        "pave tokens list --user ci-bot   # admins: a service account's tokens",
      ),
    );

  addClientOptions(
    tokens
      .command('create')
      .description(
        'Create an API token for yourself (admins: for a service account); it is printed once and cannot be shown again',
      )
      .argument('<name>', 'what the token is for, e.g. ci')
      .option(
        '--expires-in <duration>',
        `when it stops working: ${DURATION_FORMAT} (default: when the token you use expires; never for one without expiry)`,
      )
      .option(
        '--scope <scope>',
        'let it do no more than one role allows, e.g. app:shop:viewer ' +
          "(default: your token's scope, or everything your roles allow); it never widens your roles",
      )
      .option(
        '--user <name>',
        'admins: create it for this user or service account (see `pave users create --service`); ' +
          'a --scope must be a role it holds (grant it first with `pave roles grant`)',
      ),
  )
    .addHelpText(
      'after',
      examples(
        'pave tokens create laptop',
        'pave tokens create ci --expires-in 90d -o json',
        'pave tokens create shop-deploy --scope app:shop:developer --expires-in 30d',
        'pave tokens create deploy-bot --user ci-bot --expires-in 90d',
      ),
    )
    .action(async (name: string, options: CreateOptions) => {
      // Checked before connecting, so a typo fails fast and without a request.
      const expiresAt = options.expiresIn === undefined ? undefined : expiresAtAfter(options.expiresIn);
      const scope = options.scope === undefined ? undefined : await tokenScope(options.scope);
      const { client, output } = await clientFor(options, io);
      const created = await withFieldOrigins(
        {
          '/name': { name: '<name>', value: name },
          '/user': { name: '--user', value: options.user },
          '/scope': { name: '--scope', value: options.scope },
          '/expiresAt': { name: '--expires-in', value: options.expiresIn },
        },
        () =>
          client.createToken({
            name,
            ...(options.user !== undefined ? { user: options.user } : {}),
            ...(scope !== undefined ? { scope } : {}),
            ...(expiresAt !== undefined ? { expiresAt } : {}),
          }),
      );
      output.show(created, (body) =>
        [
          `Created token ${body.name} (id ${body.id}, ${body.scope === null ? '' : `scope ${body.scope}, `}` +
            `expires ${formatTime(body.expiresAt, 'never')}):`,
          '',
          body.token,
          '',
          'Copy it now: Pave keeps only a hash of it, so it will not be shown again.',
        ].join('\n'),
      );
    });

  addClientOptions(
    tokens
      .command('list')
      .description(
        "List your API tokens (admins: with --user, another user's or service account's), never their " +
          'secret values, newest first, a page at a time',
      )
      .option(
        '--user <name>',
        "admins: this user's or service account's tokens instead of yours (to revoke a leaked one)",
      )
      .option('--limit <n>', 'at most this many (100 unless given; at most 500)')
      .option('--cursor <cursor>', 'continue from a previous page (its nextCursor)'),
  )
    .addHelpText(
      'after',
      examples('pave tokens list', 'pave tokens list --limit 20 -o json', 'pave tokens list --user ci-bot'),
    )
    .action(async (options: ClientOptions & { user?: string; limit?: string; cursor?: string }) => {
      const query = {
        ...(options.user !== undefined ? { user: options.user } : {}),
        ...pageQuery(options, 'tokens'),
      };
      const { client, output } = await clientFor(options, io);
      // The next page needs the same --user as this one.
      const userFlag = options.user === undefined ? '' : ` --user ${options.user}`;
      output.show(await client.listTokens(query), (page) => {
        const table = output.table(
          page.items,
          tokenColumns,
          emptyPageLine(
            options.user === undefined
              ? 'No tokens yet. Create one with `pave tokens create NAME`.'
              : `No tokens of ${options.user} yet. Create one with \`pave tokens create NAME${userFlag}\`.`,
            options.cursor,
            'tokens',
          ),
        );
        return withMoreLine(table, page.nextCursor, {
          items: 'tokens',
          command: `pave tokens list${userFlag}`,
          limit: options.limit,
        });
      });
    });

  addClientOptions(
    tokens
      .command('revoke')
      .description(
        "Revoke an API token; it stops working at once. Admins may revoke any user's or service account's " +
          'token (a leaked CI token, say) without deleting the account',
      )
      .argument('<id>', 'token id (see `pave tokens list`, admins: `pave tokens list --user NAME`)'),
  )
    .addHelpText('after', examples('pave tokens revoke tok_01HZX3V9', 'pave tokens list --user ci-bot'))
    .action(async (id: string, options: ClientOptions) => {
      const { client, output } = await clientFor(options, io);
      await client.revokeToken(id);
      output.confirm(`Revoked token ${id}`);
    });
}

// The --scope of a new token as the server wants it; a CliUsageError (exit 2) naming the format if it is not one.
async function tokenScope(text: string): Promise<string> {
  const { parseTokenScope, TOKEN_SCOPE_FORMAT } = await import('../core.ts');
  const scope = text.trim();
  if (parseTokenScope(scope) === null) {
    throw new CliUsageError(
      `--scope: "${text}" is not a token scope; write it as ${TOKEN_SCOPE_FORMAT}, e.g. app:shop:viewer`,
    );
  }
  return scope;
}
