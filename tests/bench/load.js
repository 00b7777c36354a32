#!/usr/bin/env node
// inspectd benchmark, part 13 (run by `make bench`): proof under load (issue 13).
//
// 1. Idle footprint: a fresh agent with 20 idle node processes tracked, then a fresh one
//    with 200: VmRSS (and what it is made of) and CPU (utime+stime, and the threads'
//    schedstat) over IDLE seconds.
// 2. Load: with the 200 tracked, 50 of them triggered within one second, 20 ms apart: 20
//    by `kill -s WINCH` (the default heap signal) and 5 by SIGURG (CPU), each sent again
//    1 s later to stop it, and 25 by `POST /v1/captures` (15 heap for 1 s, 10 CPU for 2 s).
//    Every one must end captured (the job done, its meta.json and a profile that parses) or
//    refused with a reason (the job failed with an error, the API's status and error, or a
//    refused signal counted in /metrics): a trigger that is none of these is LOST. No target
//    harmed: all 200 alive at the end, none listening (its /proc/PID/net/tcp against its
//    socket fds), no record left in the agent's --state-dir/opened/, before and after the
//    agent stops. The agent's VmRSS, fds (/proc/PID/fd), threads (/proc/PID/status) and CPU
//    before, at peak (sampled every 100 ms) and after, and the trigger-to-start latency of
//    every capture from its meta.json (trigger.latency_ms; queued_ms, the wait for its turn).
// 3. Soak (only with BENCH_SOAK_MINUTES): the same agent and targets, a capture every
//    SOAK_PERIOD seconds (WINCH and URG pairs, API heap and CPU in turn, round-robin over the
//    200) for that many minutes, VmRSS and fds sampled each second: first, last, max, each
//    minute's median, and their least-squares trend once the API's history of finished jobs
//    (JOBS_KEPT) is full.
// 4. The load again on the other 50, a fresh agent delivering every capture to S3 and
//    Pyroscope (the tests' peers, tests/peers/; needs TEST_PEERS_DIR, which make bench sets):
//    every capture delivered to both, and the agent's peaks with its exporters' threads.
// Each agent runs in memory and pids cgroups of its own (cgroup v1, as here): their peaks
// (memory.max_usage_in_bytes, pids.peak) are what the unit's MemoryMax= and TasksMax= bound.
//
// Every target runs in its own network namespace (`unshare --net`, as a pod would): one
// inspector port per namespace, so captures run side by side up to --max-concurrent (4, the
// default). In one shared namespace the 50 would take turns on 127.0.0.1:9229, one after the
// other (BENCH_LOAD_NETNS=shared runs that: about 50 x the capture, and --queue-timeout is
// raised to 300 s so that none expires). The 200 share one cgroup, so one "container" to the
// fairness limits: --max-concurrent-per-container 4 and --max-captures-per-container-per-hour
// 1024 stand in for 50 pods' own limits (BENCH_LOAD_HOURLY_CAP lowers the cap to see
// refusals accounted for). The host's other node processes are tracked too (node always
// is); --select 'cmdline~TAG' keeps the agent's own captures (none are armed) to ours, and
// nothing but our targets is signalled or asked for.
//
// Needs root (the agent loads BPF). Environment (optional): BENCH_LOAD_TARGETS (200),
// BENCH_LOAD_TRIGGERED (50), BENCH_LOAD_SMALL (20), BENCH_LOAD_IDLE_SECONDS (30),
// BENCH_LOAD_NETNS (own | shared), BENCH_LOAD_HOURLY_CAP (1024), BENCH_LOAD_EXPORT (0: no
// exporters' round), BENCH_SOAK_MINUTES (off), BENCH_SOAK_PERIOD (2 s), BENCH_LOAD_PERF (a
// file: perf record of the agent's idle window with every target). Exits 1 when a trigger
// was lost, a target harmed or the fds not back to their baseline.
'use strict';
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const { sleep, children, waitFor, run, median } = require('./common');
// The TCP ports pid listens on, in its own network namespace.
const { listeningPorts } = require('../integration/lib');

const ROOT = path.resolve(__dirname, '../..');
const AGENT = process.env.INSPECTD || path.join(ROOT, '.output/inspectd');
const IDLE_APP = path.join(ROOT, 'tests/integration/apps/idle.js');
const TARGETS = Number(process.env.BENCH_LOAD_TARGETS) || 200;
const TRIGGERED = Math.min(TARGETS, Number(process.env.BENCH_LOAD_TRIGGERED) || 50);
const SMALL = Math.min(TARGETS, Number(process.env.BENCH_LOAD_SMALL) || 20);
const IDLE_SECONDS = Number(process.env.BENCH_LOAD_IDLE_SECONDS) || 30;
const SETTLE_SECONDS = 5;
const SHARED_NETNS = process.env.BENCH_LOAD_NETNS === 'shared';
const HOURLY_CAP = Number(process.env.BENCH_LOAD_HOURLY_CAP) || 1024;
const SOAK_MINUTES = Number(process.env.BENCH_SOAK_MINUTES) || 0;
const SOAK_PERIOD = Number(process.env.BENCH_SOAK_PERIOD) || 2;
// The exporters' round needs the test peers (make test-peers; make bench sets TEST_PEERS_DIR).
const EXPORT = process.env.BENCH_LOAD_EXPORT !== '0' && !!process.env.TEST_PEERS_DIR;
const REGION = 'us-east-1';
const KEY = { accessKeyId: 'AKIAINSPECTDBENCH013', secretAccessKey: 'bench/secret+0123456789abcdefghijklmno' };
const SPREAD_MS = 1000;         // the 50 triggers within one second
const STOP_AFTER_MS = 1000;     // a signal's second one, after its first
const TAG = `inspectd-load-${process.pid}`;
const CLK_TCK = 100;
const TARGET_RSS_KB = 10 * 1024;
const TARGET_CPU_PCT = 0.1;
const JOBS_KEPT = 256;          // include/jobs.h
// What the triggers are, in a pattern of ten repeated: 4 WINCH, 1 URG, 3 API heap, 2 API CPU.
const PATTERN = [
  { via: 'signal', sig: 'SIGWINCH', kind: 'heap' }, { via: 'api', kind: 'heap', seconds: 1 },
  { via: 'signal', sig: 'SIGWINCH', kind: 'heap' }, { via: 'api', kind: 'cpu', seconds: 2 },
  { via: 'signal', sig: 'SIGURG', kind: 'cpu' }, { via: 'api', kind: 'heap', seconds: 1 },
  { via: 'signal', sig: 'SIGWINCH', kind: 'heap' }, { via: 'api', kind: 'cpu', seconds: 2 },
  { via: 'signal', sig: 'SIGWINCH', kind: 'heap' }, { via: 'api', kind: 'heap', seconds: 1 },
];

const failures = [];
const fail = (what) => { failures.push(what); console.log(`   MISSED: ${what}`); };
const progress = (s) => process.stderr.write(`  ${s}\n`);
const fmt = (x, d = 1) => (x === null || x === undefined || Number.isNaN(x) ? '-' : x.toFixed(d));
const mib = (kb) => fmt(kb / 1024, 2);

// ---- the API, over its Unix socket ----

function request(sock, method, urlPath, body) {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: sock, method, path: urlPath, timeout: 10000 }, (res) => {
      let data = '';
      res.on('data', (d) => { data += d; });
      res.on('end', () => {
        let json = null;
        try { json = JSON.parse(data); } catch { /* not JSON */ }
        resolve({ status: res.statusCode, body: data, json });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`API ${method} ${urlPath} timed out`)));
    req.on('error', reject);
    if (body !== undefined) {
      const text = JSON.stringify(body);
      req.setHeader('Content-Type', 'application/json');
      req.setHeader('Content-Length', Buffer.byteLength(text));
      req.write(text);
    }
    req.end();
  });
}

async function captures(sock) {
  const r = await request(sock, 'GET', '/v1/captures');
  if (r.status !== 200) throw new Error(`GET /v1/captures: ${r.status} ${r.body}`);
  return r.json.captures;
}

const jobNumber = (id) => Number(/^c-(\d+)$/.exec(id)[1]);
// Over, as the API shows it: a finished job always has its ended_at.
const over = (j) => ['done', 'failed'].includes(j.state) && j.ended_at !== null;

// The /metrics samples as { 'name{labels}': value }.
async function metrics(sock) {
  const r = await request(sock, 'GET', '/metrics');
  const m = {};
  for (const line of r.body.split('\n')) {
    const x = /^([a-z_]+(?:\{[^}]*\})?) (\S+)$/.exec(line);
    if (x) m[x[1]] = Number(x[2]);
  }
  return m;
}
const sum = (m, re) => Object.entries(m).filter(([k]) => re.test(k)).reduce((a, [, v]) => a + v, 0);

// ---- the agent, from /proc ----

function procStatus(pid) {
  const s = {};
  for (const line of fs.readFileSync(`/proc/${pid}/status`, 'utf8').split('\n')) {
    const m = /^(\w+):\s+(\d+)/.exec(line);
    if (m) s[m[1]] = Number(m[2]);
  }
  return s;
}
// utime+stime in ticks, the threads that ended included.
function cpuTicks(pid) {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return Number(f[11]) + Number(f[12]);
}
const sysTicks = (pid) => Number(fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')[12]);
// On-CPU ns of the threads alive now (finer than ticks, for the idle windows).
function schedNs(pid) {
  let ns = 0;
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    try { ns += Number(fs.readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]); } catch { /* gone */ }
  }
  return ns;
}
const fdCount = (pid) => fs.readdirSync(`/proc/${pid}/fd`).length;

// RSS by mapped file (smaps), the largest first: [[name, kB]].
function rssByFile(pid) {
  const by = {};
  let name = null;
  for (const line of fs.readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const h = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \d+\s*(.*)$/.exec(line);
    if (h) { name = h[1] || '[anon]'; continue; }
    const r = /^Rss:\s+(\d+) kB/.exec(line);
    if (r && name) by[name] = (by[name] || 0) + Number(r[1]);
  }
  return Object.entries(by).sort((a, b) => b[1] - a[1]);
}

// Proportional set size (smaps_rollup), kB: the shared libraries' pages split among their users.
function pss(pid) {
  const o = {};
  for (const line of fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8').split('\n')) {
    const m = /^(Pss\w*):\s+(\d+) kB/.exec(line);
    if (m) o[m[1]] = Number(m[2]);
  }
  return o;
}

// Threads on the host (the task iterator walks them all each second): /proc/loadavg's total.
const hostThreads = () => Number(fs.readFileSync('/proc/loadavg', 'utf8').split(' ')[3].split('/')[1]);

// Cgroups of the agent's own, as the unit gives it: memory (what MemoryMax= bounds: anon,
// kernel memory such as BPF maps and sockets, page cache) and pids (TasksMax=: every
// thread, counted as it is made, pids.peak). cgroup v1 here (PLATFORM.md); elsewhere none,
// with the reason. { procs: [cgroup.procs files], read(), peak(), remove() } or { why }.
function agentCgroups(name) {
  const lines = fs.readFileSync('/proc/self/cgroup', 'utf8').split('\n');
  const v1 = (ctrl) => {
    const l = lines.find((x) => new RegExp(`^\\d+:([^:]*,)?${ctrl}(,[^:]*)?:`).test(x));
    return l ? path.join('/sys/fs/cgroup', ctrl, l.split(':')[2], name) : null;
  };
  const mem = v1('memory');
  const pids = v1('pids');
  if (!mem || !pids) return { why: 'no cgroup v1 memory and pids hierarchies (the figures need memory.max_usage_in_bytes and pids.peak)' };
  try {
    fs.mkdirSync(mem);
    fs.mkdirSync(pids);
  } catch (e) { return { why: `cannot make the agent's cgroups: ${e.message}` }; }
  const num = (dir, f) => Number(fs.readFileSync(path.join(dir, f), 'utf8'));
  const stat = () => {
    const o = {};
    for (const l of fs.readFileSync(path.join(mem, 'memory.stat'), 'utf8').split('\n')) {
      const [k, v] = l.split(' ');
      if (k) o[k] = Number(v);
    }
    return o;
  };
  return {
    procs: [path.join(mem, 'cgroup.procs'), path.join(pids, 'cgroup.procs')],
    // Now: all it is charged for, its page cache, and the rest (anon and kernel memory:
    // what reclaim cannot take back), in kB; its tasks.
    read() {
      const usage = num(mem, 'memory.usage_in_bytes');
      const st = stat();
      return { memKb: usage / 1024, cacheKb: st.cache / 1024, restKb: (usage - st.cache) / 1024, rssKb: st.rss / 1024,
        kmemKb: num(mem, 'memory.kmem.usage_in_bytes') / 1024, tasks: num(pids, 'pids.current') };
    },
    peak: () => ({ memKb: num(mem, 'memory.max_usage_in_bytes') / 1024, kmemKb: num(mem, 'memory.kmem.max_usage_in_bytes') / 1024,
      tasks: num(pids, 'pids.peak') }),
    // memory's peaks start again from now (pids.peak cannot).
    resetPeak() { for (const f of ['memory.max_usage_in_bytes', 'memory.kmem.max_usage_in_bytes']) fs.writeFileSync(path.join(mem, f), '0'); },
    remove() { for (const d of [mem, pids]) { try { fs.rmdirSync(d); } catch { /* busy or gone */ } } },
  };
}

function sample(pid, cg) {
  const st = procStatus(pid);
  return { t: Date.now(), rss: st.VmRSS, anon: st.RssAnon, file: st.RssFile, hwm: st.VmHWM, threads: st.Threads, fds: fdCount(pid),
    cpu: cpuTicks(pid), cg: cg && cg.read ? cg.read() : null };
}

// Samples every stepMs until stopped: { samples, stop() }.
function sampler(pid, stepMs, cg) {
  const s = { samples: [], running: true };
  s.done = (async () => {
    while (s.running) {
      try { s.samples.push(sample(pid, cg)); } catch { break; }
      await sleep(stepMs);
    }
  })();
  s.stop = async () => { s.running = false; await s.done; return s.samples; };
  return s;
}

// CPU over a quiet window: ticks (with ended threads) and schedstat (finer), as % of a core.
async function idleWindow(pid, seconds, cg) {
  const t0 = Date.now(); const k0 = cpuTicks(pid); const n0 = schedNs(pid); const s0 = sysTicks(pid);
  await sleep(seconds * 1000);
  const wall = (Date.now() - t0) / 1000;
  const ticks = cpuTicks(pid) - k0;
  return { ...sample(pid, cg), wall, ticks, sys: sysTicks(pid) - s0, cpuPct: ticks / CLK_TCK / wall * 100, schedPct: (schedNs(pid) - n0) / 1e9 / wall * 100,
    hostThreads: hostThreads() };
}

// ---- the targets ----

const startTicks = (pid) => fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')[19];

// n idle node processes, each in its own network namespace (unshare and sh exec: the
// child's pid is its node's), a few at a time.
async function startTargets(n, first) {
  const wrap = SHARED_NETNS ? [] : ['unshare', '--net', '--', 'sh', '-c', 'ip link set lo up && exec "$0" "$@"'];
  const out = [];
  for (let i = 0; i < n; i += 8) {
    const batch = [];
    for (let k = i; k < Math.min(n, i + 8); k++) batch.push(run([...wrap, process.execPath, IDLE_APP, TAG, String(first + k)], /ready/));
    out.push(...await Promise.all(batch));
  }
  for (const p of out) p.start = startTicks(p.pid);
  return out;
}

// Each target alive, the same process (its start time), and listening on nothing.
function harmed(targets) {
  const bad = [];
  for (const p of targets) {
    let st = null;
    try { st = startTicks(p.pid); } catch { /* gone */ }
    if (p.exitCode !== null || p.signalCode !== null || st !== p.start) {
      bad.push(`${p.pid} gone (${p.exitCode ?? p.signalCode})`);
      continue;
    }
    const ports = listeningPorts(p.pid);
    if (ports.length) bad.push(`${p.pid} listening on ${ports.join(',')}`);
  }
  return bad;
}

const records = (dir) => { try { return fs.readdirSync(path.join(dir, 'opened')); } catch { return []; } };

// ---- the agent ----

async function startAgent(dir, extra = [], env = []) {
  fs.mkdirSync(dir);
  const sock = path.join(dir, 'api.sock');
  const args = [...(env.length ? ['env', ...env] : []), AGENT, '--output-dir', path.join(dir, 'out'), '--api-socket', sock, '--state-dir', path.join(dir, 'state'),
    '--select', `cmdline~${TAG}`, '--max-concurrent-per-container', '4',
    '--max-captures-per-container-per-hour', String(HOURLY_CAP), ...extra];
  // Into its cgroups before exec, so that what it loads (BPF maps) is charged there.
  const cg = agentCgroups(`inspectd-load-${process.pid}-${path.basename(dir)}`);
  const agent = await run(cg.procs
    ? ['sh', '-c', 'for f in "$0" "$1"; do echo $$ > "$f" || exit 1; done; shift; exec "$@"', ...cg.procs, ...args]
    : args, /ready:/);
  agent.cg = cg;
  agent.sock = sock;
  agent.dir = dir;
  agent.stateDir = path.join(dir, 'state');
  return agent;
}

async function stopAgent(agent) {
  agent.kill('SIGTERM');
  await waitFor('the agent to exit', () => agent.exitCode !== null || agent.signalCode !== null, 30000);
  if (agent.cg.remove) agent.cg.remove();
  return agent.exitCode;
}

async function trackedAll(agent, targets) {
  const want = new Set(targets.map((p) => p.pid));
  return waitFor(`the agent to track all ${targets.length} targets`, async () => {
    const r = await request(agent.sock, 'GET', '/v1/processes');
    const rows = r.json.processes;
    return rows.filter((x) => want.has(x.pid)).length === want.size && rows.length;
  }, 30000, 200);
}

// ---- percentiles ----

function pct(xs, p) {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(p / 100 * s.length) - 1)];
}
const pcts = (xs, d = 1) => `p50 ${fmt(pct(xs, 50), d)}, p90 ${fmt(pct(xs, 90), d)}, p99 ${fmt(pct(xs, 99), d)}, max ${fmt(Math.max(...xs), d)}`;

// Least squares: the slope of ys against xs.
function slope(xs, ys) {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n; const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0; let den = 0;
  for (let i = 0; i < n; i++) { num += (xs[i] - mx) * (ys[i] - my); den += (xs[i] - mx) ** 2; }
  return den ? num / den : 0;
}

// ---- a capture's outcome ----

// A done job's meta.json and profile: { latency, queued } or throws.
function checkDone(job) {
  const metaPath = job.files.find((f) => f.endsWith('.meta.json'));
  const prof = job.files.find((f) => /\.(heapprofile|cpuprofile)$/.test(f));
  if (!metaPath || !prof) throw new Error(`${job.id}: files ${JSON.stringify(job.files)}`);
  const meta = JSON.parse(fs.readFileSync(metaPath, 'utf8'));
  const p = JSON.parse(fs.readFileSync(prof, 'utf8'));
  if (job.kind === 'heap' ? !p.head : !Array.isArray(p.nodes)) throw new Error(`${job.id}: ${prof} is not a ${job.kind} profile`);
  if (meta.pid !== job.pid) throw new Error(`${job.id}: meta.json names pid ${meta.pid}`);
  return { latency: meta.trigger.latency_ms, queued: meta.trigger.queued_ms || 0, kind: meta.trigger.kind,
    ran: Date.parse(meta.profile.ended_at) - Date.parse(meta.profile.started_at) };
}

// ---- 1. idle footprint ----

// BENCH_LOAD_PERF=FILE (a diagnosis, not a figure: perf's own cost is in the window):
// `perf record -g` of the agent through the idle window of 200 targets, into FILE.
async function footprint(agent, label, perfFile) {
  const rows = await trackedAll(agent, agent.targets);
  await sleep(SETTLE_SECONDS * 1000);
  const perf = perfFile ? spawn('perf', ['record', '-q', '-F', '999', '-g', '-p', String(agent.pid), '-o', perfFile, '--', 'sleep', String(IDLE_SECONDS)], { stdio: 'ignore' }) : null;
  const w = await idleWindow(agent.pid, IDLE_SECONDS, agent.cg);
  if (perf) await waitFor('perf to end', () => perf.exitCode !== null || perf.signalCode !== null, 30000);
  w.files = rssByFile(agent.pid);
  w.pss = pss(agent.pid);
  const m = await metrics(agent.sock);
  w.tracked = m.inspectd_tracked_processes ?? rows;
  progress(`${label}: tracked ${w.tracked}, VmRSS ${w.rss} kB, fds ${w.fds}, threads ${w.threads}, CPU ${fmt(w.cpuPct, 3)}% (${w.ticks} ticks; schedstat ${fmt(w.schedPct, 4)}%)`);
  return w;
}

// ---- 2. the load ----

// TRIGGERED of the targets, spread over them from offset (a fraction of the step).
async function load(agent, targets, offset = 0) {
  const chosen = [];
  const step = targets.length / TRIGGERED;
  for (let i = 0; i < TRIGGERED; i++) chosen.push({ target: targets[Math.floor((i + offset) * step)], ...PATTERN[i % PATTERN.length] });
  const m0 = await metrics(agent.sock);
  const cgBefore = agent.cg.peak ? agent.cg.peak() : null;     // since its start: loading the BPF programs
  if (agent.cg.resetPeak) agent.cg.resetPeak();
  const maxId = Math.max(0, ...(await captures(agent.sock)).map((j) => jobNumber(j.id)));

  // /healthz every 100 ms throughout: the loop's answer time under load.
  const health = { running: true, ms: [] };
  health.done = (async () => {
    while (health.running) {
      const t = process.hrtime.bigint();
      try { await request(agent.sock, 'GET', '/healthz'); health.ms.push(Number(process.hrtime.bigint() - t) / 1e6); } catch { health.ms.push(Infinity); }
      await sleep(100);
    }
  })();
  const smp = sampler(agent.pid, 100, agent.cg);
  await sleep(1000);

  const t0 = Date.now();
  const ticks0 = cpuTicks(agent.pid);
  const api = [];
  const stops = [];
  for (let i = 0; i < chosen.length; i++) {
    const c = chosen[i];
    const due = t0 + i * (SPREAD_MS / chosen.length);
    if (Date.now() < due) await sleep(due - Date.now());
    c.at = Date.now() - t0;
    if (c.via === 'signal') {
      process.kill(c.target.pid, c.sig);
      stops.push(sleep(STOP_AFTER_MS).then(() => { process.kill(c.target.pid, c.sig); }));
    } else {
      api.push(request(agent.sock, 'POST', '/v1/captures', { pid: c.target.pid, kind: c.kind, seconds: c.seconds })
        .then((r) => { c.response = r; }, (e) => { c.response = { status: 0, body: String(e) }; }));
    }
  }
  const spread = chosen[chosen.length - 1].at;
  await Promise.all([...api, ...stops]);

  // Every trigger accounted for: a job over, or an API answer other than 202, or (signals
  // with no job) a refusal counted in /metrics.
  const pids = new Set(chosen.map((c) => c.target.pid));
  const refusedSignals = (m) => sum(m, /^inspectd_captures_refused_total\{trigger="signal"/) + (m.inspectd_signals_rate_limited_total || 0);
  let jobs = [];
  let m1 = m0;
  const deadline = SHARED_NETNS ? 600000 : 180000;
  await waitFor('every trigger to be accounted for', async () => {
    jobs = (await captures(agent.sock)).filter((j) => jobNumber(j.id) > maxId && pids.has(j.pid));
    m1 = await metrics(agent.sock);
    const apiRefused = chosen.filter((c) => c.via === 'api' && c.response.status !== 202).length;
    const accounted = jobs.filter(over).length + apiRefused + (refusedSignals(m1) - refusedSignals(m0));
    return accounted >= chosen.length && jobs.every(over);
  }, deadline, 250).catch((e) => fail(`${e.message}: ${jobs.filter(over).length} jobs over of ${jobs.length}`));
  const tEnd = Date.now();
  const ticksLoad = cpuTicks(agent.pid) - ticks0;
  await sleep(1000);
  const samples = await smp.stop();
  const cgPeak = agent.cg.peak ? agent.cg.peak() : null;
  health.running = false;
  await health.done;

  // Outcomes.
  const byPid = new Map();
  for (const j of jobs) byPid.set(j.pid, [...(byPid.get(j.pid) || []), j]);
  const outcome = { done: 0, failed: [], apiRefused: [], signalRefused: 0, lost: [] };
  const lat = { all: [], queued: [], attach: [], signal: [], api: [], ran: [] };
  let lastEnded = 0;
  for (const c of chosen) {
    const js = byPid.get(c.target.pid) || [];
    if (c.via === 'api' && c.response.status !== 202) {
      outcome.apiRefused.push(`${c.response.status} ${(c.response.json && c.response.json.error) || c.response.body}`);
      continue;
    }
    if (js.length === 0) { outcome.lost.push(c); continue; }
    if (js.length > 1) fail(`pid ${c.target.pid}: ${js.length} jobs for one trigger: ${js.map((j) => j.id).join(' ')}`);
    const j = js[0];
    lastEnded = Math.max(lastEnded, Date.parse(j.ended_at));
    if (j.state === 'failed') {
      if (!j.error) fail(`${j.id} failed with no error`);
      outcome.failed.push(`${j.id} ${c.via} ${j.kind}: ${j.error}`);
      continue;
    }
    try {
      const d = checkDone(j);
      outcome.done++;
      lat.all.push(d.latency); lat.queued.push(d.queued); lat.attach.push(d.latency - d.queued);
      lat[c.via].push(d.latency); lat.ran.push(d.ran);
    } catch (e) { fail(`${j.id} done but ${e.message}`); }
  }
  // A signal with no job is accounted for only by a refusal counted in /metrics.
  const signalRefusals = refusedSignals(m1) - refusedSignals(m0);
  const noJobSignals = outcome.lost.filter((c) => c.via === 'signal');
  outcome.signalRefused = Math.min(signalRefusals, noJobSignals.length);
  outcome.lost = outcome.lost.slice(outcome.signalRefused);
  if (outcome.lost.length) fail(`${outcome.lost.length} triggers LOST (no job, no refusal): pids ${outcome.lost.map((c) => c.target.pid).join(' ')}`);
  const expired = sum(m1, /^inspectd_captures_expired_total/) - sum(m0, /^inspectd_captures_expired_total/);
  const lostEvents = sum(m1, /^inspectd_events_lost_total/) - sum(m0, /^inspectd_events_lost_total/);

  const inLoad = samples.filter((s) => s.t >= t0 && s.t <= tEnd + 1000);
  const peak = {
    rss: Math.max(...inLoad.map((s) => s.rss)), hwm: Math.max(...samples.map((s) => s.hwm)),
    fds: Math.max(...inLoad.map((s) => s.fds)), threads: Math.max(...inLoad.map((s) => s.threads)),
    cgRestKb: inLoad[0].cg ? Math.max(...inLoad.map((s) => s.cg.restKb)) : null,
    cgKmemKb: inLoad[0].cg ? Math.max(...inLoad.map((s) => s.cg.kmemKb)) : null,
  };
  // The busiest second: ticks over each 1 s of samples.
  let cpuPeak = 0;
  for (let i = 0, k = 0; i < inLoad.length; i++) {
    while (inLoad[i].t - inLoad[k].t > 1000) k++;
    if (inLoad[i].t - inLoad[k].t >= 900) cpuPeak = Math.max(cpuPeak, (inLoad[i].cpu - inLoad[k].cpu) / CLK_TCK / ((inLoad[i].t - inLoad[k].t) / 1000) * 100);
  }
  return {
    chosen, spread, outcome, lat, peak, expired, lostEvents, signalRefusals, cgBefore, cgPeak,
    completion: (lastEnded || tEnd) - t0, wall: (tEnd - t0) / 1000,
    cpuLoadPct: ticksLoad / CLK_TCK / ((tEnd - t0) / 1000) * 100, cpuPeak,
    health: health.ms,
    counts: chosen.reduce((a, c) => { const k = c.via === 'signal' ? c.sig.replace('SIG', '') : `API ${c.kind}`; a[k] = (a[k] || 0) + 1; return a; }, {}),
  };
}

// ---- 3. soak ----

async function soak(agent, targets, minutes) {
  const smp = sampler(agent.pid, 1000, agent.cg);
  const kinds = [
    { via: 'signal', sig: 'SIGWINCH', kind: 'heap' }, { via: 'api', kind: 'heap', seconds: 1 },
    { via: 'signal', sig: 'SIGURG', kind: 'cpu' }, { via: 'api', kind: 'cpu', seconds: 1 },
  ];
  const t0 = Date.now();
  const ticks0 = cpuTicks(agent.pid);
  const end = t0 + minutes * 60000;
  const res = { asked: 0, done: 0, failed: [], lost: [], latency: [] };
  const pending = [];
  let maxId = Math.max(0, ...(await captures(agent.sock)).map((j) => jobNumber(j.id)));
  let n = 0;
  let historyFullAt = null;
  // One capture: its job found (by id for the API, by pid past the last id for a signal),
  // waited for, and checked.
  const one = async (c, target) => {
    let id = null;
    const before = maxId;
    if (c.via === 'signal') {
      process.kill(target.pid, c.sig);
      await sleep(1000);
      process.kill(target.pid, c.sig);
    } else {
      const r = await request(agent.sock, 'POST', '/v1/captures', { pid: target.pid, kind: c.kind, seconds: c.seconds });
      if (r.status !== 202) { res.failed.push(`API ${r.status} ${r.body}`); return; }
      id = r.json.id;
    }
    let job = null;
    try {
      // A signal's job: the first of its pid past the last id seen before it.
      if (!id) {
        id = await waitFor('a soak signal\'s job', async () => {
          const js = (await captures(agent.sock)).filter((j) => j.pid === target.pid && jobNumber(j.id) > before);
          return js.length ? js[js.length - 1].id : null;
        }, 30000, 500);
      }
      job = await waitFor('a soak capture to be over', async () => {
        const r = await request(agent.sock, 'GET', `/v1/captures/${id}`);
        return r.status === 200 && over(r.json) ? r.json : null;
      }, 60000, 500);
    } catch { res.lost.push(`${c.via} ${c.kind} pid ${target.pid}${id ? ` (${id})` : ''}`); return; }
    if (job.state !== 'done') { res.failed.push(`${job.id}: ${job.error}`); return; }
    try { res.latency.push(checkDone(job).latency); res.done++; } catch (e) { res.failed.push(e.message); }
  };
  while (Date.now() < end) {
    const c = kinds[n % kinds.length];
    const target = targets[(n * 7) % targets.length];
    n++;
    res.asked++;
    const js = await captures(agent.sock);
    maxId = Math.max(maxId, ...js.map((j) => jobNumber(j.id)));
    // The API keeps the newest JOBS_KEPT finished jobs (include/jobs.h): what they hold
    // grows until then, and no further.
    if (historyFullAt === null && js.length >= JOBS_KEPT) historyFullAt = Date.now();
    pending.push(one(c, target));
    await sleep(SOAK_PERIOD * 1000);
  }
  await Promise.all(pending);
  await sleep(2000);
  const wall = (Date.now() - t0) / 1000;
  const cpuPct = (cpuTicks(agent.pid) - ticks0) / CLK_TCK / wall * 100;
  const samples = await smp.stop();
  // Each minute's median, the first minute left out (warm-up), and the trend between them.
  const minutesOf = [];
  for (let k = 0; k * 60000 < samples[samples.length - 1].t - samples[0].t; k++) {
    const ss = samples.filter((s) => s.t - samples[0].t >= k * 60000 && s.t - samples[0].t < (k + 1) * 60000);
    if (ss.length >= 30) {
      minutesOf.push({ k, rss: median(ss.map((s) => s.rss)), fds: median(ss.map((s) => s.fds)), cg: ss[0].cg ? median(ss.map((s) => s.cg.restKb)) : null });
    }
  }
  // The trend over the minutes after the API's history of finished jobs was full (each job
  // holds its files' paths, about 15 kB: 256 of them grow RSS by a few MiB, then no more);
  // over the second half when it never filled.
  const fullK = historyFullAt === null ? null : Math.ceil((historyFullAt - samples[0].t) / 60000);
  const late = fullK !== null && minutesOf.length - fullK >= 2 ? minutesOf.filter((x) => x.k >= fullK)
    : minutesOf.slice(Math.floor(minutesOf.length / 2));
  const ks = late.map((x) => x.k);
  const trend = late.length >= 2 ? { rss: slope(ks, late.map((x) => x.rss)), fds: slope(ks, late.map((x) => x.fds)),
    cg: late[0].cg !== null ? slope(ks, late.map((x) => x.cg)) : null } : null;
  const historyFull = historyFullAt === null ? null : (historyFullAt - samples[0].t) / 60000;
  return { res, samples, minutesOf, late, trend, cpuPct, wall, historyFull };
}

// ---- 2b. the load again, every capture exported ----

// A fresh agent with both remote exporters (S3 and Pyroscope, the tests' peers on loopback:
// threads of their own, libcurl, a pprof made of each profile) and the other 50 targets:
// every capture must also be delivered to both (--keep-local: the delivered files stay, to
// be checked as the first round's). Its peaks are the unit's
// (MemoryMax=, TasksMax=) as a fleet would run it.
async function exportRound(tmp, targets) {
  const { startS3 } = require('../peers/s3');
  const { startPyroscope } = require('../peers/pyroscope');
  const s3 = await startS3({ region: REGION, ...KEY, buckets: ['profiles'] });
  const pyro = await startPyroscope({});
  let agent = null;
  try {
    agent = await startAgent(path.join(tmp, 'export'), ['--s3-endpoint', s3.endpoint, '--s3-path-style', '--s3-bucket', 'profiles',
      '--s3-region', REGION, '--pyroscope-url', pyro.url, '--keep-local'],
    [`AWS_ACCESS_KEY_ID=${KEY.accessKeyId}`, `AWS_SECRET_ACCESS_KEY=${KEY.secretAccessKey}`, 'AWS_EC2_METADATA_DISABLED=true', `HOME=${tmp}`]);
    await trackedAll(agent, targets);
    await sleep(SETTLE_SECONDS * 1000);
    const before = { ...sample(agent.pid, agent.cg), tracked: (await metrics(agent.sock)).inspectd_tracked_processes };
    const m0 = await metrics(agent.sock);
    const L = await load(agent, targets, 0.5);
    const exporters = ['s3', 'pyroscope'];
    const settled = (m, e) => (m[`inspectd_deliveries_total{exporter="${e}",outcome="delivered"}`] || 0) +
      (m[`inspectd_deliveries_total{exporter="${e}",outcome="given_up"}`] || 0);
    let m1 = m0;
    const t0 = Date.now();
    await waitFor('every capture delivered to both exporters', async () => {
      m1 = await metrics(agent.sock);
      return exporters.every((e) => settled(m1, e) - settled(m0, e) >= L.outcome.done && !m1[`inspectd_deliveries_pending{exporter="${e}"}`]);
    }, 120000, 250).catch((e) => fail(`${e.message}: ${JSON.stringify(exporters.map((x) => [x, settled(m1, x) - settled(m0, x)]))}`));
    const drained = (Date.now() - t0) / 1000;
    await sleep(5000);
    const after = { ...sample(agent.pid, agent.cg), tracked: (await metrics(agent.sock)).inspectd_tracked_processes };
    const peak = agent.cg.peak ? agent.cg.peak() : null;
    const delivered = Object.fromEntries(exporters.map((e) => [e, {
      delivered: (m1[`inspectd_deliveries_total{exporter="${e}",outcome="delivered"}`] || 0) - (m0[`inspectd_deliveries_total{exporter="${e}",outcome="delivered"}`] || 0),
      givenUp: (m1[`inspectd_deliveries_total{exporter="${e}",outcome="given_up"}`] || 0) - (m0[`inspectd_deliveries_total{exporter="${e}",outcome="given_up"}`] || 0),
      retried: (m1[`inspectd_delivery_attempts_failed_total{exporter="${e}"}`] || 0) - (m0[`inspectd_delivery_attempts_failed_total{exporter="${e}"}`] || 0),
    }]));
    const objects = (await s3.objects('profiles')).length;
    const violations = [...s3.violations, ...pyro.violations];
    const harm = harmed(targets);
    const rec = records(agent.stateDir);
    const rc = await stopAgent(agent);
    agent = null;
    return { L, before, after, peak, delivered, drained, objects, ingested: pyro.profiles.length, violations, harm, rec, rc };
  } finally {
    if (agent) await stopAgent(agent).catch(() => {});
    await s3.close();
    await pyro.close();
  }
}

// ---- main ----

async function main() {
  if (!fs.existsSync(AGENT)) throw new Error(`no agent at ${AGENT} (INSPECTD)`);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'inspectd-bench-load-'));
  const targets = [];
  const T0 = Date.now();
  let agent = null;
  try {
    progress(`starting ${SMALL} idle node processes${SHARED_NETNS ? '' : ', each in its own network namespace'}`);
    targets.push(...await startTargets(SMALL, 0));
    agent = await startAgent(path.join(tmp, 'small'));
    agent.targets = targets;
    const small = await footprint(agent, `idle, ${SMALL} targets`);
    await stopAgent(agent);

    progress(`starting ${TARGETS - SMALL} more (${((Date.now() - T0) / 1000).toFixed(0)} s in)`);
    targets.push(...await startTargets(TARGETS - SMALL, SMALL));
    agent = await startAgent(path.join(tmp, 'load'), SHARED_NETNS ? ['--queue-timeout', '300s'] : []);
    agent.targets = targets;
    const before = await footprint(agent, `idle, ${TARGETS} targets`, process.env.BENCH_LOAD_PERF);

    progress(`${TRIGGERED} triggers within ${SPREAD_MS} ms (${((Date.now() - T0) / 1000).toFixed(0)} s in)`);
    const L = await load(agent, targets);
    progress(`load over in ${fmt(L.wall, 1)} s; idle again for ${IDLE_SECONDS} s`);
    const after = await idleWindow(agent.pid, IDLE_SECONDS, agent.cg);
    after.tracked = (await metrics(agent.sock)).inspectd_tracked_processes;
    const harmAfterLoad = harmed(targets);
    const recAfterLoad = records(agent.stateDir);

    let S = null;
    let afterSoak = null;
    if (SOAK_MINUTES > 0) {
      progress(`soak: a capture every ${SOAK_PERIOD} s for ${SOAK_MINUTES} min`);
      S = await soak(agent, targets, SOAK_MINUTES);
      await sleep(5000);
      afterSoak = { ...sample(agent.pid, agent.cg), tracked: (await metrics(agent.sock)).inspectd_tracked_processes };
    }
    const harmBeforeStop = harmed(targets);
    const soakPeak = S && agent.cg.peak ? agent.cg.peak() : null;
    const agentCgWhy = agent.cg.why;
    const rc = await stopAgent(agent);
    const agentLog = agent.out;
    agent = null;
    await sleep(500);
    const harmAfterStop = harmed(targets);
    const recAfterStop = records(path.join(tmp, 'load', 'state'));

    // ---- report ----
    const o = L.outcome;
    const total = (Date.now() - T0) / 1000;
    console.log([
      '',
      `13. Proof under load: ${TARGETS} idle node processes (idle.js), ${SHARED_NETNS ? 'all in the host\'s network namespace' : 'each in its own network namespace (unshare --net)'};`,
      `    agent defaults but --max-concurrent-per-container 4 --max-captures-per-container-per-hour ${HOURLY_CAP}${SHARED_NETNS ? ' --queue-timeout 300s' : ''} (the targets share one cgroup);`,
      `    ${os.cpus().length} CPUs, ${new Date().toISOString()}, ${total.toFixed(0)} s in all`,
      `   Idle footprint (a fresh agent, ${SETTLE_SECONDS} s after every target is tracked, CPU over ${IDLE_SECONDS} s; the host's other node processes are tracked too):`,
      `     ${SMALL} targets: tracked ${small.tracked}, VmRSS ${mib(small.rss)} MiB (RssAnon ${mib(small.anon)}, RssFile ${mib(small.file)}), fds ${small.fds}, threads ${small.threads}, CPU ${fmt(small.cpuPct, 3)}% of a core (${small.ticks} ticks, ${small.sys} in the kernel; schedstat ${fmt(small.schedPct, 4)}%)`,
      `     ${TARGETS} targets: tracked ${before.tracked}, VmRSS ${mib(before.rss)} MiB (RssAnon ${mib(before.anon)}, RssFile ${mib(before.file)}), fds ${before.fds}, threads ${before.threads}, CPU ${fmt(before.cpuPct, 3)}% of a core (${before.ticks} ticks, ${before.sys} in the kernel; schedstat ${fmt(before.schedPct, 4)}%)`,
      `     host threads (the agent's task iterator walks every one each second): ${small.hostThreads} / ${before.hostThreads}; ` +
        `RSS by mapping (${TARGETS} targets, kB): ${before.files.slice(0, 6).map(([f, kb]) => `${path.basename(f)} ${kb}`).join(', ')}; ` +
        `Pss ${mib(before.pss.Pss)} MiB (file ${mib(before.pss.Pss_File)}; ${SMALL} targets: ${mib(small.pss.Pss)})`,
      `     target <= 10 MiB and <= ${TARGET_CPU_PCT}% (ticks): ${[small, before].every((w) => w.rss <= TARGET_RSS_KB && w.cpuPct <= TARGET_CPU_PCT) ? 'ok' : 'MISSED'}`,
      `   Load: ${TRIGGERED} triggered within ${L.spread} ms (${Object.entries(L.counts).map(([k, v]) => `${v} ${k}`).join(', ')}; signals stopped by a second one ${STOP_AFTER_MS} ms later,`,
      '     API heap 1 s, API CPU 2 s)',
      `     outcomes: ${o.done} done (meta.json and a profile that parses), ${o.failed.length} failed with an error, ${o.apiRefused.length} refused by the API,` +
        ` ${o.signalRefused} signals refused (counted in /metrics), ${o.lost.length} LOST; ${L.expired} expired in the queue, ${L.lostEvents} kernel events lost`,
      ...o.failed.map((x) => `       failed: ${x}`), ...o.apiRefused.map((x) => `       API refused: ${x}`),
      `     completion: the last capture ended ${(L.completion / 1000).toFixed(2)} s after the first trigger; profiles ran ${Math.min(...L.lat.ran)}..${Math.max(...L.lat.ran)} ms`,
      `     trigger -> profiler started (meta.json trigger.latency_ms), ms: ${pcts(L.lat.all)}`,
      `       of it, waiting for a turn (queued_ms):           ${pcts(L.lat.queued)}; ${L.lat.queued.filter((x) => x >= 1).length} of ${L.lat.queued.length} waited 1 ms or more`,
      `       the rest, the attach itself:                      ${pcts(L.lat.attach)}`,
      `       signals: ${pcts(L.lat.signal)}; API: ${pcts(L.lat.api)}`,
      `     /healthz every 100 ms during the load: ${pcts(L.health)} ms`,
      '   Agent                      VmRSS MiB   fds   threads   CPU % of a core',
      `     before (idle, ${String(before.tracked).padStart(3)} tracked) ${mib(before.rss).padStart(8)} ${String(before.fds).padStart(6)} ${String(before.threads).padStart(7)}    ${fmt(before.cpuPct, 3)}`,
      `     peak (sampled each 100 ms) ${mib(L.peak.rss).padStart(8)} ${String(L.peak.fds).padStart(6)} ${String(L.peak.threads).padStart(7)}    ${fmt(L.cpuPeak, 1)} busiest second, ${fmt(L.cpuLoadPct, 1)} over the ${fmt(L.wall, 1)} s of load`,
      `     after (idle, ${String(after.tracked).padStart(3)} tracked)  ${mib(after.rss).padStart(8)} ${String(after.fds).padStart(6)} ${String(after.threads).padStart(7)}    ${fmt(after.cpuPct, 3)}`,
      `     VmHWM ${mib(L.peak.hwm)} MiB; fds after - before ${after.fds - before.fds} (tracked ${after.tracked - before.tracked}): ` +
        `${after.fds - after.tracked === before.fds - before.tracked ? 'back to baseline' : 'NOT back to baseline'}`,
      ...(L.cgPeak ? [
        '   The agent in cgroups of its own (v1 memory and pids, as the unit would give it; memory counts page cache too, which reclaim takes back):',
        `     from its start to the load (BPF loaded, ${before.tracked} tracked): memory peak ${mib(L.cgBefore.memKb)} MiB (kernel ${mib(L.cgBefore.kmemKb)});` +
          ` before the load ${mib(before.cg.memKb)} MiB: page cache ${mib(before.cg.cacheKb)}, the rest ${mib(before.cg.restKb)} (anon ${mib(before.cg.rssKb)}, kernel ${mib(before.cg.kmemKb)})`,
        `     during the load: memory peak ${mib(L.cgPeak.memKb)} MiB (max_usage_in_bytes, reset before it), kernel peak ${mib(L.cgPeak.kmemKb)};` +
          ` anon+kernel sampled peak ${mib(L.peak.cgRestKb)} MiB; after ${mib(after.cg.memKb)} MiB (page cache ${mib(after.cg.cacheKb)})`,
        `     tasks: peak ${L.cgPeak.tasks} (pids.peak since its start, every thread counted as it is made)`,
      ] : [`   (no cgroup figures: ${agentCgWhy})`]),
      `   Targets: ${TARGETS - harmAfterLoad.length} of ${TARGETS} alive and listening on nothing after the load, ${TARGETS - harmAfterStop.length} after the agent stopped` +
        ` (exit ${rc}); records in --state-dir/opened/: ${recAfterLoad.length} after the load, ${recAfterStop.length} after the stop`,
    ].join('\n'));
    if (after.fds - after.tracked !== before.fds - before.tracked) fail(`fds ${before.fds} -> ${after.fds} (tracked ${before.tracked} -> ${after.tracked})`);
    for (const [when, bad] of [['after the load', harmAfterLoad], ['before the stop', harmBeforeStop], ['after the stop', harmAfterStop]]) {
      if (bad.length) fail(`targets harmed ${when}: ${bad.slice(0, 10).join('; ')}`);
    }
    if (recAfterLoad.length || recAfterStop.length) fail(`records left: ${[...recAfterLoad, ...recAfterStop].join(' ')}`);
    if (rc !== 0) fail(`agent exit ${rc}:\n${agentLog.slice(-4000)}`);

    if (S) {
      const rs = S.samples.map((s) => s.rss); const fs_ = S.samples.map((s) => s.fds);
      const r = S.res;
      console.log([
        `   Soak: ${SOAK_MINUTES} min, a capture every ${SOAK_PERIOD} s (WINCH pair, API heap 1 s, URG pair, API CPU 1 s, in turn; round-robin over the ${TARGETS})`,
        `     ${r.asked} asked: ${r.done} done, ${r.failed.length} failed, ${r.lost.length} LOST; trigger -> start ms ${pcts(r.latency)}; agent CPU ${fmt(S.cpuPct, 2)}% of a core over ${fmt(S.wall, 0)} s`,
        ...r.failed.slice(0, 10).map((x) => `       failed: ${x}`),
        `     VmRSS MiB: first ${mib(rs[0])}, last ${mib(rs[rs.length - 1])}, max ${mib(Math.max(...rs))}; fds: first ${fs_[0]}, last ${fs_[fs_.length - 1]}, max ${Math.max(...fs_)}; ` +
          `threads max ${Math.max(...S.samples.map((s) => s.threads))}; VmHWM ${mib(S.samples[S.samples.length - 1].hwm)} MiB`,
        `     per-minute medians (VmRSS MiB / fds${S.minutesOf[0] && S.minutesOf[0].cg ? ' / cgroup anon+kernel MiB' : ''}): ` +
          `${S.minutesOf.map((x) => `${mib(x.rss)}/${x.fds}${x.cg ? `/${mib(x.cg)}` : ''}`).join(' ')}`,
        ...(soakPeak ? [`     cgroups since the load: memory peak ${mib(soakPeak.memKb)} MiB (page cache included), kernel peak ${mib(soakPeak.kmemKb)} MiB; tasks peak ${soakPeak.tasks}`] : []),
        `     the API's history of finished jobs (${JOBS_KEPT}) ${S.historyFull === null ? 'never filled' : `full ${fmt(S.historyFull, 1)} min into the soak`}`,
        S.trend ? `     trend over ${S.historyFull !== null && S.late[0].k >= Math.ceil(S.historyFull) ? 'the minutes after it filled' : 'the second half'} (minutes ${S.late[0].k + 1}..${S.late[S.late.length - 1].k + 1}): VmRSS ${fmt(S.trend.rss, 1)} kB a minute, fds ${fmt(S.trend.fds, 2)} a minute` +
          `${S.trend.cg !== null ? `, cgroup anon+kernel ${fmt(S.trend.cg, 1)} kB a minute` : ''}` : '     trend: too short (needs 4 minutes)',
        `     5 s after the soak: VmRSS ${mib(afterSoak.rss)} MiB, fds ${afterSoak.fds} (tracked ${afterSoak.tracked}): ` +
          `${afterSoak.fds - afterSoak.tracked === before.fds - before.tracked ? 'back to baseline' : 'NOT back to baseline'}`,
      ].join('\n'));
      if (r.lost.length) fail(`soak: ${r.lost.length} captures LOST: ${r.lost.slice(0, 5).join('; ')}`);
      if (afterSoak.fds - afterSoak.tracked !== before.fds - before.tracked) fail(`soak: fds ${before.fds} -> ${afterSoak.fds}`);
    }
    if (EXPORT) {
      progress(`the load again, a fresh agent exporting to S3 and Pyroscope (${((Date.now() - T0) / 1000).toFixed(0)} s in)`);
      const X = await exportRound(tmp, targets);
      const xo = X.L.outcome;
      console.log([
        `   The load again, other ${TRIGGERED} targets, a fresh agent exporting every capture to S3 and Pyroscope (--pprof) on loopback (tests/peers/):`,
        `     outcomes: ${xo.done} done, ${xo.failed.length} failed, ${xo.apiRefused.length} refused by the API, ${xo.signalRefused} signals refused, ${xo.lost.length} LOST;` +
          ` completion ${(X.L.completion / 1000).toFixed(2)} s; trigger -> start ms ${pcts(X.L.lat.all)} (attach ${pcts(X.L.lat.attach)})`,
        ...xo.failed.map((x) => `       failed: ${x}`),
        `     delivered: ${Object.entries(X.delivered).map(([e, d]) => `${e} ${d.delivered} (given up ${d.givenUp}, attempts retried ${d.retried})`).join(', ')};` +
          ` all ${fmt(X.drained, 1)} s after the last capture ended; ${X.objects} objects in the bucket, ${X.ingested} profiles ingested; ${X.violations.length} protocol violations`,
        `     agent VmRSS MiB / fds / threads: before ${mib(X.before.rss)} / ${X.before.fds} / ${X.before.threads}, peak ${mib(X.L.peak.rss)} / ${X.L.peak.fds} / ${X.L.peak.threads},` +
          ` after ${mib(X.after.rss)} / ${X.after.fds} / ${X.after.threads}; VmHWM ${mib(X.after.hwm)}; CPU ${fmt(X.L.cpuLoadPct, 1)}% over the load, ${fmt(X.L.cpuPeak, 1)}% busiest second`,
        ...(X.peak ? [`     cgroups: memory peak ${mib(X.peak.memKb)} MiB during the load and the deliveries (page cache included; kernel ${mib(X.peak.kmemKb)}), ` +
          `anon+kernel sampled peak ${mib(X.L.peak.cgRestKb)} MiB; tasks peak ${X.peak.tasks} (pids.peak since its start)`] : []),
        `     targets: ${TARGETS - X.harm.length} of ${TARGETS} alive and listening on nothing; records left ${X.rec.length}; agent exit ${X.rc}`,
      ].join('\n'));
      if (X.violations.length) fail(`exporters: ${X.violations.slice(0, 5).join('; ')}`);
      for (const [e, d] of Object.entries(X.delivered)) if (d.delivered !== xo.done) fail(`${e}: ${d.delivered} delivered of ${xo.done} captures`);
      if (X.harm.length) fail(`targets harmed in the exporters' round: ${X.harm.slice(0, 10).join('; ')}`);
      if (X.rec.length) fail(`records left in the exporters' round: ${X.rec.join(' ')}`);
      if (X.rc !== 0) fail(`exporters' agent exit ${X.rc}`);
    } else {
      console.log('   (the exporters\' round skipped: TEST_PEERS_DIR unset, or BENCH_LOAD_EXPORT=0)');
    }
    if (failures.length) throw new Error(`${failures.length} checks MISSED`);
  } finally {
    if (agent) await stopAgent(agent).catch(() => {});
    for (const p of targets) p.kill('SIGKILL');
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().then(() => process.exit(0), (e) => {
  console.error(`\nbench load: FAILED: ${e.stack || e}`);
  for (const c of children) { try { c.kill('SIGKILL'); } catch { /* gone */ } }
  process.exit(1);
});
