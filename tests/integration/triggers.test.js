// Threshold triggers judged from the kernel side: RSS, growth, cgroup limit, CPU;
// cooldown and the hourly cap. Real agent, real BPF, real node processes.
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const {
  Agent, Target, sleep, waitFor, readJSON, heapSelfByFunction, cpuHitsByFunction, listeningPorts, withAgent, start,
  HELPERS, makeCgroup,
} = require('./lib');

// burnCpu stays a frame of its own even in optimized code: its samples are its own.
const BURN_OPTS = { nodeArgs: ['--max-inlined-bytecode-size=0'] };

const MiB = 1024 * 1024;

function metaOf(agent, pid) {
  const files = agent.files(new RegExp(`-${pid}-.*\\.meta\\.json$`));
  return files.map((f) => readJSON(path.join(agent.outputDir, f)));
}

// What the kernel says: rss_stat links attached now (one agent runs at a time in these tests).
// bpftool exits 255 when a link it listed is not yet settled (EAGAIN) or already gone while it
// walks the IDs; that is the agent attaching or detaching at that instant, so ask again.
function rssStatLinks() {
  let r;
  for (let i = 0; i < 20; i++) {
    r = spawnSync('bpftool', ['-j', 'link', 'show'], { encoding: 'utf8' });
    if (r.status === 0) return JSON.parse(r.stdout || '[]').filter((l) => l.tp_name === 'rss_stat').length;
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 25);
  }
  assert.fail(`bpftool link show failed 20 times: ${r.stderr}`);
}

async function metric(agent, name) {
  const m = await agent.request('GET', '/metrics');
  const line = new RegExp(`^${name} (\\d+)$`, 'm').exec(m.body);
  assert.ok(line, `${name} in /metrics`);
  return Number(line[1]);
}

function rssOf(pid) {
  return Number(fs.readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ')[1]) * 4096;
}

test('--rss-threshold: a leaking process is heap-profiled once, the leaking function on top', async () => {
  await withAgent(['--rss-threshold', '160M', '--capture-seconds', '2'], async (agent, targets) => {
    const small = await start(targets, 'idle.js');
    const t = await start(targets, 'leak.js');
    await agent.waitLog(new RegExp(`pid ${t.pid}: rss-threshold crossed \\(\\d+\\.\\d MiB >= 160\\.0 MiB\\): heap capture for 2 s`), 30000);
    await agent.waitLog(new RegExp(`pid ${t.pid}: inspector closed`), 15000);
    await agent.settled(t.pid);
    const [meta] = metaOf(agent, t.pid);
    assert.equal(meta.trigger.kind, 'rss-threshold');
    assert.equal(meta.trigger.unit, 'bytes');
    assert.equal(meta.trigger.threshold, 160 * MiB);
    assert.ok(meta.trigger.observed >= 160 * MiB && meta.trigger.observed < 200 * MiB, `observed ${meta.trigger.observed}`);
    assert.ok(meta.trigger.latency_ms < 1000);
    assert.equal(meta.trigger.detected_by, 'rss_stat');  // starts within 256 MiB of the mark: watched
    assert.equal(meta.profile.stop_reason, 'duration');
    const profile = readJSON(path.join(agent.outputDir, meta.profile.file));
    assert.equal(heapSelfByFunction(profile)[0][0], 'leakyFunction');
    // Still above the threshold: no second capture. The idle one never.
    await sleep(1500);
    assert.equal(agent.count(new RegExp(`pid ${t.pid}: rss-threshold crossed`)), 1);
    assert.doesNotMatch(agent.log, new RegExp(`pid ${small.pid}: rss`));
    assert.ok(t.alive());
    assert.deepEqual(listeningPorts(t.pid), []);
  });
});

test('--rss-growth fires on growth beyond SIZE since the baseline, and not before', async () => {
  await withAgent(['--rss-growth', '120M', '--capture-seconds', '1'], async (agent, targets) => {
    const t = await start(targets, 'grow.js');
    await sleep(2500);  // the baseline is taken a second after discovery
    const base = rssOf(t.pid);
    await t.send('grow 70');
    await sleep(1500);
    assert.doesNotMatch(agent.log, /rss-growth crossed/, `grew ${(rssOf(t.pid) - base) / MiB} MiB`);
    await t.send('grow 70');
    await agent.waitLog(new RegExp(`pid ${t.pid}: rss-growth crossed`), 5000);
    await agent.waitLog(new RegExp(`pid ${t.pid}: inspector closed`), 10000);
    await agent.settled(t.pid);
    const [meta] = metaOf(agent, t.pid);
    assert.equal(meta.trigger.kind, 'rss-growth');
    assert.ok(Math.abs(meta.trigger.threshold - base - 120 * MiB) < 16 * MiB,
      `threshold ${meta.trigger.threshold / MiB} MiB, baseline ${base / MiB} MiB`);
    const top = heapSelfByFunction(readJSON(path.join(agent.outputDir, meta.profile.file)));
    assert.ok(top.length > 0);
  });
});

test('--limit-percent fires for a process in a limited cgroup, not for one without a limit', async () => {
  const cg = makeCgroup(`inspectd-test-${process.pid}`, 400 * MiB);
  try {
    await withAgent(['--limit-percent', '50', '--capture-seconds', '1', '--max-concurrent', '1'], async (agent, targets) => {
      const limited = await start(targets, 'grow.js');
      const free = await start(targets, 'grow.js');
      cg.add(limited.pid);
      await agent.waitLog(new RegExp(`pid ${limited.pid}: moved to another cgroup: memory limit ${400 * MiB} bytes`));
      const ps = await agent.request('GET', '/v1/processes');
      const row = ps.json.processes.find((p) => p.pid === limited.pid);
      assert.equal(row.memory_limit_bytes, 400 * MiB);
      assert.deepEqual(row.armed, ['limit-percent']);
      assert.deepEqual(ps.json.processes.find((p) => p.pid === free.pid).armed, []);

      await free.send('grow 220');
      await limited.send('grow 220');
      await agent.waitLog(new RegExp(`pid ${limited.pid}: limit-percent crossed \\(\\d+\\.\\d MiB >= 200\\.0 MiB\\)`), 5000);
      await agent.waitLog(new RegExp(`pid ${limited.pid}: inspector closed`), 10000);
      await agent.settled(limited.pid);
      assert.doesNotMatch(agent.log, new RegExp(`pid ${free.pid}: limit-percent`));
      const [meta] = metaOf(agent, limited.pid);
      assert.equal(meta.trigger.threshold, 200 * MiB);
      assert.ok(limited.alive() && free.alive());
    });
  } finally {
    fs.rmdirSync(cg.dir);   // its processes were killed above
  }
});

test('--cpu-threshold CPU-profiles a burner and not an idle process', async () => {
  await withAgent(['--cpu-threshold', '50', '--cpu-window', '3s', '--threshold-action', 'cpu', '--capture-seconds', '2'],
    async (agent, targets) => {
      const idle = await start(targets, 'idle.js');
      const t = await start(targets, 'burn.js', BURN_OPTS);
      await agent.waitLog(new RegExp(`pid ${t.pid}: cpu-threshold crossed \\(\\d+\\.\\d% >= 50\\.0%\\): cpu capture for 2 s`), 10000);
      await agent.waitLog(new RegExp(`pid ${t.pid}: inspector closed`), 10000);
      await agent.settled(t.pid);
      const [meta] = metaOf(agent, t.pid);
      assert.equal(meta.trigger.kind, 'cpu-threshold');
      assert.equal(meta.trigger.unit, 'percent');
      assert.ok(meta.trigger.observed >= 50 && meta.trigger.observed <= 110, `observed ${meta.trigger.observed}`);
      const profile = readJSON(path.join(agent.outputDir, meta.profile.file));
      assert.equal(cpuHitsByFunction(profile)[0][0], 'burnCpu');
      assert.doesNotMatch(agent.log, new RegExp(`pid ${idle.pid}: cpu-threshold`));
      const ps = await agent.request('GET', '/v1/processes');
      const idleRow = ps.json.processes.find((p) => p.pid === idle.pid);
      assert.ok(idleRow.cpu_percent !== null && idleRow.cpu_percent < 5, `idle cpu ${idleRow.cpu_percent}`);
    });
});

test('the cooldown holds: a second crossing of the same process within it is skipped, and logged once', async () => {
  await withAgent(['--rss-threshold', '150M', '--rss-growth', '80M', '--cooldown', '1h', '--capture-seconds', '1'],
    async (agent, targets) => {
      const t = await start(targets, 'grow.js');
      await sleep(2500);
      await t.send('grow 130');   // crosses both 150M and baseline + 80M: one capture
      await agent.waitLog(new RegExp(`pid ${t.pid}: inspector closed`), 10000);
      await agent.settled(t.pid);
      await t.send('grow 100');   // growth again since that capture
      await agent.waitLog(new RegExp(`pid ${t.pid}: rss-growth crossed .*: skipped, cooldown, \\d+ s left`), 5000);
      await t.send('grow 10');
      await sleep(1500);
      assert.equal(agent.count(/skipped, cooldown/), 1);
      assert.equal(agent.files(/heapprofile$/).length, 1);
      const metrics = await agent.request('GET', '/metrics');
      assert.match(metrics.body, /^inspectd_triggers_skipped_total\{trigger="rss-growth"\} 1$/m);
    });
});

test('--max-captures-per-hour caps the whole host', async () => {
  await withAgent(['--rss-threshold', '150M', '--max-captures-per-hour', '1', '--capture-seconds', '1'],
    async (agent, targets) => {
      const a = await start(targets, 'grow.js');
      const b = await start(targets, 'grow.js');
      await a.send('grow 150');
      await agent.waitLog(new RegExp(`pid ${a.pid}: rss-threshold crossed .*: heap capture`), 5000);
      await agent.waitLog(new RegExp(`pid ${a.pid}: inspector closed`), 10000);
      await agent.settled(a.pid);
      await b.send('grow 150');
      await agent.waitLog(new RegExp(`pid ${b.pid}: rss-threshold crossed .*: skipped, host cap of 1 threshold captures per hour reached`), 5000);
      assert.equal(agent.files(/heapprofile$/).length, 1);
    });
});

test('rss_stat is attached only while a process is near its mark, and the crossing is then seen at the fault', async () => {
  await withAgent(['--rss-threshold', '700M', '--capture-seconds', '1'], async (agent, targets) => {
    const t = await start(targets, 'grow.js');
    await sleep(2500);
    // ~45 MiB, far below 700 MiB: no program on rss_stat, the host's page faults go free.
    assert.equal(rssStatLinks(), 0);
    assert.equal(await metric(agent, 'inspectd_rss_stat_attached'), 0);
    const [proc] = JSON.parse((await agent.request('GET', '/v1/processes')).body).processes.filter((p) => p.pid === t.pid);
    assert.ok(Math.abs(proc.rss_bytes - rssOf(t.pid)) < 8 * MiB, `RSS from the task iterator: ${proc.rss_bytes}`);

    await t.send('grow 420');   // ~380 MiB: past half the mark, still far (more than 256 MiB below)
    await sleep(1500);
    assert.equal(rssStatLinks(), 0);
    await t.send('grow 180');   // ~510 MiB: within 256 MiB of the mark, near
    await waitFor('rss_stat attached', () => rssStatLinks() === 1, 3000);
    assert.equal(await metric(agent, 'inspectd_rss_stat_attached'), 1);
    assert.equal(await metric(agent, 'inspectd_rss_stat_attaches_total'), 1);
    assert.doesNotMatch(agent.log, /crossed/);

    await t.send('grow 400');   // past the mark
    await agent.waitLog(new RegExp(`pid ${t.pid}: rss-threshold crossed`), 5000);
    await agent.waitLog(new RegExp(`pid ${t.pid}: inspector closed`), 10000);
    await agent.settled(t.pid);
    const [meta] = metaOf(agent, t.pid);
    assert.equal(meta.trigger.detected_by, 'rss_stat');
    assert.ok(meta.trigger.observed >= 700 * MiB && meta.trigger.observed < 720 * MiB, `observed ${meta.trigger.observed}`);

    // Fired, so no high mark is armed now; attached still for 10 s after the last near RSS, then detached.
    assert.equal(rssStatLinks(), 1);
    await t.stop();
    await waitFor('rss_stat detached', () => rssStatLinks() === 0, 12000, 200);
    assert.equal(await metric(agent, 'inspectd_rss_stat_attached'), 0);
  });
});

test('a process already past its mark that faults no more is caught by the once-a-second look', async () => {
  // A C program, tracked with --match, that touched 300 MiB before the agent started and sleeps:
  // no page fault ever shows rss_stat the crossing.
  const targets = [];
  try {
    const t = await start(targets, null, { cmd: path.join(HELPERS, 'hold_memory'), args: ['300'] });
    const agent = await new Agent(['--match', 'hold_memory', '--rss-threshold', '250M', '--capture-seconds', '1']).start();
    try {
      await agent.waitLog(new RegExp(`pid ${t.pid}: rss-threshold crossed \\(3\\d\\d\\.\\d MiB >= 250\\.0 MiB\\)`), 3000);
      const jobs = await waitFor('the capture to end', async () => {
        const list = JSON.parse((await agent.request('GET', '/v1/captures')).body).captures;
        return list.length && list[0].state === 'failed' ? list : null;
      }, 5000);
      assert.equal(jobs.length, 1);
      assert.equal(jobs[0].trigger.detected_by, 'tick');
      assert.ok(jobs[0].trigger.observed >= 250 * MiB, `observed ${jobs[0].trigger.observed}`);
      // Not a node process: it does not catch SIGUSR1, so it is never sent one.
      assert.match(jobs[0].error, /SIGUSR1/);
      assert.ok(t.alive());
    } finally {
      await agent.stop();
    }
  } finally {
    for (const t of targets) await t.stop();
  }
});

test('--rss-watch always keeps rss_stat attached; without RSS triggers it never is', async () => {
  await withAgent(['--rss-threshold', '100G', '--rss-watch', 'always'], async (agent, targets) => {
    await start(targets, 'idle.js');
    await sleep(1500);
    assert.equal(rssStatLinks(), 1);
  });
  await withAgent(['--cpu-threshold', '90'], async (agent, targets) => {
    const t = await start(targets, 'grow.js');
    await t.send('grow 50');
    await sleep(1500);
    assert.equal(rssStatLinks(), 0);
    const [proc] = JSON.parse((await agent.request('GET', '/v1/processes')).body).processes.filter((p) => p.pid === t.pid);
    assert.ok(proc.rss_bytes > 80 * MiB, `RSS still known: ${proc.rss_bytes}`);
  });
});
