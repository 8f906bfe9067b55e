// How Pave isolates the commands it runs for others: workloads of the process runtime and the exec
// resource driver's commands. One place builds the command line, so both get exactly the same isolation.
//
//   none     the command runs as Pave's own user and sees what Pave sees.
//   user     (Pave runs as root) the command runs as an unprivileged workload user, never as root.
//   sandbox  bubblewrap: a read-only view of the host, only its own directories writable, a private /tmp and
//            /proc, Pave's data directory not there at all, no new privileges; as the workload user when
//            Pave runs as root.
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, lstatSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { delimiter, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { InputError } from '@pave/core';

/** The isolation levels, weakest first. */
export const ISOLATION_LEVELS = ['none', 'user', 'sandbox'] as const;
export type IsolationLevel = (typeof ISOLATION_LEVELS)[number];

/** The workload user created when `pave up` runs as root and names none. */
export const DEFAULT_WORKLOAD_USER = 'pave-workload';

/** An unprivileged account commands run as. */
export interface WorkloadIdentity {
  user: string;
  uid: number;
  gid: number;
}

/** What this host offers for isolation, found once when the control plane starts (see detectIsolationHost). */
export interface IsolationHost {
  /**
   * The workload user when Pave runs as root (only then can it run commands as another user); null
   * otherwise (commands run as Pave's user).
   */
  identity: WorkloadIdentity | null;
  /** A working `bwrap`, or null when bubblewrap is missing or cannot make a sandbox here. */
  bwrap: string | null;
  /** Why `bwrap` is null, for the start-up message. */
  bwrapProblem?: string;
  /** Directories a sandboxed command must not see at all: Pave's data directory. */
  hidden: string[];
  /** Where `setpriv` (util-linux) is: a root-started sandbox drops to the workload user with it. */
  setpriv: string | null;
}

/** The isolation one command gets: the level and what it needs to apply it. */
export interface Isolation {
  level: IsolationLevel;
  /** Who the command runs as; null: Pave's own user (level none, or Pave is not root). */
  identity: WorkloadIdentity | null;
  bwrap: string | null;
  setpriv: string | null;
  hidden: string[];
}

/** A command to run, and the directories it may use. */
export interface IsolatedRun {
  argv: string[];
  cwd: string;
  /** Directories the command may write (its working, files, home and volume directories). */
  writable: string[];
  /** Directories it may read only (read-only volumes). */
  readOnly?: string[];
}

/** What to spawn for an IsolatedRun: `file` + `args`, as `uid`/`gid` when set, in `cwd`. */
export interface IsolatedCommand {
  file: string;
  args: string[];
  cwd: string;
  uid?: number;
  gid?: number;
}

/**
 * Finds what this host offers. When Pave runs as root it looks up `workloadUser` (default
 * DEFAULT_WORKLOAD_USER) and, for the default only, creates it as a system user when missing; then it checks
 * that `bwrap` can actually build a sandbox here. Throws InputError when the workload user cannot be had,
 * saying how to fix it.
 */
export function detectIsolationHost(options: {
  dataDir: string;
  workloadUser?: string | undefined;
  env?: NodeJS.ProcessEnv;
}): IsolationHost {
  const env = options.env ?? process.env;
  const root = process.getuid?.() === 0;
  if (!root && options.workloadUser) {
    throw new InputError('only a control plane running as root can run workloads as another user', [
      {
        path: '--workload-user',
        message: `Pave runs as uid ${process.getuid?.()}; start it as root, or leave --workload-user out`,
      },
    ]);
  }
  const identity = root ? workloadIdentity(options.workloadUser) : null;
  const setpriv = findOnPath('setpriv', env);
  const hidden = [resolve(options.dataDir)];
  const found = findOnPath('bwrap', env);
  let bwrap: string | null = null;
  let bwrapProblem: string | undefined;
  if (!found) {
    bwrapProblem = 'bwrap is not installed (Debian: apt-get install bubblewrap)';
  } else if (root && !setpriv) {
    bwrapProblem = 'setpriv (util-linux) is missing, so a sandbox could not drop to the workload user';
  } else {
    const probe = isolatedCommand(
      { level: 'sandbox', identity, bwrap: found, setpriv, hidden },
      { argv: ['true'], cwd: '/', writable: [] },
    );
    const result = spawnSync(probe.file, probe.args, {
      cwd: probe.cwd,
      env: { PATH: env.PATH ?? '/usr/bin:/bin' },
      encoding: 'utf8',
      timeout: 10_000,
    });
    if (result.status === 0) bwrap = found;
    else
      bwrapProblem = `bwrap cannot make a sandbox here: ${(result.stderr || result.error?.message || '').trim()}`;
  }
  return { identity, bwrap, ...(bwrapProblem ? { bwrapProblem } : {}), hidden, setpriv };
}

/** The strongest level `host` offers: sandbox where bwrap works, else user when Pave is root, else none. */
export function strongestIsolation(host: IsolationHost): IsolationLevel {
  if (host.bwrap) return 'sandbox';
  return host.identity ? 'user' : 'none';
}

/**
 * The isolation for `requested` (default: the strongest available). Throws InputError when the host cannot
 * give that level, naming what is missing and how to fix it; `where` is the setting that asked for it.
 */
export function isolationFor(
  host: IsolationHost,
  requested?: IsolationLevel,
  where = 'isolation',
): Isolation {
  const level = requested ?? strongestIsolation(host);
  if (level === 'sandbox' && !host.bwrap) {
    throw new InputError(`isolation "sandbox" is not available on the control plane's host`, [
      {
        path: where,
        message: `${host.bwrapProblem ?? 'bwrap is missing'}; or choose isolation "user" or "none"`,
      },
    ]);
  }
  if (level === 'user' && !host.identity) {
    throw new InputError(`isolation "user" needs a control plane running as root`, [
      {
        path: where,
        message:
          'Pave cannot switch to another user when it is not root; choose "sandbox" (bubblewrap) or "none"',
      },
    ]);
  }
  return {
    level,
    identity: level === 'none' ? null : host.identity,
    bwrap: host.bwrap,
    setpriv: host.setpriv,
    hidden: host.hidden,
  };
}

/** One line for people: which isolation is in force and as whom, e.g. for `pave up`'s start-up log. */
export function describeIsolation(isolation: Isolation, host?: IsolationHost): string {
  const who = isolation.identity
    ? `as user ${isolation.identity.user} (uid ${isolation.identity.uid})`
    : "as Pave's own user";
  switch (isolation.level) {
    case 'sandbox':
      return `sandbox: bubblewrap, read-only host, Pave's data directory hidden, ${who}`;
    case 'user':
      return `user: ${who}, no sandbox (${host?.bwrapProblem ?? 'bwrap not used'})`;
    case 'none':
      return `none: workloads run ${who} and can read Pave's data directory`;
  }
}

/**
 * The command line that runs `run` with `isolation`:
 * - none: the command itself;
 * - user: the command itself, spawned with the workload user's uid and gid (no supplementary groups);
 * - sandbox: `bwrap` with the host read-only, a private /tmp, /dev and /proc (own pid namespace), every
 *   hidden directory (and any directory the workload user could not enter anyway) replaced by an empty
 *   tmpfs, then `writable` bound read-write and `readOnly` read-only at their own paths; as root, `setpriv`
 *   drops to the workload user inside. bwrap sets no-new-privileges.
 */
export function isolatedCommand(isolation: Isolation, run: IsolatedRun): IsolatedCommand {
  const [command = '', ...rest] = run.argv;
  const identity = isolation.identity;
  if (isolation.level === 'none') return { file: command, args: rest, cwd: run.cwd };
  if (isolation.level === 'user') {
    return {
      file: command,
      args: rest,
      cwd: run.cwd,
      ...(identity ? { uid: identity.uid, gid: identity.gid } : {}),
    };
  }
  if (!isolation.bwrap) throw new Error('sandbox isolation without bwrap');
  const secret = isolation.hidden.map((path) => resolve(path));
  const binds = [
    ...run.writable.map((path) => ({ path: resolve(path), flag: '--bind' })),
    ...(run.readOnly ?? []).map((path) => ({ path: resolve(path), flag: '--ro-bind' })),
    { path: resolve(run.cwd), flag: '--bind' },
    // A checkout under /tmp links to its dependencies (node_modules -> ../../node_modules): the private
    // /tmp would hide them, so what the working directory links to there stays readable.
    ...linkedIntoPrivateTmp(resolve(run.cwd), secret).map((path) => ({ path, flag: '--ro-bind' })),
  ];
  const hidden = new Set(['/tmp', ...secret]);
  // A bound directory below one the workload user cannot enter would be out of its reach: hide such
  // ancestors behind a tmpfs (it could not see into them anyway), so the bind is reachable.
  if (identity) {
    for (const { path } of binds) {
      for (const ancestor of ancestorsOf(path)) {
        if (!mayEnter(ancestor, identity)) hidden.add(ancestor);
      }
    }
  }
  // bwrap applies its steps in order, each over what the ones before made: they go parent first, so that a
  // hidden directory inside a bound one (a data directory inside the working directory) is hidden again after
  // the bind, and a bind inside a hidden one (a volume in the data directory) shows through its tmpfs. At one
  // depth: the tmpfs, then the directories made in it, then the binds.
  const steps: Array<{ path: string; rank: number; args: string[] }> = [];
  for (const path of hidden) {
    // The private /tmp is writable by everyone, like the host's; hidden directories are empty and fixed.
    steps.push({ path, rank: 0, args: [...(path === '/tmp' ? ['--perms', '1777'] : []), '--tmpfs', path] });
  }
  // bwrap makes the directories on the way to a bind inside a tmpfs owner-only; the workload user must be
  // able to pass them (node resolves its main module by absolute path), so they are made 0755 first.
  const onTheWay = new Set<string>();
  for (const { path } of binds) {
    for (const ancestor of ancestorsOf(path)) {
      if ([...hidden].some((dir) => isBelow(ancestor, dir))) onTheWay.add(ancestor);
    }
  }
  for (const dir of onTheWay) steps.push({ path: dir, rank: 1, args: ['--perms', '0755', '--dir', dir] });
  const seen = new Set<string>();
  for (const { path, flag } of binds) {
    if (seen.has(path)) continue;
    seen.add(path);
    steps.push({ path, rank: 2, args: [flag, path, path] });
  }
  steps.sort((a, b) => byDepth(a.path, b.path) || a.rank - b.rank);
  const args = [
    '--ro-bind',
    '/',
    '/',
    '--dev',
    '/dev',
    '--proc',
    '/proc',
    ...steps.flatMap((step) => step.args),
  ];
  args.push('--unshare-pid', '--unshare-ipc', '--unshare-uts', '--chdir', resolve(run.cwd), '--');
  if (identity && process.getuid?.() === 0) {
    if (!isolation.setpriv) throw new Error('sandbox isolation as root without setpriv');
    args.push(
      isolation.setpriv,
      `--reuid=${identity.uid}`,
      `--regid=${identity.gid}`,
      '--clear-groups',
      '--inh-caps=-all',
      '--',
    );
  }
  args.push(command, ...rest);
  return { file: isolation.bwrap, args, cwd: '/' };
}

/**
 * Why the isolated command could not use `path` (a directory it must read and enter, e.g. its working
 * directory), or null when it can. With level user every directory on the way must be enterable; in a
 * sandbox only `path` itself matters (isolatedCommand makes the way there reachable).
 */
export function directoryAccessProblem(isolation: Isolation, path: string): string | null {
  const identity = isolation.identity;
  if (!identity || isolation.level === 'none') return null;
  const absolute = resolve(path);
  const mode = statSync(absolute, { throwIfNoEntry: false });
  if (!mode?.isDirectory()) return `${absolute} is not a directory`;
  const blocked =
    isolation.level === 'user' ? ancestorsOf(absolute).find((dir) => !mayEnter(dir, identity)) : undefined;
  const who = `the workload user ${identity.user} (uid ${identity.uid})`;
  if (blocked) {
    return `${who} cannot enter ${blocked}, on the way to ${absolute}: make it enterable (chmod o+x ${blocked}) or move the directory`;
  }
  if (!allows(absolute, identity, 0o5)) {
    return `${who} cannot read ${absolute}: give it access (chown ${identity.user} ${absolute}, or chmod o+rx ${absolute})`;
  }
  return null;
}

/**
 * `path` (a PATH value, `:`-separated) without the directories the isolated command's workload user cannot
 * search (the directory, or one on the way to it, is not enterable: Pave's own `~/.pyenv/shims` under a 0700
 * home, say), so that a command name resolves to a program it may run, or is not found, rather than failing
 * with "Permission denied". Unchanged when the command runs as Pave's own user.
 */
export function searchablePath(isolation: Isolation, path: string): string {
  const identity = isolation.identity;
  if (!identity || isolation.level === 'none') return path;
  return path
    .split(delimiter)
    .filter((dir) => {
      if (!isAbsolute(dir)) return false;
      const absolute = resolve(dir);
      return [...ancestorsOf(absolute), absolute].every((step) => mayEnter(step, identity));
    })
    .join(delimiter);
}

/**
 * Hands `path` (a directory Pave made for a workload, e.g. its files or a volume-dir volume) to the workload
 * user: owner of it and everything in it. With level user, directories from `root` (Pave's data directory)
 * down to it also get o+x, since the user must pass through them. Nothing happens without a workload user.
 */
export function grantToWorkload(isolation: Isolation, path: string, root: string): void {
  const identity = isolation.identity;
  if (!identity || isolation.level === 'none') return;
  chownTree(resolve(path), identity);
  if (isolation.level !== 'user') return;
  const inside = relative(resolve(root), resolve(path));
  if (inside.startsWith('..') || isAbsolute(inside)) return;
  let dir = resolve(root);
  for (const segment of ['', ...inside.split(sep).slice(0, -1)]) {
    dir = segment ? join(dir, segment) : dir;
    const stat = statSync(dir);
    if ((stat.mode & 0o001) === 0) chmodSync(dir, (stat.mode & 0o7777) | 0o001);
  }
}

/**
 * Makes `dir` and everything in it Pave's own: no access for group or others (files 0600-style, directories
 * 0700-style), but for a directory they may only enter (0711, never list nor write): Pave made it so for the
 * users of embedded servers and workloads to pass through to what was handed to them, and a server still
 * running from before a restart must go on reaching its files. Entries owned by another user (a workload's
 * files and volumes) keep their mode. Symbolic links are not followed.
 */
export function restrictToOwner(dir: string): void {
  const uid = process.getuid?.();
  const walk = (path: string) => {
    const stat = lstatSync(path, { throwIfNoEntry: false });
    if (!stat || stat.isSymbolicLink() || stat.uid !== uid) return;
    const enterOnly = stat.isDirectory() && (stat.mode & 0o066) === 0;
    const kept = enterOnly ? 0o7711 : 0o7700;
    if ((stat.mode & 0o077 & ~kept) !== 0) chmodSync(path, stat.mode & kept);
    if (stat.isDirectory()) for (const entry of readdirSync(path)) walk(join(path, entry));
  };
  walk(resolve(dir));
}

function workloadIdentity(requested: string | undefined): WorkloadIdentity {
  const user = requested ?? DEFAULT_WORKLOAD_USER;
  let found = lookupUser(user);
  if (!found && requested === undefined) {
    const created = spawnSync(
      'useradd',
      [
        '--system',
        '--user-group',
        '--no-create-home',
        '--home-dir',
        '/nonexistent',
        '--shell',
        '/usr/sbin/nologin',
        user,
      ],
      { encoding: 'utf8' },
    );
    found = lookupUser(user);
    if (!found) {
      throw new InputError(`cannot create the workload user "${user}"`, [
        {
          path: '--workload-user',
          message: `useradd failed (${(created.stderr || created.error?.message || '').trim()}); create an unprivileged user and pass --workload-user NAME`,
        },
      ]);
    }
  }
  if (!found) {
    throw new InputError(`the workload user "${user}" does not exist`, [
      { path: '--workload-user', message: `create it (useradd --system ${user}) or name another user` },
    ]);
  }
  if (found.uid === 0 || found.gid === 0) {
    throw new InputError(`the workload user "${user}" is root or in group root`, [
      {
        path: '--workload-user',
        message: 'workloads must run unprivileged: name a user with a non-zero uid and gid',
      },
    ]);
  }
  return found;
}

function lookupUser(user: string): WorkloadIdentity | null {
  const result = spawnSync('getent', ['passwd', user], { encoding: 'utf8' });
  const fields = result.status === 0 ? result.stdout.trim().split(':') : [];
  const uid = Number(fields[2]);
  const gid = Number(fields[3]);
  return fields.length >= 4 && Number.isInteger(uid) && Number.isInteger(gid) ? { user, uid, gid } : null;
}

function findOnPath(program: string, env: NodeJS.ProcessEnv): string | null {
  for (const dir of (env.PATH ?? '/usr/local/bin:/usr/bin:/bin').split(delimiter)) {
    if (!dir) continue;
    const path = join(dir, program);
    if (statSync(path, { throwIfNoEntry: false })?.isFile()) return path;
  }
  return null;
}

/** Every directory above `path`, below the root: /a/b/c gives /a, /a/b. */
/** Whether `path` lies strictly inside `dir`. */
function isBelow(path: string, dir: string): boolean {
  return path.startsWith(dir.endsWith(sep) ? dir : `${dir}${sep}`);
}

/**
 * Where the symbolic links directly in `cwd` lead, for those that lead into /tmp (which a sandbox replaces
 * with a private one) and not into a directory the command must not see.
 */
function linkedIntoPrivateTmp(cwd: string, secret: readonly string[]): string[] {
  const targets: string[] = [];
  for (const entry of readdirSync(cwd, { withFileTypes: true })) {
    if (!entry.isSymbolicLink()) continue;
    let target: string;
    try {
      target = realpathSync(join(cwd, entry.name));
    } catch {
      continue; // a dangling link leads nowhere
    }
    if (!isBelow(target, '/tmp') || isBelow(target, cwd)) continue;
    if (secret.some((dir) => target === dir || isBelow(target, dir) || isBelow(dir, target))) continue;
    targets.push(target);
  }
  return targets;
}

function ancestorsOf(path: string): string[] {
  const result: string[] = [];
  for (let dir = dirname(path); dir !== dirname(dir); dir = dirname(dir)) result.unshift(dir);
  return result;
}

function mayEnter(dir: string, identity: WorkloadIdentity): boolean {
  return allows(dir, identity, 0o1);
}

/** Whether `identity` (no supplementary groups) has all `bits` (r=4, w=2, x=1) on `path`. */
function allows(path: string, identity: WorkloadIdentity, bits: number): boolean {
  const stat = statSync(path, { throwIfNoEntry: false });
  if (!stat) return false;
  const shift = stat.uid === identity.uid ? 6 : stat.gid === identity.gid ? 3 : 0;
  return ((stat.mode >> shift) & bits) === bits;
}

function chownTree(path: string, identity: WorkloadIdentity): void {
  const stat = lstatSync(path, { throwIfNoEntry: false });
  if (!stat) return;
  if (stat.uid !== identity.uid || stat.gid !== identity.gid) {
    if (stat.isSymbolicLink()) return;
    chownSync(path, identity.uid, identity.gid);
  }
  if (stat.isDirectory()) for (const entry of readdirSync(path)) chownTree(join(path, entry), identity);
}

function byDepth(a: string, b: string): number {
  return a.split(sep).length - b.split(sep).length || a.localeCompare(b);
}
