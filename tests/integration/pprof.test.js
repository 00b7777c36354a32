// --pprof: BASE.pb.gz beside each profile, made on the spool's thread, read back by
// `go tool pprof` (Debian's golang-go, a test dependency: missing is a failure).
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const { spawnSync } = require('node:child_process');
const { withAgent, start, readJSON, heapSelfByFunction, cpuHitsByFunction, parsePrometheus } = require('./lib');

function goPprof(...args) {
  const r = spawnSync('go', ['tool', 'pprof', ...args], { encoding: 'utf8', timeout: 60000,
    env: { ...process.env, HOME: process.env.HOME || '/root', PPROF_TMPDIR: '/tmp' } });
  assert.equal(r.error, undefined, `go tool pprof: ${r.error}`);
  assert.equal(r.status, 0, `go tool pprof ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

// The rows of `go tool pprof -top`, by flat value: [{ flat, name }].
function topRows(text) {
  const lines = text.split('\n');
  const at = lines.findIndex((l) => /^\s*flat\s+flat%/.test(l));
  assert.ok(at >= 0, text);
  return lines.slice(at + 1).filter((l) => l.trim()).map((l) => {
    const cols = l.trim().split(/\s+/);
    return { flat: cols[0], name: cols.slice(5).join(' ') };
  });
}

const pseudo = /^\((idle|program|garbage collector|root)\)$/;

test('go is installed (make deps-test installs golang-go): the pprof checks need it', () => {
  const r = spawnSync('go', ['version'], { encoding: 'utf8' });
  assert.equal(r.error, undefined, 'go is missing: make deps-test installs golang-go');
  assert.equal(r.status, 0, r.stderr);
});

test('--pprof: a heap capture also writes BASE.pb.gz, listed, whose top function is the V8 profile\'s', async () => {
  await withAgent(['--pprof'], async (agent, targets) => {
    const t = await start(targets, 'leak.js');
    const r = await agent.request('POST', '/v1/captures', { pid: t.pid, kind: 'heap', seconds: 2 });
    assert.equal(r.status, 202, r.body);
    const done = await agent.waitState(r.json.id, 'done');
    assert.equal(done.files.length, 3, JSON.stringify(done.files));
    const [profile, pb, metaPath] = done.files;
    assert.match(profile, /\.heapprofile$/);
    assert.equal(pb, profile.replace(/\.heapprofile$/, '.pb.gz'));
    assert.match(metaPath, /\.meta\.json$/);
    const meta = readJSON(metaPath);
    assert.deepEqual(meta.profile.files, [profile.split('/').pop(), pb.split('/').pop()]);
    assert.equal(meta.profile.pprof, pb.split('/').pop());
    const st = fs.statSync(pb);
    assert.equal(st.mode & 0o777, 0o600);
    assert.deepEqual([...fs.readFileSync(pb).subarray(0, 2)], [0x1f, 0x8b]);

    const v8Top = heapSelfByFunction(readJSON(profile))[0][0];
    const top = topRows(goPprof('-top', '-sample_index=inuse_space', pb));
    assert.equal(top[0].name, v8Top, JSON.stringify(top.slice(0, 5)));
    const raw = goPprof('-raw', pb);
    assert.match(raw, /inuse_objects\/count inuse_space\/bytes/);
    assert.match(raw, /PeriodType: space bytes/);
    assert.match(raw, new RegExp(`pid:\\[${t.pid}\\]`));
    // Lines are 1-based: leakyFunction is on line 4 of leak.js.
    assert.match(goPprof('-list', 'leakyFunction', pb), /leak\.js/);

    const fam = parsePrometheus((await agent.request('GET', '/metrics')).body).inspectd_exports_total;
    assert.equal(fam.type, 'counter');
    const value = (outcome) => fam.samples.find((x) => x.labelSet.exporter === 'pprof' && x.labelSet.outcome === outcome).value;
    assert.equal(value('written'), 1);
    assert.equal(value('failed'), 0);
  });
});

test('--pprof: a CPU capture\'s BASE.pb.gz: cpu/nanoseconds, (idle) dropped, the same top function', async () => {
  await withAgent(['--pprof'], async (agent, targets) => {
    const t = await start(targets, 'burn.js');
    const r = await agent.request('POST', '/v1/captures', { pid: t.pid, kind: 'cpu', seconds: 2 });
    assert.equal(r.status, 202, r.body);
    const done = await agent.waitState(r.json.id, 'done');
    assert.equal(done.files.length, 3, JSON.stringify(done.files));
    const [profile, pb] = done.files;
    assert.match(pb, /\.pb\.gz$/);
    const v8 = readJSON(profile);
    const v8Top = cpuHitsByFunction(v8)[0][0];
    assert.equal(v8Top, 'burnCpu');
    const rows = topRows(goPprof('-top', '-sample_index=cpu', pb));
    assert.equal(rows.filter((row) => !pseudo.test(row.name))[0].name, v8Top, JSON.stringify(rows.slice(0, 5)));
    assert.ok(!rows.some((row) => row.name === '(idle)'), 'no (idle) in the pprof');
    const raw = goPprof('-raw', pb);
    assert.match(raw, /samples\/count cpu\/nanoseconds/);
    assert.match(raw, /PeriodType: cpu nanoseconds/);
    assert.match(raw, new RegExp(`Period: ${meta(done).profile.sampling.sampling_interval_us * 1000}\\b`));
    // Every sample but the idle ones: the V8 profile's count, less (idle)'s.
    const idle = new Set(v8.nodes.filter((n) => n.callFrame.functionName === '(idle)').map((n) => n.id));
    const expected = v8.samples.filter((id) => !idle.has(id)).length;
    const total = goPprof('-top', '-sample_index=samples', pb).match(/of (\d+) total/);
    assert.ok(total, 'a total');
    assert.equal(Number(total[1]), expected);
  });
});

function meta(done) {
  return readJSON(done.files[done.files.length - 1]);
}
