// The API's routes, independent of the database: `rows` is anything with list() and insert(value).
//   GET  /         what the routes are (the URL `pave init` and `pave deploy --wait` print)
//   GET  /healthz  ok
//   POST /rows     {"value": "..."} (or ?value=...) inserts a row; answers it
//   GET  /rows     every row, oldest first

/** Reads a request's body as JSON (an empty body is {}). */
async function readJson(request) {
  const chunks = [];
  for await (const chunk of request) chunks.push(chunk);
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? JSON.parse(text) : {};
}

// GET /: the routes, so that the app's URL answers with something to go on rather than 404.
const ROUTES = {
  'GET /healthz': 'ok (the readiness probe)',
  'POST /rows': 'inserts {"value": "..."} (or ?value=...) and answers the row',
  'GET /rows': 'every row, oldest first',
};

function send(response, status, body) {
  response.statusCode = status;
  response.setHeader('content-type', 'application/json');
  response.end(`${JSON.stringify(body)}\n`);
}

/** An HTTP handler (request, response) => Promise for the rows kept in `rows`. */
function createHandler(rows) {
  return async (request, response) => {
    const url = new URL(request.url, 'http://localhost');
    if (url.pathname === '/' && request.method === 'GET') return send(response, 200, { routes: ROUTES });
    if (url.pathname === '/healthz') return send(response, 200, { status: 'ok' });
    if (url.pathname === '/rows' && request.method === 'POST') {
      let value = url.searchParams.get('value');
      if (value === null) {
        try {
          value = (await readJson(request)).value;
        } catch {
          return send(response, 400, { error: 'the body must be JSON, e.g. {"value": "hello"}' });
        }
      }
      if (typeof value !== 'string' || value === '') {
        return send(response, 400, { error: 'give a non-empty string value, e.g. {"value": "hello"}' });
      }
      return send(response, 201, await rows.insert(value));
    }
    if (url.pathname === '/rows' && request.method === 'GET') return send(response, 200, await rows.list());
    return send(response, 404, { error: `no route ${request.method} ${url.pathname}` });
  };
}

module.exports = { createHandler };
