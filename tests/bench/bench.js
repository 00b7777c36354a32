#!/usr/bin/env node
// inspectd benchmarks, run by `make bench` (after the build): one run measures, side by side,
//   1. trigger latency: the agent's (meta.json trigger.latency_ms) against node's own
//      SIGUSR1 -> inspector-port-accepts time, on fresh idle node processes;
//   2. cost to the target: an HTTP server under wrk, alternating rounds of baseline, heap
//      sampling at several intervals and CPU profiling, ratios against the same round's baseline;
//   3. the agent's footprint: RSS and CPU with 20 idle node processes tracked.
// No npm dependencies; needs wrk (Debian) and root (the agent loads BPF).
// Exits non-zero only when something failed to run; a missed target prints MISSED.
//
// Environment (optional): INSPECTD (agent binary), BENCH_ROUNDS (cost rounds, default 10, at least 4),
// BENCH_LATENCY_N (samples per latency series, default 20), BENCH_WRK_SECONDS (default 5),
// BENCH_FOOTPRINT_SECONDS (default 30), BENCH_KEEP=1 (keep the temporary folder).
'use strict';
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '../..');
const AGENT = process.env.INSPECTD || path.join(ROOT, '.output/inspectd');
const APPS = path.join(ROOT, 'tests/integration/apps');
const NODE = process.execPath;

const intEnv = (name, dflt) => {
  const v = Number(process.env[name]);
  return Number.isInteger(v) && v > 0 ? v : dflt;
};
const LATENCY_N = intEnv('BENCH_LATENCY_N', 20);
const ROUNDS = Math.max(4, intEnv('BENCH_ROUNDS', 10));
const WRK_SECONDS = intEnv('BENCH_WRK_SECONDS', 5);
const FOOTPRINT_SECONDS = intEnv('BENCH_FOOTPRINT_SECONDS', 30);
const FOOTPRINT_TARGETS = 20;
const HOLD_MS = 200;               // heap capture hold in the latency series
const SETTLE_MS = 200;             // a fresh target runs this long before it is signalled
const POLL_MS = 0.2;               // poll-connect period for node's own SIGUSR1 -> listening
const INSPECTOR_PORT = 9229;
const WARMUP_SECONDS = 4;
const FOREIGN_WAIT_MS = 180000;    // how long to wait for another agent / port 9229 user to go
const FOREIGN_CPU_PCT = 25;        // a wrk run is redone when other processes used more (% of a core)
const RSS_TARGET_KB = 10 * 1024;   // "10 MB", taken as 10 MiB
const CPU_TARGET_PCT = 0.1;
const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout) || 100;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const nowMs = () => Number(process.hrtime.bigint()) / 1e6;
const sab = new Int32Array(new SharedArrayBuffer(4));
const blockMs = (ms) => Atomics.wait(sab, 0, 0, ms);   // a sleep that does not spin
const progress = (s) => process.stderr.write(s);
const notes = [];
const note = (s) => { notes.push(s); progress(`\n  note: ${s}\n`); };

class Retry extends Error {}

async function waitFor(what, fn, timeoutMs = 10000, stepMs = 10) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(stepMs);
  }
}

// ---- everything started is tracked, and killed on every way out ----

const children = new Set();
function track(proc) {
  children.add(proc);
  proc.on('exit', () => children.delete(proc));
  return proc;
}
function killOne(p) {
  // A process started in a group of its own (wrk under sh) is killed with its group.
  try { if (p.groupLeader) process.kill(-p.pid, 'SIGKILL'); else p.kill('SIGKILL'); } catch { /* gone */ }
}
function killAll() {
  for (const p of children) killOne(p);
}
let tmpRoot = null;
process.on('exit', killAll);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    progress(`\nbench: ${sig}: killing what it started\n`);
    killAll();
    if (tmpRoot && !process.env.BENCH_KEEP) fs.rmSync(tmpRoot, { recursive: true, force: true });
    process.exit(130);
  });
}

class Proc {
  constructor(argv, { group = false } = {}) {
    this.argv = argv;
    this.group = group;
    this.out = '';
    this.err = '';
    this.exited = null;
  }

  start() {
    return new Promise((resolve, reject) => {
      const p = spawn(this.argv[0], this.argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], detached: this.group });
      p.groupLeader = this.group;
      this.proc = p;
      p.stdout.on('data', (d) => { this.out += d; });
      p.stderr.on('data', (d) => { this.err += d; });
      p.on('exit', (code, signal) => { this.exited = { code, signal }; });
      p.on('error', () => {});
      p.once('error', (e) => { this.exited = this.exited || { error: e.code || e.message }; reject(e); });
      p.once('spawn', () => { track(p); this.pid = p.pid; resolve(this); });
    });
  }

  alive() { return this.proc && !this.exited; }

  async kill(sig = 'SIGKILL', timeoutMs = 5000) {
    if (!this.proc || this.exited) return;
    try { if (this.group) process.kill(-this.pid, sig); else this.proc.kill(sig); } catch { /* gone */ }
    await waitFor(`pid ${this.pid} to exit`, () => this.exited, timeoutMs).catch(async (e) => {
      if (sig === 'SIGKILL') throw e;
      killOne(this.proc);
      await waitFor(`pid ${this.pid} to exit`, () => this.exited, 5000);
    });
  }
}

async function startNode(app, args = []) {
  const t = await new Proc([NODE, path.join(APPS, app), ...args.map(String)]).start();
  await waitFor(`${app} to print ready`, () => {
    if (t.exited) throw new Error(`${app} exited early: ${JSON.stringify(t.exited)}\n${t.out}${t.err}`);
    return /ready/.test(t.out);
  }, 10000, 5);
  return t;
}

// ---- the agent ----

let agentSerial = 0;
class Agent {
  constructor(outputDir, args = []) {
    this.outputDir = outputDir;
    this.args = args;
    this.proc = null;
  }

  get log() { return this.proc ? this.proc.err + this.proc.out : ''; }
  get pid() { return this.proc && this.proc.pid; }
  get exited() { return !this.proc || this.proc.exited; }
  mark() { return this.log.length; }

  // The binary may be being rebuilt by someone else: retry for a while.
  async start() {
    const deadline = Date.now() + 120000;
    let last = '';
    for (let attempt = 1; ; attempt++) {
      // An agent with an API listens on a default socket that another agent (someone else's
      // run) may hold: give ours a private one when the binary has the option.
      const help = spawnSync(AGENT, ['--help'], { encoding: 'utf8' }).stdout || '';
      const api = /--api-socket/.test(help)
        ? ['--api-socket', path.join(path.dirname(this.outputDir), `api-${process.pid}-${++agentSerial}.sock`)] : [];
      // A bench captures one process many times an hour: past the per-container cap.
      const uncapped = /--max-captures-per-container-per-hour/.test(help)
        ? ['--max-captures-per-container-per-hour', '1024'] : [];
      const p = new Proc([AGENT, '--output-dir', this.outputDir, ...api, ...uncapped, ...this.args]);
      try {
        await p.start();
        await waitFor('the agent to be ready', () => {
          if (p.exited) throw new Error(`agent exited early: ${JSON.stringify(p.exited)}\n${p.err}`);
          return /ready:/.test(p.err + p.out);
        }, 15000, 5);
        this.proc = p;
        return this;
      } catch (e) {
        await p.kill().catch(() => {});
        last = e.message;
        if (Date.now() > deadline) throw new Error(`cannot start the agent ${AGENT}: ${last}`);
        if (attempt === 1) note(`agent did not start (${last.split('\n')[0]}); retrying (binary being rebuilt?)`);
        await sleep(2000);
      }
    }
  }

  async waitLog(re, since = 0, timeoutMs = 10000) {
    try {
      return await waitFor(`agent log ${re}`, () => {
        const m = re.exec(this.log.slice(since));
        if (m) return m;
        if (this.exited) {
          // Stopped from outside (exit 0 after SIGTERM/SIGINT): interference, retried; else a failure.
          const x = this.proc && this.proc.exited;
          const E = x && (x.code === 0 || x.signal === 'SIGTERM' || x.signal === 'SIGINT') ? Retry : Error;
          throw new E(`the agent exited: ${JSON.stringify(x)}`);
        }
        return null;
      }, timeoutMs, 2);
    } catch (e) {
      e.message += `\n--- agent log since the mark ---\n${this.log.slice(since).slice(-3000)}`;
      throw e;
    }
  }

  async stop() {
    if (!this.proc || this.proc.exited) return;
    await this.proc.kill('SIGTERM', 10000);
  }
}

// ---- interference from other runs on this machine ----

// Another inspectd reacts to our signals too. We wait for it to go; one that outlives
// FOREIGN_WAIT_MS is tolerated from then on (and the report says the figures may be disturbed).
const tolerated = new Set();
function foreignAgents({ all = false } = {}) {
  const mine = new Set([...children].map((p) => p.pid));
  if (!all) for (const pid of tolerated) mine.add(pid);
  const found = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d) || mine.has(Number(d))) continue;
    try {
      const exe = fs.readlinkSync(`/proc/${d}/exe`).replace(/ \(deleted\)$/, '');
      if (path.basename(exe) === 'inspectd') found.push(Number(d));
    } catch { /* gone, or a kernel thread */ }
  }
  return found;
}

function tryConnect(port) {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => { const t = nowMs(); s.destroy(); resolve(t); });
    s.once('error', () => { s.destroy(); resolve(0); });
  });
}

// Waits until no other inspectd runs and nothing listens on 127.0.0.1:9229 (other tests use both).
async function quiet(what) {
  const start = Date.now();
  let reported = false;
  for (;;) {
    const others = foreignAgents();
    const busy = await tryConnect(INSPECTOR_PORT);
    if (!others.length && !busy) {
      if (reported) note(`${what}: waited ${((Date.now() - start) / 1000).toFixed(1)} s for other runs to finish`);
      return;
    }
    if (!reported) {
      progress(`\n  waiting: ${others.length ? `another inspectd (pid ${others.join(', ')}) is running` : ''}` +
               `${others.length && busy ? ', ' : ''}${busy ? `127.0.0.1:${INSPECTOR_PORT} is busy` : ''}\n`);
      reported = true;
    }
    if (Date.now() - start > FOREIGN_WAIT_MS) {
      for (const pid of others) tolerated.add(pid);
      note(`${what}: other runs still present after ${FOREIGN_WAIT_MS / 1000} s` +
           `${others.length ? ` (inspectd pid ${others.join(', ')}, tolerated from now on)` : ''}; measuring anyway, figures may be disturbed`);
      return;
    }
    await sleep(500);
  }
}

// Up to `tries` attempts for real failures; interference (Retry: another agent, port 9229 taken,
// other CPU load) is waited out and retried up to 20 times in all.
async function retrying(what, fn, tries = 4) {
  let failures = 0;
  for (let i = 1; ; i++) {
    try {
      return await fn(i, tries);
    } catch (e) {
      if (!(e instanceof Retry)) failures++;
      if (failures >= tries || i >= 20) throw e;
      note(`${what}: attempt ${i} failed (${e.message.split('\n')[0]}); retrying`);
      await sleep(1000);
    }
  }
}

// ---- /proc ----

function procStatus(pid) {
  const out = {};
  for (const line of fs.readFileSync(`/proc/${pid}/status`, 'utf8').split('\n')) {
    const i = line.indexOf(':');
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1).trim();
  }
  return out;
}

function catchesSigusr1(pid) {
  try { return (BigInt('0x' + procStatus(pid).SigCgt) >> 9n) & 1n; } catch { return 0n; }
}

function cpuTicks(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]);     // utime + stime (fields 14, 15)
}

function schedNs(pid) {   // on-CPU time of all threads, in ns (finer than the ticks)
  let ns = 0;
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    try { ns += Number(fs.readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]); } catch { /* gone */ }
  }
  return ns;
}

// ---- statistics ----

const sorted = (xs) => [...xs].sort((a, b) => a - b);
function median(xs) {
  const s = sorted(xs);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}
// Distribution-free confidence interval of a median (order statistics, binomial): at least 95%.
function medianCI(xs) {
  const s = sorted(xs);
  const n = s.length;
  const pmf = (k) => { let c = 1; for (let i = 0; i < k; i++) c = (c * (n - i)) / (i + 1); return c / 2 ** n; };
  let k = 0;
  let tail = 0;
  while (tail + pmf(k) <= 0.025) { tail += pmf(k); k++; }
  if (k === 0) return null;
  return { lo: s[k - 1], hi: s[n - k], coverage: 1 - 2 * tail };
}
const pct = (xs, p) => { const s = sorted(xs); return s[Math.max(0, Math.ceil((p / 100) * s.length) - 1)]; };
const fmt = (x, d = 1) => (x === undefined || x === null || Number.isNaN(x) ? 'n/a' : x.toFixed(d));
const signedPct = (r) => `${r >= 1 ? '+' : ''}${((r - 1) * 100).toFixed(1)}%`;

// ---- captures ----

async function capture(agent, pid, sig, kind, during) {
  const since = agent.mark();
  process.kill(pid, sig);
  const m = await agent.waitLog(new RegExp(
    `pid ${pid}: (?:${kind} profiling started \\(([\\d.]+) ms after the trigger\\)|(${kind} capture (?:failed|abandoned): .*))`),
  since, 15000);
  if (m[2]) throw new Retry(m[2]);
  let result;
  try {
    result = await during();
  } finally {
    const since2 = agent.mark();
    process.kill(pid, sig);
    const closed = await agent.waitLog(new RegExp(
      `pid ${pid}: (?:(inspector closed)|(.*(?:capture failed|abandoned|still open|cannot|did not close|no answer).*))`),
    since2, 20000);
    if (closed[2]) throw new Retry(closed[2]);
    // The commit ends on the spool's thread: its line may come after the inspector's.
    const exported = await agent.waitLog(new RegExp(`pid ${pid}: (?:(.*exported to.*)|(.*export failed.*))`),
      since2, 10000).catch(() => [null, null, 'no export logged']);
    if (exported[2]) throw new Retry(exported[2]);
  }
  return { result, loggedLatency: Number(m[1]), since };
}

// Marks every file already in dir as seen, so that only what the next capture writes counts.
function markSeen(dir, seen) {
  if (fs.existsSync(dir)) for (const f of fs.readdirSync(dir)) seen.add(f);
}

function metaFor(dir, pid, kind, seen) {
  const prefix = `${kind === 'cpu' ? 'cpu' : 'heap'}-profile-${pid}-`;
  const files = fs.readdirSync(dir).filter((f) => f.startsWith(prefix) && f.endsWith('.meta.json') && !seen.has(f));
  if (files.length !== 1) return null;
  seen.add(files[0]);
  return JSON.parse(fs.readFileSync(path.join(dir, files[0]), 'utf8'));
}

// ---- 1. trigger latency ----

async function agentLatencySample(agent, seen) {
  await quiet('latency (agent)');
  const since = agent.mark();
  const t = await startNode('idle.js');
  try {
    await agent.waitLog(new RegExp(`pid ${t.pid}: discovered node`), since, 5000);
    await waitFor('SigCgt to have SIGUSR1', () => catchesSigusr1(t.pid), 2000, 1);
    await sleep(SETTLE_MS);
    await quiet('latency (agent)');
    markSeen(agent.outputDir, seen);
    await capture(agent, t.pid, 'SIGWINCH', 'heap', () => sleep(HOLD_MS));
    if (foreignAgents().length) throw new Retry('another inspectd appeared during the capture');
    const meta = await waitFor('the meta.json', () => metaFor(agent.outputDir, t.pid, 'heap', seen), 3000);
    const lat = meta.trigger && meta.trigger.latency_ms;
    if (typeof lat !== 'number' || !(lat > 0)) throw new Error(`meta.json trigger.latency_ms is ${lat}`);
    return lat;
  } finally {
    await t.kill();
  }
}

// node's own share: SIGUSR1 sent by us -> 127.0.0.1:9229 accepts a connect().
async function nodeLatencySample() {
  await quiet('latency (node)');
  const t = await startNode('idle.js');
  try {
    await waitFor('SigCgt to have SIGUSR1', () => catchesSigusr1(t.pid), 2000, 1);
    await sleep(SETTLE_MS);
    await quiet('latency (node)');
    const t0 = nowMs();
    process.kill(t.pid, 'SIGUSR1');
    let t1 = 0;
    for (;;) {
      t1 = await tryConnect(INSPECTOR_PORT);
      if (t1) break;
      if (t.exited) throw new Error(`node exited after SIGUSR1: ${JSON.stringify(t.exited)} ${t.err}`);
      if (nowMs() - t0 > 3000) throw new Retry(`port ${INSPECTOR_PORT} never accepted: ${t.err.trim()}`);
      blockMs(POLL_MS);
    }
    // The listener must be this process's (another test could hold the port).
    const ours = await waitFor('node to report its inspector', () => {
      if (/Debugger listening on ws:\/\/127\.0\.0\.1:9229\//.test(t.err)) return 'yes';
      if (/address already in use/.test(t.err)) return 'no';
      return null;
    }, 2000, 1).catch(() => 'no');
    if (ours !== 'yes') throw new Retry(`the listener on ${INSPECTOR_PORT} was not the target's: ${t.err.trim()}`);
    if (foreignAgents().length) throw new Retry('another inspectd appeared during the measurement');
    return t1 - t0;
  } finally {
    await t.kill();   // no WebSocket needed to close it: the process goes, the port with it
  }
}

async function benchLatency(outDir) {
  const agent = await new Agent(outDir).start();
  const agentMs = [];
  const nodeMs = [];
  const seen = new Set();
  try {
    progress(`1. trigger latency: ${LATENCY_N} agent captures and ${LATENCY_N} bare SIGUSR1s, interleaved `);
    for (let i = 0; i < LATENCY_N; i++) {
      const order = i % 2 ? ['node', 'agent'] : ['agent', 'node'];
      for (const which of order) {
        if (which === 'agent') {
          agentMs.push(await retrying(`agent latency sample ${i + 1}`, async () => {
            if (agent.exited) { note('the agent had exited; restarting it'); await agent.start(); }
            return agentLatencySample(agent, seen);
          }));
        } else {
          nodeMs.push(await retrying(`node latency sample ${i + 1}`, nodeLatencySample));
        }
      }
      progress('.');
    }
    progress('\n');
  } finally {
    await agent.stop();
  }
  return { agentMs, nodeMs };
}

// ---- 2. cost to the target ----

function parseWrk(text) {
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(text);
  if (!rps) throw new Error(`cannot read wrk's output:\n${text}`);
  const toMs = (v, u) => Number(v) * ({ us: 1e-3, ms: 1, s: 1e3, m: 6e4 }[u]);
  const p99 = /^\s*99%\s+([\d.]+)(us|ms|s|m)\s*$/m.exec(text);
  const p50 = /^\s*50%\s+([\d.]+)(us|ms|s|m)\s*$/m.exec(text);
  const errors = /Socket errors:.*|Non-2xx or 3xx responses:.*/g;
  return {
    rps: Number(rps[1]),
    p99: p99 ? toMs(p99[1], p99[2]) : undefined,
    p50: p50 ? toMs(p50[1], p50[2]) : undefined,
    errors: (text.match(errors) || []).join('; '),
  };
}

// CPU ticks the whole machine spent busy (softirq included: loopback traffic is charged there).
function busyTicks() {
  const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  return f[0] + f[1] + f[2] + f[5] + f[6];   // user nice system irq softirq
}
function ticksOf(pids) {
  let t = 0;
  for (const pid of pids) { try { t += cpuTicks(pid); } catch { /* gone */ } }
  return t;
}

// Runs wrk; also measures the CPU that processes other than ours (server, agent, wrk, this
// script) used meanwhile, as % of one core: other runs on this machine disturb the figures.
// wrk runs under sh so that its CPU time can be read (the shell's cutime/cstime) once it has ended.
async function wrk(port, seconds, ourPids = () => []) {
  const b0 = busyTicks();
  const o0 = ticksOf(ourPids());
  const t0 = nowMs();
  const w = await new Proc(['sh', '-c', 'wrk "$@"; rc=$?; echo >&2; cat /proc/$$/stat >&2; exit $rc', 'sh',
    '-t1', '-c32', `-d${seconds}s`, '--latency', `http://127.0.0.1:${port}/`], { group: true }).start();
  try {
    await waitFor('wrk to finish', () => w.exited, (seconds + 30) * 1000, 50);
  } finally {
    await w.kill();
  }
  const b1 = busyTicks();
  const o1 = ticksOf(ourPids());
  const wall = (nowMs() - t0) / 1000;
  if (w.exited.code !== 0) throw new Error(`wrk failed: ${JSON.stringify(w.exited)} ${w.out} ${w.err}`);
  const r = parseWrk(w.out);
  const sh = w.err.trim().split('\n').pop();
  const f = sh.slice(sh.lastIndexOf(')') + 2).split(' ').map(Number);
  const wrkTicks = f[13] + f[14];            // cutime + cstime: wrk, waited for by sh
  r.foreignPct = Number.isFinite(wrkTicks) ? ((b1 - b0) - (o1 - o0) - wrkTicks) / CLK_TCK / wall * 100 : undefined;
  return r;
}

// Waits until processes other than ours use less than 15% of a core (1 s windows).
async function quietCpu(what, ourPids) {
  const start = Date.now();
  for (;;) {
    const b0 = busyTicks();
    const o0 = ticksOf(ourPids());
    await sleep(1000);
    const other = ((busyTicks() - b0) - (ticksOf(ourPids()) - o0)) / CLK_TCK * 100;
    if (other < 15) {
      if (Date.now() - start > 1500) note(`${what}: waited ${((Date.now() - start) / 1000).toFixed(0)} s for other CPU load to stop`);
      return;
    }
    if (Date.now() - start > FOREIGN_WAIT_MS) {
      note(`${what}: other processes still use ${other.toFixed(0)}% of a core after ${FOREIGN_WAIT_MS / 1000} s; measuring anyway`);
      return;
    }
  }
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

const CONDITIONS = [
  { key: 'baseline', label: 'baseline (no capture)' },
  { key: 'heap-131072', label: 'heap sampling 131072 B (default)', kind: 'heap', sig: 'SIGWINCH', args: [], check: ['sampling_interval_bytes', 131072] },
  { key: 'cpu-10000', label: 'CPU profiling 10000 us (default)', kind: 'cpu', sig: 'SIGURG', args: [], check: ['sampling_interval_us', 10000] },
  { key: 'cpu-1000', label: 'CPU profiling 1000 us', kind: 'cpu', sig: 'SIGURG', args: ['--cpu-sampling-interval', '1000'], check: ['sampling_interval_us', 1000] },
  { key: 'heap-8192', label: 'heap sampling 8192 B', kind: 'heap', sig: 'SIGWINCH', args: ['--heap-sampling-interval', '8192'], check: ['sampling_interval_bytes', 8192] },
  { key: 'heap-32768', label: 'heap sampling 32768 B', kind: 'heap', sig: 'SIGWINCH', args: ['--heap-sampling-interval', '32768'], check: ['sampling_interval_bytes', 32768] },
  { key: 'heap-524288', label: 'heap sampling 524288 B', kind: 'heap', sig: 'SIGWINCH', args: ['--heap-sampling-interval', '524288'], check: ['sampling_interval_bytes', 524288] },
];

async function benchCost(outDir) {
  const port = await freePort(18080);
  const server = await startNode('server.js', [port]);
  let agent = null;
  const seen = new Set();
  const results = {};   // key -> [{ rps, p99, round }]
  for (const c of CONDITIONS) results[c.key] = [];
  try {
    progress(`2. cost: server.js on 127.0.0.1:${port}, warm-up ${WARMUP_SECONDS} s\n`);
    await wrk(port, WARMUP_SECONDS);
    await sleep(1000);

    const ensureAgent = async (args) => {
      if (agent && !agent.exited && JSON.stringify(agent.args) === JSON.stringify(args)) return;
      if (agent) await agent.stop();
      agent = await new Agent(outDir, args).start();
      await sleep(300);
    };

    for (let round = 0; round < ROUNDS; round++) {
      // Rotate the order each round so drift does not favour one condition.
      const order = CONDITIONS.map((_, i) => CONDITIONS[(i + round) % CONDITIONS.length]);
      progress(`   round ${round + 1}/${ROUNDS}:`);
      for (const c of order) {
        const r = await retrying(`round ${round + 1} ${c.key}`, async (attempt, tries) => {
          if (server.exited) throw new Error(`the server exited: ${JSON.stringify(server.exited)} ${server.err}`);
          await ensureAgent(c.args || (agent ? agent.args : []));
          await quiet(`cost ${c.key}`);
          const ours = () => [server.pid, agent && !agent.exited && agent.pid, process.pid].filter(Boolean);
          let m;
          if (!c.kind) {
            m = await wrk(port, WRK_SECONDS, ours);
          } else {
            markSeen(outDir, seen);
            ({ result: m } = await capture(agent, server.pid, c.sig, c.kind, () => wrk(port, WRK_SECONDS, ours)));
            const meta = await waitFor('the meta.json', () => metaFor(outDir, server.pid, c.kind, seen), 3000);
            const got = meta.profile && meta.profile.sampling && meta.profile.sampling[c.check[0]];
            if (got !== c.check[1]) throw new Error(`${c.key}: meta.json says ${c.check[0]} ${got}`);
          }
          if (foreignAgents().length) throw new Retry('another inspectd appeared during the measurement');
          if (m.foreignPct > FOREIGN_CPU_PCT) {
            if (attempt < tries) {
              await quietCpu(`cost ${c.key}`, ours);
              throw new Retry(`other processes used ${m.foreignPct.toFixed(0)}% of a core during the run`);
            }
            m.disturbed = true;
            note(`round ${round + 1} ${c.key}: kept although other processes used ${m.foreignPct.toFixed(0)}% of a core`);
          }
          if (m.errors) note(`round ${round + 1} ${c.key}: wrk reported ${m.errors}`);
          return m;
        }, 4);
        results[c.key].push({ ...r, round });
        progress(` ${c.key} ${Math.round(r.rps)}`);
        await sleep(700);
      }
      progress('\n');
    }
  } finally {
    if (agent) await agent.stop();
    await server.kill();
  }
  return { port, results };
}

// ---- 3. footprint ----

async function benchFootprint(outDir) {
  const targets = [];
  let agent = null;
  try {
    progress(`3. footprint: ${FOOTPRINT_TARGETS} idle node processes, agent, 5 s, then ${FOOTPRINT_SECONDS} s of CPU\n`);
    for (let i = 0; i < FOOTPRINT_TARGETS; i++) targets.push(startNode('idle.js'));
    const ts = await Promise.all(targets.map((p) => p.catch((e) => e)));
    targets.length = 0;
    for (const t of ts) { if (t instanceof Error) throw t; targets.push(t); }
    await quiet('footprint');
    agent = await new Agent(outDir).start();
    const ready = /ready: (\d+) node processes running/.exec(agent.log);
    await sleep(5000);
    if (agent.exited) throw new Error('the agent exited during the footprint measurement');
    const rss0 = Number(procStatus(agent.pid).VmRSS.split(/\s+/)[0]);
    const tick0 = cpuTicks(agent.pid);
    const ns0 = schedNs(agent.pid);
    const w0 = nowMs();
    await sleep(FOOTPRINT_SECONDS * 1000);
    if (agent.exited) throw new Error('the agent exited during the footprint measurement');
    const tick1 = cpuTicks(agent.pid);
    const ns1 = schedNs(agent.pid);
    const wall = (nowMs() - w0) / 1000;
    const st = procStatus(agent.pid);
    const rss1 = Number(st.VmRSS.split(/\s+/)[0]);
    const discovered = (agent.log.match(/discovered node/g) || []).length;
    return {
      tracked: ready ? Number(ready[1]) : undefined,
      discovered,
      rssKb: Math.max(rss0, rss1), rss0, rss1,
      rssAnon: st.RssAnon, rssFile: st.RssFile,
      cpuPct: ((tick1 - tick0) / CLK_TCK) / wall * 100,
      ticks: tick1 - tick0,
      schedPct: ((ns1 - ns0) / 1e9) / wall * 100,
      wall,
      others: foreignAgents({ all: true }),
    };
  } finally {
    if (agent) await agent.stop();
    for (const t of targets) await t.kill();
  }
}

// ---- the report ----

function header() {
  const git = spawnSync('git', ['-C', ROOT, 'describe', '--always', '--dirty'], { encoding: 'utf8' }).stdout.trim();
  const ver = spawnSync(AGENT, ['--version'], { encoding: 'utf8' }).stdout.trim();
  const lines = [
    'inspectd benchmark',
    `  date ${new Date().toISOString()}, ${os.hostname()}, ${os.cpus().length} CPUs, kernel ${os.release()}, node ${process.version}`,
    `  agent ${AGENT} (${ver || 'version unknown'}), tree ${git || 'unknown'}`,
  ];
  return lines.join('\n');
}

function reportLatency({ agentMs, nodeMs }) {
  const a = { med: median(agentMs), p90: pct(agentMs, 90), max: Math.max(...agentMs), min: Math.min(...agentMs) };
  const n = { med: median(nodeMs), p90: pct(nodeMs, 90), max: Math.max(...nodeMs), min: Math.min(...nodeMs) };
  const out = [
    '',
    '1. Trigger latency (ms)',
    `   agent: ${agentMs.length} heap captures, each on a fresh idle node process (idle.js, signalled ${SETTLE_MS} ms after`,
    `          the agent discovered it): kill -WINCH, hold ${HOLD_MS} ms, kill -WINCH, wait for "inspector closed";`,
    '          figure = meta.json trigger.latency_ms (kernel signal event -> HeapProfiler.startSampling answered)',
    `   node:  ${nodeMs.length} fresh idle node processes, same settle: process.kill(SIGUSR1) -> a connect() to`,
    `          127.0.0.1:${INSPECTOR_PORT} succeeds (poll-connect every ~${POLL_MS} ms; closed by killing the process);`,
    '          interleaved with the agent captures',
    '                       median      p90      max      min',
    `   agent (trigger)   ${fmt(a.med, 2).padStart(8)} ${fmt(a.p90, 2).padStart(8)} ${fmt(a.max, 2).padStart(8)} ${fmt(a.min, 2).padStart(8)}`,
    `   node SIGUSR1->port${fmt(n.med, 2).padStart(8)} ${fmt(n.p90, 2).padStart(8)} ${fmt(n.max, 2).padStart(8)} ${fmt(n.min, 2).padStart(8)}`,
    `   agent's own share (agent median - node median): ${fmt(a.med - n.med, 2)} ms`,
    '   (that share includes locating the port, /json/list, the WebSocket handshake and the CDP round trip)',
    `   agent samples: ${agentMs.map((x) => x.toFixed(1)).join(' ')}`,
    `   node samples:  ${nodeMs.map((x) => x.toFixed(2)).join(' ')}`,
  ];
  return { text: out.join('\n'), a, n };
}

function reportCost({ port, results }) {
  const base = results.baseline;
  const baseOf = (r) => base.find((b) => b.round === r.round);
  const out = [
    '',
    `2. Cost to the target: server.js on 127.0.0.1:${port} under wrk -t1 -c32 -d${WRK_SECONDS}s --latency (loopback)`,
    `   ${ROUNDS} rounds after a ${WARMUP_SECONDS} s warm-up; each round runs every condition once, the order rotated`,
    '   per round; a capture is started (profiling acknowledged by the target) before wrk and stopped after',
    '   it; an idle agent runs during the baseline; one agent at a time, restarted with',
    '   --heap-sampling-interval when the condition needs it (default agent for 131072 B and CPU 10000 us).',
    '   ratio = median over rounds of (condition req/s / same round\'s baseline req/s), with its distribution-free',
    '   confidence interval (order statistics); "yes" = the interval excludes 1. p99 = median of wrk\'s 99%',
    '   latencies, its ratio = median of per-round ratios. A run during which other processes used more than',
    `   ${FOREIGN_CPU_PCT}% of a core is redone.`,
    '',
  ];
  const ci0 = medianCI(base.map(() => 1));
  const ciHead = ci0 ? `${Math.floor(ci0.coverage * 1000) / 10}% CI` : 'CI';
  out.push(`   condition                          req/s med  ratio    change  ${ciHead.padEnd(12)} measurable   p99 med  p99 ratio`);
  const summary = [];
  for (const c of CONDITIONS) {
    const rs = results[c.key];
    const rps = median(rs.map((r) => r.rps));
    const p99s = rs.map((r) => r.p99).filter((x) => x !== undefined);
    const p99 = p99s.length ? median(p99s) : undefined;
    const ratios = rs.map((r) => r.rps / baseOf(r).rps);
    const p99r = rs.map((r) => r.p99 / baseOf(r).p99).filter((x) => Number.isFinite(x));
    const ratio = median(ratios);
    const ci = medianCI(ratios);
    const measurable = ci ? (ci.hi < 1 || ci.lo > 1 ? 'yes' : 'no') : 'n/a';
    let mid;
    if (c.key === 'baseline') mid = `${'1'.padEnd(7)}  ${''.padStart(7)}  ${'(reference)'.padEnd(12)} ${''.padEnd(10)}`;
    else {
      mid = `${fmt(ratio, 3).padEnd(7)}  ${signedPct(ratio).padStart(7)}  ${(ci ? `${fmt(ci.lo, 2)}..${fmt(ci.hi, 2)}` : 'n/a').padEnd(12)} ` +
            `${measurable.padEnd(10)}`;
    }
    out.push(`   ${c.label.padEnd(34)} ${fmt(rps, 0).padStart(9)}  ${mid} ${fmt(p99, 2).padStart(6)} ms  ` +
             `${c.key === 'baseline' ? '' : 'x' + fmt(median(p99r), 2)}`);
    summary.push({ c, rps, ratio, ci, measurable, p99, p99ratio: median(p99r) });
  }
  const bRps = base.map((b) => b.rps);
  const bMed = median(bRps);
  const mad = median(bRps.map((x) => Math.abs(x - bMed)));
  const all = CONDITIONS.flatMap((c) => results[c.key]);
  const foreign = all.map((r) => r.foreignPct).filter((x) => x !== undefined);
  const disturbed = all.filter((r) => r.disturbed).length;
  out.push('', `   noise: baseline req/s ${fmt(Math.min(...bRps), 0)}..${fmt(Math.max(...bRps), 0)} over the rounds ` +
           `(median absolute deviation ${fmt(mad / bMed * 100, 1)}% of the median)`);
  if (foreign.length) {
    out.push(`   other processes during the kept runs: median ${fmt(median(foreign), 0)}%, max ${fmt(Math.max(...foreign), 0)}% of a core` +
             ` (tick-sampled, about +-10%)${disturbed ? `; ${disturbed} run(s) kept although disturbed` : ''}`);
  }
  out.push('', '   per round (req/s):');
  out.push('   round ' + CONDITIONS.map((c) => c.key.padStart(12)).join(''));
  for (let r = 0; r < ROUNDS; r++) {
    out.push(`   ${String(r + 1).padEnd(5)} ` + CONDITIONS.map((c) => fmt(results[c.key].find((x) => x.round === r).rps, 0).padStart(12)).join(''));
  }
  return { text: out.join('\n'), summary, noisePct: mad / bMed * 100 };
}

function reportFootprint(f) {
  const rssOk = f.rssKb <= RSS_TARGET_KB;
  const cpuOk = f.cpuPct <= CPU_TARGET_PCT;
  const out = [
    '',
    `3. Agent footprint: ${FOOTPRINT_TARGETS} idle node processes (idle.js) started first, then the agent (defaults);`,
    `   the agent reported ${f.tracked} node processes at start; RSS = VmRSS of /proc/PID/status at 5 s and at the end`,
    `   (the larger one); CPU = utime+stime of /proc/PID/stat over ${fmt(f.wall, 1)} s, as % of one core`,
    `   (tick = ${(1000 / CLK_TCK).toFixed(0)} ms, so resolution ${fmt(100 / CLK_TCK / f.wall, 3)}%); cross-check: sum of /proc/PID/task/*/schedstat run time`,
    `   RSS   ${(f.rssKb / 1024).toFixed(2)} MiB (${f.rssKb} kB; ${f.rss0} kB at 5 s, ${f.rss1} kB at the end; RssAnon ${f.rssAnon}, RssFile ${f.rssFile})` +
      `   target <= 10 MiB: ${rssOk ? 'ok' : 'MISSED'}`,
    `   CPU   ${fmt(f.cpuPct, 3)}% (${f.ticks} ticks; schedstat ${fmt(f.schedPct, 4)}%)   target <= ${CPU_TARGET_PCT}%: ${cpuOk ? 'ok' : 'MISSED'}`,
  ];
  if (f.others.length) out.push(`   warning: another inspectd (pid ${f.others.join(', ')}) was running at the end of the window`);
  return { text: out.join('\n'), rssOk, cpuOk, ...f };
}

async function main() {
  const t0 = Date.now();
  if (!fs.existsSync(AGENT)) throw new Error(`no agent binary at ${AGENT}: run make first`);
  if (spawnSync('wrk', ['--version']).error) throw new Error('wrk is not installed (apt-get install wrk)');
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'inspectd-bench-'));
  tmpRoot = tmp;
  let ok = false;
  try {
    console.log(header());
    const phases = {};
    let t = Date.now();
    const lat = reportLatency(await benchLatency(path.join(tmp, 'latency')));
    phases.latency = (Date.now() - t) / 1000;
    console.log(lat.text);

    t = Date.now();
    const cost = reportCost(await benchCost(path.join(tmp, 'cost')));
    phases.cost = (Date.now() - t) / 1000;
    console.log(cost.text);

    t = Date.now();
    const fp = reportFootprint(await benchFootprint(path.join(tmp, 'footprint')));
    phases.footprint = (Date.now() - t) / 1000;
    console.log(fp.text);

    const total = (Date.now() - t0) / 1000;
    const s = [
      '',
      '== summary ==',
      `trigger latency, agent (meta trigger.latency_ms, n=${LATENCY_N}): median ${fmt(lat.a.med, 2)} ms, p90 ${fmt(lat.a.p90, 2)}, max ${fmt(lat.a.max, 2)}`,
      `node SIGUSR1 -> 9229 accepts (poll-connect, n=${LATENCY_N}):   median ${fmt(lat.n.med, 2)} ms, p90 ${fmt(lat.n.p90, 2)}, max ${fmt(lat.n.max, 2)}`,
      `agent's own share (median - median):            ${fmt(lat.a.med - lat.n.med, 2)} ms`,
      `cost (wrk -t1 -c32 -d${WRK_SECONDS}s, ${ROUNDS} rounds, ratio = median of per-round ratios to baseline; ` +
        `baseline MAD ${fmt(cost.noisePct, 1)}%):`,
    ];
    for (const x of cost.summary) {
      const b = x.c.key === 'baseline';
      s.push(`  ${x.c.key.padEnd(12)} ${fmt(x.rps, 0).padStart(7)} req/s  ` +
             `${(b ? '' : `ratio ${fmt(x.ratio, 3)} (${signedPct(x.ratio)}, CI ${x.ci ? `${fmt(x.ci.lo, 2)}..${fmt(x.ci.hi, 2)}` : 'n/a'})`).padEnd(36)}` +
             `  p99 ${fmt(x.p99, 2)} ms${b ? '' : ` (x${fmt(x.p99ratio, 2)})`}`);
    }
    s.push(`agent RSS (VmRSS, ${FOOTPRINT_TARGETS} idle targets): ${fmt(fp.rssKb / 1024, 2)} MiB   target <= 10 MiB   ${fp.rssOk ? 'ok' : 'MISSED'}`);
    s.push(`agent CPU (utime+stime, ${FOOTPRINT_SECONDS} s):   ${fmt(fp.cpuPct ?? 0, 3)}%      target <= ${CPU_TARGET_PCT}%    ${fp.cpuOk ? 'ok' : 'MISSED'}`);
    s.push(`runtime: ${fmt(total, 0)} s (latency ${fmt(phases.latency, 0)} s, cost ${fmt(phases.cost, 0)} s, footprint ${fmt(phases.footprint, 0)} s)` +
           `${notes.length ? `; ${notes.length} note(s): see below` : ''}`);
    if (tolerated.size) {
      s.push(`WARNING: another inspectd (pid ${[...tolerated].join(', ')}) ran for longer than the bench would wait; ` +
             'it reacts to the same signals, so the figures measured while it ran may be disturbed');
    }
    for (const n of notes) s.push(`note: ${n}`);
    console.log(s.join('\n'));
    ok = true;
  } finally {
    killAll();
    if (ok && !process.env.BENCH_KEEP) fs.rmSync(tmp, { recursive: true, force: true });
    else console.error(`bench: temporary folder kept: ${tmp}`);
  }
}

main().then(() => process.exit(0), (e) => {
  console.error(`\nbench: FAILED: ${e.stack || e}`);
  killAll();
  process.exit(1);
});
