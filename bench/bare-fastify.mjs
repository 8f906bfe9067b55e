// The baseline for bench/api-throughput.mjs: a bare Fastify server with one route that answers
// GET /api/v1/apps/:app with a fixed JSON body (the one Pave returned), and nothing else: no logger, no
// schemas, no hooks, no authentication. It runs in its own process so both servers are measured the same way.
//
// Usage: node bench/bare-fastify.mjs BODY_FILE [PORT]
// Prints one JSON line, {"url":"http://127.0.0.1:PORT"}, once it is listening; stops on SIGTERM or SIGINT.
import { readFileSync } from 'node:fs';
import Fastify from 'fastify';

const [bodyFile, portArg = '0'] = process.argv.slice(2);
if (!bodyFile) {
  console.error('usage: node bench/bare-fastify.mjs BODY_FILE [PORT]');
  process.exit(2);
}
const port = Number(portArg);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`bare-fastify: "${portArg}" is not a TCP port`);
  process.exit(2);
}
// Parsed once and returned as an object, so Fastify serializes it on every request as Pave does.
const body = JSON.parse(readFileSync(bodyFile, 'utf8'));

const app = Fastify({ logger: false });
app.get('/api/v1/apps/:app', async () => body);

const url = await app.listen({ host: '127.0.0.1', port });
process.stdout.write(`${JSON.stringify({ url })}\n`);

const stop = () => {
  app.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
