// OOM kills of tracked processes leave oom-kill-<pid>-<stamp>.json: the process, its
// limit, its RSS over its last minutes, the files of its captures. Real agent, real BPF,
// real node processes OOM-killed in test memory cgroups beneath the test's own.
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { sleep, waitFor, readJSON, withAgent, start, makeCgroup, NODE } = require('./lib');

const MiB = 1024 * 1024;
const RECORD = /^oom-kill-(\d+)-\d{8}T\d{6}Z(-\d+)?\.json$/;

function recordsOf(agent, pid) {
  return agent.files(RECORD).filter((f) => RECORD.exec(f)[1] === String(pid));
}

test('a leaking process OOM-killed in its cgroup leaves a record: rising timeline, limit, its capture', async () => {
  const cg = makeCgroup(`inspectd-oom-${process.pid}`, 160 * MiB);
  try {
    // A threshold configured (out of reach): the agent walks the host's tasks each second,
    // so a point a second; without one, a point every 10 s (README, *OOM kills*).
    await withAgent(['--rss-threshold', '100G'], async (agent, targets) => {
      const t = await start(targets, 'grow.js');
      const bystander = await start(targets, 'grow.js');
      cg.add(t.pid);
      const row = await agent.waitTracked(t.pid, (p) => p.memory_limit_bytes !== null);
      assert.equal(row.memory_limit_bytes, 160 * MiB);

      // A capture before the leak: its files belong in the record.
      const r = await agent.request('POST', '/v1/captures', JSON.stringify({ pid: t.pid, kind: 'heap', seconds: 1 }),
        { 'Content-Type': 'application/json' });
      assert.equal(r.status, 202, r.body);
      const job = await agent.waitState(r.json.id, 'done');
      assert.equal(job.files.length, 2);

      // Leak 4 MiB every 300 ms until the kernel kills it.
      const start_ms = Date.now();
      while (!t.exited && Date.now() - start_ms < 60000) {
        t.proc.stdin.write('grow 4\n');
        await sleep(300);
      }
      await waitFor('the target to die', () => t.exited, 10000);
      assert.equal(t.exited.signal, 'SIGKILL', `the kernel's OOM kill: ${JSON.stringify(t.exited)}`);

      const [name] = await waitFor('its OOM-kill record', () => {
        const files = recordsOf(agent, t.pid);
        return files.length ? files : null;
      }, 10000);
      const rec = readJSON(path.join(agent.outputDir, name));
      assert.equal(fs.statSync(path.join(agent.outputDir, name)).mode & 0o777, 0o600);
      assert.equal(rec.event, 'oom-kill');
      assert.equal(rec.pid, t.pid);
      assert.equal(rec.comm, 'node');
      assert.deepEqual(rec.cmdline, [NODE, path.join(__dirname, 'apps', 'grow.js')]);
      assert.equal(rec.memory_limit_bytes, 160 * MiB);
      assert.ok(rec.cgroup.endsWith(`/inspectd-oom-${process.pid}`), rec.cgroup);
      assert.equal(rec.container, null);
      assert.equal(rec.detected_by, 'mark_victim');
      // RSS counts node's file pages too, which the cgroup may not be charged for.
      assert.ok(rec.victim.rss_bytes > 100 * MiB, `rss at kill ${rec.victim.rss_bytes}`);
      const killedAt = Date.parse(rec.killed_at);
      assert.ok(Math.abs(killedAt - Date.now()) < 30000, rec.killed_at);

      // One point a second, rising to the limit.
      const tl = rec.rss_timeline;
      assert.ok(tl.length >= 8, `${tl.length} points: ${JSON.stringify(tl)}`);
      for (let i = 1; i < tl.length; i++) {
        assert.ok(tl[i][0] - tl[i - 1][0] >= 1000 && tl[i][0] % 1000 === tl[0][0] % 1000, `points a second apart: ${JSON.stringify(tl)}`);
      }
      assert.ok(tl[0][0] >= start_ms - 600000 && tl[tl.length - 1][0] <= killedAt + 1000, JSON.stringify(tl));
      const first = tl[0][1];
      const last = tl[tl.length - 1][1];
      assert.ok(last - first > 50 * MiB, `grew ${(last - first) / MiB} MiB: ${JSON.stringify(tl)}`);
      assert.ok(last > 100 * MiB && last <= rec.victim.rss_bytes, `last ${last / MiB} MiB`);
      let rises = 0;
      for (let i = 1; i < tl.length; i++) rises += tl[i][1] > tl[i - 1][1];
      assert.ok(rises >= tl.length / 2, `mostly rising: ${JSON.stringify(tl)}`);

      // The capture taken before its death, its files beside the record.
      assert.equal(rec.captures.length, 1);
      assert.equal(rec.captures[0].id, job.id);
      assert.equal(rec.captures[0].kind, 'heap');
      assert.deepEqual(rec.captures[0].files, job.files);
      for (const f of rec.captures[0].files) assert.ok(fs.existsSync(f), f);

      assert.equal(await agent.waitMetric('inspectd_oom_kills_total', {}, 1), 1);
      assert.equal(await agent.metric('inspectd_oom_records_total', { outcome: 'written' }), 1);
      assert.equal(await agent.metric('inspectd_events_lost_total', { stream: 'oom' }), 0);

      // A SIGKILL from a user is no OOM kill.
      bystander.signal('SIGKILL');
      await waitFor('the bystander to exit', () => bystander.exited);
      await waitFor('the agent to forget it', async () => (await agent.process(bystander.pid)) === null);
      assert.deepEqual(recordsOf(agent, bystander.pid), []);
      assert.equal(await agent.metric('inspectd_oom_kills_total'), 1);
      assert.equal(agent.files(RECORD).length, 1);
    });
  } finally {
    fs.rmdirSync(cg.dir);
  }
});

// A node process that leaks into a cgroup from its first instruction.
function leaker(cgroupDir) {
  const script = 'const a = []; setInterval(() => a.push(Buffer.alloc(4 << 20, 1)), 20);';
  const p = spawn('sh', ['-c', `echo $$ > ${cgroupDir}/cgroup.procs && exec "$0" -e "$1"`, NODE, script],
    { stdio: 'ignore' });
  const exited = new Promise((resolve) => p.on('exit', (code, signal) => resolve({ code, signal })));
  return { pid: p.pid, exited };
}

test('OOM-kill records are capped per container and hour; every kill is counted', async () => {
  const cg = makeCgroup(`inspectd-oomloop-${process.pid}`, 96 * MiB);
  try {
    await withAgent([], async (agent) => {
      const pids = [];
      for (let i = 0; i < 8; i++) {
        const l = leaker(cg.dir);
        pids.push(l.pid);
        assert.equal((await l.exited).signal, 'SIGKILL', `leaker ${i}`);
      }
      await agent.waitMetric('inspectd_oom_kills_total', {}, 8, 15000);
      await agent.waitMetric('inspectd_oom_records_total', { outcome: 'written' }, 6);
      assert.equal(await agent.metric('inspectd_oom_records_total', { outcome: 'limited' }), 2);
      assert.equal(await agent.metric('inspectd_oom_records_total', { outcome: 'failed' }), 0);
      const recorded = agent.files(RECORD).map((f) => Number(RECORD.exec(f)[1]));
      assert.deepEqual(recorded.sort(), pids.slice(0, 6).sort());
      for (const f of agent.files(RECORD)) {
        const rec = readJSON(path.join(agent.outputDir, f));
        assert.equal(rec.memory_limit_bytes, 96 * MiB);
        assert.ok(rec.cmdline.includes('-e'), JSON.stringify(rec.cmdline));
      }
    });
  } finally {
    fs.rmdirSync(cg.dir);
  }
});
