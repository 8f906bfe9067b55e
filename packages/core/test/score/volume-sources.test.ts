import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatScoreProblem, parseScore } from '../../src/index.ts';
import { SAMPLES_DIR } from './support.ts';

// Every deployment refuses a volume whose source is not `${resources.NAME}` of a volume resource of the workload
// (the server's render); `pave validate` and `pave deploy` say so offline, at the source, in the same words.

const notAVolume = (source: string, declared: string) =>
  `"${source}" is not a volume resource of the workload: a volume's source must be \${resources.NAME} of a ` +
  `resource of type volume under its resources (${declared}); a workload mounts only volumes Pave provisions ` +
  'for its environment, never a host path';

const SCORE = `apiVersion: score.dev/v1b1
metadata:
  name: api
containers:
  main:
    image: node
    volumes:
      /data:
        source: \${resources.data}
      /cache:
        source: \${resources.cache.source}
      /host:
        source: /var/run/docker.sock
      /db:
        source: \${resources.db}
resources:
  data:
    type: volume
  cache:
    type: volume
  db:
    type: postgres
`;

describe('parseScore with renderable: volume sources', () => {
  it('reports each source that is not a volume resource at its value, as the server words it', () => {
    const here = 'here: ${resources.data}, ${resources.cache}';
    expect(
      parseScore(SCORE, 'api.score.yaml', { renderable: true }).problems.map(formatScoreProblem),
    ).toEqual([
      `api.score.yaml:13:17: containers.main.volumes["/host"].source: ${notAVolume('/var/run/docker.sock', here)}`,
      `api.score.yaml:15:17: containers.main.volumes["/db"].source: ${notAVolume('${resources.db}', here)}`,
    ]);
  });

  it("refuses the official sample's bare volume name (the deprecated list form, by index)", () => {
    const sample = 'spec/samples/score-deprecated-files-and-volumes.yaml';
    const text = readFileSync(join(SAMPLES_DIR, sample), 'utf8');
    expect(parseScore(text, sample).problems).toEqual([]);
    const line = text.split('\n').findIndex((entry) => entry.includes('source: some-volume')) + 1;
    expect(parseScore(text, sample, { renderable: true }).problems).toEqual([
      {
        file: sample,
        line,
        column: text.split('\n')[line - 1]!.indexOf('some-volume') + 1,
        path: 'containers.main.volumes[0].source',
        message: notAVolume('some-volume', 'it declares none'),
      },
    ]);
  });

  it('accepts the same sources without renderable: they are valid Score', () => {
    expect(parseScore(SCORE, 'api.score.yaml').problems).toEqual([]);
  });

  it('leaves a placeholder of an undeclared resource to the placeholder check', () => {
    const text = SCORE.replace('${resources.db}', '${resources.nope}');
    expect(
      parseScore(text, 'api.score.yaml', { renderable: true }).problems.map((problem) => problem.path),
    ).toEqual(['containers.main.volumes["/host"].source', 'containers.main.volumes["/db"].source']);
    expect(parseScore(text, 'api.score.yaml', { renderable: true }).problems[1]?.message).not.toMatch(
      /is not a volume resource/u,
    );
  });
});
