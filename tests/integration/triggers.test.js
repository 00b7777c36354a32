// Threshold triggers judged from the kernel side: RSS, growth, cgroup limit, CPU;
// cooldown and the hourly cap. Real agent, real BPF, real node processes.
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const {
  Agent, Target, sleep, waitFor, readJSON, heapSelfByFunction, cpuHitsByFunction, listeningPorts, withAgent, start,
} = require('./lib');

// burnCpu stays a frame of its own even in optimized code: its samples are its own.
const BURN_OPTS = { nodeArgs: ['--max-inlined-bytecode-size=0'] };

const MiB = 1024 * 1024;



function metaOf(agent, pid) {
  const files = agent.files(new RegExp(`-${pid}-.*\\.meta\\.json$`));
  return files.map((f) => readJSON(path.join(agent.outputDir, f)));
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
    const [meta] = metaOf(agent, t.pid);
    assert.equal(meta.trigger.kind, 'rss-threshold');
    assert.equal(meta.trigger.unit, 'bytes');
    assert.equal(meta.trigger.threshold, 160 * MiB);
    assert.ok(meta.trigger.observed >= 160 * MiB && meta.trigger.observed < 200 * MiB, `observed ${meta.trigger.observed}`);
    assert.ok(meta.trigger.latency_ms < 1000);
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
    const [meta] = metaOf(agent, t.pid);
    assert.equal(meta.trigger.kind, 'rss-growth');
    assert.ok(Math.abs(meta.trigger.threshold - base - 120 * MiB) < 16 * MiB,
      `threshold ${meta.trigger.threshold / MiB} MiB, baseline ${base / MiB} MiB`);
    const top = heapSelfByFunction(readJSON(path.join(agent.outputDir, meta.profile.file)));
    assert.ok(top.length > 0);
  });
});

// A memory cgroup beneath the test's own (cgroup v1 here), removed afterwards.
function makeMemoryCgroup(limitBytes) {
  const line = fs.readFileSync('/proc/self/cgroup', 'utf8').split('\n').find((l) => /^\d+:([^:]*,)?memory(,[^:]*)?:/.test(l));
  if (line) {
    const dir = path.join('/sys/fs/cgroup/memory', line.split(':')[2], `inspectd-test-${process.pid}`);
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'memory.limit_in_bytes'), String(limitBytes));
    return { dir, add: (pid) => fs.writeFileSync(path.join(dir, 'cgroup.procs'), String(pid)) };
  }
  const v2 = fs.readFileSync('/proc/self/cgroup', 'utf8').split('\n').find((l) => l.startsWith('0::'));
  const dir = path.join('/sys/fs/cgroup', v2.slice(3), `inspectd-test-${process.pid}`);
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, 'memory.max'), String(limitBytes));
  return { dir, add: (pid) => fs.writeFileSync(path.join(dir, 'cgroup.procs'), String(pid)) };
}

test('--limit-percent fires for a process in a limited cgroup, not for one without a limit', async () => {
  const cg = makeMemoryCgroup(400 * MiB);
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
      await b.send('grow 150');
      await agent.waitLog(new RegExp(`pid ${b.pid}: rss-threshold crossed .*: skipped, host cap of 1 threshold captures per hour reached`), 5000);
      assert.equal(agent.files(/heapprofile$/).length, 1);
    });
});
