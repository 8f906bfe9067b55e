// {{ name }}: takes jobs (JSON) from the Redis list QUEUE, runs them (src/jobs.js) and records each result
// in the list QUEUE:done. Push one with: redis-cli LPUSH "$REDIS_PREFIX{{ queue }}" '{"kind":"greet","name":"Ada"}'
const Redis = require('ioredis');
const { runJob } = require('./src/jobs.js');

const prefix = process.env.REDIS_PREFIX || '';
const queue = `${prefix}${process.env.QUEUE || '{{ queue }}'}`;
let stopping = false;

async function main() {
  const redis = new Redis(process.env.REDIS_URL, { maxRetriesPerRequest: null });
  process.on('SIGTERM', () => {
    stopping = true;
    redis.disconnect();
  });
  console.log(`{{ name }} is waiting for jobs on ${queue}`);
  while (!stopping) {
    const taken = await redis.brpop(queue, 5).catch((error) => (stopping ? null : Promise.reject(error)));
    if (!taken) continue;
    const result = runJob(taken[1]);
    await redis.lpush(`${queue}:done`, JSON.stringify(result));
    console.log(`job ${result.ok ? 'done' : 'failed'}: ${JSON.stringify(result)}`);
  }
}

main().catch((error) => {
  console.error(`{{ name }} stopped: ${error.message}`);
  process.exit(1);
});
