// make bench, part 6: RSS timelines (issue 9). The agent's idle footprint with 200 tracked
// processes, this build (a 600-point RSS timeline per process, its command line and OOM
// program) against the build before timelines (BASELINE_INSPECTD), side by side: rounds
// alternate, each a fresh agent started after the targets, its VmRSS and RssAnon read
// SETTLE seconds later (a timeline is allocated whole at its first point, a second after
// discovery: what it will weigh after ten minutes it weighs then).
// The targets are copies of /bin/sleep under a name given to --match: the agent keeps the
// same per process whatever runs (200 node processes would take 8 GB here).
// A third condition, this build with a schedule that selects all of them (issue 12): --every
// 24h (--select exe=*/NAME): every process placed in it, its next round computed each tick,
// none due during the measurement (200 rounds spread over a day: 0.1 expected in it). Its
// CPU is read too, over BENCH_TIMELINE_CPU seconds after the settling (goal: at most 0.1%
// between captures), as is the build's own without a schedule, for comparison.
// Environment (optional): BENCH_TIMELINE_ROUNDS (per build, default 3), BENCH_TIMELINE_TARGETS
// (default 200), BENCH_TIMELINE_SETTLE (seconds, default 8), BENCH_TIMELINE_CPU (seconds, default 10).
'use strict';
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { sleep, children, waitFor, run, median } = require('./common');

const ROOT = path.resolve(__dirname, '../..');
const AGENT = process.env.INSPECTD || path.join(ROOT, '.output/inspectd');
const BASELINE = process.env.BASELINE_INSPECTD;
const ROUNDS = Number(process.env.BENCH_TIMELINE_ROUNDS || 3);
const TARGETS = Number(process.env.BENCH_TIMELINE_TARGETS || 200);
const SETTLE = Number(process.env.BENCH_TIMELINE_SETTLE || 8);
const CPU_SECONDS = Number(process.env.BENCH_TIMELINE_CPU || 10);
const CPU_TARGET_PCT = 0.1;
const NAME = 'inspectd-bsleep';
const TARGET_KB = 10 * 1024;

function status(pid) {
  const s = {};
  for (const line of fs.readFileSync(`/proc/${pid}/status`, 'utf8').split('\n')) {
    const m = /^(\w+):\s+(\d+) kB/.exec(line);
    if (m) s[m[1]] = Number(m[2]);
  }
  return s;
}

// On-CPU time of all its threads, in ns (finer than the ticks).
function schedNs(pid) {
  let ns = 0;
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    try { ns += Number(fs.readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]); } catch { /* gone */ }
  }
  return ns;
}

async function measure(binary, tmp, round, args = [], cpu = false) {
  const dir = path.join(tmp, `${path.basename(path.dirname(path.dirname(binary)))}-${round}`);
  const agent = await run([binary, '--output-dir', path.join(dir, 'out'), '--api-socket', path.join(dir, 'api.sock'),
    '--state-dir', path.join(dir, 'state'), '--match', NAME, ...args], /ready:/);
  try {
    const ready = /ready: (\d+) node processes/.exec(agent.out);
    await sleep(SETTLE * 1000);
    if (agent.exitCode !== null) throw new Error(`agent exited: ${agent.out}`);
    const st = status(agent.pid);
    const m = { tracked: ready ? Number(ready[1]) : NaN, rss: st.VmRSS, anon: st.RssAnon };
    if (cpu) {
      const ns0 = schedNs(agent.pid);
      const t0 = process.hrtime.bigint();
      const out0 = agent.out.length;
      await sleep(CPU_SECONDS * 1000);
      m.cpu = (schedNs(agent.pid) - ns0) / Number(process.hrtime.bigint() - t0) * 100;
      m.rss = Math.max(m.rss, status(agent.pid).VmRSS);
      // A round during the measurement (none expected): said, not hidden.
      m.rounds = (agent.out.slice(out0).match(/capture/g) || []).length;
    }
    return m;
  } finally {
    agent.kill('SIGTERM');
    await waitFor('the agent to exit', () => agent.exitCode !== null || agent.signalCode !== null, 20000);
  }
}

async function main() {
  if (!BASELINE || !fs.existsSync(BASELINE)) throw new Error('BASELINE_INSPECTD: the build before timelines (make bench builds it)');
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'inspectd-bench-timelines-'));
  const exe = path.join(tmp, NAME);
  fs.copyFileSync('/bin/sleep', exe);
  fs.chmodSync(exe, 0o755);
  const targets = [];
  try {
    for (let i = 0; i < TARGETS; i++) {
      const p = spawn(exe, ['3600'], { stdio: 'ignore' });
      children.add(p);
      targets.push(p);
    }
    await sleep(500);
    const res = { with: [], without: [], schedule: [] };
    const conditions = {
      with: [AGENT, [], true],
      without: [BASELINE, [], false],
      schedule: [AGENT, ['--every', '24h', '--select', `exe=*/${NAME}`], true],
    };
    for (let r = 0; r < ROUNDS; r++) {
      const keys = Object.keys(conditions);
      for (const key of keys.map((_, i) => keys[(i + r) % keys.length])) {
        const [bin, args, cpu] = conditions[key];
        const m = await measure(bin, tmp, `${key}${r}`, args, cpu);
        if (m.tracked < TARGETS) throw new Error(`${key}: the agent tracked ${m.tracked} of ${TARGETS}`);
        res[key].push(m);
        process.stderr.write(`  ${key} round ${r + 1}: tracked ${m.tracked}, VmRSS ${m.rss} kB, RssAnon ${m.anon} kB` +
          `${cpu ? `, CPU ${m.cpu.toFixed(4)}%${m.rounds ? ` (${m.rounds} round lines)` : ''}` : ''}\n`);
      }
    }
    const row = (key) => {
      const rss = median(res[key].map((m) => m.rss));
      const anon = median(res[key].map((m) => m.anon));
      const cpus = res[key].map((m) => m.cpu).filter((x) => x !== undefined);
      return { rss, anon, cpu: cpus.length ? median(cpus) : NaN, cpuMax: Math.max(...cpus), rounds: res[key].reduce((a, m) => a + (m.rounds || 0), 0) };
    };
    const w = row('with');
    const wo = row('without');
    const sc = row('schedule');
    console.log([
      '',
      `6. RSS timelines: agent footprint with ${TARGETS} target processes (copies of sleep, --match; ` +
        `${res.with[0].tracked} tracked with the host's others), ${ROUNDS} alternated`,
      `   rounds per build, each a fresh agent read ${SETTLE} s after start; medians`,
      `   with timelines (${AGENT}):     VmRSS ${(w.rss / 1024).toFixed(2)} MiB, RssAnon ${(w.anon / 1024).toFixed(2)} MiB` +
        `   target < 10 MiB: ${w.rss < TARGET_KB ? 'ok' : 'MISSED'}`,
      `   without (${BASELINE}): VmRSS ${(wo.rss / 1024).toFixed(2)} MiB, RssAnon ${(wo.anon / 1024).toFixed(2)} MiB`,
      `   difference: ${((w.rss - wo.rss) / 1024).toFixed(2)} MiB VmRSS, ${((w.anon - wo.anon) / 1024).toFixed(2)} MiB RssAnon` +
        ` (${((w.anon - wo.anon) / TARGETS).toFixed(1)} kB per process; a 600-point timeline is 2.4 kB)`,
      `   with a schedule selecting all ${TARGETS} (--every 24h --select exe=*/${NAME}; this build):`,
      `     VmRSS ${(sc.rss / 1024).toFixed(2)} MiB, RssAnon ${(sc.anon / 1024).toFixed(2)} MiB   target < 10 MiB: ${sc.rss < TARGET_KB ? 'ok' : 'MISSED'}`,
      `     CPU ${sc.cpu.toFixed(4)}% of a core (median; max ${sc.cpuMax.toFixed(4)}%; schedstat over ${CPU_SECONDS} s after the ${SETTLE} s)` +
        `   target <= ${CPU_TARGET_PCT}%: ${sc.cpu <= CPU_TARGET_PCT ? 'ok' : 'MISSED'}${sc.rounds ? `; ${sc.rounds} round line(s) in the window` : ''}`,
      `     without a schedule, the same build: CPU ${w.cpu.toFixed(4)}% (median; max ${w.cpuMax.toFixed(4)}%)`,
    ].join('\n'));
  } finally {
    for (const p of targets) p.kill('SIGKILL');
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().then(() => process.exit(0), (e) => {
  console.error(`\nbench timelines: FAILED: ${e.stack || e}`);
  process.exit(1);
});
