// The API token file is checked at start: a token that is not what it seems, or a file
// others can read, stops the agent before it listens.
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { AGENT, tmpdir, withAgent } = require('./lib');

const PORT = 19395;

function runAgent(dir, tokenFile) {
  return spawnSync(AGENT, ['--output-dir', path.join(dir, 'out'), '--api-socket', path.join(dir, 'api.sock'),
    '--state-dir', path.join(dir, 'state'), '--api-listen', `127.0.0.1:${PORT}`, '--api-token-file', tokenFile],
  { encoding: 'utf8', timeout: 15000 });
}

function portOpen(port) {
  return new Promise((resolve) => {
    const c = net.connect(port, '127.0.0.1', () => { c.destroy(); resolve(true); });
    c.on('error', () => resolve(false));
  });
}

for (const [name, content, mode] of [
  ['a NUL byte inside (it used to end the token early)', Buffer.from('a-long-enough-s\0ecret-token\n'), 0o600],
  ['mode 0644 (readable by others)', Buffer.from('a-long-enough-secret-token\n'), 0o644],
  ['mode 0640 (readable by the group)', Buffer.from('a-long-enough-secret-token\n'), 0o640],
  ['a space inside', Buffer.from('a-long-enough secret-token\n'), 0o600],
  ['15 bytes', Buffer.from('fifteen-bytes!!\n'), 0o600],
]) {
  test(`a token file with ${name} is refused at start`, async () => {
    const dir = tmpdir();
    const file = path.join(dir, 'token');
    fs.writeFileSync(file, content);
    fs.chmodSync(file, mode);
    const r = runAgent(dir, file);
    assert.equal(r.error, undefined);
    assert.equal(r.signal, null, r.stderr);
    assert.equal(r.status, 1, r.stderr);
    assert.ok(r.stderr.includes(file), r.stderr);   // a refused start: stderr says which file
    assert.equal(await portOpen(PORT), false);
    assert.equal(fs.existsSync(path.join(dir, 'api.sock')), false);
  });
}

test('a FIFO in place of the token file is refused at once', async () => {
  const dir = tmpdir();
  const file = path.join(dir, 'token');
  assert.equal(spawnSync('mkfifo', ['-m', '0600', file]).status, 0);
  const t0 = Date.now();
  const r = runAgent(dir, file);
  assert.equal(r.status, 1, r.stderr);
  assert.ok(Date.now() - t0 < 10000);
});

test('a token file of 0600 with a trailing newline is accepted; the token compares whole', async () => {
  const dir = tmpdir();
  const file = path.join(dir, 'token');
  const token = 'T0ken_with-punctuation.~+/=';
  fs.writeFileSync(file, `${token}\n`, { mode: 0o600 });
  fs.chmodSync(file, 0o600);
  await withAgent(['--api-listen', `127.0.0.1:${PORT}`, '--api-token-file', file], async () => {
    const get = (auth) => new Promise((resolve, reject) => {
      const headers = auth === undefined ? {} : { Authorization: auth };
      require('node:http').get({ host: '127.0.0.1', port: PORT, path: '/healthz', headers }, (res) => {
        res.resume();
        resolve(res.statusCode);
      }).on('error', reject);
    });
    assert.equal(await get(`Bearer ${token}`), 200);
    assert.equal(await get(undefined), 401);
    assert.equal(await get(`Bearer ${token.slice(0, -1)}`), 401);
    assert.equal(await get(`Bearer ${token}x`), 401);
    assert.equal(await get(`Bearer ${token.slice(0, 15)}`), 401);
    assert.equal(await get(`Bearer ${'x'.repeat(300)}`), 401);
  });
});
