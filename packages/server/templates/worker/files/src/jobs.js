// What the worker does with a job: pure, so it is tested without Redis.

const KINDS = {
  greet: (job) => `hello, ${job.name ?? 'world'}`,
  sum: (job) => (job.numbers ?? []).reduce((total, n) => total + Number(n), 0),
};

/** Runs one job given as JSON text; answers { ok: true, result } or { ok: false, error }. */
function runJob(text) {
  let job;
  try {
    job = JSON.parse(text);
  } catch {
    return { ok: false, error: 'a job is JSON, e.g. {"kind":"greet","name":"Ada"}' };
  }
  const kind = KINDS[job?.kind];
  if (!kind) return { ok: false, error: `unknown kind ${JSON.stringify(job?.kind)}; known: ${Object.keys(KINDS).join(', ')}` };
  return { ok: true, kind: job.kind, result: kind(job) };
}

module.exports = { runJob };
