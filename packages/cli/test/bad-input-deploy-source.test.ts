import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadScoreFiles } from '../src/commands/deploy.ts';
import { runCli } from '../src/program.ts';
import { fakeIo, temporaryDir } from './helpers.ts';

const SCORE = `apiVersion: score.dev/v1b1
metadata:
  name: fz
containers:
  main:
    image: nginx:1.27
    files:
      - target: /etc/a.conf
        source: ./nope.txt
      - target: /etc/b.conf
        content: b
`;

describe('pave deploy: a `source` that cannot be read', () => {
  it('is reported at file:line:column of the source value, as the other problems are', async () => {
    const dir = temporaryDir();
    const file = join(dir, 'src.score.yaml');
    writeFileSync(file, SCORE);
    const io = fakeIo({ env: { NO_COLOR: '1' } });
    // Port 9 (discard) on localhost: nothing answers, so any request would fail with "cannot reach Pave".
    const args = ['deploy', '-f', file, '--app', 'fz', '--env', 'dev', '--plan', '--token', 'pave_test'];
    const code = await runCli(['node', 'pave', ...args, '--server', 'http://127.0.0.1:9'], io);
    expect(code).toBe(1);
    expect(io.stderr.text).toBe(
      `${file}:9:17: containers.main.files[0].source: cannot read "./nope.txt": ` +
        `no such file (${join(dir, 'nope.txt')})\n` +
        'pave: error: 1 problem in the Score files; nothing was sent to the server\n',
    );
  });

  it('points at the source of a file in the map form too, in a Score file in another directory', async () => {
    const dir = temporaryDir();
    mkdirSync(join(dir, 'svc'));
    writeFileSync(
      join(dir, 'svc', 'score.yaml'),
      SCORE.replace(
        /files:\n[\s\S]*$/u,
        'files:\n      /etc/a.conf:\n        content: a\n      /etc/b.conf:\n        source: ../missing-b.conf\n',
      ),
    );
    const { problems } = await loadScoreFiles(['svc/score.yaml'], dir);
    expect(problems).toEqual([
      'svc/score.yaml:11:17: containers.main.files["/etc/b.conf"].source: cannot read "../missing-b.conf": ' +
        `no such file (${join(dir, 'missing-b.conf')})`,
    ]);
  });
});
