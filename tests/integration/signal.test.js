// The signal trigger end to end: real agent, real BPF, real node processes.
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const {
  Agent, Target, sleep, waitFor, listeningPorts, readJSON, heapSelfByFunction, cpuHitsByFunction, helper, tmpdir, withAgent,
} = require('./lib');

// burnCpu stays a frame of its own even in optimized code: its samples are its own.
const BURN_OPTS = { nodeArgs: ['--max-inlined-bytecode-size=0'] };

const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;


// sig starts a capture of kind, sig again stops it: the capture is exported (the API's
// state and files), and the target's inspector is left as it was found.
async function capture(agent, target, sig, holdMs, kind) {
  const ports = listeningPorts(target.pid);
  const before = await agent.capture(target.pid);
  target.signal(sig);
  const job = await agent.waitState(target.pid, 'running', { after: before });
  assert.equal(job.kind, kind);
  assert.equal(job.trigger.kind, 'signal');
  await sleep(holdMs);
  target.signal(sig);
  const done = await agent.waitState(job.id, 'done');
  assert.equal(done.files.length, 2, JSON.stringify(done));
  assert.deepEqual(listeningPorts(target.pid), ports, 'the inspector as it was found');
  return done;
}

test('WINCH twice yields a heap profile whose top self size is the leaking function', async () => {
  await withAgent([], async (agent, targets) => {
    const t = new Target('leak.js');
    targets.push(t);
    await t.start();
    await agent.waitTracked(t.pid);
    assert.deepEqual(listeningPorts(t.pid), [], 'no inspector before');

    await capture(agent, t, 'SIGWINCH', 1500, 'heap');

    const files = agent.files(new RegExp(`^heap-profile-${t.pid}-\\d{8}T\\d{6}Z\\.`));
    assert.equal(files.length, 2, `files: ${files}`);
    const base = files[0].replace(/\.heapprofile$|\.meta\.json$/, '');
    const profile = readJSON(path.join(agent.outputDir, `${base}.heapprofile`));
    const top = heapSelfByFunction(profile);
    assert.equal(top[0][0], 'leakyFunction', `top self sizes: ${JSON.stringify(top.slice(0, 5))}`);
    assert.ok(Array.isArray(profile.samples) && profile.samples.length > 0);

    const meta = readJSON(path.join(agent.outputDir, `${base}.meta.json`));
    assert.equal(meta.pid, t.pid);
    assert.equal(meta.comm, 'node');
    assert.equal(meta.exe, process.execPath);
    assert.deepEqual(meta.cmdline, [t.cmd, ...t.args]);
    assert.equal(meta.node_version, process.version);
    assert.equal(meta.hostname, os.hostname());
    assert.equal(meta.trigger.kind, 'signal');
    assert.equal(meta.trigger.signal, 'SIGWINCH');
    assert.equal(meta.trigger.sender_pid, process.pid);
    assert.equal(meta.trigger.sender_comm, 'node');
    assert.ok(meta.trigger.ktime_ns > 0);
    assert.ok(meta.trigger.latency_ms > 0 && meta.trigger.latency_ms < 1000, `latency ${meta.trigger.latency_ms}`);
    assert.equal(meta.profile.type, 'heap-profile');
    assert.match(meta.profile.started_at, RFC3339);
    assert.match(meta.profile.ended_at, RFC3339);
    assert.ok(Date.parse(meta.profile.ended_at) - Date.parse(meta.profile.started_at) >= 1000);
    assert.equal(meta.profile.sampling.sampling_interval_bytes, 131072);
    assert.equal(meta.profile.file, `${base}.heapprofile`);

    // The folder and files are private; nothing temporary is left.
    assert.equal(fs.statSync(agent.outputDir).mode & 0o777, 0o700);
    for (const f of files) assert.equal(fs.statSync(path.join(agent.outputDir, f)).mode & 0o777, 0o600);
    assert.deepEqual(agent.files(/\.tmp$/), []);

    // The target runs on, and its inspector is closed again.
    assert.ok(t.alive());
    await waitFor('the inspector port to close', () => listeningPorts(t.pid).length === 0, 3000);
  });
});

test('URG twice yields a CPU profile whose most-hit function is the CPU burner', async () => {
  await withAgent([], async (agent, targets) => {
    const t = new Target('burn.js', BURN_OPTS);
    targets.push(t);
    await t.start();
    await agent.waitTracked(t.pid);

    await capture(agent, t, 'SIGURG', 1500, 'cpu');

    const files = agent.files(new RegExp(`^cpu-profile-${t.pid}-.*\\.cpuprofile$`));
    assert.equal(files.length, 1);
    const profile = readJSON(path.join(agent.outputDir, files[0]));
    assert.ok(profile.nodes.length > 0 && profile.samples.length > 0 && profile.endTime > profile.startTime);
    const hits = cpuHitsByFunction(profile);
    assert.equal(hits[0][0], 'burnCpu', `top hits: ${JSON.stringify(hits.slice(0, 5))}`);
    const meta = readJSON(path.join(agent.outputDir, files[0].replace(/\.cpuprofile$/, '.meta.json')));
    assert.equal(meta.profile.type, 'cpu-profile');
    assert.equal(meta.trigger.signal, 'SIGURG');
    assert.equal(meta.profile.sampling.sampling_interval_us, 10000);
    assert.ok(t.alive());
    await waitFor('the inspector port to close', () => listeningPorts(t.pid).length === 0, 3000);
  });
});

test('kernel-generated WINCH and URG (si_code POLL_IN) do not trigger; a user signal then does', async () => {
  await withAgent([], async (agent, targets) => {
    const t = new Target('idle.js');
    targets.push(t);
    await t.start();
    await agent.waitTracked(t.pid);
    helper('sigio_send', [t.pid, os.constants.signals.SIGWINCH]);
    helper('sigio_send', [t.pid, os.constants.signals.SIGURG]);
    await sleep(500);
    assert.deepEqual(await agent.captures(), [], 'no trigger, no capture');
    assert.deepEqual(listeningPorts(t.pid), []);
    // The same process, the same signal, from a user: the agent was listening.
    const done = await capture(agent, t, 'SIGWINCH', 0, 'heap');
    const meta = readJSON(done.files.find((f) => f.endsWith('.meta.json')));
    assert.equal(meta.trigger.signal, 'SIGWINCH');
    assert.equal(meta.trigger.sender_pid, process.pid);
    assert.equal((await agent.captures()).length, 1);
  });
});

test('a program named node that does not catch SIGUSR1 is never sent it', async () => {
  const dir = tmpdir();
  const fake = path.join(dir, 'node');
  fs.copyFileSync('/bin/sleep', fake);
  fs.chmodSync(fake, 0o755);
  await withAgent(['--attach-timeout', '500'], async (agent, targets) => {
    const t = new Target(null, { cmd: fake, args: ['30'] });
    t.start = async function () {   // sleep prints nothing: ready once it is running
      this.proc = require('node:child_process').spawn(fake, ['30'], { stdio: 'ignore' });
      this.proc.on('exit', (code, signal) => { this.exited = { code, signal }; });
      this.pid = this.proc.pid;
      return this;
    };
    targets.push(t);
    await t.start();
    await agent.waitTracked(t.pid);
    t.signal('SIGWINCH');
    const job = await agent.waitState(t.pid, 'failed');
    assert.match(job.error, /^process does not catch SIGUSR1/);
    await sleep(300);
    // SIGUSR1's default action would have killed sleep.
    assert.equal(t.exited, null);
    assert.ok(t.alive());
    assert.deepEqual(agent.files(), []);
  });
});

test('a target that exits mid-capture: the capture fails with the reason, no file, the agent serves the next process', async () => {
  await withAgent([], async (agent, targets) => {
    const a = new Target('leak.js');
    const b = new Target('leak.js');
    targets.push(a, b);
    await a.start();
    await b.start();
    a.signal('SIGWINCH');
    const job = await agent.waitState(a.pid, 'running');
    await a.stop();
    const failed = await agent.waitState(job.id, 'failed');
    assert.equal(failed.error, 'target exited while running');
    assert.deepEqual(failed.files, []);
    assert.equal(await agent.metric('inspectd_captures_total', { trigger: 'signal', kind: 'heap', outcome: 'failed' }), 1);
    assert.deepEqual(agent.files(), []);

    await capture(agent, b, 'SIGWINCH', 300, 'heap');
    assert.equal(agent.files(new RegExp(`^heap-profile-${b.pid}-.*\\.heapprofile$`)).length, 1);
    assert.ok(b.alive());
  });
});

test('a second trigger of the other kind during a capture is refused with a log line', async () => {
  await withAgent([], async (agent, targets) => {
    const t = new Target('idle.js');
    targets.push(t);
    await t.start();
    t.signal('SIGWINCH');
    const job = await agent.waitState(t.pid, 'running');
    t.signal('SIGURG');
    // The log is the only place that says the trigger was seen and ignored: no job, no
    // metric counts it (inspectd_triggers_skipped_total is for threshold triggers).
    await agent.waitLog(new RegExp(`pid ${t.pid}: a heap capture is in progress; cpu trigger ignored`));
    assert.deepEqual((await agent.captures(t.pid)).map((j) => [j.id, j.kind, j.state]), [[job.id, 'heap', 'running']]);
    t.signal('SIGWINCH');
    await agent.waitState(job.id, 'done');
    assert.equal((await agent.captures()).length, 1);
    assert.equal(agent.files(/cpuprofile/).length, 0);
    assert.equal(agent.files(/heapprofile/).length, 1);
  });
});

// Issue 11's signals, through the settings' table to the dispatcher: the kernel's filter has
// them, and each takes its kind. What the capture of each does is its own test's.
test('--snapshot-signal and --trace-signal take a heap snapshot and a trace of their categories', async () => {
  await withAgent(['--snapshot-signal', 'CONT', '--trace-signal', 'CHLD', '--trace-categories', 'node.perf'],
    async (agent, targets) => {
      const t = new Target('idle.js');
      targets.push(t);
      await t.start();
      await agent.waitTracked(t.pid);
      assert.match(agent.log, /heap signal SIGWINCH, cpu signal SIGURG, heap-snapshot signal SIGCONT, trace signal SIGCHLD/);
      t.signal('SIGCONT');
      const snapshot = await waitFor('a heap-snapshot capture', async () => (await agent.captures(t.pid))
        .find((j) => j.kind === 'heap-snapshot'));
      assert.equal(snapshot.trigger.kind, 'signal');
      assert.equal(snapshot.seconds, null);
      assert.equal(snapshot.categories, undefined);
      await waitFor('the snapshot over', async () => ['done', 'failed'].includes((await agent.capture(snapshot.id)).state),
        60000);
      t.signal('SIGCHLD');
      const trace = await waitFor('a trace capture', async () => (await agent.captures(t.pid))
        .find((j) => j.kind === 'trace'));
      assert.equal(trace.trigger.kind, 'signal');
      assert.equal(trace.categories, 'node.perf');
      // The same signal again stops it (or, if it could not start, starts another): toggled.
      t.signal('SIGCHLD');
      await waitFor('the trace over', async () => ['done', 'failed'].includes((await agent.capture(trace.id)).state),
        30000);
    });
});

test('--max-duration stops and exports a capture nobody stopped', async () => {
  await withAgent(['--max-duration', '1'], async (agent, targets) => {
    const t = new Target('idle.js');
    targets.push(t);
    await t.start();
    t.signal('SIGURG');
    await agent.waitState(t.pid, 'done', { timeoutMs: 6000 });
    assert.deepEqual(listeningPorts(t.pid), []);
    const meta = agent.files(/meta\.json$/);
    assert.equal(meta.length, 1);
    assert.equal(readJSON(path.join(agent.outputDir, meta[0])).profile.stop_reason, 'max-duration');
  });
});

test('an inspector that was already open is used and left open', async () => {
  await withAgent([], async (agent, targets) => {
    const t = new Target('idle.js', { nodeArgs: ['--inspect=127.0.0.1:9333'] });
    targets.push(t);
    await t.start();
    await waitFor('the inspector', () => listeningPorts(t.pid).includes(9333));
    await capture(agent, t, 'SIGWINCH', 200, 'heap');
    await sleep(200);
    assert.deepEqual(listeningPorts(t.pid), [9333]);
    assert.equal(agent.files(/heapprofile$/).length, 1);
  });
});

test('a node process in its own network namespace is profiled through its own loopback', async () => {
  await withAgent([], async (agent, targets) => {
    const t = new Target('leak.js', {
      // As a container runtime does: a namespace of its own, with its loopback up.
      wrap: ['unshare', '--net', '--', 'sh', '-c', 'ip link set lo up && exec "$0" "$@"'],
    });
    targets.push(t);
    await t.start();
    assert.notEqual(fs.readlinkSync(`/proc/${t.pid}/ns/net`), fs.readlinkSync('/proc/self/ns/net'));
    await capture(agent, t, 'SIGWINCH', 300, 'heap');
    assert.equal(agent.files(new RegExp(`^heap-profile-${t.pid}-.*\\.heapprofile$`)).length, 1);
    assert.ok(t.alive());
    assert.deepEqual(listeningPorts(t.pid), []);
  });
});

test('node processes running before the agent, and --match names, are tracked', async () => {
  const early = await new Target('idle.js').start();
  const dir = tmpdir();
  const renamed = path.join(dir, 'mynode');
  fs.copyFileSync(process.execPath, renamed);
  fs.chmodSync(renamed, 0o755);
  try {
    await withAgent(['--match', 'mynode'], async (agent, targets) => {
      assert.equal((await agent.waitTracked(early.pid)).comm, 'node');
      const other = new Target('idle.js', { cmd: renamed });
      targets.push(other);
      await other.start();
      await agent.waitTracked(other.pid, (p) => p.comm === 'mynode');
      await capture(agent, early, 'SIGURG', 200, 'cpu');
      await capture(agent, other, 'SIGURG', 200, 'cpu');
      assert.equal(agent.files(/cpuprofile$/).length, 2);
    });
    // Without --match, the same program is not a target, though node spawned it.
    await withAgent([], async (agent, targets) => {
      const other = new Target('idle.js', { cmd: renamed });
      targets.push(other);
      await other.start();
      other.signal('SIGURG');
      early.signal('SIGURG');
      const job = await agent.waitState(early.pid, 'running');
      early.signal('SIGURG');
      await agent.waitState(job.id, 'done');
      assert.equal(await agent.process(other.pid), null, 'not tracked');
      assert.deepEqual((await agent.captures()).map((j) => j.pid), [early.pid]);
    });
  } finally {
    await early.stop();
  }
});
