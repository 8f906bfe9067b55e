import type { Command } from 'commander';
import type { AccessGrant, WhoAmI } from '@pave/core';
import type { CliIo } from '../io.ts';
import type { Colors } from '../output/colors.ts';
import { colorsFor } from '../output/colors.ts';
import { formatDetails } from '../output/table.ts';
import { formatTime } from '../output/time.ts';
import { addClientOptions, clientFor, examples } from './client-options.ts';
import type { ClientOptions } from './client-options.ts';

/** `pave whoami`: which user and token the server sees, and the roles they act with. */
export function registerWhoamiCommand(program: Command, io: CliIo): void {
  addClientOptions(
    program
      .command('whoami')
      .description(
        'Show the user and token the server sees for you, and the roles you hold. With -o json or yaml: the ' +
          "API's answer (GET /api/v1/whoami) and `server`, the URL of the server that was asked",
      ),
  )
    .addHelpText('after', examples('pave whoami', 'pave whoami --server https://pave.example.com -o json'))
    .action(async (options: ClientOptions) => {
      const { client, connection, output } = await clientFor(options, io);
      const identity = await client.whoami();
      const { describeGrant } = await import('../core.ts');
      // The server asked is part of the answer for scripts too, as the table shows it: with several servers
      // (PAVE_SERVER, a login, a local one) which one answered is not otherwise known.
      output.show({ ...identity, server: connection.server }, (body) =>
        renderWhoAmI(body, body.server, colorsFor(io.stdout, io.env), describeGrant),
      );
    });
}

// `pave whoami` for people: the user, the token (with its scope, if it has one) and the server as aligned
// lines, then the roles held, one a line, e.g. `developer on app shop (via team:web)`. The API's grants are
// core's AccessGrant as JSON (role and scope kind as plain strings).
function renderWhoAmI(
  identity: WhoAmI,
  server: string,
  colors: Colors,
  describeGrant: (grant: AccessGrant) => string,
): string {
  const { token } = identity;
  const scope =
    token.scope === null
      ? 'none: all your roles apply'
      : `only ${describeGrant({ ...token.scope, via: 'user' } as AccessGrant)}`;
  const details = formatDetails(
    [
      ['user', identity.username],
      [
        'account',
        identity.kind === 'service'
          ? 'a service account: tokens only'
          : identity.hasPassword
            ? 'a person, signing in with a password'
            : 'a person without a password (SSO, or none set yet)',
      ],
      ['token', token.name],
      ['token id', token.id],
      ['token scope', scope],
      ['expires at', formatTime(token.expiresAt, 'never')],
      ['server', server],
    ],
    { styleHeader: colors.bold },
  );
  const heading = colors.bold('Roles:');
  if (identity.grants.length === 0) {
    return `${details}\n\n${heading} none (an admin grants them with \`pave roles grant\`)`;
  }
  const grants = identity.grants.map((grant) => `  ${describeGrant(grant as AccessGrant)}`);
  return `${details}\n\n${heading}\n${grants.join('\n')}`;
}
