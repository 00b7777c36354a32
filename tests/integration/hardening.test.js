// Least privilege inside the agent (README "Hardening"): once started, every thread of it
// holds only the capabilities it needs running, with no_new_privs and its seccomp filter, and
// under them it still captures (a process of its own user, and one of another user in its
// own network namespace), exports to S3, reloads its configuration and stops cleanly, with
// no system call refused. The switches for debugging leave it as it started.
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const os = require('node:os');
const dns = require('node:dns');
const { Agent, withAgent, start, waitFor, tmpdir } = require('./lib');

if (!process.env.TEST_PEERS_DIR) throw new Error('TEST_PEERS_DIR is not set: make check installs the test peers');
const { startS3 } = require('../peers/s3');

// <linux/capability.h>: what the running agent keeps (src/privileges.c).
const CAP = { CAP_DAC_READ_SEARCH: 2, CAP_KILL: 5, CAP_NET_ADMIN: 12, CAP_SYS_PTRACE: 19, CAP_SYS_ADMIN: 21 };
const KEPT = Object.values(CAP).reduce((m, c) => m | (1n << BigInt(c)), 0n);
const REGION = 'eu-west-1';
const KEY = { accessKeyId: 'AKIAINSPECTDTEST0001', secretAccessKey: 'inspectd/test+secret/0123456789abcdefghij' };

// Each thread's status: { tid: { comm, CapEff, ..., NoNewPrivs, Seccomp } }.
function threads(pid) {
  const out = {};
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    let text;
    try { text = fs.readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8'); } catch { continue; }   // ended
    const f = {};
    for (const line of text.split('\n')) {
      const m = /^(\w+):\s+(.*)$/.exec(line);
      if (m) f[m[1]] = m[2];
    }
    out[tid] = { comm: f.Name, eff: BigInt(`0x${f.CapEff}`), prm: BigInt(`0x${f.CapPrm}`), bnd: BigInt(`0x${f.CapBnd}`),
      inh: BigInt(`0x${f.CapInh}`), amb: BigInt(`0x${f.CapAmb}`), nnp: f.NoNewPrivs, seccomp: f.Seccomp,
      filters: f.Seccomp_filters };
  }
  return out;
}

const hex = (v) => `0x${v.toString(16)}`;

function assertHardened(pid) {
  const all = threads(pid);
  for (const [tid, t] of Object.entries(all)) {
    const who = `thread ${tid} (${t.comm})`;
    assert.equal(hex(t.eff), hex(KEPT), `${who}: CapEff`);
    assert.equal(hex(t.prm), hex(KEPT), `${who}: CapPrm`);
    assert.equal(hex(t.bnd), hex(KEPT), `${who}: CapBnd`);
    assert.equal(t.inh, 0n, `${who}: CapInh`);
    assert.equal(t.amb, 0n, `${who}: CapAmb`);
    assert.equal(t.nnp, '1', `${who}: NoNewPrivs`);
    assert.equal(t.seccomp, '2', `${who}: Seccomp (2: a filter)`);
    assert.equal(t.filters, '1', `${who}: Seccomp_filters`);
  }
  return all;
}

test('once started, every thread of the agent holds only CAP_DAC_READ_SEARCH, CAP_KILL, CAP_NET_ADMIN, CAP_SYS_PTRACE and CAP_SYS_ADMIN, with no_new_privs and the seccomp filter; under them it takes heap and CPU profiles of its own user\'s process and of another user\'s in its own network namespace, delivers them to S3, reloads, and stops, no system call refused', async () => {
  const s3 = await startS3({ region: REGION, ...KEY, buckets: ['profiles'] });
  // A configuration file must be in folders of root's alone: not /tmp (1777).
  const configDir = fs.mkdtempSync('/run/inspectd-test-hardening-');
  const config = path.join(configDir, 'inspectd.conf');
  fs.writeFileSync(config, 'heap-sampling-interval = 65536\n', { mode: 0o600 });
  const env = { PATH: process.env.PATH, HOME: tmpdir(), AWS_EC2_METADATA_DISABLED: 'true',
    AWS_ACCESS_KEY_ID: KEY.accessKeyId, AWS_SECRET_ACCESS_KEY: KEY.secretAccessKey };
  // By the host's name where it names loopback (/etc/hosts): libcurl then resolves it on a
  // thread of its own, made under the filter (an address needs no resolver).
  const local = await dns.promises.lookup(os.hostname(), { family: 4 }).catch(() => null);
  const endpoint = local && local.address.startsWith('127.') ? `http://${os.hostname()}:${s3.port}` : s3.endpoint;
  try {
    await withAgent(['--config', config, '--s3-endpoint', endpoint, '--s3-path-style', '--s3-bucket', 'profiles',
      '--s3-region', REGION, '--export-retry-initial', '300ms'], { env }, async (agent, targets) => {
      const pid = agent.proc.pid;
      const names = Object.values(assertHardened(pid)).map((t) => t.comm);
      // The threads made before the drop's point would have kept everything: they are here, and hold no more.
      assert.ok(names.includes('inspectd-spool') && names.includes('inspectd-symtab'), names.join(' '));
      assert.ok(names.length >= 4, names.join(' '));   // the loop, the spool, the symbol reader, S3's

      let profiles = 0;
      for (const [name, wrap] of [
        ['own user', undefined],
        ['another user in its own network namespace', ['unshare', '--net', '--', 'sh', '-c', 'ip link set lo up && exec "$0" "$@"',
          'setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--']],
      ]) {
        const t = await start(targets, 'leak.js', wrap ? { wrap } : {});
        await agent.waitTracked(t.pid);
        for (const kind of ['heap', 'cpu']) {
          const r = await agent.request('POST', '/v1/captures', { pid: t.pid, kind, seconds: 1 });
          assert.equal(r.status, 202, `${name} ${kind}: ${r.body}`);
          const job = await agent.waitState(r.json.id, 'done', { timeoutMs: 20000 });
          const meta = job.files.find((f) => f.endsWith('.meta.json'));
          assert.ok(meta, JSON.stringify(job));
          // Not read here: once S3 has it, the local copy is removed (no --keep-local), at once.
          assert.equal(job.pid, t.pid, `${name} ${kind}`);
          profiles++;
        }
        assert.ok(t.alive(), `${name}: the target lives on`);
      }
      // Every one delivered, by a thread of the agent under the same filter.
      await waitFor('S3 to have every capture', async () => {
        const r = await agent.request('GET', '/v1/exporters');
        return r.json.exporters.find((e) => e.name === 's3').delivered >= profiles;
      }, 20000).catch((e) => { e.message += `\n--- agent log ---\n${agent.log}`; throw e; });
      const keys = (await s3.objects('profiles')).map((o) => o.key);
      assert.equal(keys.filter((k) => k.endsWith('.meta.json')).length, profiles, keys.join('\n'));
      assert.deepEqual(s3.violations, []);

      // SIGHUP: the file read again, under the filter.
      fs.writeFileSync(config, 'heap-sampling-interval = 32768\n', { mode: 0o600 });
      agent.proc.kill('SIGHUP');
      await agent.waitLog(/configuration reloaded/);
      assert.equal((await agent.request('GET', '/v1/processes')).status, 200);

      // Threads made since (libcurl's, a capture's) inherited the same; none was refused a call.
      assertHardened(pid);
      assert.equal(await agent.metric('inspectd_syscalls_refused_total'), 0, agent.log);
    });
    // withAgent's stop: SIGTERM, exit 0, no inspector left open, all under the filter.
  } finally {
    await s3.close();
    fs.rmSync(configDir, { recursive: true, force: true });
  }
});

test('--keep-capabilities and --no-syscall-filter: the agent keeps what it started with, unfiltered', async () => {
  const ours = fs.readFileSync('/proc/self/status', 'utf8').match(/^CapEff:\s+([0-9a-f]+)$/m)[1];
  await withAgent(['--keep-capabilities', '--no-syscall-filter'], async (agent) => {
    for (const [tid, t] of Object.entries(threads(agent.proc.pid))) {
      assert.equal(hex(t.eff), hex(BigInt(`0x${ours}`)), `thread ${tid} (${t.comm})`);
      assert.equal(t.seccomp, '0', `thread ${tid} (${t.comm})`);
    }
    // No filter, no count of its refusals (rather than a 0 that reads as none refused).
    const r = await agent.request('GET', '/metrics');
    assert.doesNotMatch(r.body, /inspectd_syscalls_refused_total/);
  });
});

test('either alone: capabilities dropped without the filter, and the filter over every capability', async () => {
  await withAgent(['--no-syscall-filter'], async (agent) => {
    for (const t of Object.values(threads(agent.proc.pid))) {
      assert.equal(hex(t.eff), hex(KEPT));
      assert.equal(t.nnp, '1');
      assert.equal(t.seccomp, '0');
    }
  });
  const agent = new Agent(['--keep-capabilities']);
  await agent.start();
  try {
    for (const t of Object.values(threads(agent.proc.pid))) {
      assert.equal(t.seccomp, '2');
      assert.equal(t.nnp, '1');     // the filter needs it, and sets it on every thread
    }
    assert.equal(await agent.metric('inspectd_syscalls_refused_total'), 0);
  } finally {
    await agent.stop();
  }
});
