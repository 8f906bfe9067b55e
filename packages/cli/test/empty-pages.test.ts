import { describe, expect, it } from 'vitest';
import { runCli } from '../src/program.ts';
import { cliArgs, fakeIo, fakeServer } from './helpers.ts';

/**
 * Every list command that takes --cursor: the words that run it, what it prints for an empty first page, and
 * what for an empty page after `--cursor zzz`. The list has entries before the cursor, so that page says there
 * are no more, without the "yet" and the advice to add some.
 */
const LISTS = [
  {
    command: ['approvals', 'list'],
    first: 'No deployments await approval.',
    after: 'No approvals after "zzz".',
  },
  {
    command: ['apps', 'list'],
    first: 'No apps yet, or none you have a role on. Create one with `pave apps create NAME`.',
    after: 'No apps after "zzz".',
  },
  {
    command: ['artifacts', 'list', '--app', 'shop'],
    first:
      'No artifacts of shop yet. CI pushes them with `pave artifacts push --app shop -f score.yaml --commit SHA`.',
    after: 'No artifacts of shop after "zzz".',
  },
  {
    command: ['audit'],
    first: 'No audit entries yet.',
    after: 'No audit entries after "zzz".',
  },
  {
    command: ['catalog', 'list'],
    first: 'No entities: you have no role on any app.',
    after: 'No entities after "zzz".',
  },
  {
    command: ['defs', 'list'],
    first: 'No resource definitions yet. Add some with `pave defs apply -f defs.yaml`.',
    after: 'No resource definitions after "zzz".',
  },
  {
    command: ['deployments', 'list', '--app', 'shop', '--env', 'dev'],
    first: 'No deployments in shop/dev yet. Deploy with `pave deploy -f score.yaml --app shop --env dev`.',
    after: 'No deployments in shop/dev after "zzz".',
  },
  {
    command: ['env-types', 'list'],
    first: 'No environment types yet. Create one with `pave env-types create ID`.',
    after: 'No environment types after "zzz".',
  },
  {
    command: ['envs', 'list', '--app', 'shop'],
    first: 'No environments in app shop yet. Create one with `pave envs create ENV --app shop --type TYPE`.',
    after: 'No environments in app shop after "zzz".',
  },
  {
    command: ['policies', 'list'],
    first: 'No policies yet. Apply some with `pave policies apply -f policies.yaml`.',
    after: 'No policies after "zzz".',
  },
  {
    command: ['profiles', 'list'],
    first: 'No profiles yet. Apply some with `pave profiles apply -f profiles.yaml`.',
    after: 'No profiles after "zzz".',
  },
  {
    command: ['resources', 'list', '--app', 'shop', '--env', 'dev'],
    first:
      'No resources in shop/dev yet. A deployment provisions those its Score files declare ' +
      '(see `pave defs list` for how).',
    after: 'No resources in shop/dev after "zzz".',
  },
  {
    command: ['roles', 'list'],
    first: 'No roles granted yet. Grant one with `pave roles grant ROLE --user USER`.',
    after: 'No roles granted after "zzz".',
  },
  {
    command: ['roles', 'list', '--app', 'shop'],
    first:
      'No roles granted on app shop. Grant one with `pave roles grant developer --user USER --app shop`.',
    after: 'No roles granted on app shop after "zzz".',
  },
  {
    command: ['roles', 'list', '--user', 'alice'],
    first: 'User alice holds no roles directly (roles through teams are not listed).',
    after: 'No roles granted to user alice after "zzz".',
  },
  {
    command: ['rules', 'list', '--app', 'shop'],
    first: 'No rules in shop. Create one with `pave rules create --app shop --env dev --branch main`.',
    after: 'No rules in shop after "zzz".',
  },
  {
    command: ['targets', 'list'],
    first: 'No runtime targets. Add some with `pave targets apply -f targets.yaml`.',
    after: 'No runtime targets after "zzz".',
  },
  {
    command: ['teams', 'list'],
    first: 'No teams yet. Create one with `pave teams create TEAM`.',
    after: 'No teams after "zzz".',
  },
  {
    command: ['templates', 'list'],
    first: 'No templates yet. Apply one with `pave templates apply -f DIR`.',
    after: 'No templates after "zzz".',
  },
  {
    command: ['tokens', 'list'],
    first: 'No tokens yet. Create one with `pave tokens create NAME`.',
    after: 'No tokens after "zzz".',
  },
  {
    command: ['users', 'list'],
    first: 'No users yet. Create one with `pave users create NAME`.',
    after: 'No users after "zzz".',
  },
  {
    command: ['values', 'history', '--app', 'shop', '--env', 'dev'],
    first:
      'No values versions in shop/dev yet. Set a value with `pave values set KEY=VALUE --app shop --env dev`.',
    after: 'No values versions in shop/dev after "zzz".',
  },
  {
    command: ['webhooks', 'list'],
    first:
      'No org-wide webhooks (those that receive every app’s events); an app’s own are listed with ' +
      '`pave webhooks list --app APP`. Create one with `pave webhooks create NAME --url URL`.',
    after: 'No org-wide webhooks after "zzz".',
  },
  {
    command: ['webhooks', 'list', '--app', 'shop'],
    first: 'No webhooks of app shop. Create one with `pave webhooks create NAME --url URL --app shop`.',
    after: 'No webhooks of app shop after "zzz".',
  },
  {
    command: ['webhooks', 'deliveries', 'wh_1'],
    first: 'No deliveries yet.',
    after: 'No deliveries of webhook wh_1 after "zzz".',
  },
] as const;

const EMPTY_PAGE = { items: [], nextCursor: null };

/* Found by a review: an empty page reached through --cursor read as "nothing exists", with advice to add some. */
describe.each(LISTS.map((list) => ({ ...list, name: list.command.join(' ') })))(
  'pave $name on an empty page',
  ({ command, first, after }) => {
    it('says the list is empty on the first page', async () => {
      const server = await fakeServer(() => ({ status: 200, body: EMPTY_PAGE }));
      const io = fakeIo();
      expect(await runCli(cliArgs(server.url, ...command), io)).toBe(0);
      expect(io.stdout.text).toBe(`${first}\n`);
    });

    it('says there are none after the cursor, without advice to add some', async () => {
      const server = await fakeServer(() => ({ status: 200, body: EMPTY_PAGE }));
      const io = fakeIo();
      expect(await runCli(cliArgs(server.url, ...command, '--limit', '20', '--cursor', 'zzz'), io)).toBe(0);
      expect(server.requests.at(-1)?.url).toMatch(/[?&]cursor=zzz(&|$)/);
      expect(io.stdout.text).toBe(`${after}\n`);
    });

    it('prints the page as it came with -o json', async () => {
      const server = await fakeServer(() => ({ status: 200, body: EMPTY_PAGE }));
      const io = fakeIo();
      expect(await runCli(cliArgs(server.url, ...command, '--cursor', 'zzz', '-o', 'json'), io)).toBe(0);
      expect(JSON.parse(io.stdout.text)).toEqual(EMPTY_PAGE);
    });
  },
);
