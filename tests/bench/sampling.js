#!/usr/bin/env node
// inspectd benchmark, part 6 (run by `make bench`): what a capture costs a CPU-bound service,
// without wrk's noise: one node process (worker.js) counts units of work every 250 ms;
// windows of WINDOW s alternate, in a rotated order, between no capture, CPU profiling at
// the default interval (10000 us) and at 1000 us, heap sampling at the default
// (131072 B), trace events of the default categories (--trace-categories) and an
// allocation timeline (costly by design: measured to say how much); each capture is started through the API and runs for the whole window.
// Figure: median over rounds of (units/s during the window / units/s of the same round's
// window without a capture). Goal for the defaults: at most 2% lost.
'use strict';
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const { sleep, children, waitFor, run, median } = require('./common');

const ROOT = path.resolve(__dirname, '../..');
const AGENT = process.env.INSPECTD || path.join(ROOT, '.output/inspectd');
const ROUNDS = Number(process.env.BENCH_SAMPLING_ROUNDS) || 8;
const WINDOW = Number(process.env.BENCH_SAMPLING_WINDOW) || 4;
// BENCH_SAMPLING_ONLY=trace,trace-node: those conditions alone (and the windows without one).
const ONLY = process.env.BENCH_SAMPLING_ONLY ? process.env.BENCH_SAMPLING_ONLY.split(',') : null;

function api(sock, method, urlPath, body) {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: sock, method, path: urlPath, headers: body ? { 'Content-Length': Buffer.byteLength(body) } : {} }, (res) => {
      let data = '';
      res.on('data', (d) => { data += d; });
      res.on('end', () => resolve({ status: res.statusCode, json: (() => { try { return JSON.parse(data); } catch { return null; } })() }));
    });
    req.on('error', reject);
    if (body) req.write(body);
    req.end();
  });
}

// Units per second the worker reported between two marks in its output.
function rate(w, from, to) {
  const counts = w.out.slice(from, to).split('\n').filter((l) => l.startsWith('units ')).map((l) => Number(l.slice(6)));
  const inner = counts.slice(1, -1);       // the edges may be partial windows
  return inner.reduce((a, b) => a + b, 0) / (inner.length * 0.25);
}


async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inspectd-sampling-'));
  const conditions = [
    { key: 'none' },
    { key: 'cpu-10000', agent: 'default', kind: 'cpu' },
    { key: 'cpu-1000', agent: 'fine', kind: 'cpu' },
    { key: 'heap-131072', agent: 'default', kind: 'heap' },
    { key: 'trace', agent: 'default', kind: 'trace' },
    // The default categories' choice: without v8's (GC, compilation and execution events).
    { key: 'trace-node', agent: 'default', kind: 'trace', categories: 'node,node.perf', candidate: true },
    { key: 'timeline', agent: 'default', kind: 'allocation-timeline', costly: true },
  ].filter((c) => !ONLY || c.key === 'none' || ONLY.includes(c.key));
  const agents = {};
  for (const [name, args] of [['default', []], ['fine', ['--cpu-sampling-interval', '1000']]]) {
    agents[name] = { args, sock: path.join(dir, `${name}.sock`) };
  }
  const w = await run([process.execPath, path.join(ROOT, 'tests/integration/apps/worker.js')], /ready/);
  const results = Object.fromEntries(conditions.map((c) => [c.key, []]));
  let agent = null;
  let running = null;
  const use = async (name) => {
    if (running === name) return;
    if (agent) { agent.kill('SIGTERM'); await waitFor('the agent to exit', () => !children.has(agent)); }
    const a = agents[name];
    agent = await run([AGENT, '--output-dir', path.join(dir, 'out'), '--api-socket', a.sock, '--state-dir', path.join(dir, 'state'),
      '--max-captures-per-container-per-hour', '1000', ...a.args], /ready:/);
    running = name;
    await waitFor('the worker tracked', async () => ((await api(a.sock, 'GET', '/v1/processes')).json.processes || []).some((p) => p.pid === w.pid));
  };
  try {
    await use('default');
    await sleep(2000);
    for (let r = 0; r < ROUNDS; r++) {
      const order = conditions.map((_, i) => conditions[(i + r) % conditions.length]);
      let base = null;
      const got = {};
      for (const c of order) {
        if (c.agent) await use(c.agent);
        let from;
        if (c.kind) {
          const res = await api(agents[c.agent].sock, 'POST', '/v1/captures', JSON.stringify({ pid: w.pid, kind: c.kind, seconds: WINDOW + 1, ...(c.categories ? { categories: c.categories } : {}) }));
          if (res.status !== 202) throw new Error(`capture refused: ${res.status} ${JSON.stringify(res.json)}`);
          await waitFor('profiling', async () => (await api(agents[c.agent].sock, 'GET', `/v1/captures/${res.json.id}`)).json.state === 'running');
          from = w.out.length;
          await sleep(WINDOW * 1000);
          got[c.key] = rate(w, from, w.out.length);
          await waitFor('the capture over', async () => ['done', 'failed'].includes((await api(agents[c.agent].sock, 'GET', `/v1/captures/${res.json.id}`)).json.state), 30000);
        } else {
          from = w.out.length;
          await sleep(WINDOW * 1000);
          base = rate(w, from, w.out.length);
        }
      }
      for (const c of conditions) if (c.kind) results[c.key].push(got[c.key] / base);
      process.stderr.write('.');
    }
  } finally {
    if (agent) agent.kill('SIGTERM');
    w.kill('SIGKILL');
  }
  console.log(`\n6. What a capture costs a CPU-bound service (worker.js; ${ROUNDS} rounds of ${WINDOW} s windows, order rotated)`);
  for (const c of conditions.filter((x) => x.kind)) {
    const rs = results[c.key];
    const m = median(rs);
    const dflt = c.key !== 'cpu-1000' && !c.costly && !c.candidate;
    console.log(`   ${c.key.padEnd(12)} ${((m - 1) * 100).toFixed(1).padStart(6)}% units/s (median of ratios; min ${((Math.min(...rs) - 1) * 100).toFixed(1)}%, max ${((Math.max(...rs) - 1) * 100).toFixed(1)}%)` +
      `${dflt ? `   default, goal >= -2%: ${m >= 0.98 ? 'ok' : 'MISSED'}` : c.costly ? '   (costly by design: said so)' : c.candidate ? `   (categories ${c.categories})` : '   (one flag away)'}`);
  }
  fs.rmSync(dir, { recursive: true, force: true });
}

main().then(() => process.exit(0), (e) => { console.error(`bench: FAILED: ${e.stack || e}`); process.exit(1); });
