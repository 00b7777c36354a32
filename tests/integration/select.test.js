// --select and --exclude (issue 12): an excluded process is never touched, whatever the
// trigger (a signal only logs, the API answers 403); thresholds capture only what --select
// selects, while a person's signal or API request is still served; /v1/processes and
// `inspectctl ps` say which is which.
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { withAgent, start, sleep, APPS, AGENT, INSPECTCTL, parsePrometheus } = require('./lib');
const { spawnSync } = require('node:child_process');

function refused(text, trigger, reason) {
  const fam = parsePrometheus(text).inspectd_captures_refused_total;
  const s = fam.samples.find((x) => x.labelSet.trigger === trigger && x.labelSet.reason === reason);
  assert.ok(s, `no inspectd_captures_refused_total{trigger="${trigger}",reason="${reason}"}`);
  return s.value;
}

test('--exclude: a signal to an excluded process only logs, the API answers 403; the others are served', async () => {
  await withAgent(['--exclude', 'cmdline~keep-away'], async (agent, targets) => {
    const away = await start(targets, 'idle.js', { args: [path.join(APPS, 'idle.js'), 'keep-away'] });
    const other = await start(targets, 'idle.js');
    away.signal('SIGWINCH');
    await agent.waitLog(new RegExp(`pid ${away.pid}: excluded by --exclude 'cmdline~keep-away': SIGWINCH trigger ignored`));
    let r = await agent.request('POST', '/v1/captures', { pid: away.pid, kind: 'cpu', seconds: 1 });
    assert.equal(r.status, 403, r.body);
    assert.match(r.json.error, /excluded by --exclude 'cmdline~keep-away'/);
    await sleep(500);
    assert.deepEqual(await agent.captures(away.pid), []);
    const m = (await agent.request('GET', '/metrics')).body;
    assert.equal(refused(m, 'signal', 'excluded'), 1);
    assert.equal(refused(m, 'api', 'excluded'), 1);

    r = await agent.request('POST', '/v1/captures', { pid: other.pid, kind: 'heap', seconds: 1 });
    assert.equal(r.status, 202, r.body);
    await agent.waitState(r.json.id, 'done');

    const procs = (await agent.request('GET', '/v1/processes')).json.processes;
    assert.equal(procs.find((p) => p.pid === away.pid).selection, 'excluded');
    assert.equal(procs.find((p) => p.pid === other.pid).selection, 'selected');
    const ps = spawnSync(INSPECTCTL, ['--socket', agent.socket, 'ps'], { encoding: 'utf8' });
    assert.equal(ps.status, 0, ps.stderr);
    assert.match(ps.stdout, /\bSELECTED\b/);
    assert.match(ps.stdout, new RegExp(`^\\s*${away.pid}\\s.*\\bexcluded\\b`, 'm'));
    assert.ok(away.alive());
  });
});

test('--select: a threshold captures only the selected process; a person still gets the other', async () => {
  await withAgent(['--select', 'cmdline~chosen', '--rss-threshold', '120M', '--capture-seconds', '1', '--cooldown', '1h'],
    async (agent, targets) => {
      const chosen = await start(targets, 'leak.js', { args: [path.join(APPS, 'leak.js'), 'chosen'] });
      const other = await start(targets, 'leak.js', { args: [path.join(APPS, 'leak.js'), 'bystander'] });
      await agent.waitState(chosen.pid, 'done', { timeoutMs: 45000 });
      // The bystander crosses the same mark (it leaks as fast): never captured on its own.
      const deadline = Date.now() + 20000;
      let m;
      for (;;) {
        m = (await agent.request('GET', '/metrics')).body;
        if (refused(m, 'rss-threshold', 'not-selected') >= 1 || Date.now() > deadline) break;
        await sleep(200);
      }
      assert.ok(refused(m, 'rss-threshold', 'not-selected') >= 1, 'the bystander crossed the mark');
      assert.deepEqual(await agent.captures(other.pid), []);
      const procs = (await agent.request('GET', '/v1/processes')).json.processes;
      assert.equal(procs.find((p) => p.pid === other.pid).selection, 'not-selected');
      // A person asking is served: --select governs the agent's own captures only.
      const r = await agent.request('POST', '/v1/captures', { pid: other.pid, kind: 'heap', seconds: 1 });
      assert.equal(r.status, 202, r.body);
      await agent.waitState(r.json.id, 'done');
    });
});

test('--select and --exclude refuse a rule that does not parse, naming it', () => {
  for (const [flag, rule, why] of [['--select', 'node=x', /unknown field 'node'/], ['--exclude', 'cmdline~(a)\\1', /back-reference/],
    ['--select', 'pod~web', /regex\) is for cmdline only/]]) {
    const r = spawnSync(AGENT, [flag, rule], { encoding: 'utf8' });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, why);
  }
});

test('a rule that matches none of the processes running is a warning, not an error: said once, after the start and after a reload', async () => {
  // A configuration file, for SIGHUP to reload: in a folder of root's alone (not /tmp).
  const dir = fs.mkdtempSync('/run/inspectd-test-unmatched-');
  const config = path.join(dir, 'inspectd.conf');
  fs.writeFileSync(config, 'heap-sampling-interval = 65536\n', { mode: 0o600 });
  try {
    await withAgent(['--config', config, '--select', 'cmdline~burn', '--select', 'namespace=chekout', '--exclude', 'comm=nothing-*'],
      async (agent, targets) => {
        await start(targets, 'burn.js');
        await agent.waitLog(/--exclude 'comm=nothing-\*' matches none/, 10000);
        assert.match(agent.log, /warn  --select 'namespace=chekout' matches none of the \d+ node processes running \(it holds for those that start later\)/);
        assert.doesNotMatch(agent.log, /'cmdline~burn' matches none/);
        // Said again when a reload brings the rules anew (here the same ones).
        agent.proc.kill('SIGHUP');
        await agent.waitLog(/configuration reloaded/);
        await sleep(6500);
        assert.equal(agent.log.match(/'namespace=chekout' matches none/g).length, 2, agent.log);
        assert.equal(agent.log.match(/'cmdline~burn' matches none/g), null);
      });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('--every: the selected burner is CPU-profiled every round, the idle process beside it never', async () => {
  await withAgent(['--every', '4s', '--schedule-kinds', 'cpu', '--capture-seconds', '2', '--select', 'cmdline~burn'],
    async (agent, targets) => {
      const burner = await start(targets, 'burn.js');
      const idle = await start(targets, 'idle.js');
      await sleep(15000);
      const jobs = (await agent.captures(burner.pid)).filter((j) => j.state === 'done');
      assert.ok(jobs.length >= 2, `${jobs.length} scheduled captures in 15 s:\n${agent.log}`);
      for (const j of jobs) {
        assert.equal(j.kind, 'cpu');
        assert.equal(j.trigger.kind, 'schedule');
        assert.equal(j.seconds, 2);
      }
      const meta = JSON.parse(require('node:fs').readFileSync(jobs[0].files.find((f) => f.endsWith('.meta.json')), 'utf8'));
      assert.equal(meta.trigger.kind, 'schedule');
      assert.deepEqual(await agent.captures(idle.pid), []);
      const m = parsePrometheus((await agent.request('GET', '/metrics')).body);
      const done = m.inspectd_captures_total.samples.find((x) => x.labelSet.trigger === 'schedule' &&
        x.labelSet.kind === 'cpu' && x.labelSet.outcome === 'exported');
      assert.ok(done && done.value >= 2, JSON.stringify(done));
      assert.ok(burner.alive() && idle.alive());
    });
});

test('--every no longer than --capture-seconds is refused', () => {
  const r = spawnSync(AGENT, ['--every', '10s', '--capture-seconds', '10'], { encoding: 'utf8' });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--every must be longer than --capture-seconds/);
});
