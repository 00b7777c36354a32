// Captures that take turns lose nothing (issue 9): processes sharing one network namespace
// (a pod's containers, cluster workers, pm2) can open 9229 one at a time, so their captures
// queue; a stop that reaches a capture still waiting keeps it, to run for as long as it was
// asked for when its turn comes. Real agent, real node processes in a namespace of their own.
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { waitFor, withAgent, start, sleep, readJSON, listeningPorts } = require('./lib');

const OWN_NETNS = ['unshare', '--net', '--', 'sh', '-c', 'ip link set lo up && exec "$0" "$@"'];

// n idle node processes in one network namespace of their own: the first makes it, the
// others join it (nsenter execs node: each target's pid is its node's).
async function inOneNetns(targets, n) {
  const first = await start(targets, 'idle.js', { wrap: OWN_NETNS });
  const ts = [first];
  for (let i = 1; i < n; i++) {
    ts.push(await start(targets, 'idle.js', { wrap: ['nsenter', `--net=/proc/${first.pid}/ns/net`, '--'] }));
  }
  return ts;
}

const ms = (s) => Date.parse(s);
const hrms = () => Number(process.hrtime.bigint()) / 1e6;

// Each target sent sig, then sig again gapMs later: their jobs, in the order they were
// asked for, with each target's gap as the test's clock saw it.
async function startAndStop(agent, ts, sig, gapMs) {
  const sent = ts.map((t) => { const at = hrms(); t.signal(sig); return at; });
  // Every trigger is a job before the stops are sent (one port: one runs, the rest queue).
  const jobs = await waitFor('a job per target', async () => {
    const js = await Promise.all(ts.map((t) => agent.capture(t.pid)));
    return js.every(Boolean) && js;
  }, 5000);
  assert.equal(jobs.filter((j) => j.state === 'queued').length, ts.length - 1, JSON.stringify(jobs));
  await sleep(Math.max(0, sent[0] + gapMs - hrms()));
  const gaps = ts.map((t, i) => { t.signal(sig); return hrms() - sent[i]; });
  return { ids: jobs.map((j) => j.id), gaps };
}

// What every capture of one namespace, started and stopped by signal, must show: all
// exported, one after the other; the first ran at once until its stop; each other ran, when
// its turn came, for the time between its two signals (meta.json, from the kernel's times).
async function checkAll(agent, ts, ids, gaps, timeoutMs) {
  const done = [];
  for (const id of ids) done.push(await agent.waitState(id, 'done', { timeoutMs }));
  const metas = done.map((j) => readJSON(j.files.find((f) => f.endsWith('.meta.json'))));
  for (let i = 0; i < ts.length; i++) {
    const j = done[i];
    const m = metas[i];
    const what = `target ${i}: ${JSON.stringify({ job: j, trigger: m.trigger, profile: m.profile })}`;
    assert.equal(j.files.length, 2, what);
    assert.equal(m.pid, ts[i].pid);
    assert.equal(m.trigger.kind, 'signal');
    const ran = ms(m.profile.ended_at) - ms(m.profile.started_at);
    assert.ok(m.trigger.latency_ms >= m.trigger.queued_ms, what);
    if (i === 0) {
      // Not queued: stopped by its second signal while it ran.
      assert.ok(m.trigger.queued_ms >= 0 && m.trigger.queued_ms < 500, what);
      assert.equal(m.profile.requested_duration_ms, null, what);
      assert.equal(j.requested_duration_ms, null, what);
      assert.ok(Math.abs(ran - gaps[0]) < 500, `${ran} ms against a gap of ${gaps[0]} ms: ${what}`);
      continue;
    }
    // Queued until the one before it ended: at least the first one's run.
    assert.ok(m.trigger.queued_ms > 0.9 * gaps[0] * i, what);
    assert.ok(m.trigger.queued_ms > metas[i - 1].trigger.queued_ms, what);
    assert.ok(ms(j.started_at) >= ms(done[i - 1].ended_at), `after the one before it: ${what}`);
    // Asked for: the time between its two signals, as the kernel timed them.
    assert.ok(Math.abs(m.profile.requested_duration_ms - gaps[i]) < 50,
      `requested ${m.profile.requested_duration_ms} ms, the test's gap ${gaps[i]} ms: ${what}`);
    assert.equal(j.requested_duration_ms, m.profile.requested_duration_ms);
    assert.equal(j.seconds, null);
    assert.equal(m.profile.stop_reason, 'duration', what);
    assert.ok(ran >= m.profile.requested_duration_ms - 5 && ran < m.profile.requested_duration_ms + 300,
      `ran ${ran} ms of ${m.profile.requested_duration_ms}: ${what}`);
  }
  for (const t of ts) assert.deepEqual(listeningPorts(t.pid), [], `pid ${t.pid}'s inspector closed`);
  assert.equal(agent.files(/\.heapprofile$/).length, ts.length);
  assert.equal(await agent.metric('inspectd_captures_total', { trigger: 'signal', kind: 'heap', outcome: 'exported' }), ts.length);
  assert.equal(await agent.metric('inspectd_captures_total'), ts.length);
}

test('four processes in one network namespace, each started and stopped by signal 3 s apart: four profiles', { timeout: 90000 }, async () => {
  await withAgent([], async (agent, targets) => {
    const ts = await inOneNetns(targets, 4);
    for (const t of ts) await agent.waitTracked(t.pid);
    const { ids, gaps } = await startAndStop(agent, ts, 'SIGWINCH', 3000);
    // While they wait, the API shows each as queued, with how long it will run.
    const last = await waitFor('the last one stopped while queued', async () => {
      const j = await agent.capture(ids.at(-1));
      return j.requested_duration_ms !== null && j;
    }, 5000);
    assert.equal(last.state, 'queued', JSON.stringify(last));
    assert.match(last.queued_reason, /is being captured in the same network namespace \(one inspector port\)/);
    assert.ok(Math.abs(last.requested_duration_ms - gaps.at(-1)) < 50, JSON.stringify(last));
    await checkAll(agent, ts, ids, gaps, 30000);
  });
});

test('eight processes in one network namespace, started and stopped by signal within one second: eight profiles', { timeout: 90000 }, async () => {
  await withAgent([], async (agent, targets) => {
    const ts = await inOneNetns(targets, 8);
    for (const t of ts) await agent.waitTracked(t.pid);
    const { ids, gaps } = await startAndStop(agent, ts, 'SIGWINCH', 900);
    await checkAll(agent, ts, ids, gaps, 30000);
    assert.equal(await agent.metric('inspectd_captures_expired_total', { trigger: 'signal' }), 0);
  });
});

// The stops sent one by one, as with one `kubectl exec POD -c C -- kill` per container: the
// next capture's turn may come before its stop does. It waited all the same, and runs from the
// start of its turn as long as was asked for, not just until its stop.
test('a capture whose turn came before its stop did runs, from its turn, as long as was asked for', { timeout: 60000 }, async () => {
  await withAgent([], async (agent, targets) => {
    const ts = await inOneNetns(targets, 3);
    for (const t of ts) await agent.waitTracked(t.pid);
    const sent = ts.map((t) => { const at = hrms(); t.signal('SIGWINCH'); return at; });
    const ja = await agent.waitState(ts[0].pid, 'running');
    const jb = await agent.waitState(ts[1].pid, 'queued');
    const jc = await agent.waitState(ts[2].pid, 'queued');
    await sleep(2000);
    ts[0].signal('SIGWINCH');
    await agent.waitState(jb.id, 'running', { timeoutMs: 5000 });
    const gapB = (() => { ts[1].signal('SIGWINCH'); return hrms() - sent[1]; })();
    const gapC = (() => { ts[2].signal('SIGWINCH'); return hrms() - sent[2]; })();
    const b = await waitFor('b stopped', async () => {
      const j = await agent.capture(jb.id);
      return j.requested_duration_ms !== null && j;
    }, 5000);
    assert.equal(b.state, 'running', JSON.stringify(b));
    assert.ok(Math.abs(b.requested_duration_ms - gapB) < 50, `${b.requested_duration_ms} against ${gapB}`);
    await agent.waitState(ja.id, 'done');
    for (const [id, gap] of [[jb.id, gapB], [jc.id, gapC]]) {
      const done = await agent.waitState(id, 'done', { timeoutMs: 15000 });
      const m = readJSON(done.files.find((f) => f.endsWith('.meta.json')));
      const what = JSON.stringify(m.profile);
      assert.ok(Math.abs(m.profile.requested_duration_ms - gap) < 50, `${m.profile.requested_duration_ms} against ${gap}`);
      assert.equal(m.profile.stop_reason, 'duration', what);
      const ran = ms(m.profile.ended_at) - ms(m.profile.started_at);
      assert.ok(ran >= m.profile.requested_duration_ms - 5 && ran < m.profile.requested_duration_ms + 300, `ran ${ran} ms: ${what}`);
      assert.ok(m.trigger.queued_ms >= 1900, JSON.stringify(m.trigger));
    }
  });
});

// --queue-timeout ends a capture nobody came back to; one whose stop came while it waited
// is whole, and runs however long what is ahead of it takes. A third signal changes nothing.
test('--queue-timeout: a queued capture stopped while it waits does not expire; one nobody stopped does', { timeout: 60000 }, async () => {
  await withAgent(['--queue-timeout', '2s'], async (agent, targets) => {
    const [a, b, c] = await inOneNetns(targets, 3);
    for (const t of [a, b, c]) await agent.waitTracked(t.pid);
    a.signal('SIGURG');
    const ja = await agent.waitState(a.pid, 'running');
    b.signal('SIGURG');
    c.signal('SIGURG');
    const jb = await agent.waitState(b.pid, 'queued');
    const jc = await agent.waitState(c.pid, 'queued');
    await sleep(500);
    b.signal('SIGURG');
    const kept = await waitFor('b stopped while queued', async () => {
      const j = await agent.capture(jb.id);
      return j.requested_duration_ms !== null && j;
    }, 5000);
    assert.equal(kept.state, 'queued');
    assert.ok(kept.requested_duration_ms >= 450 && kept.requested_duration_ms < 1000, JSON.stringify(kept));
    b.signal('SIGURG');      // a third: b keeps what its first stop made it
    // c, never stopped, expires; b does not.
    const expired = await agent.waitState(jc.id, 'failed', { timeoutMs: 6000 });
    assert.match(expired.error, /^expired while queued: /);
    await sleep(1500);       // b is past --queue-timeout now too
    const still = await agent.capture(jb.id);
    assert.equal(still.state, 'queued', JSON.stringify(still));
    assert.equal(still.requested_duration_ms, kept.requested_duration_ms);
    a.signal('SIGURG');
    assert.equal((await agent.waitState(ja.id, 'done', { timeoutMs: 10000 })).state, 'done');
    const done = await agent.waitState(jb.id, 'done', { timeoutMs: 10000 });
    const m = readJSON(done.files.find((f) => f.endsWith('.meta.json')));
    assert.equal(m.profile.type, 'cpu-profile');
    assert.equal(m.profile.requested_duration_ms, kept.requested_duration_ms);
    assert.equal(m.profile.stop_reason, 'duration');
    assert.ok(m.trigger.queued_ms > 3000, JSON.stringify(m.trigger));
    assert.equal((await agent.captures(b.pid)).length, 1, 'the third signal made no job');
    assert.equal(await agent.metric('inspectd_captures_expired_total', { trigger: 'signal' }), 1);
  });
});

// DELETE is the API's stop: it means what a second signal means, whether the capture runs
// or still waits its turn (which is an accident of what else runs in its namespace).
test('DELETE of a queued API capture keeps it, to run from its request to the DELETE (within its seconds)', { timeout: 60000 }, async () => {
  await withAgent([], async (agent, targets) => {
    const [a, b] = await inOneNetns(targets, 2);
    for (const t of [a, b]) await agent.waitTracked(t.pid);
    const ra = await agent.request('POST', '/v1/captures', { pid: a.pid, seconds: 3 });
    const rb = await agent.request('POST', '/v1/captures', { pid: b.pid, kind: 'cpu', seconds: 30 });
    assert.equal(rb.json.state, 'queued');
    assert.equal(rb.json.requested_duration_ms, 30000);
    await sleep(1000);
    const del = await agent.request('DELETE', `/v1/captures/${rb.json.id}`);
    assert.equal(del.status, 202);
    assert.equal(del.json.state, 'queued');
    assert.equal(del.json.seconds, 30);
    assert.ok(del.json.requested_duration_ms >= 950 && del.json.requested_duration_ms < 1500, del.body);
    // A second DELETE changes nothing.
    const again = await agent.request('DELETE', `/v1/captures/${rb.json.id}`);
    assert.equal(again.status, 202);
    assert.equal(again.json.requested_duration_ms, del.json.requested_duration_ms);
    await agent.waitState(ra.json.id, 'done', { timeoutMs: 10000 });
    const done = await agent.waitState(rb.json.id, 'done', { timeoutMs: 10000 });
    const m = readJSON(done.files.find((f) => f.endsWith('.meta.json')));
    assert.equal(m.trigger.kind, 'api');
    assert.equal(m.profile.stop_reason, 'duration');
    assert.equal(m.profile.requested_duration_ms, del.json.requested_duration_ms);
    const ran = ms(m.profile.ended_at) - ms(m.profile.started_at);
    assert.ok(ran >= m.profile.requested_duration_ms - 5 && ran < m.profile.requested_duration_ms + 300, `ran ${ran} ms`);
    assert.ok(m.trigger.queued_ms >= 2500, JSON.stringify(m.trigger));
    // The one that ran at once: its seconds, asked for and run.
    const ma = readJSON((await agent.capture(ra.json.id)).files.find((f) => f.endsWith('.meta.json')));
    assert.equal(ma.profile.requested_duration_ms, 3000);
    assert.ok(ma.trigger.queued_ms < 500, JSON.stringify(ma.trigger));
  });
});
