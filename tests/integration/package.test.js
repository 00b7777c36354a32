// The Debian package (make deb): its files, its unit, and the PACKAGED agent capturing a
// real node process. Builds nothing: the Makefile names the .deb in $PACKAGE.
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { Agent, tmpdir, start, readJSON } = require('./lib');

const PACKAGE = process.env.PACKAGE;
const skip = !PACKAGE ? 'PACKAGE is not set (make check builds the .deb and sets it)'
  : !fs.existsSync(PACKAGE) ? `no package at ${PACKAGE} (make deb)` : false;

const run = (cmd, args, opts = {}) => {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 30000, ...opts });
  if (r.error) throw r.error;
  return r;
};

// The package unpacked into a fresh root, once.
let root = null;
function unpacked() {
  if (root) return root;
  root = tmpdir('inspectd-deb-');
  const r = run('dpkg-deb', ['-x', PACKAGE, root]);
  assert.equal(r.status, 0, r.stderr);
  return root;
}

// The unit's settings: key -> [values], in order.
function unitSettings(text) {
  const settings = {};
  for (const line of text.split('\n')) {
    const m = line.match(/^([A-Za-z]+)=(.*)$/);
    if (m) (settings[m[1]] ||= []).push(m[2]);
  }
  return settings;
}

test('the package lists its files with their modes, all root\'s', { skip }, () => {
  const r = run('dpkg-deb', ['-c', PACKAGE]);
  assert.equal(r.status, 0, r.stderr);
  const files = {};
  for (const line of r.stdout.trim().split('\n')) {
    const [mode, owner, , , , ...name] = line.split(/\s+/);
    files[name.join(' ').replace(/^\.\//, '/').replace(/(.)\/$/, '$1')] = { mode, owner };
  }
  const want = {
    '/usr/sbin/inspectd': '-rwxr-xr-x',
    '/usr/bin/inspectctl': '-rwxr-xr-x',
    '/usr/share/man/man8/inspectd.8.gz': '-rw-r--r--',
    '/usr/share/man/man1/inspectctl.1.gz': '-rw-r--r--',
    '/usr/lib/systemd/system/inspectd.service': '-rw-r--r--',
    '/usr/lib/tmpfiles.d/inspectd.conf': '-rw-r--r--',
    '/etc/default/inspectd': '-rw-r--r--',
    '/etc/inspectd/inspectd.conf': '-rw-r--r--',
    '/usr/share/doc/inspectd/copyright': '-rw-r--r--',
    '/usr/share/doc/inspectd/changelog.Debian.gz': '-rw-r--r--',
  };
  for (const [name, mode] of Object.entries(want)) {
    assert.ok(files[name], `${name} is not in the package: ${Object.keys(files).join(' ')}`);
    assert.equal(files[name].mode, mode, name);
  }
  for (const [name, f] of Object.entries(files)) {
    assert.equal(f.owner, 'root/root', name);
    // Nothing in /run (tmpfiles.d makes it), and the profiles' folder is made by postinst.
    assert.ok(!name.startsWith('/run') && !name.startsWith('/var/run'), name);
  }
  const conffiles = run('dpkg-deb', ['-I', PACKAGE, 'conffiles']).stdout.trim().split('\n');
  assert.deepEqual(conffiles, ['/etc/default/inspectd', '/etc/inspectd/inspectd.conf']);
  const control = run('dpkg-deb', ['-f', PACKAGE, 'Depends']).stdout;
  for (const lib of ['libbpf1', 'libwebsockets17', 'libcjson1', 'libcurl4', 'libssl3', 'libseccomp2', 'zlib1g']) {
    assert.match(control, new RegExp(`\\b${lib}\\b`));
  }
});

test('the packaged binaries run from the unpacked package: --version, --help, no build paths', { skip }, () => {
  const dir = unpacked();
  const version = fs.readFileSync(path.resolve(__dirname, '../../include/version.h'), 'utf8')
    .match(/INSPECTD_VERSION "([^"]+)"/)[1];
  for (const bin of ['usr/sbin/inspectd', 'usr/bin/inspectctl']) {
    const exe = path.join(dir, bin);
    let r = run(exe, ['--version']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, `${path.basename(bin)} ${version}\n`);
    r = run(exe, ['--help']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^Usage: /);
    // fputs prints the usage as it is: no printf escapes left in it.
    assert.doesNotMatch(r.stdout, /%%/);
    const contents = fs.readFileSync(exe, 'latin1');
    assert.ok(!contents.includes(path.resolve(__dirname, '../..')), `${bin} names the build folder`);
  }
});

test('the man pages hold every option --help lists, and no other', { skip }, () => {
  const dir = unpacked();
  const pages = [['usr/sbin/inspectd', 'usr/share/man/man8/inspectd.8.gz'], ['usr/bin/inspectctl', 'usr/share/man/man1/inspectctl.1.gz']];
  for (const [bin, page] of pages) {
    const help = run(path.join(dir, bin), ['--help']).stdout;
    const man = require('node:zlib').gunzipSync(fs.readFileSync(path.join(dir, page))).toString('utf8');
    const opts = (text) => new Set((text.match(/--[a-z][a-z0-9-]*/g) || []));
    assert.deepEqual([...opts(man.replace(/\\-/g, '-'))].sort(), [...opts(help)].sort(), page);
    // man(1) renders it without a warning.
    const r = run('man', ['--warnings', '-l', path.join(dir, page)], { env: { ...process.env, MANWIDTH: '80' } });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, '', page);
  }
});

test('the unit passes systemd-analyze verify, ExecStart pointed at the packaged agent', { skip }, () => {
  const dir = unpacked();
  const text = fs.readFileSync(path.join(dir, 'usr/lib/systemd/system/inspectd.service'), 'utf8');
  const s = unitSettings(text);
  assert.deepEqual(s.ExecStart, ['/usr/sbin/inspectd --config /etc/inspectd/inspectd.conf $INSPECTD_ARGS']);
  assert.deepEqual(s.ExecReload, ['/bin/kill -HUP $MAINPID']);
  assert.deepEqual(s.EnvironmentFile, ['-/etc/default/inspectd']);
  assert.deepEqual(s.ProtectSystem, ['strict']);
  assert.deepEqual(s.StateDirectory, ['inspectd']);
  assert.deepEqual(s.RuntimeDirectory, ['inspectd']);
  assert.deepEqual(s.RuntimeDirectoryPreserve, ['yes']);
  const unitDir = tmpdir('inspectd-unit-');
  const unit = path.join(unitDir, 'inspectd.service');
  fs.writeFileSync(unit, text.replace(/^ExecStart=\/usr\/sbin\/inspectd/m, `ExecStart=${path.join(dir, 'usr/sbin/inspectd')}`));
  const r = run('systemd-analyze', ['verify', '--man=no', unit]);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.equal(r.stderr.trim(), '');
  // The default options file the unit reads parses as an environment file.
  const env = fs.readFileSync(path.join(dir, 'etc/default/inspectd'), 'utf8');
  assert.match(env, /^INSPECTD_ARGS=$/m);
});

// The unit's MemoryMax= and TasksMax= as systemd applies them to the service's cgroup,
// here in cgroups of the test's own (cgroup v1, as on this machine: memory.limit_in_bytes,
// pids.max): { wrap (argv to exec inside them), figures(), remove() }, or { why }. An agent
// built with AddressSanitizer (make check SANITIZE=1) holds freed memory in quarantine,
// 256 MiB by default, and shadow memory: MemoryMax= is then not applied, TasksMax= still is.
function unitLimits(s, agentBinary) {
  const mem = /^(\d+)([KMG]?)$/.exec((s.MemoryMax || [''])[0]);
  const tasks = /^(\d+)$/.exec((s.TasksMax || [''])[0]);
  assert.ok(mem, `MemoryMax= ${s.MemoryMax}: a size`);
  assert.ok(tasks, `TasksMax= ${s.TasksMax}: a count`);
  const bytes = Number(mem[1]) * 1024 ** ' KMG'.indexOf(mem[2] || ' ');
  const lines = fs.readFileSync('/proc/self/cgroup', 'utf8').split('\n');
  const dirOf = (ctrl) => {
    const l = lines.find((x) => new RegExp(`^\\d+:([^:]*,)?${ctrl}(,[^:]*)?:`).test(x));
    return l && path.join('/sys/fs/cgroup', ctrl, l.split(':')[2], `inspectd-unit-${process.pid}`);
  };
  const memDir = dirOf('memory');
  const pidsDir = dirOf('pids');
  if (!memDir || !pidsDir) return { why: 'no cgroup v1 memory and pids hierarchies to apply MemoryMax= and TasksMax= in' };
  fs.mkdirSync(memDir);
  fs.mkdirSync(pidsDir);
  const sanitized = /libasan/.test(run('ldd', [agentBinary]).stdout);
  if (!sanitized) fs.writeFileSync(path.join(memDir, 'memory.limit_in_bytes'), String(bytes));
  fs.writeFileSync(path.join(pidsDir, 'pids.max'), tasks[1]);
  const read = (d, f) => fs.readFileSync(path.join(d, f), 'utf8').trim();
  return {
    wrap: ['sh', '-c', 'echo $$ > "$0" && echo $$ > "$1" && shift && exec "$@"',
      path.join(memDir, 'cgroup.procs'), path.join(pidsDir, 'cgroup.procs')],
    sanitized,
    figures: () => ({ memPeak: Number(read(memDir, 'memory.max_usage_in_bytes')), memFailcnt: Number(read(memDir, 'memory.failcnt')),
      oomKills: Number((/^oom_kill (\d+)$/m.exec(read(memDir, 'memory.oom_control')) || [0, 0])[1]),
      tasksPeak: Number(read(pidsDir, 'pids.peak')), tasksRefused: Number(/max (\d+)/.exec(read(pidsDir, 'pids.events'))[1]), bytes, tasks: Number(tasks[1]) }),
    remove() { for (const d of [memDir, pidsDir]) { try { fs.rmdirSync(d); } catch { /* busy or gone */ } } },
  };
}

// The unit's capabilities, system call filter and resource limits, applied as far as this
// machine can without systemd as PID 1: setpriv bounds the packaged agent to the unit's
// CapabilityBoundingSet (and no_new_privs), strace records its system calls, and every one
// must be in what the unit's SystemCallFilter= allows (systemd-analyze syscall-filter);
// MemoryMax= and TasksMax= bound its cgroups, and it must never reach them.
test('the packaged agent, bounded to the unit\'s capabilities and limits, takes a heap and a CPU profile through the API, making only system calls the unit allows', { skip }, async (t) => {
  const dir = unpacked();
  const s = unitSettings(fs.readFileSync(path.join(dir, 'usr/lib/systemd/system/inspectd.service'), 'utf8'));
  const caps = s.CapabilityBoundingSet[0].split(/\s+/).map((c) => `+${c.replace(/^CAP_/, '').toLowerCase()}`);
  const trace = path.join(tmpdir('inspectd-strace-'), 'trace');
  const limits = unitLimits(s, path.join(dir, 'usr/sbin/inspectd'));
  if (limits.why) t.diagnostic(`MemoryMax= and TasksMax= not applied: ${limits.why}`);
  if (limits.sanitized) t.diagnostic('MemoryMax= not applied: the agent is built with AddressSanitizer');
  const agent = new Agent([], {
    // LeakSanitizer cannot run under ptrace: a SANITIZE=1 build's leak check is off here
    // (the suite's other tests keep it).
    env: { ...process.env, ASAN_OPTIONS: `${process.env.ASAN_OPTIONS || ''}:detect_leaks=0` },
    command: [...(limits.wrap || []), 'setpriv', '--no-new-privs', '--inh-caps=-all', '--ambient-caps=-all', `--bounding-set=-all,${caps.join(',')}`, '--',
      'strace', '-f', '-qq', '-o', trace, '--', path.join(dir, 'usr/sbin/inspectd')],
  });
  const targets = [];
  let agentPid = null;
  let limited = null;
  try {
    await agent.start();
    // strace's child is the agent; it is the one stopped, strace then ends with it.
    agentPid = Number(fs.readFileSync(`/proc/${agent.proc.pid}/task/${agent.proc.pid}/children`, 'utf8').trim().split(/\s+/)[0]);
    const status = fs.readFileSync(`/proc/${agentPid}/status`, 'utf8');
    assert.equal(fs.readlinkSync(`/proc/${agentPid}/exe`), path.join(dir, 'usr/sbin/inspectd'));
    assert.match(status, /^NoNewPrivs:\s+1$/m);
    assert.match(status, /^Seccomp:\s+2$/m);
    // Started within the unit's set, the agent kept the five it needs running, bounding set too
    // (hardening.test.js holds each thread to which five).
    const bnd = BigInt(`0x${status.match(/^CapBnd:\s+([0-9a-f]+)$/m)[1]}`);
    const eff = BigInt(`0x${status.match(/^CapEff:\s+([0-9a-f]+)$/m)[1]}`);
    assert.equal(eff, bnd);
    assert.equal(bnd.toString(2).replace(/0/g, '').length, 5);
    assert.ok(caps.length > 5);

    for (const [name, wrap] of [
      ['own user', undefined],
      ['another user in its own network namespace', ['unshare', '--net', '--', 'sh', '-c', 'ip link set lo up && exec "$0" "$@"',
        'setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--']],
    ]) {
      const target = await start(targets, 'idle.js', wrap ? { wrap } : {});
      await agent.waitTracked(target.pid);
      for (const kind of ['heap', 'cpu']) {
        const r = await agent.request('POST', '/v1/captures', { pid: target.pid, kind, seconds: 1 });
        assert.equal(r.status, 202, `${name} ${kind}: ${r.body}`);
        const job = await agent.waitState(r.json.id, 'done', { timeoutMs: 20000 });
        const meta = job.files.find((f) => f.endsWith('.meta.json'));
        assert.ok(meta, JSON.stringify(job));
        assert.equal(readJSON(path.join(agent.outputDir, path.basename(meta))).pid, target.pid);
      }
    }
  } finally {
    for (const target of targets) await target.stop();
    if (agentPid && !agent.exited) process.kill(agentPid, 'SIGTERM');
    await agent.stop();
    if (limits.figures) {
      limited = limits.figures();
      limits.remove();
    }
  }
  if (limited) {
    // strace runs in them too: its tasks and memory count against the limits as well.
    const f = limited;
    t.diagnostic(`under MemoryMax=${s.MemoryMax} TasksMax=${s.TasksMax}: memory peak ${(f.memPeak / 1048576).toFixed(1)} MiB ` +
      `(page cache included; limit reached ${f.memFailcnt} times), tasks peak ${f.tasksPeak}`);
    assert.equal(f.oomKills, 0, `MemoryMax= ${s.MemoryMax}: OOM-killed (peak ${f.memPeak} bytes)`);
    assert.equal(f.tasksRefused, 0, `TasksMax= ${s.TasksMax} was reached (peak ${f.tasksPeak})`);
  }
  const used = new Set();
  for (const line of fs.readFileSync(trace, 'utf8').split('\n')) {
    const m = line.match(/^\d+\s+(?:<\.\.\. )?([a-z0-9_]+)[( ]/);
    if (m && !/^(exited|killed|resumed)$/.test(m[1])) used.add(m[1]);
  }
  assert.ok(used.has('bpf') && used.has('setns') && used.has('pidfd_send_signal'), [...used].join(' '));
  const groups = run('systemd-analyze', ['syscall-filter', '--no-pager']).stdout;
  const allowed = expandFilter(groups, s.SystemCallFilter.join(' ').split(/\s+/));
  const outside = [...used].filter((c) => !allowed.has(c) && c !== 'execve');
  assert.deepEqual(outside, [], `system calls the unit's SystemCallFilter= refuses: ${outside.join(' ')}`);
});

// SystemCallFilter= allow-list -> the set of system calls it lets through (with @default).
function expandFilter(text, filter) {
  const groups = {};
  let group = null;
  for (const line of text.split('\n')) {
    if (/^@/.test(line)) { group = line.trim(); groups[group] = []; continue; }
    const name = line.trim();
    if (group && name && !name.startsWith('#')) groups[group].push(name);
  }
  const out = new Set();
  const seen = new Set();
  const add = (name) => {
    if (seen.has(name)) return;
    seen.add(name);
    if (name.startsWith('@')) (groups[name] || assert.fail(`no group ${name}`)).forEach(add);
    else out.add(name);
  };
  ['@default', ...filter].forEach(add);
  return out;
}
