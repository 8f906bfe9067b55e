import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Template } from '@pave/core';
import {
  TEMPLATE_JOBS_AT_ONCE,
  TEMPLATE_JOBS_WAITING,
  TEMPLATE_TIME_LIMIT_SECONDS,
  renderInWorker,
  setTemplateTimeLimitSeconds,
} from '../src/domain/template-jobs.ts';
import { storeEngines } from '../../../test/support/stores.ts';
import { idleRuntime, openDeployingApi, type DeployingApi } from './support/deploying-api.ts';
import { LOOP, LOOP_N, template } from './support/runaway-templates.ts';

/*
 * Templates are checked and rendered by a few worker threads. Jobs beyond those wait in a bounded queue, and
 * past that they are refused at once, so that runaway renders cannot make everyone else's wait for minutes;
 * and a worker that is kept warm between jobs carries nothing from one job to the next.
 */

describe.each(storeEngines)('the template job queue on %s', (engine) => {
  let api: DeployingApi;

  // Each runaway job holds a core until the time limit: 2 seconds here (`--template-time-limit 2s`), not 5.
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

  it(
    'refuses renders beyond the bounded queue at once, with Retry-After, and serves others meanwhile',
    { timeout: 180_000 },
    async () => {
      const applied = await api.call(
        'PUT',
        '/templates/nested',
        template('nested', [{ path: 'loop.txt', content: LOOP }]),
      );
      expect(applied.statusCode, applied.body).toBe(200);

      const extra = 3;
      const started = Date.now();
      const answered: Array<{ statusCode: number; ms: number }> = [];
      const renders = Array.from({ length: TEMPLATE_JOBS_AT_ONCE + TEMPLATE_JOBS_WAITING + extra }, () =>
        api.call('POST', '/templates/nested/render', { answers: { name: 'nested', n: LOOP_N } }).then((r) => {
          answered.push({ statusCode: r.statusCode, ms: Date.now() - started });
          return r;
        }),
      );
      await new Promise((resolve) => setTimeout(resolve, 1000));
      expect((await api.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
      // Only the renders beyond the queue have been answered, and they were refused.
      expect(answered.map((answer) => answer.statusCode)).toEqual(Array(extra).fill(429));

      const responses = await Promise.all(renders);
      const refused = responses.filter((response) => response.statusCode === 429);
      expect(refused).toHaveLength(extra);
      for (const response of refused) {
        // As long as a running job may still take: the time limit.
        expect(response.headers['retry-after']).toBe('2');
        expect(response.json().detail).toMatch(/template workers are busy.*retry in 2 seconds/iu);
      }
      const stopped = responses.filter((response) => response.statusCode === 400);
      expect(stopped).toHaveLength(TEMPLATE_JOBS_AT_ONCE + TEMPLATE_JOBS_WAITING);

      // Once the queue has drained, renders are served again.
      const small = await api.call('POST', '/templates/nested/render', { answers: { name: 'nested', n: 3 } });
      expect(small.statusCode, small.body).toBe(200);
    },
  );
});

describe('a warm template worker', () => {
  const parse = (id: string, files: Array<{ path: string; content: string }>, properties = {}) =>
    Template.parse(template(id, files, properties));

  it('renders a template without the answers or {% set %} variables of the one before', async () => {
    const first = parse('first', [{ path: 'a.txt', content: "{% set secret = 'from-first' %}{{ token }}" }], {
      token: { type: 'string' },
    });
    const a = await renderInWorker(first, { name: 'first', token: 'first-token' });
    expect(a).toMatchObject({ result: { rendering: { problems: [] } } });

    const second = parse('second', [
      { path: 'secret.txt', content: '{{ secret }}' },
      { path: 'token.txt', content: '{{ token }}' },
    ]);
    const b = await renderInWorker(second, { name: 'second' });
    if (!('result' in b)) throw new Error('the render was stopped');
    expect(b.result.rendering?.problems.map((problem) => problem.path)).toEqual([
      '/files/0/content',
      '/files/1/content',
    ]);
    expect(b.result.rendering?.problems.map((problem) => problem.message).join('\n')).toMatch(
      /secret.*undefined[\s\S]*token.*undefined/u,
    );
  });

  it('checks answers against the parameters of the template at hand, not a former one of the same id', async () => {
    const only = (word: string) =>
      parse('same', [{ path: 'a.txt', content: '{{ word }}' }], { word: { type: 'string', enum: [word] } });
    const a = await renderInWorker(only('alpha'), { name: 'same', word: 'alpha' });
    expect(a).toMatchObject({ result: { answerProblems: [] } });
    const b = await renderInWorker(only('beta'), { name: 'same', word: 'alpha' });
    expect(b).toMatchObject({ result: { answerProblems: [{ path: '/answers/word' }] } });
    const c = await renderInWorker(only('beta'), { name: 'same', word: 'beta' });
    expect(c).toMatchObject({ result: { answerProblems: [] } });
  });

  it('fills in defaults afresh for each job', async () => {
    const withList = parse('list', [{ path: 'a.txt', content: '{{ items.push(1) }}{{ items | length }}' }], {
      items: { type: 'array', default: [] },
    });
    for (let i = 0; i < 2; i += 1) {
      const outcome = await renderInWorker(withList, { name: 'list' });
      if (!('result' in outcome)) throw new Error('the render was stopped');
      expect(outcome.result.rendering?.files[0]).toMatchObject({ content: '11' });
    }
  });
});
