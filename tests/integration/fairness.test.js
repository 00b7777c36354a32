// Fair scheduling: no tenant (container) can starve the others. Real agent, real node
// processes, containers made as cgroups beneath the test's own (and removed).
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const { waitFor, withAgent, start, makeCgroup, readJSON } = require('./lib');

// A network namespace of its own: captures in one namespace take turns on 9229, and
// what is measured here is the per-container cap, not that lane.
const OWN_NETNS = ['unshare', '--net', '--', 'sh', '-c', 'ip link set lo up && exec "$0" "$@"'];

// A container as docker's systemd driver names its scope.
function container() {
  const id = crypto.randomBytes(32).toString('hex');
  return { id, cg: makeCgroup(`docker-${id}.scope`) };
}

async function inContainer(agent, t, c) {
  c.cg.add(t.pid);
  await agent.waitTracked(t.pid, (p) => p.container && p.container.id === c.id, 5000);
}

async function jobsOf(agent, pids) {
  return (await agent.captures()).filter((j) => pids.includes(j.pid));
}

// Capture id over, done or failed: its JSON.
function over(agent, id, timeoutMs = 20000) {
  return agent.waitState(id, ['done', 'failed'], { timeoutMs });
}

const REFUSED = 'inspectd_captures_refused_total';

function removeAll(...cs) {
  for (const c of cs) { try { fs.rmdirSync(c.cg.dir); } catch { /* never made */ } }
}

// The bound (README, Fairness): a container with none of its own captures running starts
// one at once, whatever another container runs, while fewer than --max-concurrent slots
// are held; here 2 of 4 (--max-concurrent-per-container 2). "At once": the API's
// started_at minus created_at, and meta.json's trigger.latency_ms, both under 1 s.
test('four signal captures in one container do not delay another container\'s API capture', async () => {
  const a = container();
  const b = container();
  try {
    await withAgent([], async (agent, targets) => {
      const inA = [];
      for (let i = 0; i < 4; i++) inA.push(await start(targets, 'idle.js', { wrap: OWN_NETNS }));
      const inB = await start(targets, 'idle.js', { wrap: OWN_NETNS });
      for (const t of inA) await inContainer(agent, t, a);
      await inContainer(agent, inB, b);

      // Four long signal captures in A: two run, two wait for their container's turn.
      for (const t of inA) t.signal('SIGWINCH');
      const pidsA = inA.map((t) => t.pid);
      const seen = await waitFor('A\'s four jobs: two running, two queued', async () => {
        const jobs = await jobsOf(agent, pidsA);
        const running = jobs.filter((j) => j.state === 'running');
        const queued = jobs.filter((j) => j.state === 'queued');
        return jobs.length === 4 && running.length === 2 && queued.length === 2 && { running, queued };
      }, 10000);
      for (const j of seen.queued) {
        assert.match(j.queued_reason, /2 captures of its container running, the --max-concurrent-per-container limit/);
      }

      // B's API capture starts at once.
      const r = await agent.request('POST', '/v1/captures', { pid: inB.pid, kind: 'heap', seconds: 1 });
      assert.equal(r.status, 202);
      assert.notEqual(r.json.state, 'queued');
      const done = await over(agent, r.json.id);
      assert.equal(done.state, 'done', JSON.stringify(done));
      const waited = Date.parse(done.started_at) - Date.parse(done.created_at);
      assert.ok(waited >= 0 && waited < 1000, `started ${waited} ms after it was asked for`);
      const meta = readJSON(done.files.find((f) => f.endsWith('.meta.json')));
      assert.ok(meta.trigger.latency_ms < 1000, `latency ${meta.trigger.latency_ms} ms`);

      // A still holds no more than its two.
      const jobs = await jobsOf(agent, pidsA);
      assert.equal(jobs.filter((j) => j.state === 'running').length, 2);
    });
  } finally {
    removeAll(a, b);
  }
});

test('--max-captures-per-container-per-hour: the API answers 429, a signal is refused and counted, another container is not held back', async () => {
  const a = container();
  const b = container();
  try {
    await withAgent(['--max-captures-per-container-per-hour', '2'], async (agent, targets) => {
      const t = await start(targets, 'idle.js');
      const u = await start(targets, 'idle.js');
      await inContainer(agent, t, a);
      await inContainer(agent, u, b);
      for (let i = 0; i < 2; i++) {
        const r = await agent.request('POST', '/v1/captures', { pid: t.pid, seconds: 1 });
        assert.equal(r.status, 202);
        assert.equal((await over(agent, r.json.id)).state, 'done');
      }
      const refused = await agent.request('POST', '/v1/captures', { pid: t.pid, seconds: 1 });
      assert.equal(refused.status, 429);
      assert.match(refused.headers['content-type'], /^application\/json/);
      assert.match(refused.json.error, /--max-captures-per-container-per-hour/);
      assert.equal(await agent.metric(REFUSED, { trigger: 'api', reason: 'container-hourly-cap' }), 1);

      // A signal: no job, counted.
      t.signal('SIGWINCH');
      await agent.waitMetric(REFUSED, { trigger: 'signal', reason: 'container-hourly-cap' }, 1);
      assert.equal((await jobsOf(agent, [t.pid])).length, 2);

      // Another container has its own hour.
      const other = await agent.request('POST', '/v1/captures', { pid: u.pid, seconds: 1 });
      assert.equal(other.status, 202);
      assert.equal((await over(agent, other.json.id)).state, 'done');
    });
  } finally {
    removeAll(a, b);
  }
});

test('--queue-timeout: a queued capture that waited too long ends unrun, with the reason it waited, counted', async () => {
  await withAgent(['--max-concurrent', '1', '--queue-timeout', '2s'], async (agent, targets) => {
    const t = await start(targets, 'idle.js');
    const u = await start(targets, 'idle.js');
    const long = await agent.request('POST', '/v1/captures', { pid: t.pid, seconds: 30 });
    const waiting = await agent.request('POST', '/v1/captures', { pid: u.pid, seconds: 1 });
    assert.equal(waiting.json.state, 'queued');
    const ended = await over(agent, waiting.json.id, 6000);
    assert.equal(ended.state, 'failed');
    assert.equal(ended.error, 'expired while queued: 1 captures running, the --max-concurrent limit');
    assert.equal(ended.started_at, null);
    const waited = Date.parse(ended.ended_at) - Date.parse(ended.created_at);
    assert.ok(waited >= 2000 && waited < 4000, `ended ${waited} ms after it was asked for`);
    assert.equal(await agent.metric('inspectd_captures_expired_total', { trigger: 'api' }), 1);
    assert.equal(await agent.metric('inspectd_captures_total', { trigger: 'api', kind: 'heap', outcome: 'failed' }), 1);
    // The running one is not a queued one.
    assert.equal((await agent.capture(long.json.id)).state, 'running');
    assert.equal((await agent.request('DELETE', `/v1/captures/${long.json.id}`)).status, 202);
    assert.equal((await over(agent, long.json.id)).state, 'done');
  });
});

test('--max-signal-duration ends a signal\'s capture nobody stopped; an API capture keeps its own duration', async () => {
  await withAgent(['--max-signal-duration', '2'], async (agent, targets) => {
    const t = await start(targets, 'idle.js');
    const u = await start(targets, 'idle.js', { wrap: OWN_NETNS });
    t.signal('SIGURG');
    const api = await agent.request('POST', '/v1/captures', { pid: u.pid, kind: 'cpu', seconds: 4 });
    const sig = await waitFor('the signal\'s job', () => agent.capture(t.pid));
    const done = await over(agent, sig.id, 10000);
    assert.equal(done.state, 'done');
    const meta = readJSON(done.files.find((f) => f.endsWith('.meta.json')));
    assert.equal(meta.profile.stop_reason, 'max-signal-duration');
    const ran = Date.parse(meta.profile.ended_at) - Date.parse(meta.profile.started_at);
    assert.ok(ran >= 1900 && ran < 3500, `ran ${ran} ms`);
    const apiDone = await over(agent, api.json.id, 10000);
    const apiMeta = readJSON(apiDone.files.find((f) => f.endsWith('.meta.json')));
    assert.equal(apiMeta.profile.stop_reason, 'duration');
  });
});

// jobs.c once looked only at the 64 newest queued jobs: older ones starved. One at a
// time, 70 short captures start in the order they were asked for.
test('more than 64 queued jobs run in order', { timeout: 240000 }, async () => {
  const N = 70;
  await withAgent(['--max-concurrent', '1', '--queue-timeout', '10m', '--max-captures-per-container-per-hour', '1000'],
    async (agent, targets) => {
      const ts = await Promise.all(Array.from({ length: N }, () => start(targets, 'idle.js')));
      for (const t of ts) await agent.waitTracked(t.pid);
      const ids = [];
      for (const t of ts) {
        const r = await agent.request('POST', '/v1/captures', { pid: t.pid, kind: 'cpu', seconds: 1 });
        assert.equal(r.status, 202, r.body);
        ids.push(r.json.id);
      }
      assert.ok((await agent.metric('inspectd_captures_queued')) >= N - 2);
      const jobs = [];
      for (const id of ids) jobs.push(await over(agent, id, 200000));
      for (let i = 0; i < N; i++) {
        assert.equal(jobs[i].state, 'done', JSON.stringify(jobs[i]));
        if (i > 0) {
          assert.ok(Date.parse(jobs[i].started_at) >= Date.parse(jobs[i - 1].ended_at),
            `job ${i} started after job ${i - 1} ended: ${JSON.stringify([jobs[i - 1], jobs[i]])}`);
        }
      }
      assert.equal(await agent.metric('inspectd_captures_expired_total', { trigger: 'api' }), 0);
    });
});
