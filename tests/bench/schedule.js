#!/usr/bin/env node
// make bench, part 7: what a schedule (--every, issue 12) costs a service, averaged over whole
// intervals. Goal for the defaults: at most 1% of its throughput.
//
// One agent runs throughout, its schedule switched on and off by SIGHUP with a configuration
// file (the reload places the process anew). Windows alternate within one run: a window
// without a schedule, one with candidate A, one without, one with candidate B, ... A window
// with a schedule is whole intervals: it opens a second before the first round's time as
// /v1/processes announces it (next_capture) and lasts N intervals, so that it holds N rounds
// exactly, each with its attach, profile, stop and close (the captures the API lists are
// checked against that). Throughput is read from the target's own counts every 250 ms, with
// its clock: no restart of the load between windows.
//   1. the HTTP service of make bench (server.js --report) under one wrk -t1 -c32 for the
//      whole part, on loopback;
//   2. the CPU-bound worker.js (--stamp), sampling.js's measure: less noise.
// Figures, for each candidate:
//   - whole windows: rate / mean rate of the two windows without a schedule beside it, median
//     over windows, min and max; its noise: the same ratio for each window without a schedule
//     against its own neighbours (what nothing measures as). Other people's load on this
//     machine moves it by several %: it cannot show 1%.
//   - within the windows: the rounds (each from 250 ms before its creation to 500 ms after
//     its end) against the time between them in the same window: the work lost in rounds over
//     the work of the whole window at the rate between them. Drift and other load fall alike
//     on both: the figure the goal is judged on. It misses a cost that would outlast a round
//     by more than 500 ms, which the whole windows would show.
//   - while a round runs: the work lost during rounds of each kind, pooled over the part.
//
// Intervals are scaled down by BENCH_SCHEDULE_SCALE (default 10: --every 60s
// --capture-seconds 10 runs as --every 6s --capture-seconds 1): the share of time profiled is
// the same, the rounds' fixed costs (SIGUSR1, the inspector's opening, Profiler.enable, the
// profile's transfer, the close) come SCALE times as often, so the figure overstates the
// unscaled schedule's cost.
// Environment (optional): INSPECTD, BENCH_SCHEDULE_SCALE (default 10), BENCH_SCHEDULE_CYCLES
// (default 2: windows of each candidate per part), BENCH_SCHEDULE_WINDOW (intervals per
// window with a schedule, default 2), BENCH_SCHEDULE_PARTS ("http,worker"),
// BENCH_SCHEDULE_DUMP=PREFIX (the windows, counts and captures of each part in PREFIX-PART.json).
'use strict';
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const net = require('node:net');
const path = require('node:path');
const { sleep, children, waitFor, run, median } = require('./common');

const ROOT = path.resolve(__dirname, '../..');
const AGENT = process.env.INSPECTD || path.join(ROOT, '.output/inspectd');
const APPS = path.join(ROOT, 'tests/integration/apps');
const SCALE = Number(process.env.BENCH_SCHEDULE_SCALE || 10);
const CYCLES = Number(process.env.BENCH_SCHEDULE_CYCLES || 2);
const WINDOW_INTERVALS = Number(process.env.BENCH_SCHEDULE_WINDOW || 2);
const PARTS = (process.env.BENCH_SCHEDULE_PARTS || 'http,worker').split(',');
const BASE_SECONDS = 5;             // a window without a schedule
const LEAD_MS = 1000;               // a window opens this long before its first round
const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout) || 100;
const TOKEN = `inspectd-bench-schedule-${process.pid}`;
const GOAL = 0.01;

// Unscaled, as an operator would write them.
const CANDIDATES = [
  { key: 'A', every: 60, seconds: 10, kinds: 'cpu,heap', note: '10 s of every minute, as Google Cloud Profiler' },
  { key: 'B', every: 120, seconds: 10, kinds: 'cpu,heap', note: 'the cheaper: half as often' },
  { key: 'C', every: 60, seconds: 30, kinds: 'cpu,heap', note: 'a bare --every 1m with --capture-seconds\' 30' },
];
for (const c of CANDIDATES) {
  c.scaledEvery = c.every / SCALE;
  c.scaledSeconds = c.seconds / SCALE;
  if (!Number.isInteger(c.scaledSeconds) || c.scaledEvery < 2) throw new Error(`BENCH_SCHEDULE_SCALE ${SCALE} does not scale ${c.key} to whole seconds`);
  c.rounds = WINDOW_INTERVALS;
  c.windowS = WINDOW_INTERVALS * c.scaledEvery;
}

function api(sock, method, urlPath) {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: sock, method, path: urlPath, timeout: 5000 }, (res) => {
      let data = '';
      res.on('data', (d) => { data += d; });
      res.on('end', () => { try { resolve(JSON.parse(data)); } catch (e) { reject(e); } });
    });
    req.on('timeout', () => req.destroy(new Error(`API ${urlPath} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

function ticks(pid) {
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return Number(f[11]) + Number(f[12]);
  } catch { return 0; }
}
function busyTicks() {
  const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  return f[0] + f[1] + f[2] + f[5] + f[6];
}

async function freePort(from) {
  for (let p = from; p < from + 50; p++) {
    const ok = await new Promise((resolve) => {
      const s = net.createServer().once('error', () => resolve(false)).listen(p, '127.0.0.1', () => s.close(() => resolve(true)));
    });
    if (ok) return p;
  }
  throw new Error(`no free port in ${from}..${from + 49}`);
}

// A target, its standard output kept apart (node's own lines go to its stderr).
async function startTarget(argv) {
  const p = await run(argv, /ready/);
  p.lines = '';
  p.stdout.on('data', (d) => { p.lines += d; });
  return p;
}

// The target's lines "<word> N T" as [{ n, t }].
function counts(proc) {
  return proc.lines.split('\n').map((l) => /^\w+ (\d+) (\d+)$/.exec(l)).filter(Boolean)
    .map((m) => ({ n: Number(m[1]), t: Number(m[2]) }));
}
// Units per second over [s, e] (wall ms): the 250 ms counts wholly inside it.
function rate(lines, s, e) {
  let n = 0;
  let first = null;
  let last = null;
  for (let i = 1; i < lines.length; i++) {
    if (lines[i - 1].t < s || lines[i].t > e) continue;
    if (first === null) first = lines[i - 1].t;
    last = lines[i].t;
    n += lines[i].n;
  }
  return first !== null && last > first ? n / ((last - first) / 1000) : NaN;
}

class Agent {
  constructor(dir) {
    this.dir = dir;
    this.conf = path.join(dir, 'inspectd.conf');
    this.sock = path.join(dir, 'api.sock');
  }

  configure(c) {
    const lines = [`select = cmdline~${TOKEN}`];
    if (c) lines.push(`every = ${c.scaledEvery}s`, `capture-seconds = ${c.scaledSeconds}`, `schedule-kinds = ${c.kinds}`);
    fs.writeFileSync(this.conf, `${lines.join('\n')}\n`, { mode: 0o600 });
  }

  async start() {
    this.configure(null);
    this.proc = await run([AGENT, '--config', this.conf, '--output-dir', path.join(this.dir, 'out'), '--api-socket', this.sock,
      '--state-dir', path.join(this.dir, 'state'), '--spool-max-bytes', '256M'], /ready:/);
    return this;
  }

  async reload(c) {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) {
      throw new Error(`the agent exited (${this.proc.exitCode ?? this.proc.signalCode}):\n${this.proc.out.slice(-2000)}`);
    }
    this.configure(c);
    const mark = this.proc.out.length;
    process.kill(this.proc.pid, 'SIGHUP');
    await waitFor('the reload', () => {
      const text = this.proc.out.slice(mark);
      if (/reload refused/.test(text)) throw new Error(text);
      return /configuration reloaded/.test(text);
    }, 5000);
  }

  async stop() {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    this.proc.kill('SIGTERM');
    await waitFor('the agent to exit', () => this.proc.exitCode !== null || this.proc.signalCode !== null, 20000);
  }
}

// One part: the target (started, printing its counts), the agent, alternating windows.
async function part(agent, target, label) {
  const procs = () => [agent.proc.pid, target.pid, ...(target.load ? [target.load.pid] : []), process.pid];
  await waitFor('the target tracked', async () => ((await api(agent.sock, 'GET', '/v1/processes')).processes || [])
    .some((p) => p.pid === target.pid && p.selection === 'selected'));
  const windows = [];
  const captures = new Map();
  const noteCaptures = async () => {
    for (const j of (await api(agent.sock, 'GET', '/v1/captures')).captures) if (j.pid === target.pid) captures.set(j.id, j);
  };
  const idle = async () => waitFor('no capture in progress', async () => {
    await noteCaptures();
    return [...captures.values()].every((j) => ['done', 'failed'].includes(j.state));
  }, 20000, 100);
  const window = async (c, s, e) => {
    const b0 = busyTicks();
    const o0 = procs().reduce((a, p) => a + ticks(p), 0);
    await sleep(e - Date.now());
    const other = ((busyTicks() - b0) - (procs().reduce((a, p) => a + ticks(p), 0) - o0)) / CLK_TCK / ((e - s) / 1000) * 100;
    windows.push({ key: c ? c.key : '-', s, e, other });
  };
  const sequence = [null];
  for (let i = 0; i < CYCLES; i++) for (const c of CANDIDATES) sequence.push(c, null);
  process.stderr.write(`  ${label}:`);
  for (const c of sequence) {
    if (!c) {
      const s = Date.now();
      await window(null, s, s + BASE_SECONDS * 1000);
      process.stderr.write(' -');
      continue;
    }
    await agent.reload(c);
    const next = async (after) => (await waitFor('the next round announced', async () => ((await api(agent.sock, 'GET', '/v1/processes'))
      .processes || []).find((p) => p.pid === target.pid && p.next_capture && Date.parse(p.next_capture.at) > after),
    c.scaledEvery * 2000, 50)).next_capture;
    let at = Date.parse((await next(0)).at);
    // Too close to open the window before it: the round after it is the first.
    if (at < Date.now() + LEAD_MS / 2) at = Date.parse((await next(at + c.scaledEvery * 500)).at);
    const s = at - LEAD_MS;
    if (s > Date.now()) await sleep(s - Date.now());
    await window(c, Math.max(s, Date.now()), s + c.windowS * 1000);
    await agent.reload(null);
    await idle();
    process.stderr.write(` ${c.key}`);
  }
  process.stderr.write('\n');
  await noteCaptures();
  const lines = counts(target);
  if (process.env.BENCH_SCHEDULE_DUMP) {
    fs.writeFileSync(`${process.env.BENCH_SCHEDULE_DUMP}-${label}.json`, JSON.stringify({ windows, lines, captures: [...captures.values()] }));
  }
  for (const w of windows) {
    w.rate = rate(lines, w.s, w.e);
    w.rounds = [...captures.values()].filter((j) => { const t = Date.parse(j.created_at); return t >= w.s && t < w.e; });
  }
  return { windows, lines };
}

// Per window: its rate against the mean of the windows without a schedule on either side.
function wholeWindows(windows) {
  const out = {};
  for (let i = 0; i < windows.length; i++) {
    const w = windows[i];
    const before = windows.slice(0, i).reverse().find((x) => x.key === '-');
    const after = windows.slice(i + 1).find((x) => x.key === '-');
    if (!before || !after) continue;
    (out[w.key] = out[w.key] || []).push(w.rate / ((before.rate + after.rate) / 2));
  }
  return out;
}

// Within a window with a schedule: its rounds (from SPAN_BEFORE_MS before a round's creation
// to SPAN_AFTER_MS after its end) against the time between them, in the same window: what
// the rounds cost, drift and other load mostly alike on both sides. Per window, the work
// lost in rounds over the work the window would have done at the rate between them; per
// kind, the work lost over the work expected during that kind's rounds (the loss while one runs).
const SPAN_BEFORE_MS = 250;
const SPAN_AFTER_MS = 500;
function withinWindows(windows, lines) {
  const cost = {};
  const kinds = {};
  for (const w of windows.filter((x) => x.key !== '-')) {
    const spans = w.rounds.map((j) => ({ kind: j.kind, a: Date.parse(j.created_at) - SPAN_BEFORE_MS, b: Date.parse(j.ended_at) + SPAN_AFTER_MS }));
    let nq = 0;
    let tq = 0;
    const inRound = [];
    for (let i = 1; i < lines.length; i++) {
      const a = lines[i - 1].t;
      const b = lines[i].t;
      if (a < w.s || b > w.e) continue;
      const sp = spans.find((x) => b > x.a && a < x.b);
      if (sp) inRound.push({ kind: sp.kind, n: lines[i].n, dt: (b - a) / 1000 });
      else { nq += lines[i].n; tq += (b - a) / 1000; }
    }
    if (!tq) continue;
    const rq = nq / tq;
    let lost = 0;
    for (const x of inRound) {
      lost += rq * x.dt - x.n;
      const k = (kinds[x.kind] = kinds[x.kind] || { lost: 0, expected: 0 });
      k.lost += rq * x.dt - x.n;
      k.expected += rq * x.dt;
    }
    (cost[w.key] = cost[w.key] || []).push(lost / (rq * (w.e - w.s) / 1000));
  }
  return { cost, kinds };
}

const pct = (r, d = 2) => `${r >= 0 ? '+' : ''}${(r * 100).toFixed(d)}%`;
function spread(xs) {
  return xs.length ? `${pct(median(xs))} (${pct(Math.min(...xs))} .. ${pct(Math.max(...xs))}, n=${xs.length})` : 'n/a';
}

function report(name, windows, lines) {
  const whole = wholeWindows(windows);
  const within = withinWindows(windows, lines);
  const out = [`   ${name}`];
  const noise = (whole['-'] || []).map((r) => r - 1);
  out.push(`     whole windows, rate against the windows without a schedule beside them: median (min .. max)`);
  out.push(`       no schedule (the noise):  ${spread(noise)}; median |deviation| ${noise.length ? (median(noise.map(Math.abs)) * 100).toFixed(2) : 'n/a'}%`);
  const result = {};
  for (const c of CANDIDATES) {
    const xs = (whole[c.key] || []).map((r) => r - 1);
    const ws = windows.filter((w) => w.key === c.key);
    const bad = ws.filter((w) => w.rounds.length !== c.rounds || w.rounds.some((j) => j.state !== 'done'));
    result[c.key] = { whole: xs.length ? median(xs) : NaN, within: within.cost[c.key] ? -median(within.cost[c.key]) : NaN };
    out.push(`       ${c.key}:                        ${spread(xs)}${bad.length ? `; ${bad.length} window(s) without ${c.rounds} rounds done` : ''}`);
  }
  out.push(`     within the windows: the work its rounds lost (-) against the rate between them, over the window's work`);
  for (const c of CANDIDATES) {
    const xs = (within.cost[c.key] || []).map((x) => -x);
    out.push(`       ${c.key}:                        ${spread(xs)}   goal >= -${GOAL * 100}%: ` +
      `${!xs.length ? 'n/a' : median(xs) >= -GOAL ? 'ok' : 'MISSED'}`);
  }
  out.push(`     the rate while a round runs, against the rate between rounds (pooled): ${Object.entries(within.kinds).sort()
    .map(([k, v]) => `${k} ${pct(-v.lost / v.expected, 1)}`).join(', ')}`);
  const others = windows.map((w) => w.other);
  out.push(`     other processes on the machine during the windows: median ${median(others).toFixed(0)}%, max ${Math.max(...others).toFixed(0)}% of a core`);
  out.push(`     windows (rate/s): ${windows.map((w) => `${w.key} ${Math.round(w.rate)}`).join('  ')}`);
  return { text: out.join('\n'), result };
}

async function main() {
  if (!fs.existsSync(AGENT)) throw new Error(`no agent binary at ${AGENT}: run make first`);
  // The configuration file must be root's, in folders no one else can write: not /tmp.
  const dir = fs.mkdtempSync('/run/inspectd-bench-schedule-');
  const t0 = Date.now();
  const texts = [];
  let agent = null;
  try {
    agent = await new Agent(dir).start();
    if (PARTS.includes('http')) {
      if (spawnSync('wrk', ['--version']).error) throw new Error('wrk is not installed (apt-get install wrk)');
      const port = await freePort(18180);
      const server = await startTarget([process.execPath, path.join(APPS, 'server.js'), String(port), '--report', TOKEN]);
      // One wrk for the whole part: no restart between windows. Killed after it.
      server.load = spawn('wrk', ['-t1', '-c32', '-d3600s', `http://127.0.0.1:${port}/`], { stdio: 'ignore' });
      children.add(server.load);
      try {
        await sleep(4000);     // warm-up
        const w = await part(agent, server, 'http');
        texts.push(report('1. server.js under one wrk -t1 -c32 (requests/s, counted by the server every 250 ms)', w.windows, w.lines).text);
      } finally {
        server.load.kill('SIGKILL');
        server.kill('SIGKILL');
      }
    }
    if (PARTS.includes('worker')) {
      const worker = await startTarget([process.execPath, path.join(APPS, 'worker.js'), '--stamp', TOKEN]);
      try {
        await sleep(2000);
        const w = await part(agent, worker, 'worker');
        texts.push(report('2. worker.js, CPU-bound (units/s, counted by the worker every 250 ms)', w.windows, w.lines).text);
      } finally {
        worker.kill('SIGKILL');
      }
    }
  } finally {
    if (agent) await agent.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  console.log([
    '',
    `7. What a schedule costs a service, averaged over whole intervals (issue 12); intervals scaled down ${SCALE}x:`,
    ...CANDIDATES.map((c) => `   ${c.key}: --every ${c.every}s --capture-seconds ${c.seconds} --schedule-kinds ${c.kinds} (${c.note}),` +
      ` run as --every ${c.scaledEvery}s --capture-seconds ${c.scaledSeconds}`),
    `   one agent, its schedule switched by SIGHUP; a window with a schedule is ${WINDOW_INTERVALS} of its intervals (${WINDOW_INTERVALS} rounds),`,
    `   opened ${LEAD_MS / 1000} s before its first round; windows of ${BASE_SECONDS} s without one between; ${CYCLES} window(s) of each candidate per part.`,
    `   The rounds' fixed costs come ${SCALE}x as often as unscaled: the figures overstate the unscaled schedules'.`,
    ...texts,
    `   runtime ${((Date.now() - t0) / 1000).toFixed(0)} s`,
  ].join('\n'));
}

// Run, or lend the analysis to a replay of BENCH_SCHEDULE_DUMP's files.
if (require.main === module) {
  main().then(() => process.exit(0), (e) => { console.error(`\nbench schedule: FAILED: ${e.stack || e}`); process.exit(1); });
}
module.exports = { report, CANDIDATES };
