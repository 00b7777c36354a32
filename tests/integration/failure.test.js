// Bad input and failure: each fails its capture with one clear reason (the API's
// error), the target is never harmed, nothing half-written is left, and the agent
// serves the next process.
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const {
  Agent, Target, sleep, waitFor, listeningPorts, tmpdir, withAgent, start,
} = require('./lib');



// After a failure, the same agent still profiles a healthy process end to end.
async function stillServes(agent, targets) {
  const t = await start(targets, 'idle.js');
  t.signal('SIGURG');
  const job = await agent.waitState(t.pid, 'running');
  assert.equal(job.kind, 'cpu');
  t.signal('SIGURG');
  const done = await agent.waitState(job.id, 'done');
  assert.equal(done.files.length, 2);
  assert.deepEqual(listeningPorts(t.pid), [], 'the inspector it opened is closed');
}

for (const [mode, reason] of [
  ['silent', /no answer from the inspector while connecting/],
  ['huge', /inspector HTTP answer too large/],
  ['garbage', /does not answer as a node inspector/],
  ['notnode', /does not answer as a node inspector/],
]) {
  test(`an inspector port that is ${mode}: the capture fails with a reason, the target lives`, async () => {
    await withAgent(['--attach-timeout', '1500'], {}, async (agent, targets) => {
      const t = await start(targets, 'fake-inspector.js', { args: [path.join(__dirname, 'apps/fake-inspector.js'), mode] });
      t.signal('SIGWINCH');
      const job = await agent.waitState(t.pid, 'failed', { timeoutMs: 5000 });
      assert.equal(job.kind, 'heap');
      assert.match(job.error, reason);
      assert.deepEqual(job.files, []);
      await sleep(300);
      // One trigger, one capture, one failure.
      assert.equal((await agent.captures()).length, 1);
      assert.equal(await agent.metric('inspectd_captures_total', { outcome: 'failed' }), 1);
      assert.equal(await agent.metric('inspectd_captures_total', { trigger: 'signal', kind: 'heap', outcome: 'failed' }), 1);
      assert.ok(t.alive());
      assert.deepEqual(agent.files(), []);
      await t.stop();   // it holds 9229 of the host's namespace
      await stillServes(agent, targets);
    });
  });
}

test('two node processes in one network namespace: the second cannot open 9229, and says so', async () => {
  await withAgent(['--attach-timeout', '1500'], {}, async (agent, targets) => {
    const first = await start(targets, 'idle.js', { nodeArgs: ['--inspect=127.0.0.1:9229'] });
    await waitFor('the first inspector', () => listeningPorts(first.pid).includes(9229));
    const second = await start(targets, 'idle.js');
    second.signal('SIGWINCH');
    const job = await agent.waitState(second.pid, 'failed', { timeoutMs: 5000 });
    assert.match(job.error, /^inspector did not open within 1500 ms/);
    assert.ok(second.alive() && first.alive());
    assert.deepEqual(listeningPorts(second.pid), []);
    assert.deepEqual(listeningPorts(first.pid), [9229]);
    // SIGUSR1 was sent: until the process ends, its record stays for whoever captures it
    // next (the agent's stop checks that it went with the process). The record is settled
    // before the capture is over.
    assert.deepEqual(fs.readdirSync(path.join(agent.stateDir, 'opened')), [String(second.pid)]);
  });
});

test('a full disk: the export fails with the reason, nothing is left under a final name, the inspector is closed', async () => {
  const dir = tmpdir();
  const mnt = path.join(dir, 'small');
  fs.mkdirSync(mnt);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mnt]);
  try {
    await withAgent(['--heap-sampling-interval', '1024'], { outputDir: path.join(mnt, 'out') }, async (agent, targets) => {
      const t = await start(targets, 'leak.js');
      t.signal('SIGWINCH');
      const job = await agent.waitState(t.pid, 'running');
      await sleep(1500);
      t.signal('SIGWINCH');
      const failed = await agent.waitState(job.id, 'failed');
      assert.equal(failed.error, 'export failed: No space left on device');
      assert.deepEqual(failed.files, []);
      assert.equal(await agent.metric('inspectd_export_failures_total'), 1);
      assert.equal(await agent.metric('inspectd_captures_total', { trigger: 'signal', kind: 'heap', outcome: 'failed' }), 1);
      assert.deepEqual(fs.readdirSync(agent.outputDir), []);
      assert.ok(t.alive());
      assert.deepEqual(listeningPorts(t.pid), []);
    });
  } finally {
    execFileSync('umount', [mnt]);
  }
});
