// make bench, part 6: RSS timelines (issue 9). The agent's idle footprint with 200 tracked
// processes, this build (a 600-point RSS timeline per process, its command line and OOM
// program) against the build before timelines (BASELINE_INSPECTD), side by side: rounds
// alternate, each a fresh agent started after the targets, its VmRSS and RssAnon read
// SETTLE seconds later (a timeline is allocated whole at its first point, a second after
// discovery: what it will weigh after ten minutes it weighs then).
// The targets are copies of /bin/sleep under a name given to --match: the agent keeps the
// same per process whatever runs (200 node processes would take 8 GB here).
// Environment (optional): BENCH_TIMELINE_ROUNDS (per build, default 3), BENCH_TIMELINE_TARGETS
// (default 200), BENCH_TIMELINE_SETTLE (seconds, default 8).
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

async function measure(binary, tmp, round) {
  const dir = path.join(tmp, `${path.basename(path.dirname(path.dirname(binary)))}-${round}`);
  const agent = await run([binary, '--output-dir', path.join(dir, 'out'), '--api-socket', path.join(dir, 'api.sock'),
    '--state-dir', path.join(dir, 'state'), '--match', NAME], /ready:/);
  try {
    const ready = /ready: (\d+) node processes/.exec(agent.out);
    await sleep(SETTLE * 1000);
    if (agent.exitCode !== null) throw new Error(`agent exited: ${agent.out}`);
    const st = status(agent.pid);
    return { tracked: ready ? Number(ready[1]) : NaN, rss: st.VmRSS, anon: st.RssAnon };
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
    const res = { with: [], without: [] };
    for (let r = 0; r < ROUNDS; r++) {
      for (const [key, bin] of (r % 2 ? [['without', BASELINE], ['with', AGENT]] : [['with', AGENT], ['without', BASELINE]])) {
        const m = await measure(bin, tmp, `${key}${r}`);
        if (m.tracked < TARGETS) throw new Error(`${key}: the agent tracked ${m.tracked} of ${TARGETS}`);
        res[key].push(m);
        process.stderr.write(`  ${key} round ${r + 1}: tracked ${m.tracked}, VmRSS ${m.rss} kB, RssAnon ${m.anon} kB\n`);
      }
    }
    const row = (key) => {
      const rss = median(res[key].map((m) => m.rss));
      const anon = median(res[key].map((m) => m.anon));
      return { rss, anon };
    };
    const w = row('with');
    const wo = row('without');
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
