// --config FILE (issue 12): settings from a file of root's, checked with --check-config,
// read again on SIGHUP: a reload changes a threshold while a capture runs (which
// completes), a broken file or one that changes what needs a restart is refused with one
// line and the running configuration stays.
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { withAgent, start, sleep, waitFor, APPS, AGENT } = require('./lib');

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
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
