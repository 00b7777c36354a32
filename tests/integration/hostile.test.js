// A container is hostile: what it answers on its inspector port must not turn the
// root agent against anything outside that container.
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const net = require('node:net');
const { execFileSync } = require('node:child_process');
const path = require('node:path');
const { Agent, withAgent, start, sleep, tmpdir, listeningPorts, waitFor, readJSON, cpuHitsByFunction, SANITIZED } = require('./lib');

// A process in its own network namespace with its loopback up, like a pod's.
const OWN_NETNS = ['unshare', '--net', '--', 'sh', '-c', 'ip link set lo up && exec "$0" "$@"'];

// Listeners in the agent's (host's) namespace that count every connection made to them.
async function canaries() {
  const hits = [];
  const tcp = net.createServer((s) => { hits.push('tcp'); s.destroy(); });
  await new Promise((r) => tcp.listen(0, '127.0.0.1', r));
  const sock = path.join(tmpdir(), 'canary.sock');
  const unix = net.createServer((s) => { hits.push('unix'); s.destroy(); });
  await new Promise((r) => unix.listen(sock, r));
  return {
    hits,
    tcpUrl: `http://127.0.0.1:${tcp.address().port}/json/version`,
    unixUrl: `http://+${sock}:/json/version`,
    close: () => { tcp.close(); unix.close(); fs.rmSync(path.dirname(sock), { recursive: true, force: true }); },
  };
}

for (const mode of ['redirect-version', 'redirect-list', 'redirect-upgrade']) {
  for (const target of ['tcp', 'unix']) {
    test(`an inspector in its own network namespace that answers with a redirect (${mode}, to a ${target} canary on the host): not followed`, async () => {
      const c = await canaries();
      try {
        await withAgent(['--attach-timeout', '1500'], {}, async (agent, targets) => {
          const url = target === 'tcp' ? c.tcpUrl : c.unixUrl;
          const t = await start(targets, 'fake-inspector.js', {
            wrap: OWN_NETNS, args: [path.join(__dirname, 'apps/fake-inspector.js'), mode, url],
          });
          t.signal('SIGWINCH');
          const job = await agent.waitState(t.pid, 'failed', { timeoutMs: 5000 });
          assert.ok(job.error, JSON.stringify(job));
          await sleep(500);
          assert.deepEqual(c.hits, [], 'the agent connected to a canary in its own namespace');
          assert.ok(t.alive());
          assert.deepEqual(agent.files(), []);
        });
      } finally {
        c.close();
      }
    });
  }
}

// ---- what an inspector sends: bounded by the state the capture is in ----

function peakRssMiB(pid) {
  const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m[1]) / 1024;
}

// /healthz, timed: the loop answers while the agent reads what a hostile target sends.
async function healthzMs(agent) {
  const t0 = Date.now();
  const r = await agent.request('GET', '/healthz');
  assert.equal(r.status, 200);
  return Date.now() - t0;
}

// A real node process in the host's namespace, captured while the hostile one is at work.
async function realCapture(agent, targets) {
  const t = await start(targets, 'idle.js');
  t.signal('SIGURG');
  const job = await agent.waitState(t.pid, 'running');
  t.signal('SIGURG');
  const done = await agent.waitState(job.id, 'done');
  assert.match(done.files[0], new RegExp(`/cpu-profile-${t.pid}-[^/]*\\.cpuprofile$`));
  assert.deepEqual(listeningPorts(t.pid), [], 'the inspector it opened is closed');
}

test('a 200 MB answer to the first command: the capture fails on its budget, the agent stays small and responsive, a real capture beside it succeeds', async (tc) => {
  await withAgent([], {}, async (agent, targets) => {
    const t = await start(targets, 'fake-cdp.js', { wrap: OWN_NETNS, args: [path.join(__dirname, 'apps/fake-cdp.js'), 'huge-answer:200'] });
    t.signal('SIGURG');
    const worst = [];
    const poll = setInterval(() => healthzMs(agent).then((ms) => worst.push(ms), (e) => worst.push(e)), 100);
    try {
      const job = await agent.waitState(t.pid, 'failed', { timeoutMs: 20000 });
      assert.match(job.error, /CDP message larger than its budget/);
      await realCapture(agent, targets);
    } finally {
      clearInterval(poll);
    }
    await sleep(200);
    assert.ok(worst.length > 0);
    for (const w of worst) assert.ok(typeof w === 'number' && w < 1000, `/healthz: ${w}`);
    // 64 MiB is the goal; ASan's shadow memory and quarantine (make check SANITIZE=1) need room.
    tc.diagnostic(`agent peak RSS ${peakRssMiB(agent.proc.pid).toFixed(1)} MiB`);
    assert.ok(peakRssMiB(agent.proc.pid) < (process.env.ASAN_OPTIONS ? 128 : 64), `agent peak RSS ${peakRssMiB(agent.proc.pid)} MiB`);
    assert.ok(t.alive());
  });
});

test('10 000 small events a second: ignored unread, the capture succeeds, the agent stays small and responsive', async (tc) => {
  await withAgent([], {}, async (agent, targets) => {
    const t = await start(targets, 'fake-cdp.js', { wrap: OWN_NETNS, args: [path.join(__dirname, 'apps/fake-cdp.js'), 'flood:10000'] });
    t.signal('SIGURG');
    const job = await agent.waitState(t.pid, 'running');
    const worst = [];
    const poll = setInterval(() => healthzMs(agent).then((ms) => worst.push(ms), (e) => worst.push(e)), 100);
    try {
      await sleep(3000);
      await realCapture(agent, targets);
    } finally {
      clearInterval(poll);
    }
    t.signal('SIGURG');
    const done = await agent.waitState(job.id, 'done', { timeoutMs: 20000 });
    assert.match(done.files[0], new RegExp(`/cpu-profile-${t.pid}-[^/]*\\.cpuprofile$`));
    assert.equal(agent.files(new RegExp(`^cpu-profile-${t.pid}-.*\\.cpuprofile$`)).length, 1);
    for (const w of worst) assert.ok(typeof w === 'number' && w < 1000, `/healthz: ${w}`);
    // 64 MiB is the goal; ASan's shadow memory and quarantine (make check SANITIZE=1) need room.
    tc.diagnostic(`agent peak RSS ${peakRssMiB(agent.proc.pid).toFixed(1)} MiB`);
    assert.ok(peakRssMiB(agent.proc.pid) < (process.env.ASAN_OPTIONS ? 128 : 64), `agent peak RSS ${peakRssMiB(agent.proc.pid)} MiB`);
  });
});

test('a CDP error of 1 MiB with newlines and escape codes: one escaped, bounded log line', async () => {
  await withAgent([], {}, async (agent, targets) => {
    const t = await start(targets, 'fake-cdp.js', { wrap: OWN_NETNS, args: [path.join(__dirname, 'apps/fake-cdp.js'), 'error:1024'] });
    t.signal('SIGURG');
    const job = await agent.waitState(t.pid, 'failed', { timeoutMs: 10000 });
    assert.match(job.error, /^inspector refused to start the cpu profiler: /);
    assert.ok(job.error.length < 1024, `an error of ${job.error.length} characters`);
    // What this test is about is the log itself (how the agent writes peer text into it):
    // the failure's line is there, and no line carries a control character or is unbounded.
    const lines = agent.log.split('\n').filter((l) => l.includes('refused'));
    assert.ok(lines.length >= 1);
    for (const l of agent.log.split('\n')) {
      assert.ok(!/[\x00-\x08\x0b-\x1f\x7f]/.test(l), `a control character in the log: ${JSON.stringify(l.slice(0, 200))}`);
      assert.ok(Buffer.byteLength(l) < 20000, `a log line of ${Buffer.byteLength(l)} bytes`);
    }
    // Each line of the error text stays on the failure's line: none starts a line of its own.
    assert.ok(!agent.log.split('\n').some((l) => /^\s*\x1b|^red|^\\x1b/.test(l)));
    assert.ok(JSON.stringify(await agent.captures()).length < 64 * 1024);
  });
});

test('a 40 MB profile streams to its file: intact, every node there, the agent far smaller than the profile', async (tc) => {
  await withAgent([], {}, async (agent, targets) => {
    const t = await start(targets, 'fake-cdp.js', { wrap: OWN_NETNS, args: [path.join(__dirname, 'apps/fake-cdp.js'), 'profile:40'] });
    t.signal('SIGURG');
    const job = await agent.waitState(t.pid, 'running');
    t.signal('SIGURG');
    const done = await agent.waitState(job.id, 'done', { timeoutMs: 30000 });
    const sent = /sent profile nodes=(\d+) bytes=(\d+)/.exec(t.out);
    const file = done.files.find((f) => f.endsWith('.cpuprofile'));
    assert.ok(sent && file, `${t.out}\n${JSON.stringify(done)}`);
    assert.equal(fs.statSync(file).size, Number(sent[2]));
    const p = JSON.parse(fs.readFileSync(file, 'utf8'));
    assert.equal(p.nodes.length, Number(sent[1]));
    tc.diagnostic(`agent peak RSS ${peakRssMiB(agent.proc.pid).toFixed(1)} MiB, profile ${(Number(sent[2]) / 1048576).toFixed(1)} MiB`);
    assert.ok(peakRssMiB(agent.proc.pid) < (process.env.ASAN_OPTIONS ? 128 : 64), `agent peak RSS ${peakRssMiB(agent.proc.pid)} MiB`);
  });
});

// ---- busy targets ----

test('a server holding 6 000 sockets: its inspector is found among them, the profile taken, the inspector closed', async () => {
  await withAgent([], {}, async (agent, targets) => {
    const t = await start(targets, 'many-sockets.js', { args: [path.join(__dirname, 'apps/many-sockets.js'), '3000'] });
    const own = Number(/ready port=(\d+) sockets=(\d+)/.exec(t.out)[1]);
    assert.ok(fs.readdirSync(`/proc/${t.pid}/fd`).length > 6000);
    t.signal('SIGWINCH');
    const running = await agent.waitState(t.pid, 'running', { timeoutMs: 10000 });
    await sleep(500);
    t.signal('SIGWINCH');
    const job = await agent.waitState(running.id, 'done');
    assert.equal(job.files.length, 2);
    assert.deepEqual(listeningPorts(t.pid), [own], 'the inspector is closed, the service still listens');
    assert.deepEqual(fs.readdirSync(path.join(agent.stateDir, 'opened')), []);
  });
});

test('a node with 19 000 open files that catches SIGUSR1 and never listens: the agent stays responsive', async () => {
  // 9229 held by another (this test): the target's inspector cannot open, and the agent
  // looks through its 19 000 fds for the owner of the listener it finds there.
  const holder = net.createServer();
  await new Promise((r) => holder.listen(9229, '127.0.0.1', r));
  await withAgent(['--attach-timeout', '1500'], {}, async (agent, targets) => {
    const t = await start(targets, 'fd-hog.js', { args: [path.join(__dirname, 'apps/fd-hog.js'), '19000'] });
    const worst = [];
    const poll = setInterval(() => healthzMs(agent).then((ms) => worst.push(ms), (e) => worst.push(e)), 20);
    try {
      t.signal('SIGWINCH');
      const job = await agent.waitState(t.pid, 'failed', { timeoutMs: 5000 });
      assert.match(job.error, /^inspector did not open/);
      await sleep(6000);        // a look of the sweep at the record the SIGUSR1 left
      await new Promise((r) => holder.close(r));
      await realCapture(agent, targets);
    } finally {
      clearInterval(poll);
      holder.close();
    }
    assert.ok(worst.length > 50);
    const bound = SANITIZED ? 300 : 100;
    const slow = worst.filter((w) => !(typeof w === 'number' && w < bound));
    assert.deepEqual(slow, [], `/healthz answers within ${bound} ms throughout`);
    assert.ok(t.alive());
  });
});

test('an inspector bound to 127.0.0.2 is reached there, not at 127.0.0.1 where another process of the namespace listens', async () => {
  await withAgent([], {}, async (agent, targets) => {
    const other = await start(targets, 'idle.js', { nodeArgs: ['--inspect=127.0.0.1:9229'] });
    const t = await start(targets, 'burn.js', { nodeArgs: ['--max-inlined-bytecode-size=0', '--inspect=127.0.0.2:9229'] });
    await waitFor('both inspectors', () => listeningPorts(other.pid).includes(9229) && listeningPorts(t.pid).includes(9229));
    t.signal('SIGURG');
    const job = await agent.waitState(t.pid, 'running');
    await sleep(1500);
    t.signal('SIGURG');
    const done = await agent.waitState(job.id, 'done');
    const hits = cpuHitsByFunction(readJSON(done.files.find((f) => f.endsWith('.cpuprofile'))));
    assert.equal(hits[0][0], 'burnCpu', `the profile is the burner's: ${JSON.stringify(hits.slice(0, 3))}`);
    // Both inspectors were open before: both are left open, neither was driven to close.
    assert.deepEqual(listeningPorts(t.pid), [9229]);
    assert.deepEqual(listeningPorts(other.pid), [9229]);
  });
});

// ---- the output folder ----

test('an output folder others may write to is refused at start', async () => {
  const dir = tmpdir();
  const out = path.join(dir, 'out');
  fs.mkdirSync(out, { mode: 0o777 });
  fs.chmodSync(out, 0o777);
  const a = new Agent([], { outputDir: out });
  await assert.rejects(a.start(), /agent exited early: \{"code":1[\s\S]*not root's alone/);
  fs.chmodSync(out, 0o700);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('a FIFO, a symlink and a hard link at the names a profile would take: none is opened or followed, the profile goes beside them', async () => {
  await withAgent([], {}, async (agent, targets) => {
    const canary = path.join(tmpdir(), 'canary');
    fs.writeFileSync(canary, 'canary\n');
    const t = await start(targets, 'leak.js');
    t.signal('SIGWINCH');
    const running = await agent.waitState(t.pid, 'running');
    // The stamp is the profiler's start second: plant at every second around now.
    const planted = [];
    const now = Date.now();
    for (let d = -3000; d <= 1000; d += 1000) {
      const stamp = new Date(now + d).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');
      const base = path.join(agent.outputDir, `heap-profile-${t.pid}-${stamp}`);
      execFileSync('mkfifo', [`${base}.heapprofile`]);
      fs.symlinkSync(canary, `${base}.meta.json`);
      fs.linkSync(canary, `${base}-1.heapprofile`);
      planted.push(base);
    }
    t.signal('SIGWINCH');
    const job = await agent.waitState(running.id, 'done');
    assert.equal(fs.readFileSync(canary, 'utf8'), 'canary\n');
    for (const base of planted) {
      assert.ok(fs.lstatSync(`${base}.heapprofile`).isFIFO());
      assert.equal(fs.readlinkSync(`${base}.meta.json`), canary);
      assert.equal(fs.statSync(`${base}-1.heapprofile`).nlink, planted.length + 1);   // the canary and its links
    }
    // The profile under a name none of them holds, whole.
    assert.match(job.files[0], /-2\.heapprofile$/);
    assert.ok(readJSON(job.files[0]).head);
    assert.equal((await agent.request('GET', '/healthz')).status, 200);
  });
});
