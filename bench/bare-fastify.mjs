// The baseline for bench/api-throughput.mjs: a bare Fastify server with one route that answers
// GET /api/v1/apps/:app with a fixed JSON body (the one Pave returned), and nothing else: no logger, no
// schemas, no hooks, no authentication. It runs in its own process so both servers are measured the same way.
//
// Usage: node bench/bare-fastify.mjs BODY_FILE [PORT]
// Prints one JSON line, {"url":"http://127.0.0.1:PORT"}, once it is listening; stops on SIGTERM or SIGINT.
import { readFileSync } from 'node:fs';
import Fastify from 'fastify';
import { portArgument, serve } from './serve.mjs';

const [bodyFile, portArg = '0'] = process.argv.slice(2);
if (!bodyFile) {
  console.error('usage: node bench/bare-fastify.mjs BODY_FILE [PORT]');
  process.exit(2);
}
const port = portArgument('bare-fastify', portArg);
// Parsed once and returned as an object, so Fastify serializes it on every request as Pave does.
const body = JSON.parse(readFileSync(bodyFile, 'utf8'));

const app = Fastify({ logger: false });
app.get('/api/v1/apps/:app', async () => body);

await serve(app, port);
