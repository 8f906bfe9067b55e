import { spawnSync } from 'node:child_process';
import { dirname } from 'node:path';
import { parse } from 'yaml';

/** Whether podman-compose is installed (.ci/run installs Debian's). */
export function podmanComposeAvailable(): boolean {
  return spawnSync('podman-compose', ['version'], { encoding: 'utf8' }).status === 0;
}

/** What podman-compose made of a Compose file: its exit status, its output and the services it found. */
export interface ComposeCheck {
  status: number | null;
  output: string;
  services: string[];
}

/**
 * Has podman-compose read `file` (interpolated with `env`) the way `up` would, changing nothing:
 * `podman-compose -f FILE config` where it has that command (1.0.4 and later), else, for Debian 12's 1.0.3,
 * a dry run of `up --no-start` against a podman that does nothing (`/bin/true`), which parses, interpolates
 * and maps every service to the `podman create` it would run.
 */
export function checkComposeFile(file: string, env: NodeJS.ProcessEnv = {}): ComposeCheck {
  const run = (args: string[]) =>
    spawnSync('podman-compose', args, {
      cwd: dirname(file),
      encoding: 'utf8',
      env: { ...process.env, ...env },
      timeout: 60_000,
    });
  const config = run(['-f', file, 'config']);
  if (!`${config.stderr}`.includes("invalid choice: 'config'")) {
    const output = `${config.stdout}${config.stderr}`;
    const services =
      config.status === 0
        ? Object.keys((parse(config.stdout) as { services?: object } | null)?.services ?? {})
        : [];
    return { status: config.status, output, services: services.sort() };
  }
  const dry = run(['--dry-run', '--podman-path', '/bin/true', '-f', file, 'up', '--no-start']);
  const output = `${dry.stdout}${dry.stderr}`;
  const services = [...dry.stdout.matchAll(/--label com\.docker\.compose\.service=(\S+)/g)].map(
    (match) => match[1]!,
  );
  return { status: dry.status, output, services: [...new Set(services)].sort() };
}
