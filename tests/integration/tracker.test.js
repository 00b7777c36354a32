// The kernel side's events: one process's signal loop must not hide the lives of others.
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { HELPERS, NODE, Target, sleep, waitFor, tmpdir, withAgent } = require('./lib');

function asNode(helperName) {
  const dir = tmpdir();
  const file = path.join(dir, 'node');
  fs.copyFileSync(path.join(HELPERS, helperName), file);
  fs.chmodSync(file, 0o755);
  return file;
}

async function processPids(agent) {
  const r = await agent.request('GET', '/v1/processes');
  assert.equal(r.status, 200);
  return new Set(r.json.processes.map((p) => p.pid));
}

// A short-lived node process: runs for ms, then exits on its own.
function shortLived(ms) {
  const child = spawn(NODE, ['-e', `setTimeout(() => {}, ${ms})`], { stdio: 'ignore' });
  const exited = new Promise((resolve) => child.on('exit', resolve));
  return { pid: child.pid, exited };
}

test('a process named node that signals itself in a loop hides no other process\'s exec or exit, and gets few captures', async () => {
  const looper = asNode('signal_loop');
  await withAgent(['--attach-timeout', '300'], async (agent, targets) => {
    const flood = new Target(null, { cmd: looper, args: [String(os.constants.signals.SIGWINCH)] });
    targets.push(flood);
    await flood.start();
    await agent.waitTracked(flood.pid);
    const started = Date.now();

    // 24 node processes, four at a time, each alive for a second: the agent must see
    // every one arrive and leave while the loop runs.
    const seen = new Map();
    for (let batch = 0; batch < 6; batch++) {
      const kids = Array.from({ length: 4 }, () => shortLived(1200));
      for (const k of kids) seen.set(k.pid, { arrived: false, left: false });
      await waitFor(`batch ${batch} to be tracked`, async () => {
        const pids = await processPids(agent);
        for (const k of kids) if (pids.has(k.pid)) seen.get(k.pid).arrived = true;
        return kids.every((k) => seen.get(k.pid).arrived);
      }, 5000, 20).catch((e) => {
        e.message += `\nnot seen: ${kids.filter((k) => !seen.get(k.pid).arrived).map((k) => k.pid)}`;
        throw e;
      });
      await Promise.all(kids.map((k) => k.exited));
      await waitFor(`batch ${batch}'s exits to be seen`, async () => {
        const pids = await processPids(agent);
        return kids.every((k) => !pids.has(k.pid));
      }, 5000, 50);
    }
    assert.ok(!flood.exited, 'the loop ran throughout');
    const seconds = (Date.now() - started) / 1000;

    // The loop sent millions of signals; the agent served a few a second at most.
    const jobs = await agent.captures(flood.pid);
    const bound = 4 + Math.ceil(seconds * 2);
    assert.ok(jobs.length >= 1, 'the loop\'s first signal is a trigger like any other');
    assert.ok(jobs.length <= bound, `${jobs.length} captures in ${seconds.toFixed(1)} s (bound ${bound})`);
    assert.equal((await agent.request('GET', '/healthz')).status, 200);
  });
});
