import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../src/program.ts';
import { runPave } from '../../../test/support/pave.ts';
import { fakeIo, temporaryDir } from './helpers.ts';

const GOOD = `apiVersion: score.dev/v1b1
metadata:
  name: shop
containers:
  web:
    image: nginx
    command: ['nginx', '-g', 'daemon off;']
    variables:
      DB_HOST: \${resources.db.host}
resources:
  db:
    type: postgres
`;

// Three problems, on lines 4, 9 and 12.
const BAD = `apiVersion: score.dev/v1b1
metadata:
  name: shop
  name: again
containers:
  web:
    image: nginx
    variables:
      PORT: 8080
    files:
      /etc/app.conf:
        content: \${resources.cache.url}
`;

/** Writes the given Score files into a fresh directory and returns their paths by name. */
function scoreFiles(files: Record<string, string>): Record<string, string> {
  const dir = temporaryDir();
  return Object.fromEntries(
    Object.entries(files).map(([name, text]) => {
      const path = join(dir, name);
      writeFileSync(path, text);
      return [name, path];
    }),
  );
}

async function validate(args: string[], stdin?: string) {
  const io = fakeIo(stdin === undefined ? {} : { stdin });
  const code = await runCli(['node', 'pave', 'validate', ...args], io);
  return { code, stdout: io.stdout.text, stderr: io.stderr.text };
}

describe('pave validate', () => {
  it('says how many files are valid and exits 0 when all are', async () => {
    const { good, other } = scoreFiles({ good: GOOD, other: GOOD.replace('name: shop', 'name: cart') });
    expect(await validate(['-f', good!, '--file', other!])).toEqual({
      code: 0,
      stdout: '2 files valid\n',
      stderr: '',
    });
  });

  it('prints every problem as file:line:column: path: message on stderr and exits 1', async () => {
    const { good, 'bad.yaml': bad } = scoreFiles({ good: GOOD, 'bad.yaml': BAD });
    const result = await validate(['-f', good!, bad!]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr.split('\n')).toEqual([
      `${bad}:4:3: metadata.name: YAML syntax error: Map keys must be unique`,
      `${bad}:9:13: containers.web.variables.PORT: expected a string, got the number 8080; put it in quotes: "8080"`,
      expect.stringMatching(
        /:12:18: containers\.web\.files\["\/etc\/app\.conf"\]\.content: \$\{resources\.cache\.url\} names resource "cache", which is not declared; declared resources: \(none\)/u,
      ),
      'pave: error: 3 problems in 1 of 2 files',
      '',
    ]);
  });

  it('prints a JSON report on stdout with -o json', async () => {
    const { good, bad } = scoreFiles({ good: GOOD, bad: BAD });
    const result = await validate(['-f', good!, '-f', bad!, '-o', 'json']);
    expect(result.code).toBe(1);
    const report = JSON.parse(result.stdout) as {
      files: { file: string; valid: boolean; problems: object[] }[];
    };
    expect(report.files.map(({ file, valid }) => ({ file, valid }))).toEqual([
      { file: good, valid: true },
      { file: bad, valid: false },
    ]);
    expect(report.files[1]?.problems).toHaveLength(3);
    expect(report.files[1]?.problems[0]).toEqual({
      file: bad,
      line: 4,
      column: 3,
      path: 'metadata.name',
      message: 'YAML syntax error: Map keys must be unique',
    });
  });

  it('reads standard input for -f -', async () => {
    expect(await validate(['-f', '-'], GOOD)).toMatchObject({ code: 0, stdout: '1 file valid\n' });
    const bad = await validate(['-f', '-'], 'apiVersion: score.dev/v1b1\n');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^-:1:1: \(root\): missing required key "metadata"/u);
  });

  it('refuses files it cannot read with a plain message and exit code 2, before validating any', async () => {
    const { good } = scoreFiles({ good: GOOD });
    const missing = join(temporaryDir(), 'nope.yaml');
    expect(await validate(['-f', good!, '-f', missing])).toEqual({
      code: 2,
      stdout: '',
      stderr: `pave: error: cannot read ${missing}: no such file\n`,
    });
    const dir = temporaryDir();
    const both = await validate(['-f', missing, '-f', dir]);
    expect(both.code).toBe(2);
    expect(both.stderr).toBe(
      `pave: error: cannot read 2 files:\n  - ${missing}: no such file\n` +
        `  - ${dir}: it is a directory; pass the Score file inside it, e.g. score.yaml\n`,
    );
  });

  // Found by a review of bad input: a Latin-1 file's é became U+FFFD, and the file was valid.
  it('refuses a file that is not UTF-8, naming the byte, its line and column, and how to convert it', async () => {
    const dir = temporaryDir();
    const latin1 = join(dir, 'latin1.yaml');
    writeFileSync(
      latin1,
      Buffer.from(GOOD.replace('DB_HOST', 'GREETING: caf\u00e9\n      DB_HOST'), 'latin1'),
    );
    expect(await validate(['-f', latin1])).toEqual({
      code: 2,
      stdout: '',
      stderr:
        `pave: error: cannot read ${latin1}: it is not UTF-8: byte 165 (0xE9, line 9, column 20) does not ` +
        'begin a UTF-8 character; convert the file to UTF-8, e.g. `iconv -f latin1 -t utf-8`\n',
    });
  });

  it('needs at least one -f', async () => {
    const result = await validate([]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("required option '-f, --file <files...>' not specified");
  });
});

// Through the built CLI (`npm test` builds it first), as a user runs it: no server and no token involved.
describe('pave validate (the built executable)', () => {
  it('exits 0 for a good file and 1 with one line per problem for a bad one', async () => {
    const { good, bad } = scoreFiles({ good: GOOD, bad: BAD });
    const ok = await runPave(['validate', '-f', good!], { PAVE_SERVER: 'http://127.0.0.1:9' });
    expect(ok).toEqual({ code: 0, stdout: '1 file valid\n', stderr: '' });

    const failed = await runPave(['validate', '-f', good!, '-f', bad!]);
    expect(failed.code).toBe(1);
    expect(failed.stdout).toBe('');
    const locations = failed.stderr
      .trimEnd()
      .split('\n')
      .map((line) => /^(.*:\d+:\d+): /u.exec(line)?.[1] ?? line);
    expect(locations).toEqual([
      `${bad}:4:3`,
      `${bad}:9:13`,
      `${bad}:12:18`,
      'pave: error: 3 problems in 1 of 2 files',
    ]);
  });

  it('shows an example in its help', async () => {
    const help = await runPave(['validate', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Examples?:\n\s+\$ pave validate -f score\.yaml/u);
  });
});

describe('pave validate: files read from `source`', () => {
  const WITH_SOURCES = `apiVersion: score.dev/v1b1
metadata:
  name: shop
containers:
  web:
    image: nginx
    command: ['nginx']
    files:
      /etc/app.conf:
        source: app.conf
      /etc/other.conf:
        source: conf/missing.conf
`;

  it('reports a source that cannot be read at its line and column, as `pave deploy` does', async () => {
    const { score } = scoreFiles({ score: WITH_SOURCES, 'app.conf': 'port = 80\n' });
    const result = await validate(['-f', score!]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    const missing = join(score!, '..', 'conf/missing.conf');
    expect(result.stderr.split('\n')).toEqual([
      `${score}:12:17: containers.web.files["/etc/other.conf"].source: cannot read "conf/missing.conf": ` +
        `no such file (${missing})`,
      'pave: error: 1 problem in 1 of 1 file',
      '',
    ]);
  });

  it('lists it among the problems of -o json, and says the file is valid once the source is there', async () => {
    const { score } = scoreFiles({ score: WITH_SOURCES, 'app.conf': 'port = 80\n' });
    const report = JSON.parse((await validate(['-f', score!, '-o', 'json'])).stdout) as {
      files: { valid: boolean; problems: object[] }[];
    };
    expect(report.files[0]).toMatchObject({
      valid: false,
      problems: [
        {
          file: score,
          line: 12,
          column: 17,
          path: 'containers.web.files["/etc/other.conf"].source',
          message: expect.stringMatching(/^cannot read "conf\/missing\.conf": no such file/u),
        },
      ],
    });
    const { score: fixed } = scoreFiles({
      score: WITH_SOURCES.replace('conf/missing.conf', 'app.conf'),
      'app.conf': 'port = 80\n',
    });
    expect(await validate(['-f', fixed!])).toEqual({ code: 0, stdout: '1 file valid\n', stderr: '' });
  });
});
