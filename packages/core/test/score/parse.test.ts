import { describe, expect, it } from 'vitest';
import { formatScoreProblem, formatScorePath, parseScore } from '../../src/index.ts';
import type { ScoreProblem } from '../../src/index.ts';

/** Problems as `line:column path: message` strings, which read well in a failing assertion. */
function problems(text: string): string[] {
  return parseScore(text, 'score.yaml').problems.map(
    (p: ScoreProblem) => `${p.line}:${p.column} ${p.path}: ${p.message}`,
  );
}

const VALID = `apiVersion: score.dev/v1b1
metadata:
  name: shop
containers:
  web:
    image: nginx
    variables:
      DB_HOST: \${resources.db.host}
      NAME: \${metadata.name}
resources:
  db:
    type: postgres
`;

describe('parseScore', () => {
  it('returns the typed workload of a valid file and no problems', () => {
    const result = parseScore(VALID, 'score.yaml');
    expect(result.problems).toEqual([]);
    expect(result.workload?.containers.web?.variables?.DB_HOST).toBe('${resources.db.host}');
    expect(result.workload?.resources?.db?.type).toBe('postgres');
  });

  it('reports all three problems of a file at once, in line order, at their nodes', () => {
    const text = `apiVersion: score.dev/v1b1
metadata:
  name: shop
containers:
  web:
    image: nginx
    variables:
      DB_HOST: \${resources.db.host}
      PORT: 8080
    imag: typo
resources:
  cache:
    type: redis
`;
    expect(problems(text)).toEqual([
      expect.stringMatching(
        /^8:16 containers\.web\.variables\.DB_HOST: \$\{resources\.db\.host\} names resource "db", which is not declared; declared resources: cache\b/u,
      ),
      '9:13 containers.web.variables.PORT: expected a string, got the number 8080; put it in quotes: "8080"',
      expect.stringMatching(
        /^10:5 containers\.web\.imag: unknown key; did you mean "image"\? allowed keys here: image, /u,
      ),
    ]);
    expect(parseScore(text, 'score.yaml').workload).toBeUndefined();
  });

  it('points a missing key at the mapping that lacks it, an unknown key at itself, a bad value at the value', () => {
    const text = `apiVersion: score.dev/v1b1
metadata:
  name: Shop
containers:
  web:
    command: ["run"]
    livenessProbe: {}
    files:
      /etc/app.conf:
        content: hi
        source: ./app.conf
      /etc/other:
        target: /x
        content: |
          line one
          port \${resources.db.port}
          name \${metadata.name} \${metadata.team}
    volumes:
      - source: \${resources.data}
        target: /data
service:
  ports:
    www:
      port: 70000
      protocol: tcp
resources:
  data:
    type: volume
`;
    expect(problems(text)).toEqual([
      expect.stringMatching(
        /^3:9 metadata\.name: the workload name must be an RFC 1123 label: .* \(got "Shop"\)$/u,
      ),
      '5:3 containers.web: missing required key "image": the container image to run, e.g. nginx:1.27',
      '7:5 containers.web.livenessProbe: a probe needs httpGet (port and path) or exec (command)',
      '9:7 containers.web.files["/etc/app.conf"]: a file takes exactly one of content, binaryContent and source, not content and source',
      expect.stringMatching(
        /^13:9 containers\.web\.files\["\/etc\/other"\]\.target: unknown key; .*target is only used in the deprecated list form/u,
      ),
      expect.stringMatching(
        /^16:16 containers\.web\.files\["\/etc\/other"\]\.content: \$\{resources\.db\.port\} names resource "db"/u,
      ),
      '17:33 containers.web.files["/etc/other"].content: ${metadata.team}: metadata has no key "team"; its keys are name',
      '24:13 service.ports.www.port: port must be from 1 to 65535',
      '25:17 service.ports.www.protocol: must be one of "TCP", "UDP", got "tcp" (values are case-sensitive)',
    ]);
  });

  it('reports YAML syntax errors where they are, together with placeholder problems', () => {
    const text = `apiVersion: score.dev/v1b1
metadata:
  name: shop
  name: shop2
containers:
  web:
    image: nginx
    variables:
      URL: \${resources.api.url}
      A: "x
`;
    expect(problems(text)).toEqual([
      '4:3 metadata.name: YAML syntax error: Map keys must be unique',
      expect.stringMatching(
        /^9:12 containers\.web\.variables\.URL: \$\{resources\.api\.url\} names resource "api", which is not declared; declared resources: \(none\)/u,
      ),
      '10:10 containers.web.variables.A: YAML syntax error: Missing closing "quote',
    ]);
  });

  it('finds a repeated key among thousands, at its line, and lets merge keys repeat', () => {
    const variables = Array.from({ length: 5000 }, (_, index) => `      KEY_${index}: value-${index}\n`);
    const text =
      'apiVersion: score.dev/v1b1\nmetadata:\n  name: shop\ncontainers:\n  web:\n    image: nginx\n' +
      `    variables:\n${variables.join('')}      KEY_7: again\n`;
    expect(problems(text)).toEqual([
      '5008:7 containers.web.variables.KEY_7: YAML syntax error: Map keys must be unique',
    ]);
    const merged = [
      'apiVersion: score.dev/v1b1',
      'metadata: {name: shop}',
      'base: &base {image: nginx}',
      'more: &more {command: [nginx]}',
      'containers:',
      '  web:',
      '    <<: *base',
      '    <<: *more',
    ].join('\n');
    expect(problems(merged).filter((problem) => problem.includes('unique'))).toEqual([]);
  });

  // Found by a review of bad input: `pave validate` passed such a file, which the server then refused.
  it('reports a NUL character in a value or a key, where it is', () => {
    const text = VALID.replace('      NAME: ${metadata.name}', '      NAME: "a\\0b"\n      "X\\0": y');
    expect(problems(text)).toEqual([
      '9:13 containers.web.variables.NAME: contains a NUL character (U+0000); remove it: no name or value in Pave may hold one',
      expect.stringMatching(
        /^10:7 containers\.web\.variables\["X\\u0000"\]: the key contains a NUL character/u,
      ),
    ]);
  });

  it('counts the lines after a flow collection it cannot make sense of', () => {
    // The YAML parser's own line count misses the line break inside the broken `{`.
    expect(problems('{]---\nid: amessage: m')).toContainEqual(
      expect.stringMatching(
        /^2:5 .*: YAML syntax error: Nested mappings are not allowed in compact mappings$/,
      ),
    );
  });

  it('reports a broken structure once, without restating it as schema problems', () => {
    const text = 'apiVersion: score.dev/v1b1\nmetadata:\n\tname: ab\ncontainers:\n  web:\n    image: x\n';
    expect(problems(text)).toEqual(['3:1 (root): YAML syntax error: Tabs are not allowed as indentation']);
  });

  it.each([
    [
      'an empty file',
      '',
      ['1:1 (root): the file is empty; a Score workload needs apiVersion, metadata and containers'],
    ],
    [
      'a comment only',
      '# nothing\n',
      ['1:1 (root): the file is empty; a Score workload needs apiVersion, metadata and containers'],
    ],
    ['a list', '- a\n- b\n', ['1:1 (root): expected a map, got a list']],
    [
      'a second document',
      'apiVersion: score.dev/v1b1\nmetadata: {name: ab}\ncontainers: {web: {image: x}}\n---\nfoo: 1\n',
      [
        expect.stringMatching(
          /^4:1 \(root\): a Score file holds one workload, but this is a second YAML document/u,
        ),
      ],
    ],
    [
      'an empty map value',
      'apiVersion: score.dev/v1b1\nmetadata:\n  name: ab\ncontainers:\n  web:\n    image: x\n    variables:\n',
      ['7:5 containers.web.variables: expected a map, got an empty value'],
    ],
    [
      'an alias to a missing anchor',
      'apiVersion: score.dev/v1b1\nmetadata:\n  name: ab\ncontainers:\n  web:\n    image: *img\n',
      [expect.stringMatching(/^6:12 containers\.web\.image: YAML error: Unresolved alias/u)],
    ],
    [
      'no containers',
      'apiVersion: score.dev/v1b1\nmetadata:\n  name: ab\ncontainers: {}\n',
      [expect.stringMatching(/^4:1 containers: a workload needs at least one container/u)],
    ],
    [
      'a wrong apiVersion and no metadata',
      'apiVersion: score.dev/v1\ncontainers:\n  web:\n    image: x\n',
      [
        '1:1 (root): missing required key "metadata": add metadata: with the workload name',
        '1:13 apiVersion: apiVersion must be "score.dev/v1b1" (got "score.dev/v1")',
      ],
    ],
  ])('reports %s', (_name, text, expected) => {
    expect(problems(text)).toEqual(expected);
  });

  it('finds values reached through YAML merge keys where they are written', () => {
    const text =
      'x-base: &base\n  image: 3\napiVersion: score.dev/v1b1\nmetadata:\n  name: ab\ncontainers:\n  web:\n    <<: *base\n';
    expect(problems(text)).toEqual([
      expect.stringMatching(/^1:1 x-base: unknown key; /u),
      '2:10 containers.web.image: expected a string, got the number 3; put it in quotes: "3"',
    ]);
  });

  it('checks the deprecated list form of files and volumes with list indexes in the path', () => {
    const text = `apiVersion: score.dev/v1b1
metadata:
  name: ab
containers:
  web:
    image: x
    files:
      - target: /a
        mode: "999"
        content: hi
    volumes:
      - target: /data
`;
    expect(problems(text)).toEqual([
      '9:15 containers.web.files[0].mode: mode must be an octal access mode in quotes, e.g. "0644" or "600" (got "999")',
      '12:9 containers.web.volumes[0]: missing required key "source": the volume to mount, e.g. ${resources.data}',
    ]);
  });

  it('names bad container, resource and annotation keys at the key', () => {
    const text = `apiVersion: score.dev/v1b1
metadata:
  name: ab
  annotations:
    -bad: x
containers:
  Web:
    image: x
resources:
  db_main:
    type: postgres
    id: -x
`;
    expect(problems(text)).toEqual([
      expect.stringMatching(/^5:5 metadata\.annotations\.-bad: must be an annotation key: /u),
      expect.stringMatching(/^7:3 containers\.Web: a container name must be an RFC 1123 label: /u),
      expect.stringMatching(/^10:3 resources\.db_main: a resource name must be an RFC 1123 label: /u),
      expect.stringMatching(/^12:9 resources\.db_main\.id: a resource id must be "\."-separated labels/u),
    ]);
  });
});

describe('formatScoreProblem and formatScorePath', () => {
  it('render file:line:column: json.path: message', () => {
    expect(
      formatScoreProblem({
        file: 'a/score.yaml',
        line: 4,
        column: 7,
        path: 'containers.web',
        message: 'bad',
      }),
    ).toBe('a/score.yaml:4:7: containers.web: bad');
  });

  it('quote keys that are not plain names and index lists', () => {
    expect(formatScorePath([])).toBe('(root)');
    expect(formatScorePath(['containers', 'web', 'files', '/etc/a.conf', 'content'])).toBe(
      'containers.web.files["/etc/a.conf"].content',
    );
    expect(formatScorePath(['containers', 'web', 'volumes', 0, 'source'])).toBe(
      'containers.web.volumes[0].source',
    );
  });
});
