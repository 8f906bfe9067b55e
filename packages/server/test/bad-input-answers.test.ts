import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeEngines } from '../../../test/support/stores.ts';
import { openFullApi, type FullApi } from './support/full-api.ts';

/* Found by a review of bad input: requests the API took, or refused saying too little or pointing elsewhere. */
describe.each(storeEngines)('answers to bad input, on %s', (engine) => {
  let api: FullApi;
  beforeAll(async () => {
    api = await openFullApi(engine);
    for (const [url, body] of [
      ['/apps', { id: 'shop' }],
      ['/apps/shop/envs', { id: 'dev', type: 'development' }],
    ] as const) {
      const response = await api.call('POST', url, body);
      expect(response.statusCode, response.body).toBe(201);
    }
  });
  afterAll(async () => {
    await api?.cleanup();
  });

  // A route that declares no query parameters ignored any it was given, so `POST …/deployments?plan=true`
  // queued a real deployment and `POST /resource-definitions/apply?dryRun=true` applied (both take `plan` and
  // `dryRun` in the body); the templates' routes ignored `?dryrun=true`.
  describe('query parameters a route does not take', () => {
    const workload = {
      dir: '/srv/app',
      spec: {
        apiVersion: 'score.dev/v1b1',
        metadata: { name: 'api' },
        containers: { main: { image: 'node:20', command: ['node', 'server.js'] } },
      },
    };

    it.each([
      ['POST', '/apps/shop/envs/dev/deployments?plan=true', { workloads: [workload] }, 'plan'],
      [
        'POST',
        '/resource-definitions/apply?dryRun=true',
        { definitions: [{ id: 'typo-def', type: 'thing', driver: 'static', driverInputs: { values: {} } }] },
        'dryRun',
      ],
      [
        'POST',
        '/policies/apply?dryRun=true',
        { policies: [{ id: 'typo-policy', severity: 'warn', message: 'm', rule: 'true' }] },
        'dryRun',
      ],
      ['POST', '/templates/static-site/instantiate?dryrun=true', { answers: { name: 'typo-app' } }, 'dryrun'],
      ['GET', '/apps/shop?verbose=1', undefined, 'verbose'],
    ] as const)(
      '%s %s is refused, naming the parameter, and changes nothing',
      async (method, url, body, name) => {
        const before = (await api.call('GET', '/audit?limit=500')).json().items.length as number;
        const response = await api.call(method, url, body);
        expect(response.statusCode, response.body).toBe(400);
        expect(response.headers['content-type']).toContain('application/problem+json');
        expect(response.json().errors).toEqual([
          { path: `query.${name}`, message: 'is not a known field; remove it (see /api/v1/openapi.json)' },
        ]);
        expect((await api.call('GET', '/audit?limit=500')).json().items.length).toBe(before);
      },
    );

    it('still takes the parameters a route declares', async () => {
      const planned = await api.call('POST', '/resource-definitions/apply', {
        dryRun: true,
        definitions: [{ id: 'typo-def', type: 'thing', driver: 'static', driverInputs: { values: {} } }],
      });
      expect(planned.statusCode, planned.body).toBe(200);
      expect((await api.call('GET', '/apps?limit=1')).statusCode).toBe(200);
    });
  });

  // A value that fits none of a union's forms (a policy's freeze, a container's files or volumes) was answered
  // with zod's "Invalid input" at the union, saying neither what nor how.
  describe("a value that fits none of a field's forms", () => {
    it('is reported inside the value, at what the form it came closest to misses', async () => {
      const policy = (freeze: object) => ({
        policies: [{ id: 'friday', severity: 'deny', message: 'no deploys on Friday', freeze }],
      });
      const recurring = await api.call('POST', '/policies/apply', policy({ schedule: '0 16 * * FRI' }));
      expect(recurring.statusCode).toBe(400);
      expect(recurring.json().errors).toEqual([
        { path: '/policies/0/freeze/duration', message: 'is required: a string' },
      ]);
      const fixed = await api.call('POST', '/policies/apply', policy({ from: '2026-12-24T00:00:00Z' }));
      expect(fixed.json().errors).toEqual([
        { path: '/policies/0/freeze/to', message: 'is required: a string' },
      ]);
    });

    it("points at a container file's content of the wrong type", async () => {
      const response = await api.call('POST', '/apps/shop/envs/dev/deployments', {
        workloads: [
          {
            dir: '/srv/app',
            spec: {
              apiVersion: 'score.dev/v1b1',
              metadata: { name: 'api' },
              containers: { main: { image: 'nginx', files: { '/etc/app.conf': { content: 5 } } } },
            },
          },
        ],
      });
      expect(response.statusCode).toBe(400);
      expect(response.json().errors).toEqual([
        {
          path: '/workloads/0/spec/containers/main/files/~1etc~1app.conf/content',
          message: expect.stringMatching(/expected string, received number/u),
        },
      ]);
    });

    it("escapes a key holding a slash in the JSON pointer of any issue, not only a union's", async () => {
      const response = await api.call('POST', '/apps/shop/envs/dev/deployments', {
        workloads: [
          {
            dir: '/srv/app',
            spec: {
              apiVersion: 'score.dev/v1b1',
              metadata: { name: 'api' },
              containers: {
                main: { image: 'nginx', variables: { 'A/B': 5 } },
              },
            },
          },
        ],
      });
      expect(response.statusCode).toBe(400);
      expect(response.json().errors).toEqual([
        {
          path: '/workloads/0/spec/containers/main/variables/A~1B',
          message: expect.stringMatching(/expected string, received number/u),
        },
      ]);
      const unknown = await api.call('POST', '/apps', { id: 'slashed', 'a/b~c': 1 });
      expect(unknown.json().errors).toEqual([
        { path: '/a~1b~0c', message: 'is not a known field; remove it (see /api/v1/openapi.json)' },
      ]);
    });
  });

  describe('where a refusal points', () => {
    it('says how long a time to live may be, in words, not "Too big: expected number to be <=…"', async () => {
      const response = await api.call('POST', '/apps/shop/envs', {
        id: 'forever',
        type: 'development',
        ttlSeconds: 4_000_000_000,
      });
      expect(response.statusCode).toBe(400);
      expect(response.json().errors).toEqual([
        { path: '/ttlSeconds', message: 'is too long; use at most 36500 days (3153600000 seconds)' },
      ]);
    });

    it('names the path parameter of a runtime target that is not there', async () => {
      const response = await api.call('GET', '/runtime-targets/nope');
      expect(response.statusCode).toBe(404);
      expect(response.json().errors).toEqual([
        { path: 'path.id', message: '`pave targets list` shows the targets' },
      ]);
    });

    it('says it is the app that is missing, not its artifact', async () => {
      const response = await api.call('GET', '/apps/nope/artifacts/1');
      expect(response.statusCode).toBe(404);
      expect(response.json().detail).toBe('app "nope" not found');
      const artifact = await api.call('GET', '/apps/shop/artifacts/1');
      expect(artifact.json().detail).toBe('artifact 1 of shop not found');
    });

    it('shows what a time looks like where one is needed', async () => {
      const logs = await api.call('GET', '/apps/shop/envs/dev/logs?since=1h');
      expect(logs.statusCode).toBe(400);
      expect(logs.json().errors).toEqual([
        {
          path: 'query.since',
          message:
            'must be an RFC 3339 time such as 2026-12-07T10:00:00Z (the CLI turns --since 1h into one)',
        },
      ]);
      const token = await api.call('POST', '/tokens', { name: 'ci', expiresAt: 'tomorrow' });
      expect(token.json().errors).toEqual([
        { path: '/expiresAt', message: 'must be an RFC 3339 time such as 2027-01-31T00:00:00Z' },
      ]);
    });

    it('names the query parameter of an environment to compare with that is not there', async () => {
      const response = await api.call('GET', '/apps/shop/envs/dev/diff?toEnv=garbage');
      expect(response.statusCode).toBe(404);
      expect(response.json().errors.map((error: { path: string }) => error.path)).toEqual(['query.toEnv']);
    });

    it('names the query parameter of a template version that is not there', async () => {
      const applied = await api.call('PUT', '/templates/readme', {
        id: 'readme',
        title: 'A README',
        parameters: { type: 'object', properties: { name: { type: 'string' } } },
        files: [{ path: 'README.md', content: '# {{ name }}\n' }],
      });
      expect(applied.statusCode, applied.body).toBeLessThan(300);
      const response = await api.call('GET', '/templates/readme?version=99999');
      expect(response.statusCode).toBe(404);
      expect(response.json()).toMatchObject({
        detail: 'template "readme" has no version 99999',
        errors: [{ path: 'query.version', message: '`pave templates get readme` shows its latest version' }],
      });
    });
  });

  // A rollback's and an approval's bodies are optional; sent without one (no Content-Type), they were refused
  // with "expected object, received null", and the OpenAPI document said a body was required.
  describe('optional bodies', () => {
    it('takes a rollback and an approval without a body', async () => {
      const rollback = await api.call('POST', '/apps/shop/envs/dev/rollback');
      expect(rollback.json().detail ?? '').not.toMatch(/invalid/u);
      expect(rollback.statusCode, rollback.body).toBe(409);
      const approval = await api.call('POST', '/approvals/1/approve');
      expect(approval.statusCode, approval.body).toBe(404);
    });

    it('says so in the OpenAPI document', async () => {
      const document = (await api.app.inject({ method: 'GET', url: '/api/v1/openapi.json' })).json();
      for (const path of [
        '/api/v1/apps/{app}/envs/{env}/rollback',
        '/api/v1/approvals/{id}/approve',
        '/api/v1/webhooks/{id}/disable',
        '/api/v1/webhooks/{id}/rotate-secret',
      ]) {
        const { requestBody } = document.paths[path].post;
        expect(requestBody.required, path).toBe(false);
        expect(JSON.stringify(requestBody.content['application/json'].schema), path).not.toContain('"null"');
      }
      const create = document.paths['/api/v1/apps'].post.requestBody;
      expect(create.required).toBe(true);
    });
  });
});
