// The test peers (tests/peers/) against curl, before any test trusts them with the agent:
// the S3 verifier must fail what S3 would refuse, and pass what S3 would take. No agent,
// no root; TEST_PEERS_DIR must name `make test-peers`' folder (these fail without it).
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const zlib = require('node:zlib');

const { startS3 } = require('../peers/s3');
const { startContainerCreds, startImds } = require('../peers/aws-creds');
const { startPyroscope } = require('../peers/pyroscope');
const { need } = require('../peers/deps');

const REGION = 'eu-west-3';
const KEY = 'AKIDINSPECTDTEST';
const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const sha256 = (b) => crypto.createHash('sha256').update(b).digest('hex');
const EMPTY_SHA = sha256('');

// curl, asynchronously (the peers run in this process): { code, status, body, stderr }.
function curl(args, { timeoutMs = 20000 } = {}) {
  return new Promise((resolve, reject) => {
    const p = spawn('curl', ['-sS', '-w', '\n@@%{http_code}', ...args]);
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { err += d; });
    const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('error', reject);
    p.on('close', (code) => {
      clearTimeout(timer);
      const at = out.lastIndexOf('\n@@');
      resolve({ code, status: at < 0 ? null : Number(out.slice(at + 3)), body: at < 0 ? out : out.slice(0, at), stderr: err });
    });
  });
}

// curl signing as the agent's libcurl does (CURLOPT_AWS_SIGV4), with the payload hash
// curl 7.88 does not add by itself.
function signed({ user = `${KEY}:${SECRET}`, hash = 'UNSIGNED-PAYLOAD', region = REGION } = {}) {
  return ['--aws-sigv4', `aws:amz:${region}:s3`, '--user', user, '-H', `x-amz-content-sha256: ${hash}`];
}

async function put(s3, urlPath, body, opts = {}) {
  return curl([...signed({ hash: sha256(body), ...opts }), ...(opts.headers || []).flatMap((h) => ['-H', h]),
    '-X', 'PUT', '--data-binary', `@${opts.file || writeTmp(body)}`, `${opts.base || s3.endpoint}${urlPath}`]);
}

// One request made by node, for what curl will not send (headers added after signing):
// resolves to its status.
function send(port, method, urlPath, headers, body) {
  return new Promise((resolve, reject) => {
    const c = require('node:http').request({ host: '127.0.0.1', port, method, path: urlPath, headers }, (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    c.on('error', reject);
    c.end(body);
  });
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'inspectd-peers-'));
test.after(() => fs.rmSync(tmp, { recursive: true, force: true }));
let tmpN = 0;
function writeTmp(body) {
  const f = path.join(tmp, `body-${tmpN++}`);
  fs.writeFileSync(f, body);
  return f;
}

// One S3 peer per test; its violations are the test's to expect.
async function withS3(opts, fn) {
  const s3 = await startS3({ region: REGION, accessKeyId: KEY, secretAccessKey: SECRET, buckets: ['bkt'], ...opts });
  try {
    await fn(s3);
  } finally {
    await s3.close();
  }
}

test('the peers need TEST_PEERS_DIR, and say so', () => {
  assert.ok(process.env.TEST_PEERS_DIR, 'TEST_PEERS_DIR is set (make test-peers installs it; make check exports it)');
  const saved = process.env.TEST_PEERS_DIR;
  try {
    process.env.TEST_PEERS_DIR = path.join(tmp, 'nowhere');
    assert.throws(() => need('aws4'), /make test-peers/);
  } finally {
    process.env.TEST_PEERS_DIR = saved;
  }
});

test('S3: signed PUTs of awkward keys pass, percent-encoded once, and are stored with their metadata', async () => {
  await withS3({}, async (s3) => {
    const keys = [
      ['plain.pprof', 'plain.pprof'],
      ['with%20spaces/and%20more.json', 'with spaces/and more.json'],
      ['unicode-%C3%A9t%C3%A9-%E2%9C%93/%F0%9F%94%A5', 'unicode-été-✓/🔥'],
      ['a%2Bplus%2Bsign', 'a+plus+sign'],
      ['tilde~and-dots..and_under', 'tilde~and-dots..and_under'],
    ];
    for (const [sent, key] of keys) {
      const body = `profile of ${key}`;
      const r = await put(s3, `/bkt/${sent}`, body, { headers: ['x-amz-meta-inspectd-pid: 4242', 'x-amz-meta-kind:  cpu  profile '] });
      assert.equal(r.status, 200, `${sent}: ${r.body}`);
      assert.deepEqual(await s3.getObject('bkt', key), Buffer.from(body));
    }
    assert.deepEqual(s3.violations, []);
    const objects = await s3.objects('bkt');
    assert.deepEqual(objects.map((o) => o.key).sort(), keys.map(([, k]) => k).sort());
    for (const o of objects) {
      assert.equal(o.meta['x-amz-meta-inspectd-pid'], '4242');
      assert.equal(o.size, Buffer.byteLength(`profile of ${o.key}`));
    }
    assert.ok(s3.requests.every((r) => r.signatureOk && r.payloadHashOk === true && r.style === 'path'));
    // curl signs the custom x-amz-* headers it is given.
    assert.match(s3.requests[0].headers.authorization, /SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-meta-inspectd-pid;x-amz-meta-kind,/);
  });
});

test('S3: a wrong secret, an unknown key, a wrong region, an unsigned request are refused as S3 does', async () => {
  await withS3({}, async (s3) => {
    let r = await put(s3, '/bkt/k', 'x', { user: `${KEY}:not-the-secret` });
    assert.equal(r.status, 403);
    assert.match(r.body, /<Code>SignatureDoesNotMatch<\/Code>/);
    assert.match(r.body, /<CanonicalRequest>PUT\n\/bkt\/k\n/);
    assert.equal(s3.violations.length, 1);
    assert.match(s3.violations[0], /signature mismatch/);
    assert.equal(s3.requests[0].signatureOk, false);

    r = await put(s3, '/bkt/k', 'x', { user: `AKIDUNKNOWN:${SECRET}` });
    assert.equal(r.status, 403);
    assert.match(r.body, /<Code>InvalidAccessKeyId<\/Code>/);

    r = await put(s3, '/bkt/k', 'x', { region: 'us-east-1' });
    assert.equal(r.status, 400);
    assert.match(r.body, /<Code>AuthorizationHeaderMalformed<\/Code>.*the region 'us-east-1' is wrong; expecting 'eu-west-3'/s);

    r = await curl(['-X', 'PUT', '--data-binary', 'x', `${s3.endpoint}/bkt/k`]);
    assert.equal(r.status, 403);
    assert.match(r.body, /<Code>AccessDenied<\/Code>/);

    // Signed, but without x-amz-content-sha256 (curl 7.88 does not add it).
    r = await curl(['--aws-sigv4', `aws:amz:${REGION}:s3`, '--user', `${KEY}:${SECRET}`, '-X', 'PUT', '--data-binary', 'x', `${s3.endpoint}/bkt/k`]);
    assert.equal(r.status, 400);
    assert.match(r.body, /Missing required header for this request: x-amz-content-sha256/);

    assert.equal(s3.violations.length, 5);
    assert.deepEqual(await s3.objects('bkt'), [], 'nothing refused was stored');
  });
});

test('S3: a body whose SHA-256 is not its x-amz-content-sha256 is refused and not stored', async () => {
  await withS3({}, async (s3) => {
    const r = await put(s3, '/bkt/k', 'the body', { hash: sha256('another body') });
    assert.equal(r.status, 400);
    assert.match(r.body, /<Code>XAmzContentSHA256Mismatch<\/Code>/);
    assert.equal(s3.requests[0].signatureOk, true, 'signed right, over the wrong hash');
    assert.equal(s3.requests[0].payloadHashOk, false);
    assert.equal(s3.violations.length, 1);
    assert.match(s3.violations[0], /body's SHA-256 is/);
    assert.deepEqual(await s3.objects('bkt'), []);
    assert.equal(await s3.getObject('bkt', 'k'), null);
  });
});

test('S3: x-amz-* headers must be signed, and temporary credentials need their token', async () => {
  await withS3({ sessionToken: 'SESSION-TOKEN/+=' }, async (s3) => {
    let r = await put(s3, '/bkt/k', 'x', { headers: ['x-amz-security-token: SESSION-TOKEN/+='] });
    assert.equal(r.status, 200, r.body);
    assert.deepEqual(s3.violations, []);
    assert.match(s3.requests[0].headers.authorization, /x-amz-security-token/, 'curl signed the token');

    r = await put(s3, '/bkt/k', 'x');
    assert.equal(r.status, 400);
    assert.match(r.body, /<Code>InvalidToken<\/Code>/);
    r = await put(s3, '/bkt/k', 'x', { headers: ['x-amz-security-token: another'] });
    assert.equal(r.status, 400);
    assert.match(r.body, /<Code>InvalidToken<\/Code>/);
    assert.equal(s3.violations.length, 2);
  });
  // A header added after signing (a proxy, a bug) is not signed: S3 refuses it.
  await withS3({}, async (s3) => {
    const aws4 = need('aws4');
    const req = aws4.sign({ host: `127.0.0.1:${s3.port}`, path: '/bkt/late', method: 'PUT', body: 'x', service: 's3', region: REGION },
      { accessKeyId: KEY, secretAccessKey: SECRET });
    const status = await send(s3.port, 'PUT', req.path, { ...req.headers, 'x-amz-meta-late': 'added after signing' }, 'x');
    assert.equal(status, 403);
    assert.equal(s3.violations.length, 1);
    assert.match(s3.violations[0], /headers not signed: x-amz-meta-late/);
    // The same request as signed passes: aws4, an independent signer, agrees with the peer.
    assert.equal(await send(s3.port, 'PUT', req.path, req.headers, 'x'), 200);
  });
});

test('S3: curl 7.88 signs the path and the query as sent, so only canonical ones pass', async () => {
  await withS3({}, async (s3) => {
    // A raw '+', lowercase hex: S3 encodes the path once, '+' as %2B, hex in capitals.
    for (const p of ['/bkt/raw+plus', '/bkt/lower%2bhex']) {
      const r = await put(s3, p, 'x');
      assert.equal(r.status, 403, p);
      assert.match(r.body, /SignatureDoesNotMatch/);
    }
    // Query parameters out of order, or without "=": S3 sorts them and writes "k=".
    for (const q of ['prefix=&list-type=2', 'uploads']) {
      const r = await curl([...signed(), `${s3.endpoint}/bkt?${q}`]);
      assert.equal(r.status, 403, q);
    }
    const r = await curl([...signed(), `${s3.endpoint}/bkt?list-type=2&prefix=`]);
    assert.equal(r.status, 200, r.body);
    assert.equal(s3.violations.length, 4);
    assert.match(s3.violations[0], /\n\/bkt\/raw%2Bplus\n/);
  });
});

test('S3: a multipart upload by curl, verified end to end', async () => {
  await withS3({}, async (s3) => {
    const part1 = crypto.randomBytes(5 * 1024 * 1024);
    const part2 = Buffer.from('the last part may be small');
    let r = await curl([...signed({ hash: EMPTY_SHA }), '-H', 'x-amz-meta-inspectd-kind: heap', '-X', 'POST', '--data-binary', '',
      `${s3.endpoint}/bkt/multi/part%20ed.heapprofile?uploads=`]);
    assert.equal(r.status, 200, r.body);
    const uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec(r.body)[1];
    assert.deepEqual(s3.uploads('bkt').map((u) => u.key), ['multi/part ed.heapprofile']);
    const etags = [];
    for (const [n, part] of [[1, part1], [2, part2]]) {
      r = await curl([...signed({ hash: sha256(part) }), '-D', '-', '-X', 'PUT', '--data-binary', `@${writeTmp(part)}`,
        `${s3.endpoint}/bkt/multi/part%20ed.heapprofile?partNumber=${n}&uploadId=${uploadId}`]);
      assert.equal(r.status, 200, r.body);
      etags.push(/^etag: (.+?)\r?$/im.exec(r.body)[1]);
    }
    // One part alone is the last: any size will do.
    const xml = (parts) => `<CompleteMultipartUpload>${parts.map(([n, e]) => `<Part><PartNumber>${n}</PartNumber><ETag>${e}</ETag></Part>`).join('')}</CompleteMultipartUpload>`;
    let body = xml([[2, etags[1]]]);
    r = await curl([...signed({ hash: sha256(body) }), '-X', 'POST', '--data-binary', body, `${s3.endpoint}/bkt/multi/part%20ed.heapprofile?uploadId=${uploadId}`]);
    assert.equal(r.status, 200, r.body);
    assert.deepEqual(s3.uploads('bkt'), []);
    assert.equal((await s3.getObject('bkt', 'multi/part ed.heapprofile')).toString(), part2.toString());

    // Again, whole: two parts, the first 5 MiB.
    r = await curl([...signed({ hash: EMPTY_SHA }), '-X', 'POST', '--data-binary', '', `${s3.endpoint}/bkt/whole?uploads=`]);
    const id2 = /<UploadId>([^<]+)<\/UploadId>/.exec(r.body)[1];
    const tags = [];
    for (const [n, part] of [[1, part2], [2, part1]]) {
      r = await curl([...signed({ hash: sha256(part) }), '-D', '-', '-X', 'PUT', '--data-binary', `@${writeTmp(part)}`,
        `${s3.endpoint}/bkt/whole?partNumber=${n}&uploadId=${id2}`]);
      tags.push(/^etag: (.+?)\r?$/im.exec(r.body)[1]);
    }
    body = xml([[1, tags[0]], [2, tags[1]]]);
    r = await curl([...signed({ hash: sha256(body) }), '-X', 'POST', '--data-binary', body, `${s3.endpoint}/bkt/whole?uploadId=${id2}`]);
    assert.equal(r.status, 400, 'a small first part');
    assert.match(r.body, /<Code>EntityTooSmall<\/Code>/);
    body = xml([[1, '"0123456789abcdef0123456789abcdef"'], [2, tags[1]]]);
    r = await curl([...signed({ hash: sha256(body) }), '-X', 'POST', '--data-binary', body, `${s3.endpoint}/bkt/whole?uploadId=${id2}`]);
    assert.match(r.body, /<Code>InvalidPart<\/Code>/);
    // Aborted (s3rver 3.7.1 lacks AbortMultipartUpload: the peer answers it).
    r = await curl([...signed({ hash: EMPTY_SHA }), '-X', 'DELETE', `${s3.endpoint}/bkt/whole?uploadId=${id2}`]);
    assert.equal(r.status, 204);
    assert.deepEqual(s3.uploads('bkt'), []);
    r = await curl([...signed({ hash: EMPTY_SHA }), '-X', 'DELETE', `${s3.endpoint}/bkt/whole?uploadId=${id2}`]);
    assert.equal(r.status, 404);
    assert.match(r.body, /NoSuchUpload/);
    assert.equal(s3.violations.length, 2, s3.violations.join('\n'));

    // The whole flow once more, 5 MiB then a tail, completed.
    r = await curl([...signed({ hash: EMPTY_SHA }), '-X', 'POST', '--data-binary', '', `${s3.endpoint}/bkt/whole?uploads=`]);
    const id3 = /<UploadId>([^<]+)<\/UploadId>/.exec(r.body)[1];
    const t3 = [];
    for (const [n, part] of [[1, part1], [2, part2]]) {
      r = await curl([...signed({ hash: sha256(part) }), '-D', '-', '-X', 'PUT', '--data-binary', `@${writeTmp(part)}`,
        `${s3.endpoint}/bkt/whole?partNumber=${n}&uploadId=${id3}`]);
      t3.push(/^etag: (.+?)\r?$/im.exec(r.body)[1]);
    }
    body = xml([[1, t3[0]], [2, t3[1]]]);
    r = await curl([...signed({ hash: sha256(body) }), '-X', 'POST', '--data-binary', body, `${s3.endpoint}/bkt/whole?uploadId=${id3}`]);
    assert.equal(r.status, 200, r.body);
    assert.match(r.body, /<CompleteMultipartUploadResult>/);
    assert.deepEqual(await s3.getObject('bkt', 'whole'), Buffer.concat([part1, part2]));
    const meta = (await s3.objects('bkt')).find((o) => o.key === 'multi/part ed.heapprofile').meta;
    assert.equal(meta['x-amz-meta-inspectd-kind'], 'heap', 'CreateMultipartUpload metadata kept');
    assert.equal(s3.violations.length, 2);
  });
});

test('S3: virtual-hosted requests are verified against the Host as sent', async () => {
  await withS3({}, async (s3) => {
    const base = `http://bkt.localhost:${s3.port}`;
    let r = await put(s3, '/vh/key%20one', 'virtual', { base });
    assert.equal(r.status, 200, r.body);
    assert.equal(s3.requests[0].style, 'virtual');
    assert.equal(s3.requests[0].headers.host, `bkt.localhost:${s3.port}`);
    r = await curl([...signed(), `${base}/vh/key%20one`]);
    assert.equal(r.status, 200);
    assert.equal(r.body, 'virtual');
    assert.deepEqual((await s3.objects('bkt')).map((o) => o.key), ['vh/key one']);
    assert.deepEqual(s3.violations, []);
    // Signed for one bucket's host, sent with another's: refused.
    const aws4 = need('aws4');
    const req = aws4.sign({ host: `bkt.localhost:${s3.port}`, path: '/vh/key%20one', service: 's3', region: REGION },
      { accessKeyId: KEY, secretAccessKey: SECRET });
    assert.equal(await send(s3.port, 'GET', req.path, req.headers), 200);
    assert.equal(await send(s3.port, 'GET', req.path, { ...req.headers, Host: `bkt2.localhost:${s3.port}` }), 403);
    assert.equal(s3.violations.length, 1);
  });
});

test('S3: each fault is seen by curl as a client sees it', async () => {
  await withS3({}, async (s3) => {
    s3.failNext(1, { status: 503 });
    s3.failNext(1, { status: 500 });
    s3.failNext(1, { status: 403, code: 'AccessDenied', message: 'denied by a policy' });
    const expect = [[503, 'SlowDown'], [500, 'InternalError'], [403, 'AccessDenied']];
    for (const [status, code] of expect) {
      const r = await put(s3, '/bkt/f', 'x');
      assert.equal(r.status, status);
      assert.match(r.body, new RegExp(`<Code>${code}</Code>`));
    }
    assert.equal((await put(s3, '/bkt/f', 'x')).status, 200, 'the faults are used up');

    // A connection cut halfway through a 1 MiB upload: nothing stored.
    s3.resetNext(1);
    const big = crypto.randomBytes(1024 * 1024);
    let r = await put(s3, '/bkt/cut', big);
    assert.notEqual(r.code, 0, 'curl failed');
    assert.match(r.stderr, /curl: \((52|55|56)\)/);
    assert.equal(s3.requests.at(-1).fault, 'reset');
    assert.ok(s3.requests.at(-1).bytes < big.length);
    assert.equal(await s3.getObject('bkt', 'cut'), null);

    // A server that accepts, reads and says nothing.
    s3.stall(Infinity);
    r = await curl([...signed(), '--max-time', '1', `${s3.endpoint}/bkt/f`]);
    assert.equal(r.code, 28, 'curl timed out');
    s3.stall(0);
    assert.equal((await curl([...signed(), `${s3.endpoint}/bkt/f`])).status, 200);

    // Down: connection refused; up again on the same port.
    await s3.down();
    r = await curl([...signed(), `${s3.endpoint}/bkt/f`]);
    assert.equal(r.code, 7, 'curl could not connect');
    await s3.up();
    assert.equal((await curl([...signed(), `${s3.endpoint}/bkt/f`])).status, 200);
    assert.deepEqual(s3.violations, []);
  });
});

test('S3: a large upload streams through (not held in memory) and is hashed', async () => {
  await withS3({}, async (s3) => {
    const size = 256 * 1024 * 1024;
    const file = path.join(tmp, 'large');
    const hash = crypto.createHash('sha256');
    const fd = fs.openSync(file, 'w');
    const block = crypto.randomBytes(1024 * 1024);
    for (let i = 0; i < size / block.length; i++) {
      block[0] = i & 0xff;
      fs.writeSync(fd, block);
      hash.update(block);
    }
    fs.closeSync(fd);
    const before = process.memoryUsage().rss;
    let peak = before;
    const sampler = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss); }, 20);
    const r = await put(s3, '/bkt/large', '', { file, hash: hash.digest('hex') });
    clearInterval(sampler);
    fs.rmSync(file);
    assert.equal(r.status, 200, r.body);
    assert.deepEqual(s3.violations, []);
    assert.equal((await s3.objects('bkt'))[0].size, size);
    assert.ok(peak - before < 96 * 1024 * 1024, `rss grew by ${((peak - before) / 1048576).toFixed(0)} MiB for a 256 MiB upload`);
  });
});

test('container credentials: the token is required, each mode answers as named', async () => {
  const creds = { accessKeyId: 'ASIACONTAINER', secretAccessKey: 'container-secret', sessionToken: 'container-token' };
  const ep = await startContainerCreds({ token: 'Bearer-less token value', creds, mode: 'ok' });
  try {
    let r = await curl([ep.url]);
    assert.equal(r.status, 401);
    r = await curl(['-H', 'Authorization: wrong', ep.url]);
    assert.equal(r.status, 401);
    r = await curl(['-H', 'Authorization: Bearer-less token value', ep.url]);
    assert.equal(r.status, 200);
    const j = JSON.parse(r.body);
    assert.equal(j.AccessKeyId, 'ASIACONTAINER');
    assert.equal(j.SecretAccessKey, 'container-secret');
    assert.equal(j.Token, 'container-token');
    assert.ok(Date.parse(j.Expiration) - Date.now() > 50 * 60 * 1000);

    ep.mode = 'expire-soon';
    const soon = JSON.parse((await curl(['-H', 'Authorization: Bearer-less token value', ep.url])).body);
    const left = Date.parse(soon.Expiration) - Date.now();
    assert.ok(left > 60 * 1000 && left <= 120 * 1000, `${left} ms left`);

    ep.mode = 'garbage';
    r = await curl(['-H', 'Authorization: Bearer-less token value', ep.url]);
    assert.equal(r.status, 200);
    assert.throws(() => JSON.parse(r.body));

    ep.mode = 'hang';
    r = await curl(['-H', 'Authorization: Bearer-less token value', '--max-time', '1', ep.url]);
    assert.equal(r.code, 28);
    assert.equal(ep.requests.length, 6);
    assert.deepEqual(ep.requests.map((q) => q.authorized), [false, false, true, true, true, true]);
  } finally {
    await ep.close();
  }
});

test('IMDSv2: a token first, then the role and its credentials', async () => {
  const creds = { accessKeyId: 'ASIAIMDS', secretAccessKey: 'imds-secret', sessionToken: 'imds-token' };
  const imds = await startImds({ role: 'inspectd-role', creds, mode: 'ok' });
  try {
    const base = `${imds.url}/latest/meta-data/iam/security-credentials/`;
    let r = await curl([base]);
    assert.equal(r.status, 401, 'IMDSv1 is off');
    r = await curl(['-X', 'PUT', `${imds.url}/latest/api/token`]);
    assert.equal(r.status, 400, 'a token needs its TTL');
    r = await curl(['-X', 'PUT', '-H', 'X-aws-ec2-metadata-token-ttl-seconds: 21600', `${imds.url}/latest/api/token`]);
    assert.equal(r.status, 200);
    const token = r.body;
    r = await curl(['-H', `X-aws-ec2-metadata-token: ${token}`, base]);
    assert.equal(r.body, 'inspectd-role');
    r = await curl(['-H', `X-aws-ec2-metadata-token: ${token}`, `${base}inspectd-role`]);
    const j = JSON.parse(r.body);
    assert.equal(j.Code, 'Success');
    assert.equal(j.AccessKeyId, 'ASIAIMDS');
    assert.equal(j.Token, 'imds-token');
    r = await curl(['-H', 'X-aws-ec2-metadata-token: forged', `${base}inspectd-role`]);
    assert.equal(r.status, 401);
    r = await curl(['-H', `X-aws-ec2-metadata-token: ${token}`, `${base}another-role`]);
    assert.equal(r.status, 404);
    imds.mode = 'hang';
    r = await curl(['-H', `X-aws-ec2-metadata-token: ${token}`, '--max-time', '1', `${base}inspectd-role`]);
    assert.equal(r.code, 28);
    assert.equal(imds.requests.length, 8);
  } finally {
    await imds.close();
  }
});

// A tiny CPU-ish profile made with pprof-format's encoder: busy() above idle().
function tinyProfile({ gzip = true } = {}) {
  const { Profile, StringTable, ValueType, Function: Fn, Location, Line, Sample } = need('pprof-format');
  const st = new StringTable();
  const fns = [
    new Fn({ id: 1, name: st.dedup('busy'), systemName: st.dedup('busy'), filename: st.dedup('/app/server.js'), startLine: 12 }),
    new Fn({ id: 2, name: st.dedup('idle'), systemName: st.dedup('idle'), filename: st.dedup('/app/server.js'), startLine: 40 }),
    new Fn({ id: 3, name: st.dedup('main'), systemName: st.dedup('main'), filename: st.dedup('/app/main.js'), startLine: 1 }),
  ];
  const locs = fns.map((f) => new Location({ id: f.id, line: [new Line({ functionId: f.id, line: f.startLine + 1 })] }));
  const p = new Profile({
    sampleType: [new ValueType({ type: st.dedup('samples'), unit: st.dedup('count') }), new ValueType({ type: st.dedup('cpu'), unit: st.dedup('nanoseconds') })],
    periodType: new ValueType({ type: st.dedup('cpu'), unit: st.dedup('nanoseconds') }),
    period: 10000000,
    sample: [
      new Sample({ locationId: [1, 3], value: [7, 70000000] }),
      new Sample({ locationId: [2, 3], value: [2, 20000000] }),
      new Sample({ locationId: [1, 3], value: [1, 10000000] }),
    ],
    location: locs,
    function: fns,
    stringTable: st,
  });
  const raw = Buffer.from(p.encode());
  return gzip ? zlib.gzipSync(raw) : raw;
}

test('Pyroscope: a curl multipart POST of a gzipped pprof is decoded and recorded', async () => {
  const py = await startPyroscope({ basicAuth: { user: 'u', password: 'p w' }, tenant: 'team-a' });
  try {
    const file = path.join(tmp, 'cpu.pb.gz');
    fs.writeFileSync(file, tinyProfile());
    const now = Math.floor(Date.now() / 1000);
    const name = encodeURIComponent('inspectd.cpu{service_name=api,pod=api-1}');
    const url = `${py.url}/ingest?name=${name}&from=${now - 10}&until=${now}&spyName=nodespy&sampleRate=100`;
    const args = ['-u', 'u:p w', '-H', 'X-Scope-OrgID: team-a', '-F', `profile=@${file};filename=profile`, url];
    let r = await curl(args);
    assert.equal(r.status, 200, r.body);
    assert.deepEqual(py.violations, []);
    const [p] = py.profiles;
    assert.equal(p.app, 'inspectd.cpu');
    assert.deepEqual(p.labels, { service_name: 'api', pod: 'api-1' });
    assert.equal(p.from, now - 10);
    assert.equal(p.until, now);
    assert.equal(p.spyName, 'nodespy');
    assert.equal(p.sampleRate, 100);
    assert.equal(p.tenant, 'team-a');
    assert.ok(p.gzipped);
    assert.deepEqual(p.sampleTypes, [['samples', 'count'], ['cpu', 'nanoseconds']]);
    assert.deepEqual(p.periodType, ['cpu', 'nanoseconds']);
    assert.equal(p.period, 10000000);
    assert.equal(p.samples, 3);
    assert.deepEqual(p.totals, { samples: 10, cpu: 100000000 });
    assert.deepEqual(p.top, ['busy', 8]);
    assert.deepEqual(py.top(p, 'cpu')[1], ['idle', 20000000]);
    assert.deepEqual(p.functions.find((f) => f.name === 'busy'), { name: 'busy', systemName: 'busy', filename: '/app/server.js', line: 12 });

    // Ungzipped is read as well.
    fs.writeFileSync(file, tinyProfile({ gzip: false }));
    r = await curl(args);
    assert.equal(r.status, 200);
    assert.equal(py.profiles[1].gzipped, false);

    // Refused: no auth, no tenant, a part without a filename, milliseconds, no name,
    // not multipart, a pprof that is not one.
    fs.writeFileSync(file, tinyProfile());
    const refused = [
      [401, ['-H', 'X-Scope-OrgID: team-a', '-F', `profile=@${file};filename=profile`, url]],
      [401, ['-u', 'u:p w', '-F', `profile=@${file};filename=profile`, url]],
      [400, ['-u', 'u:p w', '-H', 'X-Scope-OrgID: team-a', '-F', `profile=<${file}`, url]],
      [400, ['-u', 'u:p w', '-H', 'X-Scope-OrgID: team-a', '-F', `profile=@${file};filename=profile`, url.replace(`from=${now - 10}`, `from=${(now - 10) * 1000}`)]],
      [400, ['-u', 'u:p w', '-H', 'X-Scope-OrgID: team-a', '-F', `profile=@${file};filename=profile`, url.replace(/name=[^&]*&/, '')]],
      [400, ['-u', 'u:p w', '-H', 'X-Scope-OrgID: team-a', '--data-binary', `@${file}`, url]],
      [400, ['-u', 'u:p w', '-H', 'X-Scope-OrgID: team-a', '-F', `profile=@${writeTmp(zlib.gzipSync(Buffer.from('not a protobuf \xff\xff')))};filename=profile`, url]],
    ];
    for (const [status, a] of refused) {
      r = await curl(a);
      assert.equal(r.status, status, `${a.join(' ')}: ${r.body}`);
    }
    assert.equal(py.violations.length, refused.length, py.violations.join('\n'));
    assert.match(py.violations[2], /no filename/);
    assert.equal(py.profiles.length, 2);

    // Faults.
    py.failNext(2, 503);
    assert.equal((await curl(args)).status, 503);
    assert.equal((await curl(args)).status, 503);
    assert.equal((await curl(args)).status, 200);
    await py.down();
    assert.equal((await curl(args)).code, 7);
    await py.up();
    assert.equal((await curl(args)).status, 200);
  } finally {
    await py.close();
  }
});
