import { describe, expect, it } from 'vitest';
import {
  checkScorePlaceholders,
  formatScoreProblem,
  parseScore,
  resourceOutputsJson,
  resourceReference,
} from '../../src/index.ts';

/*
 * Found by a Score-conformance review: score-go resolves `${resources.NAME}` to the resource's outputs as
 * JSON, and a part after an output that is a string is an error; Pave's render refused the first as "not a
 * placeholder Score knows" after `pave validate` passed it, and dropped the extra parts of the second. One
 * rule, in core, says what a `${resources.…}` placeholder names, for `pave validate` and the render alike.
 */

const SCORE = `apiVersion: score.dev/v1b1
metadata:
  name: api
containers:
  main:
    image: node
    variables:
      ALL: \${resources.dd}
      HOST: \${resources.dd.host}
      MORE: \${resources.dd.host.nothing.here}
resources:
  dd:
    type: dns
`;

const TRAILING =
  '${resources.dd.host.nothing.here}: resources.dd.host is an output, and outputs are strings, so it has no ' +
  'key "nothing"; write ${resources.dd.host} for the output, or ${resources.dd} for every output as JSON';

describe('resourceReference', () => {
  it('names the resource alone for ${resources.NAME} (its outputs as a whole) and the output after it', () => {
    expect(resourceReference(['resources', 'vol'])).toEqual({ resource: 'vol' });
    expect(resourceReference(['resources', 'db', 'host'])).toEqual({ resource: 'db', output: 'host' });
    // An escaped dot is part of the output's name, not a part after it.
    expect(resourceReference(['resources', 'db', 'a.b'])).toEqual({ resource: 'db', output: 'a.b' });
  });

  it('refuses a part after an output, since outputs are strings, and a placeholder without a name', () => {
    expect(resourceReference(['resources', 'dd', 'host', 'nothing', 'here'])).toEqual({ problem: TRAILING });
    expect(resourceReference(['resources'])).toEqual({
      problem:
        '${resources} needs a resource name: ${resources.NAME.OUTPUT} for one output (e.g. ' +
        '${resources.db.host}), or ${resources.NAME} for every output as JSON',
    });
  });
});

describe('resourceOutputsJson', () => {
  it('is a JSON object of the outputs with sorted keys, as score-go marshals a map', () => {
    expect(resourceOutputsJson({ port: '5432', host: 'db' })).toBe('{"host":"db","port":"5432"}');
    expect(resourceOutputsJson({})).toBe('{}');
  });
});

describe('pave validate of ${resources.…}', () => {
  it('accepts ${resources.NAME} and refuses a part after an output, at the placeholder', () => {
    expect(parseScore(SCORE, 'api.score.yaml').problems.map(formatScoreProblem)).toEqual([
      `api.score.yaml:10:13: containers.main.variables.MORE: ${TRAILING}`,
    ]);
  });

  it('checks resource params the same way', () => {
    const spec = {
      containers: { main: { image: 'node' } },
      resources: {
        dd: { type: 'dns' },
        route: { type: 'route', params: { host: '${resources.dd.host.x}', all: '${resources.dd}' } },
      },
    };
    expect(checkScorePlaceholders(spec)).toEqual([
      expect.objectContaining({
        path: ['resources', 'route', 'params', 'host'],
        message: expect.stringContaining('resources.dd.host is an output, and outputs are strings'),
      }),
    ]);
  });
});
