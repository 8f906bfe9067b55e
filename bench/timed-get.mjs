// Times sequential GET requests over one keep-alive connection, in a process of its own, so that what the
// process that runs a bench has done before (seeding a million deployments, say) does not weigh on the
// figures: its heap and its garbage collector stay out of them. Used by scale.mjs.
//
//   node bench/timed-get.mjs URL COUNT      (the bearer token in BENCH_TOKEN)
//
// Prints one JSON line: { status, samples: [ms, ...], bytes, body } where body is the first answer's text;
// it stops at the first answer that is not 2xx (samples up to it, status and body that answer's).
import { Agent, request } from 'node:http';

const [url, countText] = process.argv.slice(2);
const count = Number(countText);
const agent = new Agent({ keepAlive: true, maxSockets: 1 });
const headers = { authorization: `Bearer ${process.env.BENCH_TOKEN}` };

function get() {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    request(url, { agent, headers }, (response) => {
      const chunks = [];
      response.on('data', (chunk) => chunks.push(chunk));
      response.on('end', () =>
        resolve({
          status: response.statusCode,
          text: Buffer.concat(chunks).toString('utf8'),
          ms: performance.now() - started,
        }),
      );
      response.on('error', reject);
    })
      .on('error', reject)
      .end();
  });
}

const samples = [];
let first;
for (let i = 0; i < count; i++) {
  const answer = await get();
  if (answer.status < 200 || answer.status > 299) {
    first = answer;
    break;
  }
  first ??= answer;
  samples.push(answer.ms);
}
agent.destroy();
console.log(JSON.stringify({ status: first.status, samples, bytes: first.text.length, body: first.text }));
