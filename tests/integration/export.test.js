// Profiles leave the host: the S3 exporter against a real S3-protocol server on loopback
// (s3rver, behind tests/peers/s3.js, which recomputes every request's SigV4 signature
// and payload hash with an independent signer), the Pyroscope exporter against a fake
// of Pyroscope's ingest API that decodes the pprof it receives (tests/peers/pyroscope.js:
// no Pyroscope server is packaged for Debian or npm), credentials from a fake container
// endpoint, and the outbox's promises: a server that is down, an agent killed with
// uploads pending, wrong credentials, nothing delivered twice.
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const crypto = require('node:crypto');
const { Agent, withAgent, start, waitFor, tmpdir, readJSON, heapSelfByFunction, parsePrometheus } = require('./lib');

if (!process.env.TEST_PEERS_DIR) throw new Error('TEST_PEERS_DIR is not set: make check installs the test peers');
const { startS3 } = require('../peers/s3');
const { startContainerCreds } = require('../peers/aws-creds');
const { startPyroscope } = require('../peers/pyroscope');

const REGION = 'eu-west-1';
const KEY = { accessKeyId: 'AKIAINSPECTDTEST0001', secretAccessKey: 'inspectd/test+secret/0123456789abcdefghij' };
const HOST = os.hostname();

function s3Env(extra = {}) {
  // Only what the test gives: no credentials of the machine's own leak in.
  const env = { PATH: process.env.PATH, HOME: tmpdir(), AWS_EC2_METADATA_DISABLED: 'true', ...extra };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete env[k];
  return env;
}

function s3Args(s3, more = []) {
  return ['--s3-endpoint', s3.endpoint, '--s3-path-style', '--s3-bucket', 'profiles', '--s3-region', REGION,
    '--export-retry-initial', '300ms', ...more];
}

async function exporter(agent, name) {
  const r = await agent.request('GET', '/v1/exporters');
  assert.equal(r.status, 200, r.body);
  return r.json.exporters.find((e) => e.name === name);
}

async function waitDelivered(agent, name, n, timeoutMs = 20000) {
  await waitFor(`${name} to have delivered ${n}`, async () => (await exporter(agent, name)).delivered >= n, timeoutMs)
    .catch((e) => { e.message += `\n--- agent log ---\n${agent.log}`; throw e; });
  return exporter(agent, name);
}

async function heapCapture(agent, t, seconds = 1) {
  const r = await agent.request('POST', '/v1/captures', { pid: t.pid, kind: 'heap', seconds });
  assert.equal(r.status, 202, r.body);
  return agent.waitState(r.json.id, 'done');
}

// A sample of /metrics: the family's sample whose labels are exactly these.
function metric(families, name, labels = {}) {
  const fam = families[name];
  assert.ok(fam, `no ${name} in /metrics`);
  const s = fam.samples.find((x) => JSON.stringify(x.labelSet) === JSON.stringify(labels));
  assert.ok(s, `no ${name}${JSON.stringify(labels)}: ${JSON.stringify(fam.samples)}`);
  return s.value;
}

function sha(buf) { return crypto.createHash('sha256').update(buf).digest('hex'); }

test('S3: a capture and its pprof and meta.json land under host/namespace/pod/kind, signed, with their metadata', async () => {
  const s3 = await startS3({ region: REGION, ...KEY, buckets: ['profiles'] });
  try {
    await withAgent([...s3Args(s3), '--pprof', '--keep-local'], { env: s3Env({ AWS_ACCESS_KEY_ID: KEY.accessKeyId,
      AWS_SECRET_ACCESS_KEY: KEY.secretAccessKey }) }, async (agent, targets) => {
      const t = await start(targets, 'leak.js');
      const done = await heapCapture(agent, t);
      assert.equal(done.files.length, 3);
      const row = await waitDelivered(agent, 's3', 1);
      assert.equal(row.pending, 0);
      assert.equal(row.failed, 0);
      assert.equal(row.last_error, null);

      const objects = await s3.objects('profiles');
      const names = done.files.map((f) => path.basename(f));
      const want = names.map((n) => `${HOST}/host/host/heap-profile/${n}`).sort();
      assert.deepEqual(objects.map((o) => o.key).sort(), want);
      for (const f of done.files) {
        const o = objects.find((x) => x.key.endsWith('/' + path.basename(f)));
        const body = await s3.getObject('profiles', o.key);
        assert.equal(sha(body), sha(fs.readFileSync(f)), o.key);    // --keep-local: still here
        assert.equal(o.meta['x-amz-meta-pid'], String(t.pid));
        assert.equal(o.meta['x-amz-meta-kind'], 'heap-profile');
        assert.equal(o.meta['x-amz-meta-host'], HOST);
      }
      assert.deepEqual(s3.violations, []);
      assert.ok(s3.requests.every((q) => q.signatureOk && q.payloadHashOk), JSON.stringify(s3.requests));
      // Once: a second look finds nothing more sent.
      const puts = s3.requests.filter((q) => q.method === 'PUT').length;
      assert.equal(puts, 3);
      const m = parsePrometheus((await agent.request('GET', '/metrics')).body);
      assert.equal(metric(m, 'inspectd_deliveries_total', { exporter: 's3', outcome: 'delivered' }), 1);
      assert.equal(metric(m, 'inspectd_deliveries_pending', { exporter: 's3' }), 0);
      assert.ok(metric(m, 'inspectd_spool_bytes') > 0);
      // The downloaded pprof is the file's, and the heap profile's top function is the V8 one.
      const heap = objects.find((o) => o.key.endsWith('.heapprofile'));
      const prof = JSON.parse(await s3.getObject('profiles', heap.key));
      assert.equal(heapSelfByFunction(prof)[0][0], 'leakyFunction');
    });
  } finally {
    await s3.close();
  }
});

test('S3: without --keep-local a delivered capture leaves the folder; keys carry a prefix with spaces, unicode and +', async () => {
  const s3 = await startS3({ region: REGION, ...KEY, buckets: ['profiles'] });
  try {
    const prefix = 'team a/prøfiles+x';
    await withAgent([...s3Args(s3, ['--s3-prefix', prefix])], { env: s3Env({ AWS_ACCESS_KEY_ID: KEY.accessKeyId,
      AWS_SECRET_ACCESS_KEY: KEY.secretAccessKey }) }, async (agent, targets) => {
      const t = await start(targets, 'leak.js');
      const done = await heapCapture(agent, t);
      await waitDelivered(agent, 's3', 1);
      await waitFor('the delivered files to leave the folder', () => done.files.every((f) => !fs.existsSync(f)));
      const keys = (await s3.objects('profiles')).map((o) => o.key).sort();
      assert.deepEqual(keys, done.files.map((f) => `${prefix}/${HOST}/host/host/heap-profile/${path.basename(f)}`).sort());
      assert.deepEqual(s3.violations, []);
    });
  } finally {
    await s3.close();
  }
});

test('S3: a capture taken while the server is down is delivered once it is up; 500 and SlowDown are retried', async () => {
  const s3 = await startS3({ region: REGION, ...KEY, buckets: ['profiles'] });
  try {
    await withAgent(s3Args(s3), { env: s3Env({ AWS_ACCESS_KEY_ID: KEY.accessKeyId,
      AWS_SECRET_ACCESS_KEY: KEY.secretAccessKey }) }, async (agent, targets) => {
      const t = await start(targets, 'leak.js');
      await s3.down();
      const done = await heapCapture(agent, t);
      await waitFor('a failed attempt', async () => (await exporter(agent, 's3')).attempts_failed >= 1);
      let row = await exporter(agent, 's3');
      assert.equal(row.pending, 1);
      assert.equal(row.delivered, 0);
      assert.ok(row.oldest_pending_age_s >= 0);
      assert.ok(row.last_error, JSON.stringify(row));
      assert.ok(done.files.every((f) => fs.existsSync(f)), 'nothing removed before the server confirmed it');
      await s3.up();
      s3.failNext(1, { status: 503, code: 'SlowDown', message: 'Please reduce your request rate.' });
      s3.failNext(1, { status: 500, code: 'InternalError', message: 'We encountered an internal error.' });
      s3.resetNext(1);     // and a connection closed mid-upload

      row = await waitDelivered(agent, 's3', 1, 30000);
      assert.equal(row.pending, 0);
      assert.equal((await s3.objects('profiles')).length, 2);
      assert.deepEqual(s3.violations, []);
    });
  } finally {
    await s3.close();
  }
});

test('S3: an agent killed with uploads pending; its successor delivers them, and nothing twice', async () => {
  const s3 = await startS3({ region: REGION, ...KEY, buckets: ['profiles'] });
  const out = path.join(tmpdir(), 'out');
  const env = s3Env({ AWS_ACCESS_KEY_ID: KEY.accessKeyId, AWS_SECRET_ACCESS_KEY: KEY.secretAccessKey });
  const targets = [];
  try {
    const t = await start(targets, 'leak.js');
    // The first capture is delivered; the second waits for a server that is down.
    let a = await new Agent(s3Args(s3), { outputDir: out, env }).start();
    await heapCapture(a, t);
    await waitDelivered(a, 's3', 1);
    await s3.down();
    const second = await heapCapture(a, t);
    await waitFor('a failed attempt', async () => (await exporter(a, 's3')).attempts_failed >= 1);
    a.proc.kill('SIGKILL');
    await waitFor('the agent to die', () => a.exited);
    await s3.up();
    const putsBefore = s3.requests.filter((q) => q.method === 'PUT').length;
    assert.equal(putsBefore, 2);
    a = await new Agent(s3Args(s3), { outputDir: out, env }).start();
    await waitDelivered(a, 's3', 1);
    const row = await exporter(a, 's3');
    assert.equal(row.pending, 0);
    const keys = (await s3.objects('profiles')).map((o) => o.key);
    for (const f of second.files) assert.ok(keys.some((k) => k.endsWith('/' + path.basename(f))), path.basename(f));
    // Only the second capture's two files went up again: the first was not sent twice.
    assert.equal(s3.requests.filter((q) => q.method === 'PUT').length, 4);
    assert.deepEqual(s3.violations, []);
    await a.stop();
  } finally {
    for (const t of targets) await t.stop();
    await s3.close();
  }
});

test('S3: wrong credentials are refused, logged with bucket, key and status, never the secret', async () => {
  const s3 = await startS3({ region: REGION, ...KEY, buckets: ['profiles'] });
  const wrongSecret = 'WRONG-secret-do-not-log-0123456789';
  try {
    await withAgent(s3Args(s3), { env: s3Env({ AWS_ACCESS_KEY_ID: KEY.accessKeyId,
      AWS_SECRET_ACCESS_KEY: wrongSecret }) }, async (agent, targets) => {
      const t = await start(targets, 'leak.js');
      const done = await heapCapture(agent, t);
      await waitFor('a failed attempt', async () => (await exporter(agent, 's3')).attempts_failed >= 1);
      const row = await exporter(agent, 's3');
      assert.equal(row.delivered, 0);
      assert.match(row.last_error, /403/);
      assert.match(row.last_error, /SignatureDoesNotMatch/);
      assert.match(row.last_error, /s3:\/\/profiles\//);
      const line = await agent.waitLog(/s3: \S+ not delivered \(attempt 1\): [^\n]*403[^\n]*/);
      assert.ok(line[0].includes(path.basename(done.files[0])) || line[0].includes('heap-profile'), line[0]);
      assert.ok(!agent.log.includes(wrongSecret), 'the secret is in the log');
      assert.ok(s3.violations.length >= 1, 'the verifier saw the bad signature');
      assert.equal((await s3.objects('profiles')).length, 0);
    });
  } finally {
    await s3.close();
  }
});

test('S3: credentials from the container endpoint (EKS Pod Identity), with a session token, virtual-hosted addressing', async () => {
  const session = { ...KEY, sessionToken: 'FQoGZXIvYXdzEPT//////////wEaDInspectdSessionToken==' };
  const s3 = await startS3({ region: REGION, ...session, buckets: ['profiles'] });
  const token = 'pod-identity-token-' + crypto.randomBytes(8).toString('hex');
  const tokenFile = path.join(tmpdir(), 'eks-pod-identity-token');
  fs.writeFileSync(tokenFile, token + '\n');
  const creds = await startContainerCreds({ token, creds: session, mode: 'ok' });
  try {
    const env = s3Env({ AWS_CONTAINER_CREDENTIALS_FULL_URI: creds.url, AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: tokenFile });
    // Virtual-hosted: BUCKET.localhost resolves to loopback in curl itself.
    const args = ['--s3-endpoint', `http://localhost:${s3.port}`, '--s3-bucket', 'profiles', '--s3-region', REGION,
      '--export-retry-initial', '300ms'];
    await withAgent(args, { env }, async (agent, targets) => {
      const t = await start(targets, 'leak.js');
      await heapCapture(agent, t);
      await heapCapture(agent, t);
      await waitDelivered(agent, 's3', 2);
      assert.equal((await s3.objects('profiles')).length, 4);
      assert.deepEqual(s3.violations, []);
      assert.ok(s3.requests.every((q) => q.headers.host.startsWith('profiles.localhost')), 'virtual-hosted');
      // Fetched once, cached for the second capture.
      assert.equal(creds.requests.length, 1);
      assert.ok(!agent.log.includes(session.secretAccessKey) && !agent.log.includes(token));
    });
  } finally {
    await creds.close();
    await s3.close();
  }
});

test('S3: a credentials endpoint that answers garbage, then hangs: logged, nothing sent, delivered once it answers', async () => {
  const s3 = await startS3({ region: REGION, ...KEY, buckets: ['profiles'] });
  const token = 'pod-identity-token-' + crypto.randomBytes(8).toString('hex');
  const tokenFile = path.join(tmpdir(), 'token');
  fs.writeFileSync(tokenFile, token);
  const creds = await startContainerCreds({ token, creds: KEY, mode: 'garbage' });
  try {
    const env = s3Env({ AWS_CONTAINER_CREDENTIALS_FULL_URI: creds.url, AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: tokenFile });
    await withAgent(s3Args(s3), { env }, async (agent, targets) => {
      const t = await start(targets, 'leak.js');
      await heapCapture(agent, t);
      await waitFor('a failed attempt', async () => (await exporter(agent, 's3')).attempts_failed >= 1);
      assert.match((await exporter(agent, 's3')).last_error, /container/);
      creds.mode = 'hang';
      const before = (await exporter(agent, 's3')).attempts_failed;
      await waitFor('a failed attempt on the hung endpoint', async () =>
        (await exporter(agent, 's3')).attempts_failed > before, 20000);
      assert.equal(s3.requests.length, 0, 'nothing sent without credentials');
      assert.equal((await agent.request('GET', '/healthz')).status, 200);
      creds.mode = 'ok';
      await waitDelivered(agent, 's3', 1, 30000);
      assert.deepEqual(s3.violations, []);
    });
  } finally {
    await creds.close();
    await s3.close();
  }
});

test('S3: a file above --s3-part-size goes up as a multipart upload streamed from disk', async () => {
  const s3 = await startS3({ region: REGION, ...KEY, buckets: ['profiles'] });
  const out = path.join(tmpdir(), 'out');
  try {
    // A commit in the spool as the agent writes them (its name, meta.json last), 12 MiB.
    fs.mkdirSync(out, { mode: 0o700 });
    const base = 'heap-profile-4242-20261201T101500Z';
    const big = crypto.randomBytes(12 << 20);
    fs.writeFileSync(path.join(out, `${base}.heapprofile`), big, { mode: 0o600 });
    fs.writeFileSync(path.join(out, `${base}.meta.json`), JSON.stringify({ pid: 4242, hostname: HOST,
      profile: { type: 'heap-profile', file: `${base}.heapprofile`, files: [`${base}.heapprofile`] } }), { mode: 0o600 });
    await withAgent(s3Args(s3, ['--s3-part-size', '5M', '--keep-local']), { outputDir: out,
      env: s3Env({ AWS_ACCESS_KEY_ID: KEY.accessKeyId, AWS_SECRET_ACCESS_KEY: KEY.secretAccessKey }) }, async (agent) => {
      await waitDelivered(agent, 's3', 1, 30000);
      const key = `${HOST}/host/host/heap-profile/${base}.heapprofile`;
      assert.equal(sha(await s3.getObject('profiles', key)), sha(big));
      const parts = s3.requests.filter((q) => q.method === 'PUT' && /partNumber=/.test(q.query || q.path));
      assert.equal(parts.length, 3);     // 5 + 5 + 2 MiB
      assert.ok(s3.requests.some((q) => q.method === 'POST' && /uploads/.test(q.query || q.path)));
      assert.deepEqual(s3.violations, []);
    });
  } finally {
    await s3.close();
  }
});

test('S3: a commit not delivered within --export-retry-max is given up and kept', async () => {
  const s3 = await startS3({ region: REGION, ...KEY, buckets: ['profiles'] });
  try {
    await s3.down();
    await withAgent(s3Args(s3, ['--export-retry-max', '2s']), { env: s3Env({ AWS_ACCESS_KEY_ID: KEY.accessKeyId,
      AWS_SECRET_ACCESS_KEY: KEY.secretAccessKey }) }, async (agent, targets) => {
      const t = await start(targets, 'leak.js');
      const done = await heapCapture(agent, t);
      await waitFor('the commit to be given up', async () => (await exporter(agent, 's3')).failed >= 1, 20000);
      const row = await exporter(agent, 's3');
      assert.equal(row.pending, 0);
      assert.ok(done.files.every((f) => fs.existsSync(f)), 'the only copy is kept');
      const base = path.basename(done.files.at(-1)).replace(/\.meta\.json$/, '');
      assert.ok(fs.existsSync(path.join(agent.outputDir, '.outbox', 's3', `${base}.failed`)));
      const m = parsePrometheus((await agent.request('GET', '/metrics')).body);
      assert.equal(metric(m, 'inspectd_deliveries_total', { exporter: 's3', outcome: 'given_up' }), 1);
    });
  } finally {
    await s3.close();
  }
});

test('Pyroscope: heap and CPU profiles pushed as pprof to /ingest, with labels, auth and tenant', async () => {
  const py = await startPyroscope({ bearer: 'py-token-123', tenant: 'team-a' });
  const tokenFile = path.join(tmpdir(), 'pyroscope-token');
  fs.writeFileSync(tokenFile, 'py-token-123\n', { mode: 0o600 });
  try {
    await withAgent(['--pyroscope-url', py.url, '--pyroscope-app', 'checkout', '--pyroscope-token-file', tokenFile,
      '--pyroscope-tenant', 'team-a', '--export-retry-initial', '300ms', '--keep-local'], async (agent, targets) => {
      const t = await start(targets, 'leak.js');
      const heap = await heapCapture(agent, t, 2);
      let r = await agent.request('POST', '/v1/captures', { pid: t.pid, kind: 'cpu', seconds: 2 });
      assert.equal(r.status, 202, r.body);
      await agent.waitState(r.json.id, 'done');
      await waitDelivered(agent, 'pyroscope', 2);
      assert.deepEqual(py.violations, []);
      assert.equal(py.profiles.length, 2);
      const h = py.profiles.find((i) => i.sampleTypes.some(([type]) => type === 'inuse_space'));
      const c = py.profiles.find((i) => i.sampleTypes.some(([type]) => type === 'cpu'));
      assert.ok(h && c, JSON.stringify(py.profiles.map((i) => i.sampleTypes)));
      for (const i of [h, c]) {
        assert.equal(i.app, 'checkout');
        assert.equal(i.labels.hostname, HOST);
        assert.equal(i.labels.pid, String(t.pid));
        assert.equal(i.spyName, 'inspectd');
        assert.ok(i.until >= i.from && i.from > 1.7e9, JSON.stringify(i));
      }
      assert.deepEqual(h.sampleTypes, [['inuse_objects', 'count'], ['inuse_space', 'bytes']]);
      assert.equal(py.top(h, 'inuse_space')[0][0], heapSelfByFunction(readJSON(heap.files[0]))[0][0]);
    });
  } finally {
    await py.close();
  }
});

test('a heap snapshot goes to S3 as a multipart upload streamed from disk; Pyroscope, which cannot take it, is not sent it', async () => {
  const s3 = await startS3({ region: REGION, ...KEY, buckets: ['profiles'] });
  const py = await startPyroscope({});
  try {
    await withAgent(s3Args(s3, ['--s3-part-size', '5M', '--keep-local', '--pyroscope-url', py.url]), {
      env: s3Env({ AWS_ACCESS_KEY_ID: KEY.accessKeyId, AWS_SECRET_ACCESS_KEY: KEY.secretAccessKey }) }, async (agent, targets) => {
      const t = await start(targets, 'retain.js');
      await t.send('things 150000');
      const r = await agent.request('POST', '/v1/captures', { pid: t.pid, kind: 'heap-snapshot' });
      assert.equal(r.status, 202, r.body);
      const done = await agent.waitState(r.json.id, 'done', { timeoutMs: 60000 });
      const file = done.files.find((f) => f.endsWith('.heapsnapshot'));
      assert.ok(fs.statSync(file).size > 10 << 20, `${fs.statSync(file).size} bytes: too small for parts`);
      await waitDelivered(agent, 's3', 1, 30000);
      const key = `${HOST}/host/host/heap-snapshot/${path.basename(file)}`;
      assert.equal(sha(await s3.getObject('profiles', key)), sha(fs.readFileSync(file)));
      assert.ok(s3.requests.filter((q) => q.method === 'PUT' && /partNumber=/.test(q.query || q.path)).length >= 3);
      assert.deepEqual(s3.violations, []);
      // Not Pyroscope's: nothing sent, nothing failed, nothing pending.
      const row = await exporter(agent, 'pyroscope');
      assert.equal(row.pending, 0, JSON.stringify(row));
      assert.equal(row.failed, 0, JSON.stringify(row));
      assert.equal(py.profiles.length, 0);
      const base = path.basename(file).replace(/\.heapsnapshot$/, '');
      assert.ok(fs.existsSync(path.join(agent.outputDir, '.outbox', 'pyroscope', `${base}.unwanted`)));
    });
  } finally {
    await s3.close();
    await py.close();
  }
});
