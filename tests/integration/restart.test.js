// An agent killed mid-capture leaves the target's inspector open (the target is
// sacred: that must not last). The next agent closes it before it serves anything,
// from the record the killed one kept in --state-dir; it never touches a process the
// record does not name, nor an inspector it did not open.
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { Agent, sleep, waitFor, tmpdir, listeningPorts, start, startTime } = require('./lib');

async function kill9(agent) {
  agent.proc.kill('SIGKILL');
  await waitFor('the agent to die', () => agent.exited);
}

function records(state) {
  const dir = path.join(state, 'opened');
  return fs.existsSync(dir) ? fs.readdirSync(dir).sort() : [];
}

test('an agent killed mid-capture: the next one closes the inspector it opened, and the target lives', async () => {
  const state = tmpdir();
  const targets = [];
  try {
    const t = await start(targets, 'idle.js');
    const a = await new Agent([], { stateDir: state }).start();
    t.signal('SIGWINCH');
    await a.waitState(t.pid, 'running');
    assert.deepEqual(records(state), [String(t.pid)]);
    const line = fs.readFileSync(path.join(state, 'opened', String(t.pid)), 'utf8');
    assert.match(line, new RegExp(`^inspectd-opened 1 pid=${t.pid} start=${startTime(t.pid)} port=9229 inode=\\d+\\n$`));
    await kill9(a);
    await sleep(300);
    assert.deepEqual(listeningPorts(t.pid), [9229], 'what a killed agent leaves behind');

    const b = await new Agent([], { stateDir: state }).start();
    try {
      // Done before "ready": nothing is served while an inspector of ours stays open. The
      // log is asserted: this happens before the API exists, and no capture stands for it.
      const closed = b.log.indexOf(`pid ${t.pid}: inspector closed (a previous agent opened it`);
      assert.ok(closed >= 0 && closed < b.log.indexOf('ready:'), b.log);
      assert.match(b.log, new RegExp(`pid ${t.pid}: a previous agent opened its inspector \\(port 9229\\) and was killed: closing it`));
      assert.deepEqual(listeningPorts(t.pid), []);
      assert.ok(t.alive());
      assert.deepEqual(records(state), []);
      // The target can be profiled again, and a finished capture leaves no record.
      t.signal('SIGWINCH');
      const job = await b.waitState(t.pid, 'running');
      t.signal('SIGWINCH');
      await b.waitState(job.id, 'done');
      assert.deepEqual(listeningPorts(t.pid), []);
      assert.deepEqual(records(state), []);
    } finally {
      await b.stop();
    }
  } finally {
    for (const t of targets) await t.stop();
  }
});

test('records of a process gone or a pid reused are dropped; an inspector the agent did not open is never recorded', async () => {
  const state = tmpdir();
  const targets = [];
  try {
    // A pid that is gone.
    const gone = spawnSync('sh', ['-c', 'echo $$']).stdout.toString().trim();
    // A live process whose inspector is open (by its own --inspect), recorded with another
    // start time: the pid now names another process, which is not ours to touch.
    const other = await start(targets, 'idle.js', { nodeArgs: ['--inspect=127.0.0.1:9229'] });
    await waitFor('its inspector', () => listeningPorts(other.pid).includes(9229));
    fs.mkdirSync(path.join(state, 'opened'), { recursive: true, mode: 0o700 });
    fs.writeFileSync(path.join(state, 'opened', gone), `inspectd-opened 1 pid=${gone} start=1 port=0 inode=0\n`);
    fs.writeFileSync(path.join(state, 'opened', String(other.pid)),
      `inspectd-opened 1 pid=${other.pid} start=${Number(startTime(other.pid)) + 1} port=0 inode=0\n`);

    const a = await new Agent([], { stateDir: state }).start();
    try {
      // At start-up, before the API exists: the log is where the records' fate is told.
      assert.match(a.log, new RegExp(`pid ${gone}: gone since a previous agent opened its inspector: record dropped`));
      assert.match(a.log, new RegExp(`pid ${other.pid}: gone since a previous agent opened its inspector: record dropped`));
      assert.deepEqual(records(state), []);
      assert.deepEqual(listeningPorts(other.pid), [9229]);

      // A capture through an inspector that was open already: nothing recorded, killed or not.
      other.signal('SIGWINCH');
      await a.waitState(other.pid, 'running');
      assert.deepEqual(records(state), []);
      await kill9(a);
    } finally {
      await a.stop();
    }
    const b = await new Agent([], { stateDir: state }).start();
    try {
      // Start-up, before the API: nothing of a previous agent's was acted on.
      assert.doesNotMatch(b.log, /previous agent/);
      assert.deepEqual(listeningPorts(other.pid), [9229]);
      assert.ok(other.alive());
    } finally {
      await b.stop();
    }
  } finally {
    for (const t of targets) await t.stop();
  }
});

test('a record without a port: the inspector the process has open is closed; with none open, the record waits for the next capture', async () => {
  const state = tmpdir();
  const targets = [];
  try {
    // As if an agent was killed right after SIGUSR1: one process whose inspector opened
    // (the test sends SIGUSR1 itself), one whose inspector has not opened.
    const ownNet = { wrap: ['unshare', '--net', '--', 'sh', '-c', 'ip link set lo up && exec "$0" "$@"'] };
    const opened = await start(targets, 'idle.js');
    const notYet = await start(targets, 'idle.js', ownNet);
    // And one whose record is 10 minutes old: that SIGUSR1 was refused, not answered late,
    // so the inspector open now (somebody debugging it) is not ours.
    const someoneElses = await start(targets, 'idle.js', ownNet);
    for (const t of [opened, someoneElses]) {
      t.signal('SIGUSR1');
      await waitFor('its inspector', () => listeningPorts(t.pid).includes(9229));
    }
    fs.mkdirSync(path.join(state, 'opened'), { recursive: true, mode: 0o700 });
    for (const t of [opened, notYet, someoneElses]) {
      fs.writeFileSync(path.join(state, 'opened', String(t.pid)),
        `inspectd-opened 1 pid=${t.pid} start=${startTime(t.pid)} port=0 inode=0\n`);
    }
    const old = new Date(Date.now() - 600e3);
    fs.utimesSync(path.join(state, 'opened', String(someoneElses.pid)), old, old);
    const a = await new Agent([], { stateDir: state }).start();
    try {
      // At start-up, before the API exists: the log is where each record's fate is told.
      assert.match(a.log, new RegExp(`pid ${opened.pid}: inspector closed \\(a previous agent`));
      assert.deepEqual(listeningPorts(opened.pid), []);
      assert.match(a.log, new RegExp(`pid ${notYet.pid}: a previous agent sent SIGUSR1 and no inspector is open \\(yet\\): record kept`));
      assert.match(a.log, new RegExp(`pid ${someoneElses.pid}: no inspector opened within 120 s of our SIGUSR1: record dropped`));
      assert.deepEqual(listeningPorts(someoneElses.pid), [9229]);
      assert.deepEqual(records(state), [String(notYet.pid)]);
      // The next capture of that process takes the record over and ends it.
      notYet.signal('SIGWINCH');
      const job = await a.waitState(notYet.pid, 'running');
      notYet.signal('SIGWINCH');
      await a.waitState(job.id, 'done');
      assert.deepEqual(listeningPorts(notYet.pid), []);
      assert.deepEqual(records(state), []);
      assert.ok(opened.alive() && notYet.alive());
    } finally {
      await a.stop();
    }
  } finally {
    for (const t of targets) await t.stop();
  }
});

test('no record, no SIGUSR1: a full state directory fails the capture; one that cannot be made stops the agent', async () => {
  const dir = tmpdir();
  const mnt = path.join(dir, 'state');
  fs.mkdirSync(mnt);
  spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=16k', 'tmpfs', mnt]);
  const targets = [];
  try {
    const t = await start(targets, 'idle.js');
    const a = await new Agent([], { stateDir: mnt }).start();
    try {
      // Fill what is left of it.
      spawnSync('sh', ['-c', `dd if=/dev/zero of=${mnt}/fill bs=4k 2>/dev/null; true`]);
      t.signal('SIGWINCH');
      const job = await a.waitState(t.pid, 'failed');
      assert.equal(job.error, 'cannot record the inspector we would open (No space left on device): not sending SIGUSR1');
      await sleep(500);
      assert.deepEqual(listeningPorts(t.pid), []);
      assert.ok(t.alive());
      fs.unlinkSync(path.join(mnt, 'fill'));
    } finally {
      await a.stop();
    }
  } finally {
    for (const t of targets) await t.stop();
    spawnSync('umount', [mnt]);
  }
  const r = spawnSync(require('./lib').AGENT, ['--state-dir', '/proc/inspectd-no-such-dir', '--api-socket', path.join(dir, 'api.sock'),
    '--output-dir', path.join(dir, 'out')], { encoding: 'utf8', timeout: 10000 });
  assert.equal(r.status, 1);
  // A refused start: its reason is printed, there is no API to ask.
  assert.match(r.stderr + r.stdout, /cannot create \/proc\/inspectd-no-such-dir\/opened, where inspectors being opened are recorded/);
});

test('an inspector that opens after its capture gave up is closed by a later look, even across an agent stop', async () => {
  const state = tmpdir();
  const targets = [];
  try {
    // Its main thread blocked in native code: SIGUSR1 is answered seconds late.
    const t = await start(targets, 'grow.js');
    const a = await new Agent(['--attach-timeout', '1000'], { stateDir: state, keepsRecords: true }).start();
    try {
      t.proc.stdin.write('block 5\n');
      await sleep(200);
      t.signal('SIGWINCH');
      const job = await a.waitState(t.pid, 'failed');
      assert.match(job.error, /^inspector did not open within 1000 ms/);
      // SIGUSR1 was sent and no inspector appeared: the record is kept (settled before the
      // capture is over).
      assert.deepEqual(records(state), [String(t.pid)]);
    } finally {
      // Stopped with the record kept: it outlives the agent.
      await a.stop();
    }
    assert.deepEqual(records(state), [String(t.pid)]);

    const b = await new Agent([], { stateDir: state }).start();
    try {
      // At start-up, before the API exists: the log tells the record's fate.
      assert.match(b.log, new RegExp(`pid ${t.pid}: a previous agent sent SIGUSR1 and no inspector is open \\(yet\\): record kept`));
      await waitFor('the late inspector', () => listeningPorts(t.pid).includes(9229), 10000, 100);
      // A later look of the agent's closes it and drops the record (no capture shows it).
      await waitFor('the late inspector to be closed', () => listeningPorts(t.pid).length === 0, 15000, 100);
      await waitFor('the record to be dropped', () => records(state).length === 0, 5000, 100);
      assert.deepEqual(await b.captures(), [], 'closed by the sweep, not by a capture');
      assert.ok(t.alive());
    } finally {
      await b.stop();
    }
  } finally {
    for (const t of targets) await t.stop();
  }
});
