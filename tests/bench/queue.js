#!/usr/bin/env node
// inspectd benchmark, part 7 (run by `make bench`): captures taking turns in one network
// namespace (one inspector port, nodejs/node#16872). Eight node processes in one namespace,
// each started and stopped by signal 1 s apart (all eight started at once, then all eight
// stopped): the time from the first signal until the last profile is written, against the
// floor of eight captures one after the other, 8 x (1 s + attach), attach being each
// capture's own time from its turn to its profiler's start (meta.json: latency_ms - queued_ms).
// What is over the floor is the turn-over between captures: stop, export, close the inspector,
// and the next one's locate. BENCH_QUEUE_ROUNDS rounds (default 3), the same processes.
// Needs root (the agent loads BPF). Prints MISSED when a profile is lost.
'use strict';
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const { sleep, children, waitFor, run, median } = require('./common');

const ROOT = path.resolve(__dirname, '../..');
const AGENT = process.env.INSPECTD || path.join(ROOT, '.output/inspectd');
const APPS = path.join(ROOT, 'tests/integration/apps');
const N = 8;
const GAP_MS = 1000;
const ROUNDS = Number(process.env.BENCH_QUEUE_ROUNDS) || 3;

function captures(sock) {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: sock, path: '/v1/captures', timeout: 10000 }, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve(JSON.parse(body).captures));
    });
    req.on('error', reject);
    req.end();
  });
}

async function round(sock, pids) {
  const before = new Set((await captures(sock)).map((j) => j.id));
  const t0 = Date.now();
  for (const pid of pids) process.kill(pid, 'SIGWINCH');
  await sleep(GAP_MS);
  for (const pid of pids) process.kill(pid, 'SIGWINCH');
  const jobs = await waitFor('every capture of the round to be over', async () => {
    const js = (await captures(sock)).filter((j) => !before.has(j.id) && pids.includes(j.pid));
    return js.length === N && js.every((j) => ['done', 'failed'].includes(j.state) && j.ended_at) && js;
  }, 60000, 20);
  const done = jobs.filter((j) => j.state === 'done');
  const metas = done.map((j) => j.files.find((f) => f.endsWith('.meta.json')));
  const lastWritten = Math.max(...done.flatMap((j) => j.files.map((f) => fs.statSync(f).mtimeMs)));
  const m = metas.map((f) => JSON.parse(fs.readFileSync(f, 'utf8')));
  const attach = m.map((x) => x.trigger.latency_ms - (x.trigger.queued_ms || 0));
  const ran = m.map((x) => Date.parse(x.profile.ended_at) - Date.parse(x.profile.started_at));
  return { done: done.length, total: lastWritten - t0, attach, ran };
}

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inspectd-bench-'));
  const sock = path.join(dir, 'api.sock');
  const agent = await run([AGENT, '--output-dir', path.join(dir, 'out'), '--api-socket', sock,
    '--state-dir', path.join(dir, 'state'), '--max-captures-per-container-per-hour', '1024'], /ready:/);
  const wrap = ['unshare', '--net', '--', 'sh', '-c', 'ip link set lo up && exec "$0" "$@"'];
  const idle = path.join(APPS, 'idle.js');
  try {
    // unshare and nsenter exec: each child's pid is its node's.
    const first = await run([...wrap, process.execPath, idle], /ready/);
    const pids = [first.pid];
    for (let i = 1; i < N; i++) {
      pids.push((await run(['nsenter', `--net=/proc/${first.pid}/ns/net`, '--', process.execPath, idle], /ready/)).pid);
    }
    await sleep(1000);
    console.log(`\n7. Captures taking turns: ${N} processes in one network namespace, each started and stopped by signal ${GAP_MS / 1000} s apart`);
    const totals = [];
    const overs = [];
    for (let r = 0; r < ROUNDS; r++) {
      const x = await round(sock, pids);
      if (x.done < N) {
        console.log(`   round ${r + 1}: ${x.done}/${N} profiles MISSED (the rest lost); last written ${x.total.toFixed(0)} ms after the first signal`);
        await sleep(1000);
        continue;
      }
      const floor = N * GAP_MS + x.attach.reduce((a, b) => a + b, 0);
      totals.push(x.total);
      overs.push((x.total - floor) / N);
      console.log(`   round ${r + 1}: ${x.done}/${N} profiles; last written ${x.total.toFixed(0)} ms ` +
        `after the first signal; floor 8 x (1 s + attach) = ${floor.toFixed(0)} ms (attach median ${median(x.attach).toFixed(1)} ms); ` +
        `over the floor ${(x.total - floor).toFixed(0)} ms, ${((x.total - floor) / N).toFixed(1)} ms a capture; ` +
        `profiles ran ${Math.min(...x.ran)}..${Math.max(...x.ran)} ms`);
      await sleep(1000);
    }
    if (totals.length) console.log(`   median of ${totals.length}: last profile written ${median(totals).toFixed(0)} ms after the first signal, ` +
      `${median(overs).toFixed(1)} ms a capture over the floor`);
  } finally {
    agent.kill('SIGTERM');
    await waitFor('the agent to exit', () => !children.has(agent));
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().then(() => process.exit(0), (e) => { console.error(`bench: FAILED: ${e.stack || e}`); process.exit(1); });
