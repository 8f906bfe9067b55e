import type { AuditEntry } from '@pave/core';

type Summary = Record<string, unknown>;

const text = (value: unknown): string =>
  typeof value === 'string' ? value : typeof value === 'number' ? String(value) : '';
const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
const words = (values: readonly string[]) => values.filter(Boolean).join(', ');

/** `shop/dev` for `apps/shop/envs/dev/…`, `shop (every environment)` for `apps/shop/values`, else as is. */
export function describeAuditTarget(target: string): string {
  const env = /^apps\/([^/]+)\/envs\/([^/]+)/.exec(target);
  if (env) return `${env[1]}/${env[2]}`;
  const app = /^apps\/([^/]+)(\/values)?/.exec(target);
  if (app) return app[2] ? `${app[1]} (every environment)` : (app[1] ?? target);
  return target;
}

/** Keys with `(secret)` after the secret ones: `GREETING, API_TOKEN (secret)`. */
function keyList(entries: unknown): string {
  return words(
    list(entries).map((entry) => {
      if (typeof entry === 'string') return entry;
      const { key, secret } = (entry ?? {}) as { key?: unknown; secret?: unknown };
      return `${text(key)}${secret === true ? ' (secret)' : ''}`;
    }),
  );
}

/** ` (deployment 7: "message")`; the message only when people wrote it (`deploy -m`), not Pave's own. */
function deploymentNote(summary: Summary, withMessage = false): string {
  const message = withMessage ? text(summary.message) : '';
  return ` (deployment ${text(summary.id) || '?'}${message ? `: "${message}"` : ''})`;
}

/** `shop/dev` for environment `dev` of the app `where` (`shop/staging`) is in. */
function sibling(env: unknown, where: string): string {
  return text(env) ? `${where.split('/')[0]}/${text(env)}` : 'another environment';
}

/** A subject of a role grant or team change: `user alice`, `team ops`. */
function subject(summary: Summary): string {
  if (summary.user !== undefined) return `user ${text(summary.user)}`;
  if (summary.team !== undefined) return `team ${text(summary.team)}`;
  return text(summary.username);
}

/** Where a role applies: `on app shop`, `on env type production`, `on the whole organization`. */
function roleScope(summary: Summary): string {
  if (summary.app !== undefined) return `on app ${text(summary.app)}`;
  if (summary.envType !== undefined) return `on environment type ${text(summary.envType)}`;
  return 'across the organization';
}

const describers: Record<string, (summary: Summary, where: string) => string> = {
  'values.set': (s, where) => {
    const set = keyList(s.set);
    const unset = keyList(s.unset);
    return (
      [set && `set values ${set}`, unset && `unset ${unset}`].filter(Boolean).join(' and ') + ` on ${where}`
    );
  },
  'values.unset': (s, where) => `unset values ${keyList(s.unset)} on ${where}`,
  'values.import': (s, where) => `imported values ${keyList(s.set)} on ${where}`,
  'values.clone': (s, where) =>
    `copied the values ${keyList(s.set) || '(none)'} of ${sibling(s.from, where)} into ${where}` +
    (list(s.hidden).length ? `, hiding ${keyList(s.hidden)}` : ''),
  'values.reveal': (s, where) => `revealed the secrets ${keyList(s.keys) || '(none)'} of ${where}`,
  'values.rollback': (s, where) =>
    `rolled the values of ${where} back to version ${text(s.toVersion)}` +
    (list(s.keys).length ? ` (keys ${keyList(s.keys)})` : ''),
  'deployment.deploy': (s, where) => `deployed ${where}${deploymentNote(s, true)}`,
  'deployment.rollback': (s, where) =>
    `rolled ${where} back` +
    (s.fromDeployment ? ` to deployment ${text(s.fromDeployment)}` : '') +
    deploymentNote(s),
  'deployment.promote': (s, where) => `promoted ${sibling(s.fromEnv, where)} to ${where}${deploymentNote(s)}`,
  'deployment.clone': (s, where) => `cloned ${sibling(s.fromEnv, where)} into ${where}${deploymentNote(s)}`,
  'app.create': (s) => `created app ${text(s.id)}`,
  'app.delete': (s) =>
    `deleted app ${text(s.id)}` +
    (list(s.environmentsDeleted).length ? ` and its environments ${keyList(s.environmentsDeleted)}` : ''),
  'environment.create': (s, where) =>
    `created environment ${where} of type ${text(s.type)}` + (s.from ? ` from ${text(s.from)}` : ''),
  'environment.delete': (s, where) => `deleted environment ${where}`,
  'environment.extend': (s, where) => `extended environment ${where} until ${text(s.expiresAt)}`,
  'user.create': (s) => `created user ${text(s.username)}`,
  'user.delete': (s) => `deleted user ${text(s.username)}`,
  'user.login': (_s, where) => `signed in as ${where.replace(/^users\//, '')}`,
  'user.unlock': (_s, where) => `unlocked user ${where.replace(/^users\//, '')}`,
  'user.password.set': (_s, where) => `set the password of ${where.replace(/^users\//, '')}`,
  'auth.login-failed': (s) => `failed sign-in as ${text(s.username)} from ${text(s.clientAddress)}`,
  'access.denied': (s) => `was refused ${text(s.permission)}: ${text(s.reason)}`,
  'team.create': (s) => `created team ${text(s.id)}`,
  'team.delete': (s) => `deleted team ${text(s.id)}`,
  'team.member.add': (s) => `added ${text(s.username)} to team ${text(s.team)}`,
  'team.member.remove': (s) => `removed ${text(s.username)} from team ${text(s.team)}`,
  'team.member.keep': (s) =>
    `kept ${text(s.username)} in team ${text(s.team)}: the organization's last admin`,
  'role.grant': (s) => `granted role ${text(s.role)} to ${subject(s)} ${roleScope(s)}`,
  'role.revoke': (s) => `revoked role ${text(s.role)} from ${subject(s)} ${roleScope(s)}`,
  'token.create': (s) => `created token ${text(s.name)} (${text(s.prefix)}…) for ${text(s.user)}`,
  'token.revoke': (s) => `revoked token ${text(s.name)} (${text(s.prefix)}…)`,
  'env-type.create': (s) => `created environment type ${text(s.id)}`,
  'env-type.update': (s) => `updated environment type ${text(s.id)}`,
  'definition.create': (s) =>
    `created resource definition ${text(s.id)} (${text(s.type)}, ${text(s.driver)})`,
  'definition.update': (s) =>
    `updated resource definition ${text(s.id)} (${text(s.type)}, ${text(s.driver)})`,
  'definition.delete': (s) => `deleted resource definition ${text(s.id)}`,
  'target.delete': (s) => `deleted runtime target ${text(s.id)}`,
  'resource.move': (s, where) => `moved resource ${text(s.from)} to ${text(s.to)} in ${where}`,
  'admin.rotate-master-key': (s) =>
    `rotated the master key to version ${text(s.masterKeyVersion)} (${text(s.rewrappedDataKeys)} data keys re-wrapped)`,
};

/** `key: value; other: a, b`: a summary no sentence is written for, compactly. */
export function compactSummary(summary: Summary): string {
  const show = (value: unknown): string => {
    if (value === null || value === undefined) return '-';
    if (Array.isArray(value)) return value.map(show).join(', ') || '(none)';
    if (typeof value === 'object') {
      return `{ ${Object.entries(value as Summary)
        .map(([k, v]) => `${k}: ${show(v)}`)
        .join(', ')} }`;
    }
    return String(value);
  };
  return Object.entries(summary)
    .map(([key, value]) => `${key}: ${show(value)}`)
    .join('; ');
}

/**
 * One audit entry as a line for people, without its actor (shown beside it): "set values GREETING,
 * API_TOKEN (secret) on shop/dev", "deployed shop/dev (deployment 4)". An action without a sentence of its
 * own (or `target.*` changes) reads as its summary's `key: value` pairs.
 */
export function describeAuditEntry(entry: Pick<AuditEntry, 'action' | 'target' | 'summary'>): string {
  const summary = entry.summary as Summary;
  const describe = describers[entry.action];
  if (describe) return describe(summary, describeAuditTarget(entry.target));
  if (entry.action.startsWith('target.') && entry.action !== 'target.delete') {
    return `${entry.action.slice('target.'.length)} runtime target ${text(summary.id)} (${text(summary.type)})`;
  }
  return compactSummary(summary);
}
