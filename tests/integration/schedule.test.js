// Scheduled captures (--every, issue 12): /v1/processes and `inspectctl ps` say when each
// selected process's next round comes and what it will take; a process that exits while
// its round runs costs one log line, and the rounds go on for the others.
// Every rule names a token of this run's own: other people's node processes run here too.
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { withAgent, start, waitFor, APPS, AGENT, INSPECTCTL } = require('./lib');

const TOKEN = `sched-${process.pid}`;
const idle = (tag) => ({ args: [path.join(APPS, 'idle.js'), `${TOKEN}-${tag}`] });

test('--every: /v1/processes and inspectctl ps give the next round of a selected process, and only of one', async () => {
  await withAgent(['--every', '6s', '--schedule-kinds', 'cpu,heap', '--capture-seconds', '1', '--select', `cmdline~${TOKEN}-chosen`],
    async (agent, targets) => {
      const chosen = await start(targets, 'idle.js', idle('chosen'));
      const other = await start(targets, 'idle.js', idle('other'));
      // Placed at its first tick: within a second of its discovery.
      const row = await agent.waitTracked(chosen.pid, (p) => p.next_capture !== null);
      const at = Date.parse(row.next_capture.at);
      assert.match(row.next_capture.at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      // Its phase within the interval, plus a jitter of up to a tenth of it.
      assert.ok(at >= Date.now() - 1500 && at <= Date.now() + 6600 + 500, `${row.next_capture.at} vs now ${new Date().toISOString()}`);
      assert.ok(['cpu', 'heap'].includes(row.next_capture.kind), row.next_capture.kind);
      assert.equal((await agent.waitTracked(other.pid)).next_capture, null, 'not selected: no round');

      const ps = spawnSync(INSPECTCTL, ['--socket', agent.socket, 'ps'], { encoding: 'utf8' });
      assert.equal(ps.status, 0, ps.stderr);
      assert.match(ps.stdout, /\bSELECTED\s+NEXT\s+CMDLINE\b/);
      assert.match(ps.stdout, new RegExp(`^\\s*${chosen.pid}\\s.*\\byes\\s+(in \\d+s|now) ${row.next_capture.kind}\\s`, 'm'));
      assert.match(ps.stdout, new RegExp(`^\\s*${other.pid}\\s.*\\bno\\s+-\\s`, 'm'));
      const json = spawnSync(INSPECTCTL, ['--socket', agent.socket, '--json', 'ps'], { encoding: 'utf8' });
      assert.equal(json.status, 0, json.stderr);
      const passed = JSON.parse(json.stdout).processes.find((p) => p.pid === chosen.pid).next_capture;
      assert.ok(passed && passed.kind && passed.at, `--json passes next_capture through: ${json.stdout}`);

      // The round comes when it said (the tick is 1 s), then the next one is the other kind.
      const first = await waitFor('the first round', async () => (await agent.captures(chosen.pid))[0], 10000);
      assert.equal(first.trigger.kind, 'schedule');
      assert.equal(first.kind, row.next_capture.kind);
      const late = Date.parse(first.created_at) - at;
      assert.ok(late >= -50 && late <= 1500, `created ${first.created_at}, announced ${row.next_capture.at}`);
      const after = await agent.waitTracked(chosen.pid, (p) => p.next_capture && Date.parse(p.next_capture.at) > at + 3000);
      assert.equal(after.next_capture.kind, row.next_capture.kind === 'cpu' ? 'heap' : 'cpu', 'the kinds take turns');
      await agent.settled(chosen.pid);
    });
});

test('--every: a process that exits during its round costs one log line; the others are captured again', async () => {
  await withAgent(['--every', '4s', '--schedule-kinds', 'cpu', '--capture-seconds', '2', '--select', `cmdline~${TOKEN}-pair`],
    async (agent, targets) => {
      const doomed = await start(targets, 'idle.js', idle('pair-a'));
      const stays = await start(targets, 'idle.js', idle('pair-b'));
      const running = await agent.waitState(doomed.pid, 'running', { timeoutMs: 12000 });
      const mark = agent.log.length;
      doomed.proc.kill('SIGKILL');
      const failed = await agent.waitState(running.id, 'failed');
      assert.equal(failed.trigger.kind, 'schedule');
      // The next rounds of the one that stays: two more, after the exit.
      const killedAt = Date.now();
      await waitFor('two rounds of the other after the exit', async () => (await agent.captures(stays.pid))
        .filter((j) => j.state === 'done' && Date.parse(j.created_at) > killedAt).length >= 2, 15000);
      assert.deepEqual((await agent.captures(doomed.pid)).map((j) => j.id), [running.id], 'no round for a process gone');
      assert.equal(await agent.process(doomed.pid), null);
      const lines = agent.log.slice(mark).split('\n').filter((l) => l.includes(`pid ${doomed.pid}`));
      assert.equal(lines.length, 1, `one line for the exit:\n${lines.join('\n')}`);
      assert.ok(stays.alive());
    });
});

test('a bare --every: rounds of 10 s (the measured default), whatever --capture-seconds\' default for the rest', async () => {
  const r = spawnSync(AGENT, ['--every', '10s'], { encoding: 'utf8' });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--every must be longer than a round \(10 s without --capture-seconds\)/);
  await withAgent(['--every', '11s', '--schedule-kinds', 'heap', '--select', `cmdline~${TOKEN}-bare`], async (agent, targets) => {
    const t = await start(targets, 'idle.js', idle('bare'));
    const round = await agent.waitState(t.pid, 'running', { timeoutMs: 15000 });
    assert.equal(round.trigger.kind, 'schedule');
    assert.equal(round.seconds, 10);
    // A person's capture still runs --capture-seconds' 30 s by default.
    assert.equal((await agent.request('DELETE', `/v1/captures/${round.id}`)).status, 202);
    await agent.waitState(round.id, 'done');
    const api = await agent.request('POST', '/v1/captures', { pid: t.pid, kind: 'cpu' });
    assert.equal(api.status, 202, api.body);
    assert.equal(api.json.seconds, 30);
    assert.equal((await agent.request('DELETE', `/v1/captures/${api.json.id}`)).status, 202);
    await agent.settled(t.pid);
  });
});
