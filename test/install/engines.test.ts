import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import semver from 'semver';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const readJson = (file: string) => JSON.parse(readFileSync(join(root, file), 'utf8'));

/*
 * The README promises the oldest Node.js in the root package's `engines`. A dependency that needs a newer one
 * makes `npm install` print a wall of EBADENGINE warnings there, and may use what that Node lacks.
 */
describe('the locked dependencies and the Node.js Pave supports', () => {
  it('installs no package whose engines exclude the oldest supported Node.js', () => {
    const supported: string = readJson('package.json').engines.node;
    const oldest = semver.minVersion(supported);
    expect(oldest, `package.json engines.node "${supported}"`).not.toBeNull();
    const lock = readJson('package-lock.json') as {
      packages: Record<string, { version?: string; engines?: { node?: string } | string[] }>;
    };
    const excluding = Object.entries(lock.packages).flatMap(([path, entry]) => {
      const range = Array.isArray(entry.engines) ? undefined : entry.engines?.node;
      if (!range || semver.satisfies(oldest!, range)) return [];
      return [`${path.replace(/^.*node_modules\//, '')}@${entry.version} needs Node.js ${range}`];
    });
    expect(excluding, `Node.js ${oldest} (package.json engines.node "${supported}")`).toEqual([]);
  });

  it('says for every package with an install script whether it may run it (allowScripts)', () => {
    // npm 11 runs an unreviewed package's install script and then warns about it at every install; npm 12
    // skips it. A newcomer's first `npm install` should print neither.
    const allow: Record<string, boolean> = readJson('package.json').allowScripts ?? {};
    const lock = readJson('package-lock.json') as {
      packages: Record<string, { hasInstallScript?: boolean; link?: boolean }>;
    };
    const unreviewed = Object.entries(lock.packages).flatMap(([path, entry]) => {
      const name = path.replace(/^.*node_modules\//, '');
      return path && entry.hasInstallScript && !(name in allow) ? [name] : [];
    });
    expect(unreviewed, 'packages with install scripts missing from package.json allowScripts').toEqual([]);
  });
});
