// deploy/kubernetes/ (issue 13): the manifests against the Kubernetes schema, and held to the
// agent they run. No cluster here: what a cluster would refuse, and what would make the
// agent in the pod fail, is checked from the files, the real binary and its sources.
//
// The schema: kubernetes-models (npm, a test peer), whose validators are generated from the
// Kubernetes OpenAPI and run offline (types, enums, required fields, formats), plus unknown
// fields refused, as `kubeconform -strict` does, from the same package's field lists. Then
// the fields that matter, read from both sides so that neither can drift: each folder a flag
// names is a volume mounted there; the capabilities are the systemd unit's; the ConfigMap's
// file and the whole command line pass `inspectd --check-config`; the liveness probe's
// command answers from a real agent started with the DaemonSet's command line.
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { Agent, AGENT, INSPECTCTL, tmpdir, parsePrometheus } = require('./lib');
const { need } = require('../peers/deps');

const ROOT = path.resolve(__dirname, '../..');
const DIR = path.join(ROOT, 'deploy/kubernetes');

const run = (cmd, args, opts = {}) => {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 30000, ...opts });
  if (r.error) throw r.error;
  return r;
};

// Every document of every manifest, in the order kubectl applies them (file names, then
// documents): [{ file, doc }].
function manifests() {
  const yaml = need('js-yaml');
  const files = fs.readdirSync(DIR).filter((f) => /\.ya?ml$/.test(f)).sort();
  assert.ok(files.length > 0, `no manifest in ${DIR}`);
  return files.flatMap((file) => yaml.loadAll(fs.readFileSync(path.join(DIR, file), 'utf8'))
    .filter((doc) => doc !== null).map((doc) => ({ file, doc })));
}

const only = (docs, kind) => {
  const found = docs.filter((d) => d.doc.kind === kind);
  assert.equal(found.length, 1, `one ${kind} in ${DIR}`);
  return found[0].doc;
};

// ---- the schema ----

// kubernetes-models' module for an apiVersion and kind: "apps/v1" -> "apps/v1/DaemonSet",
// "v1" -> "v1/Service".
function modelPath(apiVersion, kind) {
  assert.match(apiVersion, /^([a-z0-9.]+\/)?v\d+((alpha|beta)\d+)?$/, `apiVersion ${apiVersion}`);
  assert.match(kind, /^[A-Z][A-Za-z]+$/, `kind ${kind}`);
  return `${apiVersion}/${kind}`;
}

// The fields of the interface a .d.ts of kubernetes-models declares: { name: type file or
// null (a leaf: scalar, map, enum, or a type without fields) }, or null for no interface.
const interfaces = new Map();
function fieldsOf(dts) {
  if (interfaces.has(dts)) return interfaces.get(dts);
  const text = fs.readFileSync(dts, 'utf8');
  const imports = {};
  for (const [, name, from] of text.matchAll(/^import \{ (\w+) \} from "([^"]+)";$/gm)) {
    imports[name] = from.startsWith('.') ? path.join(path.dirname(dts), `${from}.d.ts`)
      : path.join(path.resolve(process.env.TEST_PEERS_DIR), 'node_modules', `${from}.d.ts`);
  }
  const body = /^export interface \w+(?: extends [\w, ]+)? \{\n([\s\S]*?)^\}/m.exec(text);
  let fields = null;
  if (body) {
    fields = {};
    for (const [, name, type] of body[1].matchAll(/^ {4}"([^"]+)"\??: (.*)$/gm)) {
      const ref = /^(?:Array<)?(\w+)>?;$/.exec(type);
      fields[name] = ref && imports[ref[1]] ? imports[ref[1]] : null;
    }
  }
  interfaces.set(dts, fields);
  return fields;
}

// Unknown fields of value against the interface in dts, as "path: field" lines.
function unknownFields(value, dts, where, out) {
  const fields = dts && fieldsOf(dts);
  if (!fields || value === null || typeof value !== 'object') return out;
  for (const item of Array.isArray(value) ? value.map((v, i) => [`${where}[${i}]`, v]) : [[where, value]]) {
    const [at, v] = item;
    if (v === null || typeof v !== 'object' || Array.isArray(v)) continue;
    for (const [k, child] of Object.entries(v)) {
      if (!(k in fields)) out.push(`${at}: ${k}`);
      else unknownFields(child, fields[k], `${at}.${k}`, out);
    }
  }
  return out;
}

test('every manifest is a valid Kubernetes object (schema of kubernetes-models, no unknown field)', () => {
  const docs = manifests();
  for (const { file, doc } of docs) {
    const where = `${file}: ${doc.kind}/${doc.metadata && doc.metadata.name}`;
    const rel = modelPath(doc.apiVersion, doc.kind);
    const Model = need('kubernetes-models', rel)[doc.kind];
    assert.ok(Model, `${where}: kubernetes-models has no ${rel}`);
    assert.doesNotThrow(() => new Model(doc).validate(), where);
    const dts = path.join(path.resolve(process.env.TEST_PEERS_DIR), 'node_modules/kubernetes-models', `${rel}.d.ts`);
    assert.deepEqual(unknownFields(doc, dts, doc.kind, []), [], `${where}: unknown fields`);
    assert.ok(doc.metadata.name, where);
    if (doc.kind !== 'Namespace') assert.equal(doc.metadata.namespace, 'inspectd', where);
  }
  // The checker itself: a wrong type, a wrong enum value and a misspelt field are caught.
  const ds = structuredClone(only(docs, 'DaemonSet'));
  const { DaemonSet } = need('kubernetes-models', 'apps/v1/DaemonSet');
  ds.spec.template.spec.hostPID = 'yes';
  assert.throws(() => new DaemonSet(ds).validate(), /hostPID must be boolean/);
  ds.spec.template.spec.hostPID = true;
  ds.spec.template.spec.containers[0].securityContext.seccompProfile.type = 'Unconfinde';
  assert.throws(() => new DaemonSet(ds).validate(), /seccompProfile\/type must be equal to one of the allowed values/);
  ds.spec.template.spec.containers[0].securityContext.seccompProfile.type = 'Unconfined';
  ds.spec.template.spec.containers[0].volumeMounts[0].mountPropogation = 'HostToContainer';
  assert.deepEqual(unknownFields(ds, path.join(path.resolve(process.env.TEST_PEERS_DIR),
    'node_modules/kubernetes-models/apps/v1/DaemonSet.d.ts'), 'DaemonSet', []),
  ['DaemonSet.spec.template.spec.containers[0].volumeMounts[0]: mountPropogation']);
});

// ---- the DaemonSet against the agent ----

// The container's flags: { flag: value } (every flag here takes a value), in order.
function flags(container) {
  const args = container.args;
  const out = {};
  for (let i = 0; i < args.length; i += 2) {
    assert.match(args[i], /^--[a-z][a-z0-9-]*$/, `args[${i}]`);
    assert.ok(i + 1 < args.length && !args[i + 1].startsWith('--'), `${args[i]} has a value`);
    assert.ok(!(args[i] in out), `${args[i]} given once`);
    out[args[i]] = args[i + 1];
  }
  return out;
}

function daemonset() {
  const docs = manifests();
  const ds = only(docs, 'DaemonSet');
  const pod = ds.spec.template.spec;
  assert.equal(pod.containers.length, 1);
  const c = pod.containers[0];
  const volumes = Object.fromEntries(pod.volumes.map((v) => [v.name, v]));
  const mounts = c.volumeMounts.map((m) => ({ ...m, volume: volumes[m.name] }));
  for (const m of mounts) assert.ok(m.volume, `volume ${m.name} is declared`);
  return { docs, ds, pod, c, flags: flags(c), mounts };
}

// The mount whose mountPath is p, or that holds p.
function mountOf(mounts, p, exact = true) {
  const found = mounts.filter((m) => (exact ? m.mountPath === p : p === m.mountPath || p.startsWith(`${m.mountPath}/`)));
  assert.equal(found.length, 1, `one volume mounted at ${p}: ${mounts.map((m) => m.mountPath).join(' ')}`);
  return found[0];
}

// The systemd unit's settings: key -> [values].
function unit() {
  const settings = {};
  for (const line of fs.readFileSync(path.join(ROOT, 'packaging/inspectd.service.in'), 'utf8').split('\n')) {
    const m = line.match(/^([A-Za-z]+)=(.*)$/);
    if (m) (settings[m[1]] ||= []).push(m[2]);
  }
  return settings;
}

const MI = 1024 * 1024;
function bytes(quantity) {
  const m = /^(\d+)(Ki|Mi|Gi)?$/.exec(String(quantity));
  assert.ok(m, `a memory quantity in Ki, Mi or Gi: ${quantity}`);
  return Number(m[1]) * { undefined: 1, Ki: 1024, Mi: MI, Gi: 1024 * MI }[m[2]];
}

const cSource = (file) => fs.readFileSync(path.join(ROOT, file), 'utf8');

test('the DaemonSet: the host\'s pid namespace, not privileged, the unit\'s capabilities, bounded, on every node', () => {
  const { ds, pod, c, docs } = daemonset();
  assert.equal(pod.hostPID, true);
  assert.ok(!pod.hostNetwork && !pod.hostIPC, 'the pod\'s own network and IPC');
  assert.equal(pod.serviceAccountName, only(docs, 'ServiceAccount').metadata.name);
  assert.equal(pod.automountServiceAccountToken, false, 'no API server token: the agent uses none');
  assert.equal(only(docs, 'ServiceAccount').automountServiceAccountToken, false);
  const ns = only(docs, 'Namespace');
  assert.equal(ns.metadata.name, ds.metadata.namespace);
  // `kubectl apply -f deploy/kubernetes/` applies the files in name order: the namespace first.
  assert.equal(docs[0].doc.kind, 'Namespace');
  assert.equal(ns.metadata.labels['pod-security.kubernetes.io/enforce'], 'privileged');
  assert.ok(!docs.some((d) => /Role/.test(d.doc.kind)), 'no RBAC');

  const sc = c.securityContext;
  assert.equal(sc.privileged, false);
  assert.equal(sc.allowPrivilegeEscalation, false);
  assert.equal(sc.readOnlyRootFilesystem, true);
  assert.equal(sc.runAsUser, 0);
  assert.deepEqual(sc.capabilities.drop, ['ALL']);
  // Exactly the systemd unit's bounding set: the same agent needs the same, wherever it runs.
  const unitCaps = unit().CapabilityBoundingSet[0].split(/\s+/).map((cap) => cap.replace(/^CAP_/, '')).sort();
  assert.deepEqual([...sc.capabilities.add].sort(), unitCaps);
  assert.equal(sc.seccompProfile.type, 'Unconfined');
  assert.equal(sc.appArmorProfile.type, 'Unconfined');
  assert.equal(ds.spec.template.metadata.annotations[`container.apparmor.security.beta.kubernetes.io/${c.name}`], 'unconfined');

  // Requests and limits: the request at least the 64 MiB the agent is held under while it
  // streams (hostile.test.js asserts it), the limit the unit's MemoryMax=.
  const { requests, limits } = c.resources;
  for (const r of ['cpu', 'memory']) assert.ok(requests[r] && limits[r], `${r} request and limit`);
  assert.ok(bytes(requests.memory) >= 64 * MI, `memory request ${requests.memory}`);
  const memoryMax = /^(\d+)M$/.exec(unit().MemoryMax[0]);
  assert.equal(bytes(limits.memory), Number(memoryMax[1]) * MI, 'the memory limit is the unit\'s MemoryMax');

  // Every node; one agent per node at any time (the host lock), however it is updated.
  assert.ok(pod.tolerations.some((t) => t.operator === 'Exists' && !t.key && !t.effect), 'tolerates every taint');
  assert.equal(ds.spec.updateStrategy.type, 'RollingUpdate');
  assert.equal(ds.spec.updateStrategy.rollingUpdate.maxSurge, 0);
  // Long enough for the agent's own shutdown (stop captures, close inspectors: 15 s in
  // src/main.c), and no shorter than the unit gives it.
  const grace = Number(/#define SHUTDOWN_GRACE_USEC \((\d+) \* LWS_US_PER_SEC\)/.exec(cSource('src/main.c'))[1]);
  assert.ok(pod.terminationGracePeriodSeconds > grace, `terminationGracePeriodSeconds over ${grace}`);
  assert.ok(pod.terminationGracePeriodSeconds >= parseInt(unit().TimeoutStopSec[0], 10));
  assert.equal(c.terminationMessagePolicy, 'FallbackToLogsOnError', 'the one line of a failed start is the pod\'s message');
});

test('the DaemonSet: each folder a flag names is mounted there, as the agent uses it', () => {
  const { c, mounts, flags: f, docs } = daemonset();
  const ro = (m) => m.readOnly === true;
  const hostPath = (m, p, type) => {
    assert.ok(m.volume.hostPath, `${m.mountPath} is a hostPath`);
    assert.equal(m.volume.hostPath.path, p, m.mountPath);
    if (type) assert.equal(m.volume.hostPath.type, type, m.mountPath);
  };

  // --config: the ConfigMap's file alone (subPath): the agent refuses a file in a folder
  // others may write, which a whole ConfigMap volume's folder is.
  const conf = mountOf(mounts, f['--config']);
  assert.ok(ro(conf) && conf.subPath, '--config: a read-only subPath mount');
  const cm = only(docs, 'ConfigMap');
  assert.equal(conf.volume.configMap.name, cm.metadata.name);
  assert.ok(typeof cm.data[conf.subPath] === 'string', `the ConfigMap holds ${conf.subPath}`);
  assert.equal(path.basename(f['--config']), conf.subPath);

  // The output folder and the state folder: the node's, writable, made if missing. The
  // state folder on the node's /run (tmpfs: records must not outlive the boot).
  for (const flag of ['--output-dir', '--state-dir']) {
    const m = mountOf(mounts, f[flag]);
    assert.ok(!ro(m), `${flag} is writable`);
    hostPath(m, f[flag], 'DirectoryOrCreate');
  }
  assert.match(f['--state-dir'], /^\/run\//);
  // The API socket in the state folder: on the node, for inspectctl there and the probe.
  assert.equal(mountOf(mounts, f['--api-socket'], false).mountPath, f['--state-dir']);
  // The host lock, the node's own (src/main.c's HOST_LOCK).
  const lock = /#define HOST_LOCK "([^"]+)"/.exec(cSource('src/main.c'))[1];
  hostPath(mountOf(mounts, lock), lock, 'FileOrCreate');

  // cgroups: the node's hierarchy, where the agent looks for it (src/cgroup.c).
  const cgroupRoot = /#define CGROUP_FS_ROOT\s+"([^"]+)"/.exec(cSource('src/cgroup.c'))[1];
  const cg = mountOf(mounts, cgroupRoot);
  assert.ok(ro(cg));
  hostPath(cg, cgroupRoot);
  // /proc: the host's through hostPID, never a volume (runc refuses one there). The
  // kernel's BTF: the container's own sysfs shows it (a missing one is the agent's exit 3).
  assert.ok(!mounts.some((m) => /^\/proc(\/|$)/.test(m.mountPath)), 'no volume on /proc');
  assert.ok(!mounts.some((m) => ['/sys', '/sys/kernel', '/sys/kernel/btf'].includes(m.mountPath)), '/sys/kernel/btf is the container\'s sysfs');

  // --host-root: every runtime state file the agent reads (src/container_names.c) lies in
  // a read-only mount of the same folder of the node, beneath the host root, whose
  // submounts (containers' root file systems) follow the node's.
  const root = f['--host-root'];
  const sources = [...cSource('src/container_names.c').matchAll(/"((?:run|var)\/[^"]+)"/g)].map((m) => m[1]);
  assert.ok(sources.length >= 4, `the runtimes' state paths in src/container_names.c: ${sources}`);
  for (const s of sources) {
    // The folder above the first part a container's id or namespace fills in (or the file).
    const prefix = s.slice(0, s.indexOf('%') < 0 ? s.length : s.indexOf('%')).replace(/\/[^/]*$/, '');
    const m = mountOf(mounts, `${root}/${prefix}`, false);
    assert.ok(ro(m), `${m.mountPath} read-only`);
    assert.equal(m.mountPropagation, 'HostToContainer', m.mountPath);
    hostPath(m, m.mountPath.slice(root.length));
  }
  for (const m of mounts.filter((x) => x.mountPath.startsWith(`${root}/`))) {
    assert.ok(sources.some((s) => s.startsWith(m.mountPath.slice(root.length + 1))), `${m.mountPath}: read by the agent`);
  }

  // --api-listen on the pod's IP, the port the Service scrapes; its token from a Secret
  // this folder does not ship (no credential in the repository).
  assert.equal(f['--api-listen'], '$(POD_IP):9500');
  assert.deepEqual(c.env.find((e) => e.name === 'POD_IP').valueFrom, { fieldRef: { fieldPath: 'status.podIP' } });
  const port = c.ports.find((p) => p.containerPort === 9500);
  const svc = only(docs, 'Service');
  assert.equal(svc.spec.ports[0].targetPort, port.name);
  assert.equal(svc.metadata.annotations['prometheus.io/port'], '9500');
  assert.equal(svc.metadata.annotations['prometheus.io/path'], '/metrics');
  assert.deepEqual(svc.spec.selector, only(docs, 'DaemonSet').spec.selector.matchLabels);
  const token = mountOf(mounts, f['--api-token-file'], false);
  assert.ok(ro(token) && token.volume.secret, '--api-token-file: a read-only Secret');
  assert.ok(!docs.some((d) => d.doc.kind === 'Secret'), 'no Secret shipped');
  // Every volume is mounted.
  assert.deepEqual(new Set(mounts.map((m) => m.name)).size, daemonset().pod.volumes.length);
});

test('the DaemonSet\'s command line and the ConfigMap\'s file pass the real agent\'s checks; its image is this version\'s', () => {
  const { c, flags: f, docs } = daemonset();
  assert.deepEqual(c.command, ['/usr/sbin/inspectd'], 'the packaged agent');
  const help = run(AGENT, ['--help']).stdout;
  for (const flag of Object.keys(f)) assert.ok(help.includes(`  ${flag} `), `${flag} is in inspectd --help`);

  // The file, extracted where the agent accepts a configuration (root's folders: not /tmp).
  const dir = fs.mkdtempSync('/run/inspectd-test-deploy-');
  try {
    const file = path.join(dir, 'inspectd.conf');
    fs.writeFileSync(file, only(docs, 'ConfigMap').data['inspectd.conf'], { mode: 0o644 });
    let r = run(AGENT, ['--config', file, '--check-config']);
    assert.equal(r.status, 0, r.stderr);
    // The whole command line, the file in place of the mounted one, the pod's IP an address.
    const args = c.args.map((a) => (a === f['--config'] ? file : a.replace('$(POD_IP)', '10.0.0.7')));
    r = run(AGENT, [...args, '--check-config']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, `${file}: ok\n`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }

  // The image: this version's tag; the Containerfile installs the package and runs the
  // binary the DaemonSet names, with no compiler in it.
  const version = /INSPECTD_VERSION "([^"]+)"/.exec(cSource('include/version.h'))[1];
  assert.match(c.image, new RegExp(`:${version.replace(/\./g, '\\.')}$`));
  const cf = fs.readFileSync(path.join(DIR, 'Containerfile'), 'utf8');
  assert.match(cf, /^ARG BASE=docker\.io\/library\/debian:bookworm-slim$/m);
  assert.match(cf, /^FROM \$\{BASE\}$/m);
  assert.match(cf, /^COPY inspectd_\*\.deb \/tmp\/$/m);
  assert.match(cf, /apt-get install -y --no-install-recommends[\s\\]+ca-certificates \/tmp\/inspectd_\*\.deb/);
  assert.equal(/^ENTRYPOINT (.*)$/m.exec(cf)[1], JSON.stringify(c.command).replace(/,/g, ', '));
  assert.doesNotMatch(cf.replace(/^#.*$/gm, ''), /\b(gcc|clang|make|build-essential|-dev)\b/);
  // The probe runs the packaged client.
  assert.equal(c.livenessProbe.exec.command[0], '/usr/bin/inspectctl');
});

test('the liveness probe and /metrics, from an agent started with the DaemonSet\'s command line', async () => {
  const { c, flags: f } = daemonset();
  // The DaemonSet's folders, each a fresh one here; the API on loopback.
  const host = tmpdir('inspectd-deploy-host-');
  const conf = fs.mkdtempSync('/run/inspectd-test-deploy-');
  const token = 'deploy-test-token-0123456789abcdef';
  const tokenFile = path.join(conf, 'token');
  fs.writeFileSync(path.join(conf, 'inspectd.conf'), '', { mode: 0o644 });
  fs.writeFileSync(tokenFile, `${token}\n`, { mode: 0o400 });
  const port = 19501;
  const mine = ['--output-dir', '--state-dir', '--api-socket'];  // the harness's own
  const args = [];
  for (const [flag, value] of Object.entries(f)) {
    if (mine.includes(flag)) continue;
    args.push(flag, { '--config': path.join(conf, 'inspectd.conf'), '--host-root': host, '--api-token-file': tokenFile,
      '--api-listen': `127.0.0.1:${port}` }[flag] || value);
  }
  const agent = new Agent(args);
  const probe = c.livenessProbe.exec.command.slice(1).map((a) => (a === f['--api-socket'] ? agent.socket : a));
  try {
    await agent.start();
    let r = run(INSPECTCTL, probe);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'ok\n');
    const get = (headers) => new Promise((resolve, reject) => {
      require('node:http').get({ host: '127.0.0.1', port, path: '/metrics', headers, timeout: 5000 }, (res) => {
        let body = '';
        res.on('data', (d) => { body += d; });
        res.on('end', () => resolve({ status: res.statusCode, body }));
      }).on('error', reject);
    });
    assert.equal((await get({})).status, 401);
    const m = await get({ authorization: `Bearer ${token}` });
    assert.equal(m.status, 200);
    assert.ok(parsePrometheus(m.body).inspectd_tracked_processes, 'inspectd_tracked_processes');
    await agent.stop();
    r = run(INSPECTCTL, probe);
    assert.equal(r.status, 1, 'the probe fails once the agent is gone');
  } finally {
    await agent.stop().catch(() => {});
    fs.rmSync(conf, { recursive: true, force: true });
  }
});

// A DaemonSet pod on a node whose kernel has no BTF: one line, a distinct status, at once
// (the kubelet's back-off then spaces the restarts). A mount namespace here hides this
// kernel's BTF from the agent alone.
test('on a kernel without BTF the agent says so in one line and exits 3, before anything else', { skip: process.getuid() !== 0 && 'needs root (a mount namespace)' }, () => {
  const dir = tmpdir('inspectd-nobtf-');
  const r = run('unshare', ['--mount', '--propagation', 'private', '--', 'sh', '-c',
    'mount -t tmpfs none /sys/kernel/btf && exec "$0" "$@"', AGENT,
    '--output-dir', path.join(dir, 'out'), '--state-dir', path.join(dir, 'state'), '--api-socket', path.join(dir, 'api.sock')]);
  assert.equal(r.status, 3, r.stdout + r.stderr);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  // The one line names what is missing (its wording is the log's own).
  assert.match(lines[0], /\/sys\/kernel\/btf\/vmlinux/);
  // Nothing was made: no output or state folder.
  assert.deepEqual(fs.readdirSync(dir), []);
});
