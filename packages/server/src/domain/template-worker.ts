import { parentPort } from 'node:worker_threads';
import { checkTemplateRendering, renderWithAnswers, type TemplateStep } from './template-render.ts';
import type { TemplateJob, TemplateWorkerMessage } from './template-jobs.ts';

/*
 * The entry of a worker thread that checks and renders templates (see template-jobs.ts, which starts it and
 * stops it at its limits): one job at a time, each step announced first, so that a job stopped midway can
 * name the file or parameter it was at.
 */

if (!parentPort) throw new Error('template-worker runs as a worker thread (see template-jobs.ts)');
const port = parentPort;
const post = (message: TemplateWorkerMessage) => port.postMessage(message);
const onStep = (step: TemplateStep) => post({ type: 'step', step });

port.on('message', (job: TemplateJob) => {
  try {
    post({
      type: 'done',
      result:
        job.kind === 'check'
          ? checkTemplateRendering(job.template, onStep)
          : renderWithAnswers(job.template, job.answers, onStep),
    });
  } catch (error) {
    post({ type: 'failed', message: error instanceof Error ? error.message : String(error) });
  }
});
post({ type: 'ready' });
