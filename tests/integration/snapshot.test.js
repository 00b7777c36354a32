// Heap snapshots, allocation timelines and trace events (issue 11): streamed to the spool
// with the agent's memory bounded, never the reason a target dies.
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const zlib = require('node:zlib');
const { spawnSync } = require('node:child_process');
const { INSPECTCTL, withAgent, start, sleep, waitFor, readJSON, listeningPorts, makeCgroup, tmpdir } = require('./lib');

const OWN_NETNS = ['unshare', '--net', '--', 'sh', '-c', 'ip link set lo up && exec "$0" "$@"'];

async function capture(agent, pid, body) {
  const r = await agent.request('POST', '/v1/captures', { pid, ...body });
  assert.equal(r.status, 202, r.body);
  return r.json;
}

function peakRssMiB(pid) {
  const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m[1]) / 1024;
}

// A snapshot's nodes of the class named name, counted from its own meta.
function countNodesNamed(snap, name) {
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const width = fields.length;
  const nameAt = fields.indexOf('name');
  const typeAt = fields.indexOf('type');
  const object = types.indexOf('object');
  const index = snap.strings.indexOf(name);
  let n = 0;
  for (let i = 0; i < snap.nodes.length; i += width) {
    if (snap.nodes[i + typeAt] === object && snap.nodes[i + nameAt] === index) n++;
  }
  return n;
}

function metaOf(agent, file) {
  return readJSON(path.join(agent.outputDir, file.replace(/\.(heapsnapshot|heaptimeline|json|heapprofile)(\.gz)?$/, '.meta.json')));
}

test('a heap snapshot on demand: 100 000 objects of a named class counted in it, the inspector closed after', async () => {
  await withAgent([], async (agent, targets) => {
    const t = await start(targets, 'retain.js');
    await t.send('things 100000');
    const job = await capture(agent, t.pid, { kind: 'heap-snapshot' });
    assert.match(job.warning, /^a heap snapshot pauses the target for all of it/);
    const done = await agent.waitState(job.id, 'done', { timeoutMs: 60000 });
    const file = done.files.find((f) => f.endsWith('.heapsnapshot'));
    assert.ok(file, JSON.stringify(done));
    const snap = readJSON(file);
    for (const k of ['snapshot', 'nodes', 'edges', 'strings']) assert.ok(k in snap, k);
    assert.equal(snap.nodes.length / snap.snapshot.meta.node_fields.length, snap.snapshot.node_count);
    assert.ok(countNodesNamed(snap, 'RetainedThing') >= 100000, `${countNodesNamed(snap, 'RetainedThing')} RetainedThing`);
    const meta = metaOf(agent, path.basename(file)).profile;
    assert.equal(meta.type, 'heap-snapshot');
    assert.equal(meta.snapshot.objects, snap.snapshot.node_count);
    assert.equal(meta.snapshot.bytes, fs.statSync(file).size);
    assert.ok(meta.snapshot.pause_ms > 0);
    assert.ok(meta.snapshot.rss_peak_mib >= meta.snapshot.rss_before_mib);
    assert.ok(meta.headroom.heap_used_mib > 5, JSON.stringify(meta.headroom));
    await t.assertAlive();
    await waitFor('the inspector closed', () => listeningPorts(t.pid).length === 0);
  });
});

test('a snapshot of several hundred MB of heap: the agent stays under 64 MB', async () => {
  await withAgent([], async (agent, targets) => {
    const t = await start(targets, 'retain.js');
    await t.send('doubles 300');          // ~300 MB of heap in few objects: quick to snapshot
    await t.send('things 400000');        // and small ones: a file of ~75 MB
    const job = await capture(agent, t.pid, { kind: 'heap-snapshot' });
    const done = await agent.waitState(job.id, 'done', { timeoutMs: 180000 });
    const file = done.files.find((f) => f.endsWith('.heapsnapshot'));
    const meta = metaOf(agent, path.basename(file)).profile;
    assert.ok(meta.headroom.heap_used_mib > 300, JSON.stringify(meta.headroom));
    assert.ok(fs.statSync(file).size > 66 << 20, `${fs.statSync(file).size} bytes`);
    const hwm = peakRssMiB(agent.proc.pid);
    console.log(`agent VmHWM ${hwm.toFixed(1)} MiB, snapshot ${(fs.statSync(file).size / 1048576).toFixed(0)} MiB of a ` +
      `${meta.headroom.heap_used_mib.toFixed(0)} MiB heap in ${meta.snapshot.pause_ms.toFixed(0)} ms`);
    assert.ok(hwm < 64, `agent VmHWM ${hwm} MiB`);
    fs.rmSync(file);
  });
});

test('an allocation timeline holds the allocations\' stacks (trace_function_infos)', async () => {
  await withAgent([], async (agent, targets) => {
    const t = await start(targets, 'retain.js');
    // Asked through inspectctl, which says what it costs (the API's 202 "warning"), as the README does.
    const r = spawnSync(INSPECTCTL, ['--socket', agent.socket, 'capture', String(t.pid), '--kind', 'allocation-timeline', '--seconds', '2'],
      { encoding: 'utf8', timeout: 20000 });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /^inspectctl: warning: an allocation timeline records every allocation's stack: the target runs slower for the whole capture \(at most --capture-seconds\)\n$/);
    const job = { id: /capture (c-\d+)/.exec(r.stdout)[1] };
    await sleep(500);
    await t.send('things 20000');
    const done = await agent.waitState(job.id, 'done', { timeoutMs: 60000 });
    const file = done.files.find((f) => f.endsWith('.heaptimeline'));
    assert.ok(file, JSON.stringify(done));
    const snap = readJSON(file);
    assert.ok(snap.snapshot.trace_function_count > 0, JSON.stringify(snap.snapshot));
    assert.ok(snap.trace_function_infos.length > 0);
    assert.ok(snap.trace_tree.length > 0);
    // The stacks name the function that allocated the things.
    const names = new Set();
    const w = snap.snapshot.meta.trace_function_info_fields.length;
    const at = snap.snapshot.meta.trace_function_info_fields.indexOf('name');
    for (let i = 0; i < snap.trace_function_infos.length; i += w) names.add(snap.strings[snap.trace_function_infos[i + at]]);
    assert.ok(names.has('RetainedThing'), [...names].join(','));
    assert.equal(metaOf(agent, path.basename(file)).profile.stop_reason, 'duration');
    await waitFor('the inspector closed', () => listeningPorts(t.pid).length === 0);
  });
});

test('a trace holds events of the requested categories, in Chrome\'s trace format', async () => {
  await withAgent([], async (agent, targets) => {
    const t = await start(targets, 'retain.js');
    const job = await capture(agent, t.pid, { kind: 'trace', seconds: 2, categories: 'node.fs.sync,v8' });
    await agent.waitState(job.id, 'running');
    for (let i = 0; i < 5; i++) { await t.send('mark'); await t.send('things 50000'); }
    const done = await agent.waitState(job.id, 'done', { timeoutMs: 30000 });
    const file = done.files.find((f) => f.endsWith('.json') && !f.endsWith('.meta.json'));
    const trace = readJSON(file);
    assert.ok(Array.isArray(trace.traceEvents));
    const events = trace.traceEvents.filter((e) => e.ph !== 'M');
    // Five synchronous reads, each open, fstat, read, close: all there, with their category.
    assert.ok(events.filter((e) => e.name === 'fs.sync.read' && e.cat.split(',').includes('node.fs.sync')).length >= 5 * 2,
      JSON.stringify(events.slice(0, 5)));
    assert.ok(events.some((e) => e.cat.split(',').includes('v8')), 'no v8 event');
    for (const e of events) {
      assert.ok(e.cat.split(',').some((x) => x === 'v8' || x === 'node.fs.sync'), `category ${e.cat} was not asked for`);
    }
    assert.deepEqual(metaOf(agent, path.basename(file)).profile.categories, ['node.fs.sync', 'v8']);
    await waitFor('the inspector closed', () => listeningPorts(t.pid).length === 0);
  });
});

test('a target killed mid-snapshot leaves no file under the final name', async () => {
  await withAgent([], async (agent, targets) => {
    const t = await start(targets, 'retain.js');
    await t.send('things 1500000');
    const job = await capture(agent, t.pid, { kind: 'heap-snapshot' });
    await agent.waitState(job.id, 'stopping', { timeoutMs: 20000 });
    await sleep(300);
    t.signal('SIGKILL');
    const failed = await agent.waitState(job.id, 'failed', { timeoutMs: 20000 });
    assert.match(failed.error, /exited/);
    await sleep(200);
    assert.deepEqual(agent.files(/heap-snapshot/), []);
    assert.deepEqual(fs.readdirSync(agent.outputDir).filter((f) => !f.startsWith('.')), []);
  });
});

test('a second snapshot of a process while one runs: 409', async () => {
  await withAgent([], async (agent, targets) => {
    const t = await start(targets, 'retain.js');
    await t.send('things 600000');
    const job = await capture(agent, t.pid, { kind: 'heap-snapshot' });
    const again = await agent.request('POST', '/v1/captures', { pid: t.pid, kind: 'heap-snapshot' });
    assert.equal(again.status, 409, again.body);
    await agent.waitState(job.id, 'done', { timeoutMs: 60000 });
  });
});

test('a snapshot of a process whose inspector was open already: taken, and the inspector left open', async () => {
  await withAgent([], async (agent, targets) => {
    const t = await start(targets, 'retain.js', { wrap: OWN_NETNS, nodeArgs: ['--inspect=127.0.0.1:9229'] });
    await t.send('things 10000');
    const job = await capture(agent, t.pid, { kind: 'heap-snapshot' });
    const done = await agent.waitState(job.id, 'done', { timeoutMs: 60000 });
    assert.ok(done.files.some((f) => f.endsWith('.heapsnapshot')));
    await sleep(300);
    assert.deepEqual(listeningPorts(t.pid), [9229]);
  });
});

test('an inspector that stops sending chunks: abandoned after --snapshot-stall-timeout, no file', async () => {
  await withAgent(['--snapshot-stall-timeout', '2'], async (agent, targets) => {
    const t = await start(targets, 'fake-cdp.js', { wrap: OWN_NETNS, args: [path.join(__dirname, 'apps/fake-cdp.js'), 'stall:3'] });
    const job = await capture(agent, t.pid, { kind: 'heap-snapshot' });
    const failed = await agent.waitState(job.id, 'failed', { timeoutMs: 15000 });
    assert.match(failed.error, /sent nothing for 2 s/);
    assert.deepEqual(fs.readdirSync(agent.outputDir).filter((f) => !f.startsWith('.')), []);
    await t.assertAlive();
  });
});

test('a chunk far larger than a snapshot\'s: refused, bounded, no file', async () => {
  await withAgent([], async (agent, targets) => {
    const t = await start(targets, 'fake-cdp.js', { wrap: OWN_NETNS, args: [path.join(__dirname, 'apps/fake-cdp.js'), 'huge-chunk:40'] });
    const job = await capture(agent, t.pid, { kind: 'heap-snapshot' });
    const failed = await agent.waitState(job.id, 'failed', { timeoutMs: 15000 });
    assert.ok(failed.error, JSON.stringify(failed));
    assert.deepEqual(fs.readdirSync(agent.outputDir).filter((f) => !f.startsWith('.')), []);
    assert.ok(peakRssMiB(agent.proc.pid) < 64);
  });
});

test('a disk that fills mid-snapshot: the capture fails, nothing partial left, the target as it was', async () => {
  const mnt = tmpdir('inspectd-full-');
  require('node:child_process').execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m,mode=0700', 'tmpfs', mnt]);
  try {
    await withAgent([], { outputDir: mnt }, async (agent, targets) => {
      const t = await start(targets, 'retain.js');
      await t.send('things 200000');
      const job = await capture(agent, t.pid, { kind: 'heap-snapshot' });
      const failed = await agent.waitState(job.id, 'failed', { timeoutMs: 60000 });
      assert.match(failed.error, /space|quota|too large/i);
      assert.deepEqual(fs.readdirSync(mnt).filter((f) => !f.startsWith('.')), []);
      await t.assertAlive();
      await waitFor('the inspector closed', () => listeningPorts(t.pid).length === 0);
    });
  } finally {
    require('node:child_process').execFileSync('umount', [mnt]);
  }
});

test('--compress: a snapshot and a trace written .gz as they stream, whole inside', async () => {
  await withAgent(['--compress'], async (agent, targets) => {
    const t = await start(targets, 'retain.js');
    await t.send('things 100000');
    let job = await capture(agent, t.pid, { kind: 'heap-snapshot' });
    let done = await agent.waitState(job.id, 'done', { timeoutMs: 60000 });
    let file = done.files.find((f) => f.endsWith('.heapsnapshot.gz'));
    assert.ok(file, JSON.stringify(done));
    const snap = JSON.parse(zlib.gunzipSync(fs.readFileSync(file)));
    assert.ok(countNodesNamed(snap, 'RetainedThing') >= 100000);
    const meta = metaOf(agent, path.basename(file)).profile;
    assert.equal(meta.compressed, true);
    assert.ok(fs.statSync(file).size * 3 < meta.snapshot.bytes, `${fs.statSync(file).size} of ${meta.snapshot.bytes}`);
    job = await capture(agent, t.pid, { kind: 'trace', seconds: 1 });
    done = await agent.waitState(job.id, 'done', { timeoutMs: 30000 });
    file = done.files.find((f) => f.endsWith('.json.gz'));
    assert.ok(Array.isArray(JSON.parse(zlib.gunzipSync(fs.readFileSync(file))).traceEvents));
  });
});

// The headroom check, and that it is not vacuous: the same process in the same cgroup is
// refused a snapshot (a heap sampling profile instead) and survives; with the check off
// (--snapshot-headroom 0) the snapshot gets it OOM-killed.
test('a snapshot refused for lack of headroom in a tight memory cgroup: a heap profile instead, the target survives; without the check it is OOM-killed', async () => {
  const MiB = 1 << 20;
  const cg = makeCgroup(`inspectd-headroom-${process.pid}`, 400 * MiB);
  const inCgroup = ['sh', '-c', `echo $$ > ${cg.dir}/cgroup.procs && exec "$0" "$@"`];
  try {
    await withAgent([], async (agent, targets) => {
      const t = await start(targets, 'retain.js', { wrap: inCgroup });
      await t.send('things 300000');
      const job = await capture(agent, t.pid, { kind: 'heap-snapshot' });
      const done = await agent.waitState(job.id, 'done', { timeoutMs: 60000 });
      const file = done.files.find((f) => f.endsWith('.heapprofile'));
      assert.ok(file, `a heap profile instead: ${JSON.stringify(done)}`);
      assert.ok(!done.files.some((f) => /heapsnapshot/.test(f)));
      const meta = metaOf(agent, path.basename(file)).profile;
      assert.equal(meta.type, 'heap-profile');
      assert.equal(meta.instead_of, 'heap-snapshot');
      assert.equal(meta.headroom.allowed, false);
      assert.equal(meta.headroom.limit_mib, 400);
      assert.ok(meta.headroom.estimate_mib > meta.headroom.room_mib, JSON.stringify(meta.headroom));
      assert.match(meta.headroom.reason, /exceeds/);
      assert.ok(readJSON(file).head, 'a heap sampling profile');
      await t.assertAlive();
      await waitFor('the inspector closed', () => listeningPorts(t.pid).length === 0);

      // The same process, the check off: V8's snapshot takes it past its limit.
      await agent.stop();
      await withAgent(['--snapshot-headroom', '0'], async (unchecked) => {
        const j = await capture(unchecked, t.pid, { kind: 'heap-snapshot' });
        await unchecked.waitState(j.id, 'failed', { timeoutMs: 60000 });
        await waitFor('the target OOM-killed', () => t.exited, 10000);
        assert.equal(t.exited.signal, 'SIGKILL');
        assert.deepEqual(unchecked.files(/heapsnapshot/), []);
      });
    });
  } finally {
    await waitFor('the cgroup empty', () => fs.readFileSync(path.join(cg.dir, 'cgroup.procs'), 'utf8').trim() === '', 10000).catch(() => {});
    fs.rmdirSync(cg.dir);
  }
});

test('--threshold-action heap-snapshot: a process crossing --rss-threshold is snapshotted once', async () => {
  await withAgent(['--select', 'cmdline~retain\\.js', '--rss-threshold', '180M', '--threshold-action', 'heap-snapshot',
    '--cooldown', '1h'], async (agent, targets) => {
    const t = await start(targets, 'retain.js');
    await agent.waitTracked(t.pid);
    await t.send('doubles 200');
    const job = await waitFor('a threshold capture', async () => (await agent.captures(t.pid))[0], 15000);
    assert.equal(job.kind, 'heap-snapshot');
    assert.equal(job.trigger.kind, 'rss-threshold');
    const done = await agent.waitState(job.id, 'done', { timeoutMs: 60000 });
    const file = done.files.find((f) => f.endsWith('.heapsnapshot'));
    assert.ok(file, JSON.stringify(done));
    assert.equal(metaOf(agent, path.basename(file)).trigger.kind, 'rss-threshold');
    await sleep(1000);
    assert.equal((await agent.captures(t.pid)).length, 1);
  });
});
