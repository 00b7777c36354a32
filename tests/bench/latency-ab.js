#!/usr/bin/env node
// inspectd benchmark, part 5 (run by `make bench`): trigger latency of this build against a
// baseline build (BASELINE_INSPECTD, built by make bench from BENCH_BASELINE), side by side in
// one run: blocks of 5 heap captures, the two agents alternating block by block (one agent
// per host: each block starts its agent afresh), each capture on a fresh idle node process.
// Figure: meta.json trigger.latency_ms (kernel signal event -> HeapProfiler.startSampling
// answered). Goal: the median no worse than the baseline's by more than 1 ms.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { sleep, children, waitFor, run, median } = require('./common');

const ROOT = path.resolve(__dirname, '../..');
const AGENT = process.env.INSPECTD || path.join(ROOT, '.output/inspectd');
const BASELINE = process.env.BASELINE_INSPECTD;
const N = Number(process.env.BENCH_LATENCY_N) || 20;
const BLOCK = 5;
const APPS = path.join(ROOT, 'tests/integration/apps');

async function block(bin, n) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inspectd-ab-'));
  const out = path.join(dir, 'out');
  // Many captures of one process an hour: past the per-container cap, where the build has one.
  const help = spawnSync(bin, ['--help'], { encoding: 'utf8' }).stdout || '';
  const uncapped = /--max-captures-per-container-per-hour/.test(help) ? ['--max-captures-per-container-per-hour', '1024'] : [];
  const agent = await run([bin, '--output-dir', out, '--api-socket', path.join(dir, 'api.sock'),
    '--state-dir', path.join(dir, 'state'), ...uncapped], /ready:/);
  const lat = [];
  try {
    for (let i = 0; i < n; i++) {
      const t = await run([process.execPath, path.join(APPS, 'idle.js')], /ready/);
      try {
        await waitFor('discovery', () => new RegExp(`pid ${t.pid}: discovered`).test(agent.out));
        await sleep(200);
        process.kill(t.pid, 'SIGWINCH');
        await waitFor('profiling', () => new RegExp(`pid ${t.pid}: heap profiling started`).test(agent.out));
        await sleep(200);
        process.kill(t.pid, 'SIGWINCH');
        const meta = await waitFor('meta.json', () => {
          const f = fs.existsSync(out) && fs.readdirSync(out).find((x) => x.startsWith(`heap-profile-${t.pid}-`) && x.endsWith('.meta.json'));
          return f && JSON.parse(fs.readFileSync(path.join(out, f), 'utf8'));
        });
        await waitFor('the inspector closed', () => new RegExp(`pid ${t.pid}: inspector closed`).test(agent.out));
        lat.push(meta.trigger.latency_ms);
      } finally {
        t.kill('SIGKILL');
      }
    }
  } finally {
    agent.kill('SIGTERM');
    await waitFor('the agent to exit', () => !children.has(agent));
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return lat;
}


async function main() {
  console.log('\n5. Trigger latency, this build against a baseline build, side by side');
  if (!BASELINE || !fs.existsSync(BASELINE)) {
    console.log('   MISSED: no baseline build (BASELINE_INSPECTD); make bench builds one from BENCH_BASELINE');
    process.exit(1);
  }
  const now = [];
  const base = [];
  for (let done = 0; done < N; done += BLOCK) {
    const n = Math.min(BLOCK, N - done);
    const order = (done / BLOCK) % 2 ? [[BASELINE, base], [AGENT, now]] : [[AGENT, now], [BASELINE, base]];
    for (const [bin, into] of order) into.push(...await block(bin, n));
    process.stderr.write('.');
  }
  const d = median(now) - median(base);
  console.log(`   ${N} heap captures each, in blocks of ${BLOCK}, alternating; ms from the kernel's signal event to the profiler started`);
  console.log(`   this build: median ${median(now).toFixed(2)} ms (min ${Math.min(...now).toFixed(2)}, max ${Math.max(...now).toFixed(2)})`);
  console.log(`   baseline:   median ${median(base).toFixed(2)} ms (min ${Math.min(...base).toFixed(2)}, max ${Math.max(...base).toFixed(2)})  ${path.relative(ROOT, BASELINE)}`);
  console.log(`   difference: ${d >= 0 ? '+' : ''}${d.toFixed(2)} ms   goal <= +1 ms: ${d <= 1 ? 'ok' : 'MISSED'}`);
}

main().then(() => process.exit(0), (e) => { console.error(`bench: FAILED: ${e.stack || e}`); process.exit(1); });
