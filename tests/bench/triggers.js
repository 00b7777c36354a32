// make bench, part 2: the kernel-side triggers (issue 4), measured side by side in one run.
//   1. page-fault tax: a tracked node process below every threshold faults in and frees
//      256 MiB repeatedly, with the agent up and without it, alternated (median ratio of pairs)
//   2. threshold -> sampling started: --rss-threshold crossings, meta.json trigger.latency_ms
//   3. idle footprint with 20 tracked processes and every trigger armed: RSS and CPU
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { Agent, Target, sleep, readJSON } = require('../integration/lib');

const PAIRS = Number(process.env.BENCH_FAULT_PAIRS || 9);
const FAULT_ROUNDS = Number(process.env.BENCH_FAULT_ROUNDS || 12);
const THRESHOLD_N = Number(process.env.BENCH_THRESHOLD_N || 10);
const FOOTPRINT_SECONDS = Number(process.env.BENCH_FOOTPRINT_SECONDS || 30);
const ARMED = ['--rss-threshold', '100G', '--rss-growth', '50G/10m', '--limit-percent', '95',
  '--cpu-threshold', '95', '--cpu-window', '15s'];

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const n = s.length; return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2; };
const fmt = (x, d = 2) => x.toFixed(d);

function faultRun() {
  const r = spawnSync(process.execPath, ['--expose-gc', path.join(__dirname, 'apps-faults.js'), String(FAULT_ROUNDS)],
    { encoding: 'utf8', timeout: 120000 });
  if (r.status !== 0) throw new Error(`fault workload failed: ${r.stderr}`);
  return Number(r.stdout.trim());
}

async function pageFaultTax() {
  const pairs = [];
  for (let i = 0; i < PAIRS; i++) {
    // Alternate which goes first, so drift does not favour either side.
    const order = i % 2 ? ['with', 'without'] : ['without', 'with'];
    const t = {};
    for (const side of order) {
      if (side === 'with') {
        const agent = await new Agent(ARMED).start();
        try { t.with = faultRun(); } finally { await agent.stop(); }
        if (!/discovered node/.test(agent.log)) throw new Error('the workload was not tracked');
        if (/crossed/.test(agent.log)) throw new Error('a threshold fired during the fault bench');
      } else {
        t.without = faultRun();
      }
    }
    pairs.push(t);
    process.stderr.write(`  pair ${i + 1}: without ${fmt(t.without, 0)} ms, with ${fmt(t.with, 0)} ms\n`);
  }
  return pairs;
}

async function thresholdLatency() {
  const agent = await new Agent(['--rss-threshold', '200M', '--capture-seconds', '1', '--cooldown', '0',
    '--max-captures-per-hour', '1000']).start();
  const lat = [];
  try {
    for (let i = 0; i < THRESHOLD_N; i++) {
      const t = await new Target('grow.js').start();
      try {
        await sleep(300);
        await t.send('grow 220');
        await agent.waitLog(new RegExp(`pid ${t.pid}: inspector closed`), 15000);
        const f = agent.files(new RegExp(`-${t.pid}-.*\\.meta\\.json$`))[0];
        lat.push(readJSON(path.join(agent.outputDir, f)).trigger.latency_ms);
      } finally {
        await t.stop();
      }
    }
  } finally {
    await agent.stop();
  }
  return lat;
}

function schedNs(pid) {
  let ns = 0;
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    try { ns += Number(fs.readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]); } catch { /* gone */ }
  }
  return ns;
}

async function footprint() {
  const targets = [];
  try {
    for (let i = 0; i < 20; i++) targets.push(await new Target('idle.js').start());
    const agent = await new Agent(ARMED).start();
    try {
      await sleep(5000);
      const pid = agent.proc.pid;
      const ns0 = schedNs(pid);
      const t0 = Date.now();
      await sleep(FOOTPRINT_SECONDS * 1000);
      const cpu = (schedNs(pid) - ns0) / 1e6 / (Date.now() - t0) * 100;
      const rss = Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);
      const tracked = Number(/(\d+) node processes running/.exec(agent.log)[1]);
      return { cpu, rssKiB: rss, tracked };
    } finally {
      await agent.stop();
    }
  } finally {
    for (const t of targets) await t.stop();
  }
}

(async () => {
  console.log('\ninspectd benchmark, part 2: kernel-side triggers');
  process.stderr.write('1. page-fault tax\n');
  const pairs = await pageFaultTax();
  const ratios = pairs.map((p) => p.with / p.without);
  console.log(`\n1. Page-fault tax: node --expose-gc apps-faults.js ${FAULT_ROUNDS} (fault in and free 256 MiB, ${FAULT_ROUNDS} times),`);
  console.log(`   tracked and below every armed threshold (${ARMED.join(' ')}), vs no agent; ${PAIRS} alternated pairs`);
  console.log(`   without agent: median ${fmt(median(pairs.map((p) => p.without)), 0)} ms; with agent: median ${fmt(median(pairs.map((p) => p.with)), 0)} ms`);
  console.log(`   ratio with/without, median of pairs: ${fmt(median(ratios), 4)} (${fmt((median(ratios) - 1) * 100, 2)}%)   target <= 1.01: ${median(ratios) <= 1.01 ? 'ok' : 'MISSED'}`);
  console.log(`   pair ratios: ${ratios.map((r) => fmt(r, 3)).join(' ')}`);

  process.stderr.write('2. threshold latency\n');
  const lat = await thresholdLatency();
  console.log(`\n2. Threshold -> sampling started: ${THRESHOLD_N} fresh grow.js processes crossing --rss-threshold 200M`);
  console.log(`   (meta.json trigger.latency_ms: kernel rss_stat event -> HeapProfiler.startSampling answered)`);
  console.log(`   median ${fmt(median(lat))} ms, max ${fmt(Math.max(...lat))} ms   target median <= 50 ms: ${median(lat) <= 50 ? 'ok' : 'MISSED'}`);
  console.log(`   samples: ${lat.map((x) => fmt(x, 1)).join(' ')}`);

  process.stderr.write('3. footprint with every trigger armed\n');
  const fp = await footprint();
  console.log(`\n3. Idle agent, every trigger armed, ${fp.tracked} tracked node processes (20 idle.js + the bench runner):`);
  console.log(`   RSS ${fmt(fp.rssKiB / 1024)} MiB   target <= 10 MiB: ${fp.rssKiB <= 10240 ? 'ok' : 'MISSED'}`);
  console.log(`   CPU ${fmt(fp.cpu, 4)}% of a core over ${FOOTPRINT_SECONDS} s (schedstat, all threads)   target <= 0.1%: ${fp.cpu <= 0.1 ? 'ok' : 'MISSED'}`);
})().catch((e) => { console.error(`bench failed: ${e.stack}`); process.exit(1); });
