#!/usr/bin/env node
// inspectd benchmark, part 11 (run by `make bench`): the S3 exporter, against the loopback
// S3 peer of the tests (s3rver behind tests/peers/s3.js, which recomputes every signature
// and payload hash: the same server for both sides, so its cost is in both).
//
// 1. A 1 GiB file: the agent (a commit planted in its spool; a multipart upload in parts
//    of --s3-part-size, 64 MiB by default, each hashed from disk, then streamed) against
//    `curl --aws-sigv4` of the same file in one PUT (its x-amz-content-sha256 from
//    sha256sum, which curl 7.88 does not compute: timed apart and added), alternately,
//    BENCH_EXPORT_ROUNDS rounds (default 2). Each side's time is the server's: from the
//    first request's arrival to the last answer (the agent's hashing is inside it). The
//    agent's peak RSS (VmHWM) is read after each delivery (goal: at most 64 MiB).
// 2. Capture finished -> object in S3: 20 small heap captures through the API, one after
//    another; for each, from the capture's ended_at (the API: its commit done) to the
//    peer's answer to the PUT of its meta.json (a commit's last object). Median and max.
// Needs root (the agent loads BPF) and TEST_PEERS_DIR (make bench installs the peers).
'use strict';
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const crypto = require('node:crypto');
const { spawn } = require('node:child_process');
const { sleep, children, waitFor, run, median } = require('./common');

if (!process.env.TEST_PEERS_DIR) throw new Error('TEST_PEERS_DIR is not set: make bench installs the test peers');
const { startS3 } = require('../peers/s3');

const ROOT = path.resolve(__dirname, '../..');
const AGENT = process.env.INSPECTD || path.join(ROOT, '.output/inspectd');
const APPS = path.join(ROOT, 'tests/integration/apps');
const ROUNDS = Number(process.env.BENCH_EXPORT_ROUNDS) || 2;
const SIZE = Number(process.env.BENCH_EXPORT_BYTES) || (1 << 30);
const SMALL = 20;
const REGION = 'us-east-1';
const KEY = { accessKeyId: 'AKIAINSPECTDBENCH001', secretAccessKey: 'bench/secret+0123456789abcdefghijklmno' };
const BASE = 'heap-profile-4242-20261201T101500Z';

function api(sock, method, p, body) {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: sock, method, path: p, timeout: 10000 }, (res) => {
      let data = '';
      res.on('data', (d) => { data += d; });
      res.on('end', () => resolve(JSON.parse(data)));
    });
    req.on('error', reject);
    if (body) {
      const text = JSON.stringify(body);
      req.setHeader('Content-Length', Buffer.byteLength(text));
      req.write(text);
    }
    req.end();
  });
}

async function s3Row(sock) {
  return (await api(sock, 'GET', '/v1/exporters')).exporters.find((e) => e.name === 's3');
}

function vmhwm(pid) {
  const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m[1]) / 1024;
}

async function startAgent(dir, args) {
  fs.mkdirSync(dir, { recursive: true });
  const sock = path.join(dir, 'api.sock');
  const argv = [AGENT, '--output-dir', path.join(dir, 'out'), '--api-socket', sock, '--state-dir', path.join(dir, 'state'),
    '--keep-local', ...args];
  const env = { PATH: process.env.PATH, HOME: dir, AWS_EC2_METADATA_DISABLED: 'true',
    AWS_ACCESS_KEY_ID: KEY.accessKeyId, AWS_SECRET_ACCESS_KEY: KEY.secretAccessKey };
  const saved = { ...process.env };
  Object.assign(process.env, env);    // run() spawns with the current environment
  try {
    return { p: await run(argv, /ready:/), sock };
  } finally {
    for (const k of Object.keys(env)) if (!(k in saved)) delete process.env[k]; else process.env[k] = saved[k];
  }
}

async function stopAgent(a) {
  a.p.kill('SIGTERM');
  await waitFor('the agent to exit', () => a.p.exitCode !== null || a.p.signalCode !== null, 20000);
}

// A command run to its end without blocking this process (the S3 peer runs in it): its stdout.
function command(argv) {
  return new Promise((resolve, reject) => {
    const p = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(p);
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { err += d; });
    p.on('exit', (code) => {
      children.delete(p);
      if (code === 0) resolve(out); else reject(new Error(`${argv[0]} exited ${code}: ${err}`));
    });
  });
}

function window(reqs) {
  const first = Math.min(...reqs.map((q) => q.startedAt));
  const last = Math.max(...reqs.map((q) => q.answeredAt));
  return (last - first) / 1000;
}

async function bigFile(s3, dir) {
  const out = path.join(dir, 'out');
  fs.mkdirSync(out, { recursive: true, mode: 0o700 });
  const file = path.join(out, `${BASE}.heapprofile`);
  const fd = fs.openSync(file, 'w', 0o600);
  const chunk = crypto.randomBytes(8 << 20);
  for (let off = 0; off < SIZE; off += chunk.length) fs.writeSync(fd, chunk, 0, Math.min(chunk.length, SIZE - off));
  fs.closeSync(fd);
  const meta = path.join(out, `${BASE}.meta.json`);
  fs.writeFileSync(meta, JSON.stringify({ pid: 4242, hostname: os.hostname(),
    profile: { type: 'heap-profile', file: `${BASE}.heapprofile`, files: [`${BASE}.heapprofile`] } }), { mode: 0o600 });
  const rows = { agent: [], curl: [], hash: [], rss: [], complete: [] };
  for (let r = 0; r < ROUNDS; r++) {
    // The agent: a fresh outbox each round, so that the commit is pending again.
    fs.rmSync(path.join(out, '.outbox'), { recursive: true, force: true });
    let from = s3.requests.length;
    const a = await startAgent(dir, ['--s3-endpoint', s3.endpoint, '--s3-path-style', '--s3-bucket', 'profiles',
      '--s3-region', REGION]);
    await waitFor('the 1 GiB commit to be delivered', async () => (await s3Row(a.sock)).delivered >= 1, 600000, 200);
    rows.rss.push(vmhwm(a.p.pid));
    await stopAgent(a);
    const reqs = s3.requests.slice(from);
    rows.agent.push(window(reqs));
    // The server's own assembly of the parts (s3rver concatenates them on Complete).
    rows.complete.push(reqs.filter((q) => q.method === 'POST' && /uploadId=/.test(q.query))
      .reduce((t, q) => t + (q.answeredAt - q.startedAt) / 1000, 0));
    // curl, the same file, one PUT.
    let t = process.hrtime.bigint();
    const hash = (await command(['sha256sum', file])).split(' ')[0];
    rows.hash.push(Number(process.hrtime.bigint() - t) / 1e9);
    from = s3.requests.length;
    const code = await command(['curl', '-sS', '-o', '/dev/null', '-w', '%{http_code}', '--aws-sigv4',
      `aws:amz:${REGION}:s3`, '--user', `${KEY.accessKeyId}:${KEY.secretAccessKey}`,
      '-H', `x-amz-content-sha256: ${hash}`, '-T', file, `${s3.endpoint}/profiles/curl-copy-${r}`]);
    if (code !== '200') throw new Error(`curl: HTTP ${code}`);
    rows.curl.push(window(s3.requests.slice(from)));
  }
  if (s3.violations.length) throw new Error(`the S3 peer saw violations: ${s3.violations.slice(0, 3).join('; ')}`);
  fs.rmSync(file);
  const mb = SIZE / 1048576;
  const med = (xs) => median(xs);
  console.log(`  1 GiB to S3 (loopback s3rver behind the SigV4 verifier), ${ROUNDS} alternated rounds, median:`);
  console.log(`    agent (multipart, 64 MiB parts, hashed from disk):  ${med(rows.agent).toFixed(2)} s  ` +
    `${(mb / med(rows.agent)).toFixed(0)} MiB/s   peak RSS ${Math.max(...rows.rss).toFixed(1)} MiB (goal <= 64)`);
  console.log(`      of which the server's CompleteMultipartUpload (s3rver joining the parts): ${med(rows.complete).toFixed(2)} s; ` +
    `without it ${(mb / (med(rows.agent) - med(rows.complete))).toFixed(0)} MiB/s`);
  console.log(`    curl --aws-sigv4, one PUT:                         ${med(rows.curl).toFixed(2)} s  ` +
    `${(mb / med(rows.curl)).toFixed(0)} MiB/s   (+ sha256sum ${med(rows.hash).toFixed(2)} s: ` +
    `${(mb / (med(rows.curl) + med(rows.hash))).toFixed(0)} MiB/s)`);
  console.log(`    agent / (curl + sha256sum): ${(med(rows.agent) / (med(rows.curl) + med(rows.hash))).toFixed(2)}x the time; ` +
    `agent / curl alone: ${(med(rows.agent) / med(rows.curl)).toFixed(2)}x`);
}

async function smallCaptures(s3, dir) {
  const target = await run([process.execPath, path.join(APPS, 'leak.js')], /ready/);
  // 20 captures of one process: past the default hourly cap of its tenant (12).
  const a = await startAgent(dir, ['--s3-endpoint', s3.endpoint, '--s3-path-style', '--s3-bucket', 'small',
    '--s3-region', REGION, '--max-captures-per-container-per-hour', '100']);
  const lat = [];
  try {
    for (let i = 0; i < SMALL; i++) {
      const job = await api(a.sock, 'POST', '/v1/captures', { pid: target.pid, kind: 'heap', seconds: 1 });
      if (!job.id) throw new Error(`capture refused: ${JSON.stringify(job)}`);
      const done = await waitFor('the capture', async () => {
        const j = await api(a.sock, 'GET', `/v1/captures/${job.id}`);
        return j.state === 'done' || j.state === 'failed' ? j : null;
      }, 30000, 20);
      if (done.state !== 'done') throw new Error(`capture ${job.id} ${done.state}: ${done.error}`);
      const base = path.basename(done.files.at(-1)).replace(/\.meta\.json$/, '');
      const put = await waitFor('its meta.json in S3', () => s3.requests.find((q) => q.method === 'PUT' &&
        q.path.endsWith(`/${base}.meta.json`) && q.answeredAt && q.status === 200), 30000, 5);
      lat.push(put.answeredAt - Date.parse(done.ended_at));
    }
  } finally {
    await stopAgent(a);
    target.kill('SIGKILL');
  }
  console.log(`  capture finished -> its meta.json (last object) answered by S3, ${SMALL} heap captures: ` +
    `median ${median(lat).toFixed(0)} ms, max ${Math.max(...lat).toFixed(0)} ms`);
}

async function main() {
  console.log('inspectd benchmark: the S3 exporter');
  const s3 = await startS3({ region: REGION, ...KEY, buckets: ['profiles', 'small'] });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inspectd-bench-export-'));
  try {
    await smallCaptures(s3, path.join(dir, 'small'));
    await bigFile(s3, path.join(dir, 'big'));
  } finally {
    await s3.close();
    fs.rmSync(dir, { recursive: true, force: true });
    for (const c of children) c.kill('SIGKILL');
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
