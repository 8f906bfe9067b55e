// The floor for bench/api-throughput.mjs: the least an authenticated GET /api/v1/apps/:app over Pave's
// embedded store can do on Fastify, to show how far below bare Fastify any such server lands on the machine.
// Per request it does what Pave's request must at the least: reads the bearer token and checks its shape,
// hashes it (SHA-256) and finds its user in a cache kept for a second (the token read from the store's
// `tokens` table when the cache misses, as Pave's is), runs the query Pave runs (the app joined with its
// environments, prepared once, on a read-only connection of its own to Pave's SQLite file), and answers the
// same JSON with a compiled serializer. It has none of Pave's request ids, security headers, metrics, log
// lines, roles or validation. Not a server anyone should run: a measuring stick.
//
// Usage: node bench/floor-fastify.mjs PAVE_DB_FILE [PORT]
// Prints one JSON line, {"url":"http://127.0.0.1:PORT"}, once it is listening; stops on SIGTERM or SIGINT.
import { hash } from 'node:crypto';
import { createRequire } from 'node:module';
import Fastify from 'fastify';
import { portArgument, serve } from './serve.mjs';

const require = createRequire(new URL('../packages/server/package.json', import.meta.url));
const { DatabaseSync } = require('@photostructure/sqlite');

const [dbFile, portArg = '0'] = process.argv.slice(2);
if (!dbFile) {
  console.error('usage: node bench/floor-fastify.mjs PAVE_DB_FILE [PORT]');
  process.exit(2);
}
const port = portArgument('floor-fastify', portArg);

const db = new DatabaseSync(dbFile, { readOnly: true });
// Kept reachable: nothing else refers to the connection once its statements are prepared, and the driver
// closes a connection it collects (every query then fails with "Database connection is closed").
process.once('exit', () => db.close());
const tokenUser = db.prepare(
  'select tokens.user_id as user_id from tokens where tokens.token_hash = ? and tokens.revoked_at is null',
);
const appDetail = db.prepare(
  'select apps.id as id, apps.name as name, apps.created_by as created_by, apps.created_at as created_at, ' +
    'environments.id as env_id, environments.type as env_type from apps ' +
    'left join environments on environments.app_id = apps.id where apps.id = ? order by environments.id',
);

const TOKEN_SHAPE = /^Bearer (pave_[A-Za-z0-9_-]{43})$/;
const CACHE_MS = 1_000;
const cache = new Map();

/** The user id of the request's token, or undefined when it has none that the store knows. */
function authenticate(header) {
  const token = TOKEN_SHAPE.exec(header ?? '')?.[1];
  if (!token) return undefined;
  const tokenHash = hash('sha256', token, 'hex');
  const cached = cache.get(tokenHash);
  if (cached && cached.validUntil > Date.now()) return cached.userId;
  const row = tokenUser.get(tokenHash);
  if (!row) return undefined;
  cache.set(tokenHash, { userId: row.user_id, validUntil: Date.now() + CACHE_MS });
  return row.user_id;
}

const environment = { type: 'object', properties: { id: { type: 'string' }, type: { type: 'string' } } };
const schema = {
  response: {
    200: {
      type: 'object',
      properties: {
        id: { type: 'string' },
        name: { type: 'string' },
        createdBy: { type: 'string' },
        createdAt: { type: 'string' },
        environments: { type: 'array', items: environment },
      },
    },
  },
};

const app = Fastify({ logger: false });
app.get('/api/v1/apps/:app', { schema }, (request, reply) => {
  if (authenticate(request.headers.authorization) === undefined) {
    return reply.code(401).send({ status: 401 });
  }
  const rows = appDetail.all(request.params.app);
  const first = rows[0];
  if (!first) return reply.code(404).send({ status: 404 });
  return reply.send({
    id: first.id,
    name: first.name,
    createdBy: first.created_by,
    createdAt: first.created_at,
    environments: rows.flatMap((row) => (row.env_id ? [{ id: row.env_id, type: row.env_type }] : [])),
  });
});

await serve(app, port);
