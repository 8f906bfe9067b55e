// The routes, tested over real HTTP against rows kept in memory: no database needed.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const { createHandler } = require('../src/handler.js');
const { memoryRows } = require('../src/rows.js');

async function withServer(run) {
  const handler = createHandler(memoryRows());
  const server = http.createServer((request, response) => {
    handler(request, response).catch(() => response.end());
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    await run(`http://127.0.0.1:${server.address().port}`);
  } finally {
    server.close();
  }
}

test('GET /healthz answers ok, and GET / (the URL Pave prints) the routes', async () => {
  await withServer(async (base) => {
    const response = await fetch(`${base}/healthz`);
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { status: 'ok' });
    const index = await fetch(`${base}/`);
    assert.equal(index.status, 200);
    assert.ok('GET /rows' in (await index.json()).routes);
  });
});

test('a row written with POST /rows is listed by GET /rows', async () => {
  await withServer(async (base) => {
    const created = await fetch(`${base}/rows`, { method: 'POST', body: JSON.stringify({ value: 'hello' }) });
    assert.equal(created.status, 201);
    const rows = await (await fetch(`${base}/rows`)).json();
    assert.deepEqual(rows, [{ id: 1, value: 'hello' }]);
  });
});

test('POST /rows without a value is refused with 400', async () => {
  await withServer(async (base) => {
    const response = await fetch(`${base}/rows`, { method: 'POST', body: '{}' });
    assert.equal(response.status, 400);
  });
});
