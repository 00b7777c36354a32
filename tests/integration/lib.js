// Shared by the integration tests: the real agent, real node processes.
'use strict';
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const assert = require('node:assert/strict');

const AGENT = process.env.INSPECTD || path.resolve(__dirname, '../../.output/inspectd');
const INSPECTCTL = process.env.INSPECTCTL || path.resolve(__dirname, '../../.output/inspectctl');
const HELPERS = process.env.HELPERS || path.resolve(__dirname, '../../.output/tests');
const APPS = path.join(__dirname, 'apps');
// The agent built with AddressSanitizer (make check SANITIZE=1): its runtime is in the binary.
// ASan makes the agent's own work two to three times slower; a bound on its latency scales.
const SANITIZED = fs.existsSync(AGENT) && fs.readFileSync(AGENT).includes('__asan_init');
const NODE = process.execPath;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitFor(what, fn, timeoutMs = 10000, stepMs = 20) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(stepMs);
  }
}

// A capture's states once it is over.
const TERMINAL = ['done', 'failed'];

// Whether a capture is over as the API shows it. Not its state alone: between the capture's
// own end and the dispatcher's finishing the job, GET shows "done" with no error, no files
// and ended_at null, even for a capture that failed (seen for a failed locate). Finished, a
// job always has its ended_at.
function over(j) {
  return TERMINAL.includes(j.state) && j.ended_at !== null;
}

// A capture's number, from a job or its id ("c-000042" -> 42): ids grow with each capture.
function jobNumber(j) {
  return Number(/^c-(\d+)$/.exec(typeof j === 'string' ? j : j.id)[1]);
}

// A strict reader of the Prometheus text format (0.0.4): returns { family: { type, samples } },
// each sample { name, labels (as written), labelSet (parsed), value }.
function parsePrometheus(text) {
  const families = {};
  const sampleRe = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*"(?:,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*")*)\})? (-?(?:\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|\+Inf|-Inf|NaN))$/;
  assert.ok(text.endsWith('\n'), 'ends with a newline');
  for (const line of text.slice(0, -1).split('\n')) {
    let m;
    if ((m = /^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) .+$/.exec(line))) {
      assert.ok(!families[m[1]], `one HELP for ${m[1]}`);
      families[m[1]] = { help: true, samples: [] };
    } else if ((m = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/.exec(line))) {
      assert.ok(families[m[1]] && !families[m[1]].type, `TYPE after HELP for ${m[1]}`);
      families[m[1]].type = m[2];
    } else {
      m = sampleRe.exec(line);
      assert.ok(m, `sample line: ${JSON.stringify(line)}`);
      const base = m[1].replace(/_(bucket|sum|count)$/, '');
      const fam = families[m[1]] || families[base];
      assert.ok(fam && fam.type, `sample ${m[1]} after its TYPE`);
      const labelSet = {};
      for (const [, k, v] of (m[3] || '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\.)*)"/g)) {
        labelSet[k] = v.replace(/\\(.)/g, (_, c) => (c === 'n' ? '\n' : c));
      }
      fam.samples.push({ name: m[1], labels: m[3] || '', labelSet, value: Number(m[4].replace('+Inf', 'Infinity')) });
    }
  }
  return families;
}

// A fresh folder under /tmp. The folders made here (each agent's output, with its heap
// snapshots, its state and socket) are removed with all in them when this test file's (or
// benchmark's) process exits; INSPECTD_KEEP_TMP=1 keeps them, to look at after a run. A
// folder with something mounted in it (a test that could not unmount its tmpfs) is kept,
// and said: removing it would empty what is mounted there.
const tmpdirs = [];

function tmpdir(prefix = 'inspectd-test-') {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  tmpdirs.push(dir);
  return dir;
}

// Mount points in this process's mount namespace (mountinfo's fifth field, unescaped).
function mountPoints() {
  try {
    return fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter(Boolean)
      .map((line) => line.split(' ')[4].replace(/\\([0-7]{3})/g, (_, o) => String.fromCharCode(parseInt(o, 8))));
  } catch {
    return [];
  }
}

process.on('exit', () => {
  if (process.env.INSPECTD_KEEP_TMP === '1' || !tmpdirs.length) return;
  const mounts = mountPoints();
  for (const dir of tmpdirs) {
    const mounted = mounts.find((m) => m === dir || m.startsWith(`${dir}/`));
    if (mounted) {
      process.stderr.write(`${dir}: kept, ${mounted} is mounted in it\n`);
      continue;
    }
    try {
      fs.rmSync(dir, { recursive: true, force: true });
    } catch (e) {
      process.stderr.write(`${dir}: ${e.message}, ignoring\n`);
    }
  }
});

class Agent {
  constructor(args = [], opts = {}) {
    const dir = tmpdir();
    this.outputDir = opts.outputDir || path.join(dir, 'out');
    this.socket = path.join(dir, 'api.sock');
    this.stateDir = opts.stateDir || path.join(dir, 'state');
    this.keepsRecords = !!opts.keepsRecords;  // the test expects records to outlive this agent
    this.env = opts.env;  // the agent's environment (credentials), else the test's
    // What runs the agent: its binary (the packaged one, say), after a wrapper's argv if any.
    this.command = opts.command || [AGENT];
    this.args = ['--output-dir', this.outputDir, '--api-socket', this.socket, '--state-dir', this.stateDir, ...args];
    // INSPECTD_EXTRA_ARGS='["--select","cmdline~/path/of/this/tree/"]' (a JSON array): added to
    // every agent's, e.g. so that a threshold suite on a shared machine captures only the
    // test's own processes (not for select.test.js, whose rules it would widen).
    if (process.env.INSPECTD_EXTRA_ARGS) this.args.push(...JSON.parse(process.env.INSPECTD_EXTRA_ARGS));
    this.log = '';
    this.exited = null;
  }

  async start() {
    this.proc = spawn(this.command[0], [...this.command.slice(1), ...this.args], { stdio: ['ignore', 'pipe', 'pipe'], env: this.env || process.env });
    this.proc.stdout.on('data', (d) => { this.log += d; });
    this.proc.stderr.on('data', (d) => { this.log += d; });
    this.proc.on('exit', (code, signal) => { this.exited = { code, signal }; });
    await waitFor('the agent to be ready', () => {
      if (this.exited) throw new Error(`agent exited early: ${JSON.stringify(this.exited)}\n${this.log}`);
      return /ready:/.test(this.log);
    });
    if (process.env.INSPECTD_STRACE) await this.strace(process.env.INSPECTD_STRACE);
    return this;
  }

  // INSPECTD_STRACE=DIR: strace follows the started agent (every thread, the ones to come
  // too) into DIR/trace.PID, to measure the system calls the running agent makes (the
  // seccomp allow-list, src/syscall_filter.c). Start-up is not in it: the filter comes after.
  // A call the filter refuses is in the record too (= -1 EPERM); with --no-syscall-filter
  // in INSPECTD_EXTRA_ARGS, none is refused.
  async strace(dir) {
    fs.mkdirSync(dir, { recursive: true });
    const pid = this.proc.pid;
    const tracer = spawn('strace', ['-f', '-qq', '-o', path.join(dir, `trace.${pid}`), '-p', String(pid)], { stdio: 'ignore' });
    tracer.on('error', () => {});
    await waitFor('strace to attach', () => fs.readdirSync(`/proc/${pid}/task`).every((t) =>
      /^TracerPid:\s+[1-9]/m.test(fs.readFileSync(`/proc/${pid}/task/${t}/status`, 'utf8'))));
  }

  // For the few facts the log alone carries (start-up, the log's own form): everything
  // else is read from the API, /metrics or meta.json (STYLE.md, habit 11).
  async waitLog(re, timeoutMs = 10000) {
    await waitFor(`agent log ${re}`, () => re.test(this.log), timeoutMs).catch((e) => {
      e.message += `\n--- agent log ---\n${this.log}`;
      throw e;
    });
    return this.log.match(re);
  }

  // One HTTP request to the agent's API socket: { status, body, json }.
  request(method, urlPath, body, headers = {}) {
    return new Promise((resolve, reject) => {
      const req = require('node:http').request({ socketPath: this.socket, method, path: urlPath, headers, timeout: 5000 }, (res) => {
        let data = '';
        res.on('data', (d) => { data += d; });
        res.on('end', () => {
          let json = null;
          try { json = JSON.parse(data); } catch { /* not JSON */ }
          resolve({ status: res.statusCode, body: data, json, headers: res.headers });
        });
        // A response cut short (the agent ended in the middle of it) emits neither 'end' nor,
        // with no listener, 'error': only 'close'. Unheeded, the promise would never settle,
        // with nothing left in the event loop (it once hung a test until its timeout).
        res.on('error', () => {});
        res.on('close', () => { if (!res.complete) reject(new Error(`API ${method} ${urlPath}: the response was cut short`)); });
      });
      req.on('timeout', () => req.destroy(new Error(`API ${method} ${urlPath} timed out`)));
      req.on('error', reject);
      if (body !== undefined) {
        const text = typeof body === 'string' ? body : JSON.stringify(body);
        req.setHeader('Content-Length', Buffer.byteLength(text));
        req.write(text);
      }
      req.end();
    });
  }

  // Every capture of pid is over, its files committed or its failure known (the API says so).
  async settled(pid, timeoutMs = 15000) {
    await waitFor(`the captures of pid ${pid} to be over`, async () => {
      const jobs = await this.captures(pid);
      return jobs.every(over);
    }, timeoutMs);
  }

  // The captures the API shows (GET /v1/captures), newest first; of pid alone when one is given.
  async captures(pid) {
    const r = await this.request('GET', '/v1/captures');
    assert.equal(r.status, 200, r.body);
    const jobs = r.json.captures;
    return pid === undefined ? jobs : jobs.filter((j) => j.pid === pid);
  }

  // One capture as the API shows it: by id ("c-000001", GET /v1/captures/ID), or the newest
  // of a pid; null when there is none.
  async capture(which) {
    if (typeof which === 'string') {
      const r = await this.request('GET', `/v1/captures/${which}`);
      return r.status === 200 ? r.json : null;
    }
    let newest = null;
    for (const j of await this.captures(which)) if (!newest || jobNumber(j) > jobNumber(newest)) newest = j;
    return newest;
  }

  // Wait for a capture (an id, or the newest of a pid: with { after: job or id }, one newer
  // than that) to be in state (a name, or a list of names); returns it. A capture that ends
  // in another state fails the wait at once, its JSON in the message.
  async waitState(which, state, { timeoutMs = 15000, after = null } = {}) {
    const want = [].concat(state);
    let last = null;
    try {
      return await waitFor(`capture ${which} to be ${want.join('|')}`, async () => {
        const j = await this.capture(which);
        last = j;
        if (!j || (after && jobNumber(j) <= jobNumber(after))) return null;
        if (TERMINAL.includes(j.state) && !over(j)) return null;
        if (want.includes(j.state)) return j;
        if (TERMINAL.includes(j.state)) throw new Error(`capture ${j.id} of pid ${j.pid} ended ${j.state}, not ${want.join('|')}: ${JSON.stringify(j)}`);
        return null;
      }, timeoutMs);
    } catch (e) {
      e.message += `\nlast seen: ${JSON.stringify(last)}\n--- agent log ---\n${this.log}`;
      throw e;
    }
  }

  // pid's row in GET /v1/processes, or null.
  async process(pid) {
    const r = await this.request('GET', '/v1/processes');
    assert.equal(r.status, 200, r.body);
    return r.json.processes.find((p) => p.pid === pid) || null;
  }

  // Wait for /v1/processes to list pid (and for its row to satisfy pred); returns the row.
  async waitTracked(pid, pred = () => true, timeoutMs = 10000) {
    return waitFor(`pid ${pid} in /v1/processes`, async () => {
      const row = await this.process(pid);
      return row && pred(row) ? row : null;
    }, timeoutMs);
  }

  // GET /metrics, read strictly (parsePrometheus).
  async metrics() {
    const r = await this.request('GET', '/metrics');
    assert.equal(r.status, 200, r.body);
    return parsePrometheus(r.body);
  }

  // The value of sample name (e.g. "inspectd_captures_total"), summed over the samples whose
  // labels include labels (all of them, when none are given). A name or label that matches
  // no sample throws: a family renamed does not read as 0.
  async metric(name, labels = {}) {
    const samples = Object.values(await this.metrics()).flatMap((f) => f.samples)
      .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labelSet[k] === String(v)));
    assert.ok(samples.length, `no sample ${name}${JSON.stringify(labels)} in /metrics`);
    return samples.reduce((sum, s) => sum + s.value, 0);
  }

  // Wait for metric(name, labels) to be value; returns it.
  async waitMetric(name, labels, value, timeoutMs = 10000) {
    let last;
    await waitFor(`${name}${JSON.stringify(labels)} to be ${value}`, async () => (last = await this.metric(name, labels)) === value,
      timeoutMs).catch((e) => {
      e.message += ` (last ${last})`;
      throw e;
    });
    return value;
  }

  files(re = /./) {
    if (!fs.existsSync(this.outputDir)) return [];
    return fs.readdirSync(this.outputDir).filter((f) => re.test(f)).sort();
  }

  // The seccomp filter's refusals so far (/metrics), or null when the agent cannot say
  // (no filter, or not answering).
  async refusedSyscalls() {
    try {
      const r = await this.request('GET', '/metrics');
      const m = /^inspectd_syscalls_refused_total (\d+)$/m.exec(r.body);
      return m ? Number(m[1]) : null;
    } catch {
      return null;
    }
  }

  async stop() {
    if (!this.proc) return this.exited;
    let refused = null;
    if (!this.exited) {
      // Every suite runs under the filter: a system call it refused is a failure of the test
      // that made the agent make it (README "Hardening").
      refused = await this.refusedSyscalls();
      this.proc.kill('SIGTERM');
      await waitFor('the agent to exit', () => this.exited, 20000);
    }
    // Under SANITIZE=1 a report ends the agent with code 86: no test passes beside one.
    // (A test may kill -9 the agent on purpose: that is the only other way out.)
    if (/ERROR: (Address|Leak)Sanitizer|runtime error:/.test(this.log) ||
        (this.exited.code !== 0 && this.exited.signal !== 'SIGKILL')) {
      throw new Error(`the agent ended with ${JSON.stringify(this.exited)}\n--- agent log ---\n${this.log}`);
    }
    if (refused) throw new Error(`the system call filter refused ${refused} call(s)\n--- agent log ---\n${this.log}`);
    // An agent that ended on its own terms left no inspector of its opening behind.
    const opened = path.join(this.stateDir, 'opened');
    const left = fs.existsSync(opened) ? fs.readdirSync(opened) : [];
    if (left.length && !this.keepsRecords) throw new Error(`the agent left records of open inspectors: ${left}\n--- agent log ---\n${this.log}`);
    return this.exited;
  }
}

class Target {
  constructor(app, opts = {}) {
    this.cmd = opts.cmd || NODE;
    this.args = opts.args || [...(opts.nodeArgs || []), path.join(APPS, app)];
    this.wrap = opts.wrap || null;  // e.g. ['unshare', '--net', '--']
    this.readyTimeoutMs = opts.readyTimeoutMs || 10000;  // a target that builds a large heap first
    this.out = '';
    this.exited = null;
  }

  async start() {
    const argv = this.wrap ? [...this.wrap, this.cmd, ...this.args] : [this.cmd, ...this.args];
    this.proc = spawn(argv[0], argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
    this.proc.stdin.on('error', () => {});
    this.proc.stdout.on('data', (d) => { this.out += d; });
    this.proc.stderr.on('data', (d) => { this.out += d; });
    this.proc.on('exit', (code, signal) => { this.exited = { code, signal }; });
    await waitFor('the target to be ready', () => {
      if (this.exited) throw new Error(`target exited early: ${JSON.stringify(this.exited)}\n${this.out}`);
      return /ready/.test(this.out);
    }, this.readyTimeoutMs);
    this.pid = this.proc.pid;
    if (this.wrap) {
      // A wrapper may exec the target (unshare --net) or fork it (unshare --fork).
      const self = () => { try { return fs.readlinkSync(`/proc/${this.proc.pid}/exe`) === fs.realpathSync(this.cmd); } catch { return false; } };
      this.pid = await waitFor('the wrapped pid', () => (self() ? this.proc.pid : findChild(this.proc.pid, this.cmd)));
    }
    this.startTime = startTime(this.pid);
    return this;
  }

  alive() {
    try { process.kill(this.pid, 0); } catch { return false; }
    // A zombie is not alive.
    const fields = statFields(this.pid);
    return fields !== null && fields[0] !== 'Z';
  }

  // A target just dead is a zombie not yet reaped (alive() false, exited still null) for a
  // moment: wait up to timeoutMs for its exit, to say how it ended.
  async reaped(timeoutMs) {
    if (!this.exited && !this.alive()) await waitFor('the target\'s exit to be reaped', () => this.exited, timeoutMs).catch(() => {});
  }

  // Fails the test when the target is gone, saying how it ended.
  async assertAlive() {
    if (this.alive()) return;
    await this.reaped(2000);
    assert.fail(`the target is gone: ${JSON.stringify(this.exited)}\n${this.out.slice(-2000)}`);
  }

  signal(sig) { process.kill(this.pid, sig); }

  // grow.js: one command, answered by one "ok" line.
  async send(line) {
    const before = (this.out.match(/^ok /gm) || []).length;
    this.proc.stdin.write(`${line}\n`);
    await waitFor(`the target to do "${line}"`, () => (this.out.match(/^ok /gm) || []).length > before);
  }

  async stop() {
    if (!this.proc || this.exited) return;
    this.proc.kill('SIGKILL');
    // The wrapped process, unless its pid is another process's by now (pids are reused).
    if (this.pid !== this.proc.pid && startTime(this.pid) === this.startTime) { try { process.kill(this.pid, 'SIGKILL'); } catch {} }
    await waitFor('the target to exit', () => this.exited, 5000);
  }
}

// /proc/PID/stat's fields after the command's name (state first: field 3 is [0]), or null
// when the process is gone.
function statFields(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

// A process's start time (field 22), null when it is gone: with its pid, who it is (a pid
// alone may be reused).
function startTime(pid) {
  const fields = statFields(pid);
  return fields && fields[19];
}

function findChild(ppid, cmd) {
  const base = path.basename(cmd);
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const fields = statFields(d);
      if (!fields || Number(fields[1]) !== ppid) continue;
      if (path.basename(fs.readlinkSync(`/proc/${d}/exe`)) === base) return Number(d);
      const deeper = findChild(Number(d), cmd);
      if (deeper) return deeper;
    } catch { /* gone */ }
  }
  return null;
}

// TCP sockets in LISTEN state that the process owns, from its own namespace's tables.
function listeningPorts(pid) {
  const inodes = new Set();
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]);
    } catch { /* closed meanwhile */ }
  }
  const ports = [];
  for (const table of ['tcp', 'tcp6']) {
    let text;
    try { text = fs.readFileSync(`/proc/${pid}/net/${table}`, 'utf8'); } catch { continue; }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10 || f[3] !== '0A') continue;
      if (inodes.has(f[9])) ports.push(parseInt(f[1].split(':')[1], 16));
    }
  }
  return ports;
}

// Run fn(agent, targets) against a fresh agent; the targets pushed are stopped afterwards.
async function withAgent(args, opts, fn) {
  if (typeof opts === 'function') { fn = opts; opts = {}; }
  const agent = await new Agent(args, opts).start();
  const targets = [];
  try {
    await fn(agent, targets);
  } catch (e) {
    // A target that ended under the test is often why it failed: say how, and what it wrote.
    for (const t of targets.filter((x) => x.pid)) await t.reaped(1000);
    for (const t of targets.filter((x) => x.exited)) {
      e.message += `\n--- target ${t.pid} ended ${JSON.stringify(t.exited)}; its output (tail) ---\n${t.out.slice(-1500)}`;
    }
    throw e;
  } finally {
    for (const t of targets) await t.stop();
    await agent.stop();
  }
}

// Start a target, registered first so that a failed start is still cleaned up.
async function start(targets, app, opts) {
  const t = new Target(app, opts);
  targets.push(t);
  return t.start();
}

function readJSON(file) {
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

// Self size per function name over a sampling heap profile's tree.
function heapSelfByFunction(profile) {
  const self = new Map();
  (function walk(n) {
    const name = n.callFrame.functionName || '(anonymous)';
    self.set(name, (self.get(name) || 0) + n.selfSize);
    for (const c of n.children || []) walk(c);
  })(profile.head);
  return [...self].sort((a, b) => b[1] - a[1]);
}

// Hits per function name over a CPU profile's nodes, V8's pseudo-frames left out.
function cpuHitsByFunction(profile) {
  const hits = new Map();
  for (const n of profile.nodes) {
    const name = n.callFrame.functionName || '(anonymous)';
    if (/^\((idle|program|garbage collector|root)\)$/.test(name)) continue;
    hits.set(name, (hits.get(name) || 0) + (n.hitCount || 0));
  }
  return [...hits].sort((a, b) => b[1] - a[1]);
}

// A cgroup beneath the test's own, in the memory hierarchy (cgroup v1 here) or else in
// cgroup v2, with a memory limit when one is given. The caller removes dir when its
// processes are gone.
function makeCgroup(name, limitBytes) {
  const lines = fs.readFileSync('/proc/self/cgroup', 'utf8').split('\n');
  const v1 = lines.find((l) => /^\d+:([^:]*,)?memory(,[^:]*)?:/.test(l));
  const dir = v1 ? path.join('/sys/fs/cgroup/memory', v1.split(':')[2], name)
    : path.join('/sys/fs/cgroup', lines.find((l) => l.startsWith('0::')).slice(3), name);
  fs.mkdirSync(dir);
  if (limitBytes) fs.writeFileSync(path.join(dir, v1 ? 'memory.limit_in_bytes' : 'memory.max'), String(limitBytes));
  return { dir, add: (pid) => fs.writeFileSync(path.join(dir, 'cgroup.procs'), String(pid)) };
}

function helper(name, args) {
  const r = spawnSync(path.join(HELPERS, name), args.map(String), { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${name} failed: ${r.stderr}`);
}

module.exports = {
  AGENT, INSPECTCTL, APPS, NODE, HELPERS, SANITIZED, Agent, Target, withAgent, start, sleep, waitFor, tmpdir, listeningPorts, readJSON, startTime,
  heapSelfByFunction, cpuHitsByFunction, helper, makeCgroup, parsePrometheus,
};
