import { describe, expect, it } from 'vitest';
import { ScoreWorkload, WorkloadSource, parseScore } from '../../src/index.ts';

// Found by a review of Pave's bad-input handling.

/** Problems as `line:column path: message` strings, which read well in a failing assertion. */
function problems(text: string): string[] {
  return parseScore(text, 'score.yaml').problems.map((p) => `${p.line}:${p.column} ${p.path}: ${p.message}`);
}

const HEAD = 'apiVersion: score.dev/v1b1\nmetadata:\n  name: shop\ncontainers:\n  main:\n    image: x\n';

describe('a Score file whose binaryContent is not base64', () => {
  it('is refused at the value, saying it is not base64 and how to encode the file', () => {
    const text = `${HEAD}    files:\n      - target: a.bin\n        binaryContent: "!!!not base64 at all ~~~"\n`;
    expect(problems(text)).toEqual([
      expect.stringMatching(
        /^9:24 containers\.main\.files\[0\]\.binaryContent: binaryContent is not base64: .*"!".*base64 -w0 /u,
      ),
    ]);
    expect(parseScore(text, 'score.yaml').workload).toBeUndefined();
  });

  it('is refused in the map form of files too, and when the "=" padding is missing', () => {
    const text = `${HEAD}    files:\n      /a.bin:\n        binaryContent: aGVsbG8\n`;
    expect(problems(text)).toEqual([
      expect.stringMatching(
        /^9:24 containers\.main\.files\["\/a\.bin"\]\.binaryContent: binaryContent is not base64: .*multiple of 4/u,
      ),
    ]);
  });

  it('is refused in a deployment request, which the API checks with the same schema', () => {
    const spec = {
      apiVersion: 'score.dev/v1b1',
      metadata: { name: 'shop' },
      containers: { main: { image: 'x', files: { '/a.bin': { binaryContent: 'not base64!' } } } },
    };
    const result = WorkloadSource.safeParse({ spec, dir: '/srv/shop' });
    expect(result.error?.issues).toEqual([
      expect.objectContaining({
        path: ['spec', 'containers', 'main', 'files', '/a.bin', 'binaryContent'],
        message: expect.stringMatching(/^binaryContent is not base64/u),
      }),
    ]);
  });

  it.each([
    ['one line', 'aGVsbG8gd29ybGQ='],
    ['wrapped as `base64` wraps it', 'aGVsbG8g\nd29ybGQ=\n'],
    ['wrapped with CRLF line breaks', 'aGVsbG8g\r\nd29ybGQ=\r\n'],
    ['empty (an empty file)', ''],
  ])('is accepted when it is standard base64: %s', (_name, value) => {
    const spec = {
      apiVersion: 'score.dev/v1b1',
      metadata: { name: 'shop' },
      containers: { main: { image: 'x', files: { '/a.bin': { binaryContent: value } } } },
    };
    expect(ScoreWorkload.safeParse(spec).error?.issues ?? []).toEqual([]);
  });

  it('accepts base64 written as a YAML block of lines', () => {
    const text = `${HEAD}    files:\n      /a.bin:\n        binaryContent: |\n          aGVsbG8g\n          d29ybGQ=\n`;
    expect(problems(text)).toEqual([]);
  });
});

describe('a Score file with a duplicate key', () => {
  it('reports the problems of the value that wins (the last) at that value, not at the first', () => {
    const text = `apiVersion: score.dev/v1b1
metadata:
  name: shop
containers:
  main:
    command: [run]
    image: x
    image: [1]
`;
    expect(problems(text)).toEqual([
      '8:5 containers.main.image: YAML syntax error: Map keys must be unique',
      '8:12 containers.main.image: expected a string, got a list',
    ]);
  });

  it('quotes the value where it is written', () => {
    const text =
      'apiVersion: score.dev/v1b1\nmetadata:\n  name: ab\n  name: "b"\ncontainers:\n  main:\n    image: x\n';
    expect(problems(text)).toEqual([
      '4:3 metadata.name: YAML syntax error: Map keys must be unique',
      expect.stringMatching(
        /^4:9 metadata\.name: the workload name must be an RFC 1123 label: .*\(got "b"\)$/u,
      ),
    ]);
  });

  it('reports a placeholder problem in the winning value at the placeholder', () => {
    const text = `${HEAD}    variables:\n      A: \${resources.db.host}\n      A: x \${resources.cache.url}\n`;
    expect(problems(text)).toEqual([
      '9:7 containers.main.variables.A: YAML syntax error: Map keys must be unique',
      expect.stringMatching(
        /^9:12 containers\.main\.variables\.A: \$\{resources\.cache\.url\} names resource "cache"/u,
      ),
    ]);
  });
});
