import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseManifests } from '../src/manifests-dir.ts';
import { runCli } from '../src/program.ts';
import { fakeIo, temporaryDir } from './helpers.ts';

// Found by a review of Pave's bad-input handling: YAML files with many keys in one mapping took seconds per
// thousand keys (the YAML parser compares each key with every one before it), `pave validate` of a Score file
// without a command parsed it a second time that way, and binaryContent was never checked as base64.

const MANY = 20_000;

/** A Score file whose container has MANY variables and no command, plus `extra` lines at its end. */
function scoreWithManyVariables(extra = ''): string {
  const variables = Array.from({ length: MANY }, (_, index) => `      KEY_${index}: value-${index}\n`);
  return (
    'apiVersion: score.dev/v1b1\nmetadata:\n  name: shop\ncontainers:\n  main:\n    image: nginx\n' +
    `    variables:\n${variables.join('')}${extra}`
  );
}

async function validate(files: Record<string, string>) {
  const dir = temporaryDir();
  const paths = Object.entries(files).map(([name, text]) => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  });
  const io = fakeIo();
  const code = await runCli(['node', 'pave', 'validate', ...paths.flatMap((path) => ['-f', path])], io);
  return { code, stdout: io.stdout.text, stderr: io.stderr.text, paths };
}

describe('pave validate of a Score file with many keys', () => {
  it('warns about the missing command at the container', async () => {
    const { code, stdout, stderr, paths } = await validate({ 'score.yaml': scoreWithManyVariables() });
    expect({ code, stdout }).toEqual({ code: 0, stdout: '1 file valid\n' });
    expect(stderr).toMatch(
      new RegExp(`^${escape(paths[0]!)}:5:3: containers\\.main: warning: container "main"`),
    );
  });

  it('reports a repeated key at its line', async () => {
    const { code, stderr, paths } = await validate({
      'score.yaml': scoreWithManyVariables('      KEY_7: again\n'),
    });
    expect(code).toBe(1);
    expect(stderr.split('\n')[0]).toBe(
      `${paths[0]!}:${MANY + 8}:7: containers.main.variables.KEY_7: YAML syntax error: Map keys must be unique`,
    );
  });
});

describe('pave validate of a Score file whose binaryContent is not base64', () => {
  it('refuses it at the value and says how to encode the file', async () => {
    const text =
      'apiVersion: score.dev/v1b1\nmetadata:\n  name: shop\ncontainers:\n  main:\n    image: x\n' +
      '    command: [run]\n    files:\n      - target: a.bin\n        binaryContent: "!!!not base64 at all ~~~"\n';
    const { code, stdout, stderr, paths } = await validate({ 'b64.score.yaml': text });
    expect({ code, stdout }).toEqual({ code: 1, stdout: '' });
    expect(stderr.split('\n')[0]).toMatch(
      new RegExp(
        `^${escape(paths[0]!)}:10:24: containers\\.main\\.files\\[0\\]\\.binaryContent: binaryContent is not base64: .*base64 -w0 `,
      ),
    );
  });
});

describe('--manifests files with many keys', () => {
  it('report a repeated key at its line, in any document', () => {
    // As many keys as a manifest's size limit allows.
    const keys = 10_000;
    const data = Array.from({ length: keys }, (_, index) => `  key${index}: v${index}\n`).join('');
    const text =
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n' +
      `${data}---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\ndata:\n${data}  key7: again\n`;
    const { manifests, problems } = parseManifests(text, 'k8s/big.yaml');
    expect(problems).toEqual([`k8s/big.yaml:${2 * keys + 12}:3: YAML syntax error: Map keys must be unique`]);
    expect(manifests.map((entry) => entry.document)).toEqual([1]);
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/gu, '\\$&');
}
