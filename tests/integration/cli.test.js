// The command line: help, version, and one-line errors with exit status 2.
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const { AGENT, Agent, tmpdir, withAgent, sleep } = require('./lib');

const run = (...args) => spawnSync(AGENT, args, { encoding: 'utf8', timeout: 5000 });

test('--help documents every flag, with examples, and exits 0', () => {
  const r = run('--help');
  assert.equal(r.status, 0);
  for (const flag of ['--heap-signal', '--cpu-signal', '--heap-sampling-interval', '--cpu-sampling-interval',
    '--max-duration', '--attach-timeout', '--output-dir', '--match', '--log-level', '--version', '--help',
    '--rss-threshold', '--rss-growth', '--limit-percent', '--cpu-threshold', '--rss-watch', '--max-profile-size',
    '--spool-max-bytes', '--state-dir', '--cpu-window', '--threshold-action', '--capture-seconds', '--cooldown',
    '--max-captures-per-hour', '--max-concurrent', '--api-socket', '--api-listen', '--api-token-file',
    '--max-signal-duration', '--max-concurrent-per-container', '--max-captures-per-container-per-hour',
    '--queue-timeout', '--pprof', '--host-root', '--s3-bucket', '--s3-region', '--s3-endpoint', '--s3-path-style',
    '--s3-prefix', '--s3-part-size', '--pyroscope-url', '--pyroscope-app', '--pyroscope-user', '--pyroscope-token-file',
    '--pyroscope-tenant', '--export-retry-max', '--export-retry-initial', '--keep-local', '--select', '--exclude', '--every', '--schedule-kinds',
    '--snapshot-signal', '--allocation-timeline-signal', '--trace-signal', '--trace-categories', '--snapshot-headroom',
    '--snapshot-stall-timeout', '--max-snapshot-size', '--compress']) {
    assert.match(r.stdout, new RegExp(`^\\s+${flag}\\b`, 'm'), flag);
  }
  assert.match(r.stdout, /^Examples:$/m);
  assert.match(r.stdout, /kill -s WINCH/);
});

test('--version prints the version', () => {
  const r = run('--version');
  assert.equal(r.status, 0);
  assert.match(r.stdout, /^inspectd \d+\.\d+\.\d+\n$/);
});

test('unknown flags and bad values: one line on stderr, exit 2', () => {
  const cases = [
    [['--bogus'], /unknown option '--bogus'/],
    [['--heap-signal', 'NOPE'], /invalid signal 'NOPE'/],
    [['--heap-signal', 'KILL'], /cannot be a trigger/],
    [['--cpu-signal', 'SIGUSR1'], /cannot be a trigger/],
    [['--heap-signal', 'URG'], /must differ/],
    [['--heap-sampling-interval', '12abc'], /invalid --heap-sampling-interval/],
    [['--heap-sampling-interval', '0'], /invalid --heap-sampling-interval/],
    [['--cpu-sampling-interval', '-5'], /invalid --cpu-sampling-interval/],
    [['--max-duration', '0'], /invalid --max-duration/],
    [['--max-duration', '99999999999999999999999'], /invalid --max-duration/],
    [['--output-dir', 'relative/path'], /absolute path/],
    [['--match', 'a/b'], /invalid --match/],
    [['--match', 'averyveryverylongname'], /invalid --match/],
    [['--log-level', 'loud'], /invalid --log-level/],
    [['--rss-watch', 'sometimes'], /invalid --rss-watch 'sometimes' \(near or always\)/],
    [['--threshold-action', 'Heap'], /invalid --threshold-action 'Heap' \(heap, cpu, heap-snapshot, allocation-timeline or trace\)/],
    [['--snapshot-signal', 'URG'], /--cpu-signal and --snapshot-signal must differ/],
    [['--trace-signal', 'PWR', '--allocation-timeline-signal', 'PWR'], /--allocation-timeline-signal and --trace-signal must differ/],
    [['--trace-categories', 'node,,v8'], /invalid --trace-categories 'node,,v8': an empty category/],
    [['--schedule-kinds', 'cpu,heap-snapshot'], /a schedule never pauses a service/],
    [['--snapshot-headroom', '-1'], /invalid --snapshot-headroom/],
    [['--max-duration'], /needs a value/],
    [['extra'], /unexpected argument 'extra'/],
  ];
  // Refused starts: stderr is their only answer (there is no API yet).
  for (const [args, re] of cases) {
    const r = run(...args);
    assert.equal(r.status, 2, `${args.join(' ')}: status ${r.status}, stderr ${r.stderr}`);
    assert.match(r.stderr, re, args.join(' '));
    assert.equal(r.stderr.trimEnd().split('\n').length, 1, `one line for ${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stdout, '');
  }
});

test('signal names with or without SIG, and numbers, are accepted', async () => {
  const { Agent } = require('./lib');
  for (const [heap, cpu, want] of [['SIGPWR', '29', /heap signal SIGPWR, cpu signal SIGIO/],
    ['rtmin+2', 'CHLD', /heap signal SIG36, cpu signal SIGCHLD/]]) {
    const agent = await new Agent(['--heap-signal', heap, '--cpu-signal', cpu]).start();
    await agent.stop();
    // The settings as the agent understood them are printed in its ready line alone: no
    // endpoint shows them (and sending these signals would end the target).
    assert.match(agent.log, want);
  }
});

test('one agent per host: a second one says which pid holds the host and exits 1', async () => {
  const first = await new Agent([]).start();
  try {
    const dir = tmpdir();
    const r = spawnSync(AGENT, ['--api-socket', `${dir}/api.sock`, '--output-dir', `${dir}/out`],
      { encoding: 'utf8', timeout: 10000 });
    assert.equal(r.status, 1, r.stderr);
    // A refused start: stderr is all it has, there is no API.
    assert.match(r.stderr, new RegExp(`another inspectd \\(pid ${first.proc.pid}\\) is running on this host: exiting`));
    assert.equal(r.stderr.trim().split('\n').length, 1);
    // The first one goes on serving.
    assert.equal((await first.request('GET', '/healthz')).status, 200);
  } finally {
    await first.stop();
  }
  // Its lock ended with it: the next agent starts.
  const next = await new Agent([]).start();
  await next.stop();
});

test('SIGHUP does not stop the agent (there is nothing to reload yet)', async () => {
  await withAgent([], async (agent) => {
    agent.proc.kill('SIGHUP');
    await sleep(300);
    assert.equal(agent.exited, null);
    assert.equal((await agent.request('GET', '/healthz')).status, 200);
  });
});
