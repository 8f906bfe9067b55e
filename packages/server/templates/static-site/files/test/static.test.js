const { test } = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const { join } = require('node:path');
const { resolvePath, serveStatic } = require('../static.js');

const root = join(__dirname, '..', 'public');

test('paths stay inside the served directory', () => {
  assert.equal(resolvePath(root, '/style.css'), join(root, 'style.css'));
  assert.equal(resolvePath(root, '/css/../style.css'), join(root, 'style.css'));
  assert.equal(resolvePath(root, '/../package.json'), null);
  assert.equal(resolvePath(root, '/%2e%2e/package.json'), null);
});

test('the home page is served, a missing file is 404', async () => {
  const server = http.createServer((request, response) => void serveStatic(root, request, response));
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${server.address().port}`;
  try {
    const home = await fetch(`${base}/`);
    assert.equal(home.status, 200);
    assert.match(await home.text(), /<h1>/);
    assert.equal((await fetch(`${base}/nothing.txt`)).status, 404);
  } finally {
    server.close();
  }
});
