import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { TooManyRequestsError, type FieldProblem, type Template, type TemplateAnswers } from '@pave/core';
import type { AnswersRendering, TemplateCheck, TemplateStep } from './template-render.ts';

/*
 * A template carries its author's code: Nunjucks loops and macros in its files, and the regular expressions
 * of its parameters' `pattern`s, matched against answers and sample answers. A few bytes of either can run
 * for hours (`{% for %}` nested three deep, `^(a+)+$` against `aaa…a!`), and in the API server's event loop
 * they would hold every request of every user meanwhile. So checking and rendering templates run here, in
 * worker threads (template-worker.ts), and a job that takes longer than the time limit (templateTimeLimitSeconds)
 * or uses more than TEMPLATE_MEMORY_LIMIT_MB is stopped by terminating its worker; it ends with a problem naming the
 * file or parameter it was at. One idle worker is kept warm: starting one takes about 100 ms, a job on a warm
 * one adds well under a millisecond.
 */

/** How long one check or rendering of a template may take unless `pave up --template-time-limit` says. */
export const TEMPLATE_TIME_LIMIT_SECONDS = 5;
/** The longest time limit `--template-time-limit` may set: a job holds a worker (and a core) that long. */
export const TEMPLATE_TIME_LIMIT_MAX_SECONDS = 600;
/** How much heap one check or rendering of a template may use. */
export const TEMPLATE_MEMORY_LIMIT_MB = 256;
/** Jobs that run at once; more wait for a worker. At least two, so one runaway does not hold every other. */
export const TEMPLATE_JOBS_AT_ONCE = Math.min(4, Math.max(2, availableParallelism() - 1));
/**
 * Jobs that may wait for a worker; more are refused at once (TooManyRequestsError, 429 with Retry-After), so
 * that a burst of runaway renders keeps every other template request waiting seconds, not minutes.
 */
export const TEMPLATE_JOBS_WAITING = 16;

// The time limit of this process: `pave up --template-time-limit` sets it once at start-up.
let timeLimitSeconds = TEMPLATE_TIME_LIMIT_SECONDS;

/**
 * Sets how long one check or rendering of a template may take (whole seconds, 1 to
 * TEMPLATE_TIME_LIMIT_MAX_SECONDS), for jobs started from now on. Called once when the server starts.
 * RangeError for a value outside that range.
 */
export function setTemplateTimeLimitSeconds(seconds: number): void {
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > TEMPLATE_TIME_LIMIT_MAX_SECONDS) {
    throw new RangeError(
      `the template time limit must be a whole number of seconds from 1 to ${TEMPLATE_TIME_LIMIT_MAX_SECONDS}, not ${seconds}`,
    );
  }
  timeLimitSeconds = seconds;
}

/** How long one check or rendering of a template may take (TEMPLATE_TIME_LIMIT_SECONDS unless set). */
export function templateTimeLimitSeconds(): number {
  return timeLimitSeconds;
}

/** What a worker is asked to do: check a template as applied, or check answers and render with them. */
export type TemplateJob =
  { kind: 'check'; template: Template } | { kind: 'render'; template: Template; answers: TemplateAnswers };

/** What a worker posts: it is ready, it is at a step of the job, the job's result, or the job's failure. */
export type TemplateWorkerMessage =
  | { type: 'ready' }
  | { type: 'step'; step: TemplateStep }
  | { type: 'done'; result: TemplateCheck | AnswersRendering }
  | { type: 'failed'; message: string };

/**
 * A job's result, or the job was stopped at a limit: `stopped` is the problem to answer with (at the step's
 * path), `stage` the stage it was stopped in.
 */
export type TemplateJobOutcome<T> = { result: T } | { stopped: FieldProblem; stage: TemplateStep['stage'] };

/**
 * The problems a template has when applied (see checkTemplateRendering in template-render.ts), worked out in
 * a worker; or the limit it hit. TooManyRequestsError when TEMPLATE_JOBS_WAITING jobs already wait.
 */
export async function checkTemplateInWorker(template: Template): Promise<TemplateJobOutcome<TemplateCheck>> {
  return (await runJob({ kind: 'check', template })) as TemplateJobOutcome<TemplateCheck>;
}

/**
 * `answers` checked against a template and the template rendered with them (see renderWithAnswers in
 * template-render.ts), in a worker; or the limit it hit. TooManyRequestsError when TEMPLATE_JOBS_WAITING jobs
 * already wait.
 */
export async function renderInWorker(
  template: Template,
  answers: TemplateAnswers,
): Promise<TemplateJobOutcome<AnswersRendering>> {
  return (await runJob({ kind: 'render', template, answers })) as TemplateJobOutcome<AnswersRendering>;
}

interface TemplateWorker {
  worker: Worker;
  alive: boolean;
}

const idle: TemplateWorker[] = [];
const waiting: Array<() => void> = [];
let busy = 0;

async function runJob(job: TemplateJob): Promise<TemplateJobOutcome<TemplateCheck | AnswersRendering>> {
  if (busy >= TEMPLATE_JOBS_AT_ONCE && waiting.length >= TEMPLATE_JOBS_WAITING) {
    throw new TooManyRequestsError(
      `the template workers are busy (${TEMPLATE_JOBS_AT_ONCE} jobs running, ${TEMPLATE_JOBS_WAITING} waiting): ` +
        `retry in ${timeLimitSeconds} seconds`,
      timeLimitSeconds,
    );
  }
  while (busy >= TEMPLATE_JOBS_AT_ONCE) await new Promise<void>((resolve) => waiting.push(resolve));
  busy += 1;
  let slot: TemplateWorker | undefined;
  try {
    slot = idle.pop() ?? (await startWorker());
    return await runOn(slot, job);
  } finally {
    if (slot?.alive) {
      // One idle worker stays warm, or as many as jobs are waiting for.
      if (idle.length === 0 || waiting.length > idle.length) {
        slot.worker.unref();
        idle.push(slot);
      } else {
        slot.alive = false;
        void slot.worker.terminate();
      }
    }
    busy -= 1;
    waiting.shift()?.();
  }
}

function runOn(
  slot: TemplateWorker,
  job: TemplateJob,
): Promise<TemplateJobOutcome<TemplateCheck | AnswersRendering>> {
  const { worker } = slot;
  return new Promise((resolve, reject) => {
    let step: TemplateStep | undefined;
    const limitSeconds = timeLimitSeconds;
    const stop = (limit: 'time' | 'memory') => {
      finish();
      slot.alive = false;
      void worker.terminate();
      resolve({ stopped: limitProblem(step, limit, limitSeconds), stage: step?.stage ?? 'parameters' });
    };
    const timer = setTimeout(() => stop('time'), limitSeconds * 1000);
    const onMessage = (message: TemplateWorkerMessage) => {
      if (message.type === 'step') {
        step = message.step;
      } else if (message.type === 'done') {
        finish();
        resolve({ result: message.result });
      } else if (message.type === 'failed') {
        finish();
        reject(new Error(`rendering the template failed: ${message.message}`));
      }
    };
    const onError = (error: Error & { code?: string }) => {
      if (error.code === 'ERR_WORKER_OUT_OF_MEMORY') return stop('memory');
      finish();
      slot.alive = false;
      reject(error);
    };
    const onExit = (code: number) => {
      finish();
      slot.alive = false;
      reject(new Error(`the template worker exited with code ${code} during a job`));
    };
    function finish() {
      clearTimeout(timer);
      worker.off('message', onMessage).off('error', onError).off('exit', onExit);
    }
    worker.on('message', onMessage).on('error', onError).on('exit', onExit);
    worker.ref();
    worker.postMessage(job);
  });
}

/**
 * The problem a job stopped at a limit answers with: where it was, what it was doing, and what to change.
 * `limitSeconds` is the time limit the job ran under.
 */
function limitProblem(
  step: TemplateStep | undefined,
  limit: 'time' | 'memory',
  limitSeconds: number,
): FieldProblem {
  const exceeded =
    limit === 'time'
      ? `took longer than ${limitSeconds} ${limitSeconds === 1 ? 'second' : 'seconds'}`
      : `used more than ${TEMPLATE_MEMORY_LIMIT_MB} MB of memory`;
  const backtracks = 'backtracks catastrophically (nested quantifiers, as in ^(a+)+$): simplify it (^a+$)';
  const at = step ?? { stage: 'parameters', path: '/parameters', subject: 'parameters' };
  switch (at.stage) {
    case 'render':
      return {
        path: at.path,
        message:
          `${at.subject}: rendering ${exceeded} and was stopped; look for ` +
          (limit === 'time'
            ? 'a loop that runs too long (nested {% for %} loops) or a macro that calls itself'
            : 'a loop or filter that builds very long text (replace, join, indent in a loop)'),
      };
    case 'samples':
      return {
        path: at.path,
        message: `${at.subject}: trying sample answers against its pattern ${exceeded} and was stopped; the pattern ${backtracks}`,
      };
    case 'answers':
      return {
        path: at.path,
        message:
          at.path === '/answers'
            ? `checking the answers against the parameters ${exceeded} and was stopped; a pattern of the parameters ${backtracks}`
            : `${at.subject}: matching the answer against its pattern ${exceeded} and was stopped; the pattern ` +
              `${backtracks}, or give another answer`,
      };
    case 'parameters':
      return {
        path: at.path,
        message: `compiling the parameters as a JSON Schema ${exceeded} and was stopped; make them simpler`,
      };
  }
}

/** Starts a worker and resolves once it has loaded what it runs (so its start-up is not part of a job's time). */
async function startWorker(): Promise<TemplateWorker> {
  const script = await workerScript();
  const options = { resourceLimits: { maxOldGenerationSizeMb: TEMPLATE_MEMORY_LIMIT_MB } };
  const worker =
    'code' in script ? new Worker(script.code, { ...options, eval: true }) : new Worker(script.file, options);
  const slot: TemplateWorker = { worker, alive: true };
  // An idle worker that dies is dropped; its error is the job's to report, or nobody's.
  worker.on('error', () => undefined);
  worker.once('exit', () => {
    slot.alive = false;
    const index = idle.indexOf(slot);
    if (index >= 0) idle.splice(index, 1);
  });
  await new Promise<void>((resolve, reject) => {
    const onMessage = (message: TemplateWorkerMessage) => {
      if (message.type !== 'ready') return;
      worker.off('message', onMessage).off('error', reject);
      resolve();
    };
    worker.on('message', onMessage).once('error', reject);
  });
  return slot;
}

let script: Promise<{ file: URL } | { code: string }> | undefined;

/**
 * What a worker runs. In the bundle (scripts/build.mjs) template-worker.js is an entry of its own in the
 * server's directory, beside index.js or one level up from chunks/, wherever this module's code went. Run
 * from source (tests), template-worker.ts is bundled once with esbuild, a development dependency: Node
 * cannot run TypeScript in a worker.
 */
function workerScript(): Promise<{ file: URL } | { code: string }> {
  script ??= (async () => {
    if (!import.meta.url.endsWith('.ts')) {
      const candidates = ['./template-worker.js', '../template-worker.js'].map(
        (path) => new URL(path, import.meta.url),
      );
      const file = candidates.find((url) => existsSync(url));
      if (!file) throw new Error(`template-worker.js is missing beside ${fileURLToPath(import.meta.url)}`);
      return { file };
    }
    // A specifier esbuild cannot follow: the bundle must not take esbuild in.
    const esbuildModule = 'esbuild';
    const esbuild = (await import(esbuildModule)) as typeof import('esbuild');
    const built = await esbuild.build({
      entryPoints: [fileURLToPath(new URL('./template-worker.ts', import.meta.url))],
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      write: false,
      logLevel: 'error',
    });
    return { code: built.outputFiles[0]!.text };
  })();
  script.catch(() => {
    script = undefined;
  });
  return script;
}
