// {{ name }}: the HTTP server. Routes are in src/handler.js; rows are kept in PostgreSQL (DATABASE_URL).
const http = require('node:http');
const { Pool } = require('pg');
const { createHandler } = require('./src/handler.js');
const { postgresRows } = require('./src/rows.js');

async function main() {
  const pool = new Pool({ connectionString: process.env.DATABASE_URL });
  const rows = postgresRows(pool);
  await rows.migrate();
  const handler = createHandler(rows);
  const server = http.createServer((request, response) => {
    handler(request, response).catch((error) => {
      console.error(error);
      response.statusCode = 500;
      response.end('internal error\n');
    });
  });
  // The process runtime gives each workload its port in PORT; in a container it is APP_PORT.
  const port = Number(process.env.PORT || process.env.APP_PORT || {{ port }});
  server.listen(port, () => console.log(`{{ name }} listening on ${port}`));
  process.on('SIGTERM', () => server.close(() => pool.end().then(() => process.exit(0))));
}

main().catch((error) => {
  console.error(`{{ name }} could not start: ${error.message}`);
  process.exit(1);
});
