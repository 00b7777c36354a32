// Container and pod names from the runtimes' own state files, under --host-root: real agent,
// real node processes in cgroups named as kubelet and containerd name them (beneath the
// test's own, and removed), fixture bundles in a temporary host root.
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { INSPECTCTL, withAgent, start, tmpdir, readJSON, makeCgroup } = require('./lib');

const FIXTURES = path.join(__dirname, '../fixtures/names');
const ctl = (agent, ...args) => spawnSync(INSPECTCTL, ['--socket', agent.socket, ...args], { encoding: 'utf8', timeout: 20000 });
const bootId = fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();

// A pod's cgroup (systemd driver) beneath the test's own, with one containerd container in it.
function podCgroup() {
  const uid = crypto.randomUUID();
  const id = crypto.randomBytes(32).toString('hex');
  const pod = makeCgroup(`kubepods-pod${uid.replace(/-/g, '_')}.slice`);
  const dir = path.join(pod.dir, `cri-containerd-${id}.scope`);
  fs.mkdirSync(dir);
  return {
    uid, id, dir,
    add: (pid) => fs.writeFileSync(path.join(dir, 'cgroup.procs'), String(pid)),
    remove: () => { fs.rmdirSync(dir); fs.rmdirSync(pod.dir); },
  };
}

// containerd's bundle of id under root (namespace k8s.io), from a fixture with these names.
function bundle(root, id, names) {
  const dir = path.join(root, 'run/containerd/io.containerd.runtime.v2.task/k8s.io', id);
  fs.mkdirSync(dir, { recursive: true });
  const config = readJSON(path.join(FIXTURES, 'containerd-config.json'));
  Object.assign(config.annotations, {
    'io.kubernetes.cri.sandbox-name': names.pod,
    'io.kubernetes.cri.sandbox-namespace': names.namespace,
    'io.kubernetes.cri.container-name': names.container,
    'io.kubernetes.cri.image-name': names.image,
  });
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config));
  return dir;
}

test('a containerd container of a Kubernetes pod: names in /v1/processes, inspectctl ps, meta.json and the file name', async () => {
  const root = tmpdir('inspectd-host-');
  const a = podCgroup();
  const b = podCgroup();
  const c = podCgroup();
  bundle(root, a.id, { pod: 'web-7d9f8c6b5-x2x9q', namespace: 'shop', container: 'app', image: 'docker.io/library/node:20' });
  bundle(root, b.id, { pod: 'queue-0', namespace: 'batch', container: 'worker', image: 'quay.io/acme/worker:v2' });
  // c's config.json is a symlink to a file outside the host root: never read.
  const secret = path.join(tmpdir('inspectd-outside-'), 'config.json');
  fs.writeFileSync(secret, JSON.stringify({ annotations: { 'io.kubernetes.cri.sandbox-name': 'leaked' } }));
  const cdir = path.join(root, 'run/containerd/io.containerd.runtime.v2.task/k8s.io', c.id);
  fs.mkdirSync(cdir, { recursive: true });
  fs.symlinkSync(secret, path.join(cdir, 'config.json'));
  try {
    await withAgent(['--host-root', root], async (agent, targets) => {
      // In a pid namespace of its own: its ns_pid is 1.
      const t = await start(targets, 'idle.js', { wrap: ['unshare', '--pid', '--fork', '--mount-proc', '--'] });
      const u = await start(targets, 'idle.js');
      a.add(t.pid);
      c.add(u.pid);
      const row = await agent.waitTracked(t.pid, (p) => p.container && p.container.id === a.id, 5000);
      assert.deepEqual(row.container, { runtime: 'containerd', id: a.id, pod_uid: a.uid, name: 'app', image: 'docker.io/library/node:20' });
      assert.deepEqual(row.kubernetes, {
        pod: 'web-7d9f8c6b5-x2x9q', namespace: 'shop', container: 'app', pod_uid: a.uid,
        sandbox_id: '9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b1a0f9e8d',
      });
      // A file out of the host root: no names, the container and pod known from the cgroup.
      const other = await agent.waitTracked(u.pid, (p) => p.container && p.container.id === c.id, 5000);
      assert.deepEqual(other.container, { runtime: 'containerd', id: c.id, pod_uid: c.uid, name: null, image: null });
      assert.deepEqual(other.kubernetes, { pod: null, namespace: null, container: null, pod_uid: c.uid, sandbox_id: null });

      const table = ctl(agent, 'ps');
      assert.equal(table.status, 0, table.stderr);
      assert.match(table.stdout, /^\s*PID\s+CONTAINER\s+POD\s+COMM\s+RSS/m);
      assert.match(table.stdout, new RegExp(`^\\s*${t.pid}\\s+app\\s+shop/web-7d9f8c6b5-x2x9q\\s+node\\s`, 'm'));
      assert.match(table.stdout, new RegExp(`^\\s*${u.pid}\\s+${c.id.slice(0, 12)}\\s+-\\s+node\\s`, 'm'));

      const cap = await agent.request('POST', '/v1/captures', { pid: t.pid, kind: 'heap', seconds: 1 });
      assert.equal(cap.status, 202, cap.body);
      const done = await agent.waitState(cap.json.id, 'done', { timeoutMs: 15000 });
      const profile = done.files.find((f) => f.endsWith('.heapprofile'));
      assert.match(path.basename(profile), new RegExp(`^heap-profile-app-${t.pid}-\\d{8}T\\d{6}Z\\.heapprofile$`));
      const meta = readJSON(done.files.find((f) => f.endsWith('.meta.json')));
      assert.deepEqual(meta.container, row.container);
      assert.deepEqual(meta.kubernetes, row.kubernetes);
      assert.equal(meta.pid, t.pid);
      assert.equal(meta.ns_pid, 1);
      assert.equal(meta.boot_id, bootId);

      // No names is never a reason not to capture.
      const cap2 = await agent.request('POST', '/v1/captures', { pid: u.pid, kind: 'heap', seconds: 1 });
      assert.equal(cap2.status, 202, cap2.body);
      const done2 = await agent.waitState(cap2.json.id, 'done', { timeoutMs: 15000 });
      assert.match(path.basename(done2.files.find((f) => f.endsWith('.heapprofile'))), new RegExp(`^heap-profile-${u.pid}-`));
      const meta2 = readJSON(done2.files.find((f) => f.endsWith('.meta.json')));
      assert.equal(meta2.container.name, null);
      assert.equal(meta2.ns_pid, u.pid);

      // Moved to another pod's container: looked up again.
      b.add(u.pid);
      const moved = await agent.waitTracked(u.pid, (p) => p.container && p.container.id === b.id, 5000);
      assert.equal(moved.container.name, 'worker');
      assert.equal(moved.container.image, 'quay.io/acme/worker:v2');
      assert.deepEqual([moved.kubernetes.pod, moved.kubernetes.namespace, moved.kubernetes.pod_uid], ['queue-0', 'batch', b.uid]);
    });
  } finally {
    a.remove();
    b.remove();
    c.remove();
  }
});

test('--host-root must be an absolute path; one that does not exist leaves containers without names', async () => {
  const bad = spawnSync(require('./lib').AGENT, ['--host-root', 'relative/dir'], { encoding: 'utf8' });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--host-root 'relative\/dir' must be an absolute path/);

  const a = podCgroup();
  try {
    await withAgent(['--host-root', '/nonexistent-inspectd-root'], async (agent, targets) => {
      const t = await start(targets, 'idle.js');
      a.add(t.pid);
      const row = await agent.waitTracked(t.pid, (p) => p.container && p.container.id === a.id, 5000);
      assert.equal(row.container.name, null);
      assert.deepEqual(row.kubernetes, { pod: null, namespace: null, container: null, pod_uid: a.uid, sandbox_id: null });
      const cap = await agent.request('POST', '/v1/captures', { pid: t.pid, kind: 'cpu', seconds: 1 });
      assert.equal(cap.status, 202, cap.body);
      await agent.waitState(cap.json.id, 'done', { timeoutMs: 15000 });
    });
  } finally {
    a.remove();
  }
});
