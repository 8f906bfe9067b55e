const { test } = require('node:test');
const assert = require('node:assert/strict');
const { runJob } = require('../src/jobs.js');

test('a greet job answers a greeting', () => {
  assert.deepEqual(runJob('{"kind":"greet","name":"Ada"}'), { ok: true, kind: 'greet', result: 'hello, Ada' });
});

test('a sum job adds its numbers', () => {
  assert.equal(runJob('{"kind":"sum","numbers":[1,2,3]}').result, 6);
});

test('a job that is not JSON, or of an unknown kind, fails with a reason', () => {
  assert.equal(runJob('nope').ok, false);
  assert.match(runJob('{"kind":"fly"}').error, /unknown kind "fly"/);
});
