import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { storeEngines } from '../../../test/support/stores.ts';
import {
  TEMPLATE_TIME_LIMIT_SECONDS,
  setTemplateTimeLimitSeconds,
  templateTimeLimitSeconds,
} from '../src/domain/template-jobs.ts';
import { idleRuntime, openDeployingApi, type DeployingApi } from './support/deploying-api.ts';
import { LOOP, LOOP_N, template } from './support/runaway-templates.ts';

/*
 * A template's loops and its parameters' patterns are the author's code: rendering and checking answers run
 * with a time limit, an output limit and a bounded range(), away from the requests of everyone else. These
 * tests run under a time limit of 2 seconds (`pave up --template-time-limit 2s`), so that each runaway job
 * holds a core for 2 seconds rather than the default 5.
 */

const BACKTRACKING = '^(a+)+$';
const BACKTRACKED = `${'a'.repeat(33)}!`;

describe.each(storeEngines)('template limits on %s', (engine) => {
  let api: DeployingApi;

  beforeAll(async () => {
    setTemplateTimeLimitSeconds(2);
    api = await openDeployingApi(engine, { runtime: idleRuntime });
  });
  afterEach(async () => {
    await api.store.db.deleteFrom('templates').execute();
  });
  afterAll(async () => {
    setTemplateTimeLimitSeconds(TEMPLATE_TIME_LIMIT_SECONDS);
    await api?.cleanup();
  });

  /**
   * Sends `request` and, while it is still unanswered, asks for /healthz and the apps: both must be answered
   * before it. Resolves with the request's response.
   */
  async function whileOthersAreServed<T>(request: () => Promise<T>): Promise<T> {
    let answered = false;
    const pending = request().finally(() => {
      answered = true;
    });
    // A timer: while the event loop is held, it fires only after the request has been answered.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const health = await api.app.inject({ method: 'GET', url: '/healthz' });
    const apps = await api.call('GET', '/apps');
    expect(health.statusCode).toBe(200);
    expect(apps.statusCode).toBe(200);
    expect(answered, 'the runaway request was answered before /healthz and /apps').toBe(false);
    return pending;
  }

  it(
    'stops a file whose loop runs too long when applied, naming the file, and serves others meanwhile',
    { timeout: 120_000 },
    async () => {
      const response = await whileOthersAreServed(() =>
        api.call(
          'PUT',
          '/templates/runaway',
          template('runaway', [
            { path: 'README.md', content: '# {{ name }}\n' },
            { path: 'loop.txt', content: LOOP.replaceAll('n)', `${LOOP_N})`) },
          ]),
        ),
      );
      expect(response.statusCode, response.body).toBe(400);
      expect(response.json().errors).toEqual([
        {
          path: '/files/1/content',
          message: expect.stringMatching(
            /^loop\.txt: rendering took longer than 2 seconds and was stopped; /u,
          ),
        },
      ]);
      expect((await api.call('GET', '/templates/runaway')).statusCode).toBe(404);
    },
  );

  it(
    'refuses a range() of more than 100 000 items and a file of more than 10 MiB, where they are',
    { timeout: 120_000 },
    async () => {
      const response = await api.call(
        'PUT',
        '/templates/big',
        template('big', [
          { path: 'range.txt', content: 'one\n{% for i in range(0, 1000001) %}{% endfor %}' },
          {
            path: 'output.txt',
            content: `{% set line = "${'x'.repeat(199)}\n" %}{% for i in range(0, 100000) %}{{ line }}{% endfor %}`,
          },
        ]),
      );
      expect(response.statusCode, response.body).toBe(400);
      expect(response.json().errors).toEqual([
        {
          path: '/files/0/content',
          message: expect.stringMatching(
            /^range\.txt:2:18: range\(0, 1000001\) would make 1000001 items; templates may make at most 100000 at once/u,
          ),
        },
        {
          path: '/files/1/content',
          message: expect.stringMatching(/^output\.txt: produced more than 10485760 bytes \(10 MiB\)/u),
        },
      ]);
    },
  );

  it(
    'stops a render and an instantiation whose answers make a loop run too long, and serves others meanwhile',
    { timeout: 120_000 },
    async () => {
      const applied = await api.call(
        'PUT',
        '/templates/nested',
        template('nested', [{ path: 'loop.txt', content: LOOP }]),
      );
      expect(applied.statusCode, applied.body).toBe(200);

      const rendered = await whileOthersAreServed(() =>
        api.call('POST', '/templates/nested/render', { answers: { name: 'nested', n: LOOP_N } }),
      );
      expect(rendered.statusCode, rendered.body).toBe(400);
      const stopped = {
        path: '/files/0/content',
        message: expect.stringMatching(/^loop\.txt: rendering took longer than 2 seconds and was stopped; /u),
      };
      expect(rendered.json().errors).toEqual([stopped]);

      const instantiated = await api.call('POST', '/templates/nested/instantiate', {
        answers: { name: 'nested', n: LOOP_N },
      });
      expect(instantiated.statusCode, instantiated.body).toBe(400);
      expect(instantiated.json().errors).toEqual([stopped]);
      expect((await api.call('GET', '/apps/nested')).statusCode).toBe(404);

      // Rendering goes on working after a render was stopped.
      const small = await api.call('POST', '/templates/nested/render', { answers: { name: 'nested', n: 3 } });
      expect(small.statusCode, small.body).toBe(200);
    },
  );

  it(
    'stops matching an answer against a pattern that backtracks catastrophically, naming the parameter',
    { timeout: 120_000 },
    async () => {
      const applied = await api.call(
        'PUT',
        '/templates/letters',
        template('letters', [{ path: 'README.md', content: '{{ word }}' }], {
          word: { type: 'string', pattern: BACKTRACKING },
        }),
      );
      expect(applied.statusCode, applied.body).toBe(200);
      const stopped = {
        path: '/answers/word',
        message: expect.stringMatching(
          /^word: matching the answer against its pattern took longer than 2 seconds/u,
        ),
      };
      const rendered = await whileOthersAreServed(() =>
        api.call('POST', '/templates/letters/render', { answers: { name: 'letters', word: BACKTRACKED } }),
      );
      expect(rendered.statusCode, rendered.body).toBe(400);
      expect(rendered.json().errors).toEqual([stopped]);
      const instantiated = await api.call('POST', '/templates/letters/instantiate', {
        answers: { name: 'letters', word: BACKTRACKED },
      });
      expect(instantiated.statusCode, instantiated.body).toBe(400);
      expect(instantiated.json().errors).toEqual([stopped]);
      expect((await api.call('GET', '/apps/letters')).statusCode).toBe(404);
    },
  );

  it(
    'stops trying sample answers against a pattern that backtracks catastrophically when applied',
    { timeout: 300_000 },
    async () => {
      const response = await api.call(
        'PUT',
        '/templates/samples?dryRun=true',
        template('samples', [{ path: 'README.md', content: '{{ word }}' }], {
          word: { type: 'string', minLength: 32, pattern: '^([a-z]+)+!$' },
        }),
      );
      expect(response.statusCode, response.body).toBe(400);
      expect(response.json().errors).toEqual([
        {
          path: '/parameters/properties/word/pattern',
          message: expect.stringMatching(
            /^word: trying sample answers against its pattern took longer than 2 seconds/u,
          ),
        },
      ]);
    },
  );
});

describe('the template time limit', () => {
  it('is 5 seconds unless set, and takes whole seconds from 1 to 600', () => {
    expect(templateTimeLimitSeconds()).toBe(5);
    for (const bad of [0, 1.5, 601, Number.NaN]) {
      expect(() => setTemplateTimeLimitSeconds(bad)).toThrow(
        /the template time limit must be a whole number of seconds from 1 to 600/u,
      );
    }
    expect(templateTimeLimitSeconds()).toBe(5);
  });
});
