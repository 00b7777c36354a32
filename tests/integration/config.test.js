// --config FILE (issue 12): settings from a file of root's, checked with --check-config,
// read again on SIGHUP: a reload changes a threshold while a capture runs (which
// completes), a broken file or one that changes what needs a restart is refused with one
// line and the running configuration stays. Its [select RULE] sections: a lower
// rss-threshold for the process a section's rule matches first, not for its twin of the
// same RSS that another section matches; a section a reload adds takes effect, a broken one
// on SIGHUP leaves the running sections. Every automatic capture is held to this test's
// processes by a select rule: other people's node processes on the host are not touched.
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { withAgent, start, sleep, waitFor, APPS, AGENT, INSPECTCTL } = require('./lib');

// The file decides what a root agent does: it must sit in folders of root's alone, and
// /tmp is everyone's. /run is root's.
function confDir() {
  return fs.mkdtempSync('/run/inspectd-test-config-');
}

function write(file, text) {
  fs.writeFileSync(file + '.new', text, { mode: 0o644 });
  fs.renameSync(file + '.new', file);
}

test('--check-config: 0 for a good file, 2 with the file and line for a bad one', () => {
  const dir = confDir();
  try {
    const file = path.join(dir, 'inspectd.conf');
    write(file, '# thresholds\nrss-threshold = 1G\ncapture-seconds = 20\nselect = namespace=checkout\npprof\n');
    let r = spawnSync(AGENT, ['--config', file, '--check-config'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, `${file}: ok\n`);
    write(file, 'rss-threshold = 1G\ncapture-seconds = soon\n');
    r = spawnSync(AGENT, ['--config', file, '--check-config'], { encoding: 'utf8' });
    assert.equal(r.status, 2);
    assert.match(r.stderr, new RegExp(`${file}:2: invalid --capture-seconds 'soon'`));
    fs.chmodSync(file, 0o666);
    write(file, 'rss-threshold = 1G\n');
    fs.chmodSync(file, 0o666);
    r = spawnSync(AGENT, ['--config', file, '--check-config'], { encoding: 'utf8' });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /not root's alone/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('SIGHUP: a threshold changed while a capture runs; the capture completes; a broken file keeps the old one', async () => {
  const dir = confDir();
  const file = path.join(dir, 'inspectd.conf');
  write(file, 'rss-threshold = 4G\ncapture-seconds = 2\nexclude = cmdline~keep-away\n');
  try {
    await withAgent(['--config', file], async (agent, targets) => {
      const idle = await start(targets, 'idle.js');
      const away = await start(targets, 'idle.js', { args: [path.join(APPS, 'idle.js'), 'keep-away'] });
      let r = await agent.request('POST', '/v1/captures', { pid: idle.pid, kind: 'heap', seconds: 3 });
      assert.equal(r.status, 202, r.body);
      const id = r.json.id;
      await agent.waitState(id, 'running');
      // The threshold comes down to where a leak will cross it, while the capture runs.
      write(file, 'rss-threshold = 120M\ncapture-seconds = 1\nexclude = cmdline~keep-away\n');
      agent.proc.kill('SIGHUP');
      agent.proc.kill('SIGHUP');      // a storm is one reload
      await agent.waitLog(/configuration reloaded from/);
      assert.equal((agent.log.match(/configuration reloaded from/g) || []).length, 1);
      const done = await agent.waitState(id, 'done');
      assert.equal(done.seconds, 3);
      const leak = await start(targets, 'leak.js');
      const job = await agent.waitState(leak.pid, 'done', { timeoutMs: 45000 });
      assert.equal(job.trigger.kind, 'rss-threshold');
      assert.equal(job.trigger.threshold, 120 * 1048576);
      assert.equal(job.seconds, 1);

      // Broken: refused with the line, and the running configuration (the exclude) stays.
      write(file, 'rss-threshold = 120M\nexclude = node=x\n');
      agent.proc.kill('SIGHUP');
      await agent.waitLog(new RegExp(`reload refused: ${file}:2: --exclude 'node=x': unknown field`));
      r = await agent.request('POST', '/v1/captures', { pid: away.pid, kind: 'cpu', seconds: 1 });
      assert.equal(r.status, 403, r.body);
      // What needs a restart: refused too (the harness's own --output-dir would win over the
      // file's, so the limit of the queue it is).
      write(file, 'rss-threshold = 120M\nexclude = cmdline~keep-away\nmax-concurrent = 9\n');
      agent.proc.kill('SIGHUP');
      await agent.waitLog(/reload refused: .*max-concurrent, .* cannot change without a restart/);
      assert.ok(idle.alive() && away.alive());
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('--check-config: the sections, in order, and a broken one refused with its line', () => {
  const dir = confDir();
  try {
    const file = path.join(dir, 'inspectd.conf');
    write(file, 'every = 1m\ncapture-seconds = 10\n\n[select namespace=batch]\nevery = 10m\nschedule-kinds = cpu\n' +
      '[select cmdline~server\\.js]\nrss-threshold = 300M\n');
    let r = spawnSync(AGENT, ['--config', file, '--check-config'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, `${file}: ok, 2 sections, the first whose rule matches a process gives it its settings:\n` +
      `  ${file}:4: [select namespace=batch] every = 10m, schedule-kinds = cpu\n` +
      `  ${file}:7: [select cmdline~server\\.js] rss-threshold = 300M\n`);
    // The agent's keys are not a section's.
    write(file, 'rss-threshold = 1G\n[select namespace=batch]\nevery = 10m\nmax-captures-per-hour = 60\n');
    r = spawnSync(AGENT, ['--config', file, '--check-config'], { encoding: 'utf8' });
    assert.equal(r.status, 2);
    assert.match(r.stderr, new RegExp(`${file}:4: max-captures-per-hour applies to the whole agent, not to a section`));
    // A rule as --select's.
    write(file, '[select namespace=batch]\n[select cmdline~(]\n');
    r = spawnSync(AGENT, ['--config', file, '--check-config'], { encoding: 'utf8' });
    assert.equal(r.status, 2);
    assert.match(r.stderr, new RegExp(`${file}:2: --select 'cmdline~\\(': bad regex`));
    // Checked as the agent's settings are, over them (the command line's too).
    write(file, '[select namespace=batch]\nevery = 10m\n');
    r = spawnSync(AGENT, ['--config', file, '--check-config', '--capture-seconds', '900'], { encoding: 'utf8' });
    assert.equal(r.status, 2);
    assert.match(r.stderr, new RegExp(`${file}:1: \\[select namespace=batch\\]: --every must be longer than --capture-seconds`));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

// A node process whose argv carries word, grown by units of grow.js (250: some 230 MiB of RSS);
// its RSS then in .rss.
async function grown(targets, word, units) {
  const t = await start(targets, 'grow.js', { args: [path.join(APPS, 'grow.js'), word] });
  await t.send(`grow ${units}`);
  t.rss = Number(/ok grow rss=(\d+)/.exec(t.out.split('\n').filter((l) => /^ok grow/.test(l)).pop())[1]);
  return t;
}

const MiB = 1048576;

test('a section: its rss-threshold for the processes its rule matches first; their twin of the same RSS keeps another', async () => {
  const token = `sect-${process.pid}-${Date.now()}`;
  const dir = confDir();
  const file = path.join(dir, 'inspectd.conf');
  // Both processes are selected; the low one matches both sections, the first wins.
  write(file, [
    `select = cmdline~${token}-`, 'capture-seconds = 1', '',
    `[select cmdline~${token}-low]`, 'rss-threshold = 150M', '',
    `[select cmdline~${token}-]`, 'rss-threshold = 4G', '',
  ].join('\n'));
  try {
    await withAgent(['--config', file], async (agent, targets) => {
      await agent.waitLog(new RegExp(`2 sections in ${file}, the first whose rule matches`));
      const low = await grown(targets, `${token}-low`, 250);
      const high = await grown(targets, `${token}-high`, 250);
      assert.ok(low.rss > 170 * MiB && high.rss > 170 * MiB, `${low.rss} ${high.rss}`);
      const job = await agent.waitState(low.pid, 'done', { timeoutMs: 30000 });
      assert.equal(job.trigger.kind, 'rss-threshold');
      assert.equal(job.trigger.threshold, 150 * MiB);
      assert.equal(job.seconds, 1);
      const lowRow = await agent.process(low.pid);
      assert.equal(lowRow.section, `cmdline~${token}-low`);
      assert.equal(lowRow.selection, 'selected');
      // The twin: as large, its section's 4G still armed, never captured.
      const highRow = await agent.waitTracked(high.pid, (row) => row.rss_bytes > 170 * MiB);
      assert.equal(highRow.section, `cmdline~${token}-`);
      assert.deepEqual(highRow.armed, ['rss-threshold']);
      await sleep(3000);
      assert.deepEqual(await agent.captures(high.pid), []);
      // inspectctl carries it.
      const ps = spawnSync(INSPECTCTL, ['--socket', agent.socket, '--json', 'ps'], { encoding: 'utf8' });
      assert.equal(ps.status, 0, ps.stderr);
      const rows = JSON.parse(ps.stdout).processes;
      assert.equal(rows.find((p) => p.pid === high.pid).section, `cmdline~${token}-`);
      assert.ok(low.alive() && high.alive());
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('SIGHUP: a section added takes effect; a broken section keeps the running ones', async () => {
  const token = `sect-${process.pid}-${Date.now()}`;
  const dir = confDir();
  const file = path.join(dir, 'inspectd.conf');
  const base = [`select = cmdline~${token}-`, 'capture-seconds = 1', ''];
  write(file, base.join('\n'));
  try {
    await withAgent(['--config', file], async (agent, targets) => {
      const a = await grown(targets, `${token}-a`, 250);
      assert.ok(a.rss > 170 * MiB, String(a.rss));
      // No threshold yet: tracked, its own settings none but the agent's, nothing taken.
      let row = await agent.waitTracked(a.pid, (r) => r.rss_bytes > 170 * MiB);
      assert.equal(row.section, null);
      assert.deepEqual(row.armed, []);
      await sleep(2000);
      assert.deepEqual(await agent.captures(a.pid), []);

      const withSection = [...base, `[select cmdline~${token}-a]`, 'rss-threshold = 150M', ''];
      write(file, withSection.join('\n'));
      agent.proc.kill('SIGHUP');
      await agent.waitLog(/configuration reloaded from/);
      await agent.waitLog(new RegExp(`1 section in ${file}`));
      const job = await agent.waitState(a.pid, 'done', { timeoutMs: 30000 });
      assert.equal(job.trigger.kind, 'rss-threshold');
      assert.equal(job.trigger.threshold, 150 * MiB);
      row = await agent.process(a.pid);
      assert.equal(row.section, `cmdline~${token}-a`);

      // Broken: a key of the agent's in a section. Refused with its line; the sections stay.
      write(file, [...withSection, `[select cmdline~${token}-b]`, 'max-concurrent = 9', ''].join('\n'));
      agent.proc.kill('SIGHUP');
      await agent.waitLog(new RegExp(`reload refused: ${file}:8: max-concurrent applies to the whole agent, not to a section`));
      // ... and a section's rule that does not parse.
      write(file, [...withSection, '[select node=x]', ''].join('\n'));
      agent.proc.kill('SIGHUP');
      await agent.waitLog(new RegExp(`reload refused: ${file}:7: --select 'node=x': unknown field 'node'`));
      row = await agent.process(a.pid);
      assert.equal(row.section, `cmdline~${token}-a`);
      // The running section still gives a process its threshold: a second one it matches.
      const a2 = await grown(targets, `${token}-a-2`, 250);
      const job2 = await agent.waitState(a2.pid, 'done', { timeoutMs: 30000 });
      assert.equal(job2.trigger.threshold, 150 * MiB);
      assert.equal((await agent.process(a2.pid)).section, `cmdline~${token}-a`);
      assert.ok(a.alive() && a2.alive());
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('deploy/inspectd.conf documents every option of --help, and checks as it is and uncommented', () => {
  const example = fs.readFileSync(path.join(__dirname, '../../deploy/inspectd.conf'), 'utf8');
  const help = spawnSync(AGENT, ['--help'], { encoding: 'utf8' }).stdout;
  const options = [...help.matchAll(/^ {2}--([a-z0-9-]+)/gm)].map((m) => m[1])
    .filter((o) => !['help', 'version', 'config', 'check-config'].includes(o));
  assert.ok(options.length > 40, options.join(' '));
  for (const o of options) assert.match(example, new RegExp(`^# ${o}( = |$)`, 'm'), `${o} is not in deploy/inspectd.conf`);
  const dir = confDir();
  try {
    const file = path.join(dir, 'inspectd.conf');
    write(file, example);
    let r = spawnSync(AGENT, ['--config', file, '--check-config'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    // Each example value is one the agent takes (the lines uncommented, one at a time).
    for (const line of example.split('\n').filter((l) => /^# [a-z0-9-]+( = |$)/.test(l))) {
      const text = line.slice(2).replace(/\s+\(.*\)$/, '');
      write(file, text + '\n' + (/^pyroscope-(user|password)/.test(text) ? '' : ''));
      const args = ['--config', file, '--check-config'];
      if (/^pyroscope-/.test(text) && !/^pyroscope-url/.test(text)) args.push('--pyroscope-url', 'http://p:4040');
      if (/^pyroscope-user/.test(text)) args.push('--pyroscope-password-file', '/etc/p');
      if (/^pyroscope-password-file/.test(text)) args.push('--pyroscope-user', 'u');
      if (/^s3-/.test(text) && !/^s3-bucket/.test(text)) args.push('--s3-bucket', 'b');
      if (/^api-listen/.test(text)) args.push('--api-token-file', '/etc/t');
      if (/^every/.test(text)) args.push('--capture-seconds', '10');
      r = spawnSync(AGENT, args, { encoding: 'utf8' });
      assert.equal(r.status, 0, `${text}: ${r.stderr}`);
    }
    // Its example sections, uncommented, after the agent's lines.
    const sections = example.slice(example.indexOf('\n# [select ')).split('\n')
      .map((l) => l.replace(/^# ?/, '')).join('\n');
    write(file, `every = 1m\ncapture-seconds = 10\n${sections}`);
    r = spawnSync(AGENT, ['--config', file, '--check-config'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /ok, 2 sections/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
