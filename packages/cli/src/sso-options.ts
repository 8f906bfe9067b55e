import { readFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { ORG_ROLES, type OrgRole } from '@pave/core';
import { CliUsageError } from './errors.ts';
import { describeFileError } from './file-errors.ts';

/** The org role a first SSO sign-in gives a user (the server's SsoSettings.defaultRole), or none. */
export type SsoDefaultRole = OrgRole | 'none';

/** What `--oidc-default-role` (and PAVE_OIDC_DEFAULT_ROLE) accept: core's org roles, or none. */
const DEFAULT_ROLES: readonly SsoDefaultRole[] = [...ORG_ROLES, 'none'];

/** The single sign-on options of `pave up`, as commander parses them. */
export interface SsoUpOptions {
  oidcIssuer?: string;
  oidcClientId?: string;
  oidcClientSecretFile?: string;
  oidcGroupsClaim?: string;
  oidcRedirectUrl?: string;
  oidcDefaultRole?: SsoDefaultRole;
  disablePasswordLogin?: boolean;
}

/** What `pave up` hands the server for SSO (see @pave/server's ServerOptions). */
export interface SsoServerOptions {
  sso?: {
    issuer: string;
    clientId: string;
    clientSecret: string;
    groupsClaim: string;
    callbackUrl?: string;
    defaultRole: SsoDefaultRole;
  };
  passwordLogin: boolean;
}

/** Adds `--oidc-*` and `--disable-password-login` to `pave up`. */
export function addSsoOptions(command: Command): Command {
  return command
    .option('--oidc-issuer <url>', 'sign users in with this OpenID Connect provider (env PAVE_OIDC_ISSUER)')
    .option('--oidc-client-id <id>', "Pave's client id at the provider (env PAVE_OIDC_CLIENT_ID)")
    .option(
      '--oidc-client-secret-file <path>',
      "a file holding Pave's client secret at the provider (env PAVE_OIDC_CLIENT_SECRET_FILE)",
    )
    .option(
      '--oidc-groups-claim <claim>',
      "the ID token claim listing the user's groups, which teams follow (env PAVE_OIDC_GROUPS_CLAIM; default groups)",
    )
    .option(
      '--oidc-redirect-url <url>',
      "Pave's callback as registered at the provider, https://HOST/api/v1/auth/sso/callback (env PAVE_OIDC_REDIRECT_URL; default: from the Host the browser used)",
    )
    .addOption(
      new Option(
        '--oidc-default-role <role>',
        'the org role of a user created at their first SSO sign-in (env PAVE_OIDC_DEFAULT_ROLE; default member)',
      ).choices(DEFAULT_ROLES),
    )
    .option(
      '--disable-password-login',
      'refuse logins with a password (tokens, the admin token included, keep working; env PAVE_DISABLE_PASSWORD_LOGIN=1)',
    );
}

/**
 * The SSO settings of `pave up` from its flags, else the environment. CliUsageError when they are
 * incomplete (an issuer without a client id or secret file) or the secret file cannot be read.
 */
export function ssoServerOptions(options: SsoUpOptions, env: NodeJS.ProcessEnv): SsoServerOptions {
  const passwordLogin = !(
    options.disablePasswordLogin ||
    ['1', 'true', 'yes'].includes((env.PAVE_DISABLE_PASSWORD_LOGIN ?? '').toLowerCase())
  );
  const issuer = options.oidcIssuer ?? (env.PAVE_OIDC_ISSUER || undefined);
  const clientId = options.oidcClientId ?? (env.PAVE_OIDC_CLIENT_ID || undefined);
  const secretFile = options.oidcClientSecretFile ?? (env.PAVE_OIDC_CLIENT_SECRET_FILE || undefined);
  if (!issuer) {
    if (clientId || secretFile) {
      throw new CliUsageError('--oidc-client-id and --oidc-client-secret-file go with --oidc-issuer URL');
    }
    return { passwordLogin };
  }
  if (!clientId || !secretFile) {
    throw new CliUsageError(
      '--oidc-issuer needs --oidc-client-id ID and --oidc-client-secret-file PATH (or PAVE_OIDC_CLIENT_ID and PAVE_OIDC_CLIENT_SECRET_FILE)',
    );
  }
  let clientSecret: string;
  try {
    clientSecret = readFileSync(secretFile, 'utf8').trim();
  } catch (error) {
    throw new CliUsageError(
      `--oidc-client-secret-file: cannot read ${secretFile}: ${describeFileError(error, secretFile, 'read')}`,
    );
  }
  if (!clientSecret) throw new CliUsageError(`--oidc-client-secret-file: ${secretFile} is empty`);
  const callbackUrl = options.oidcRedirectUrl ?? (env.PAVE_OIDC_REDIRECT_URL || undefined);
  const role = options.oidcDefaultRole ?? (env.PAVE_OIDC_DEFAULT_ROLE || 'member');
  if (!isDefaultRole(role)) {
    throw new CliUsageError(
      `PAVE_OIDC_DEFAULT_ROLE: "${role}" is not ${DEFAULT_ROLES.slice(0, -1).join(', ')} or ${DEFAULT_ROLES.at(-1)}`,
    );
  }
  return {
    passwordLogin,
    sso: {
      issuer,
      clientId,
      clientSecret,
      groupsClaim: options.oidcGroupsClaim ?? (env.PAVE_OIDC_GROUPS_CLAIM || 'groups'),
      ...(callbackUrl ? { callbackUrl } : {}),
      defaultRole: role,
    },
  };
}

function isDefaultRole(role: string): role is SsoDefaultRole {
  return (DEFAULT_ROLES as readonly string[]).includes(role);
}
