// The agent's API and inspectctl: real agent, real node processes.
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const {
  Agent, Target, INSPECTCTL, sleep, readJSON, heapSelfByFunction, tmpdir, withAgent, start, makeCgroup,
  listeningPorts, parsePrometheus, waitFor,
} = require('./lib');
const crypto = require('node:crypto');



const ctl = (agent, ...args) => spawnSync(INSPECTCTL, ['--socket', agent.socket, ...args], { encoding: 'utf8', timeout: 20000 });

test('the API socket is 0600 and /healthz answers', async () => {
  await withAgent([], async (agent) => {
    const st = fs.statSync(agent.socket);
    assert.ok(st.isSocket());
    assert.equal(st.mode & 0o777, 0o600);
    const r = await agent.request('GET', '/healthz');
    assert.equal(r.status, 200);
    assert.deepEqual(r.json, { status: 'ok' });
  });
});

test('an API socket path where another program listens is not taken over', async () => {
  // (A second agent would stop at the host lock first: see cli.test.js.)
  const dir = tmpdir();
  const sock = path.join(dir, 'api.sock');
  const other = net.createServer(() => {}).listen(sock);
  await new Promise((resolve) => other.on('listening', resolve));
  try {
    const r = spawnSync(process.env.INSPECTD || path.resolve(__dirname, '../../.output/inspectd'),
      ['--api-socket', sock, '--output-dir', path.join(dir, 'out')], { encoding: 'utf8', timeout: 10000 });
    assert.equal(r.status, 1, r.stderr);
    // A refused start: stderr is all it has, there is no API.
    assert.match(r.stderr, /API socket .*api\.sock: another program is listening there/);
    // Still the other program's.
    await new Promise((resolve, reject) => {
      const c = net.connect(sock, () => { c.destroy(); resolve(); });
      c.on('error', reject);
    });
  } finally {
    other.close();
  }
});

// An agent told to stop answers in full what it has begun: a response cut short after its
// headers is an error no client can tell from a broken agent (lib.js once waited forever on
// one). Requests in flight as SIGTERM arrives, in rounds: each is answered whole, or refused
// before any answer.
test('SIGTERM with API requests in flight: each is answered whole or refused, none cut short', async (t) => {
  const count = { whole: 0, refused: 0 };
  for (let round = 0; round < 10; round++) {
    const agent = await new Agent([]).start();
    const pending = [];
    try {
      for (let i = 0; i < 20; i++) pending.push(agent.request('GET', '/metrics'));
      await sleep(round);
      agent.proc.kill('SIGTERM');
      for (let i = 0; i < 20; i++) pending.push(agent.request('GET', '/metrics'));
      for (const r of await Promise.allSettled(pending)) {
        if (r.status === 'fulfilled') {
          assert.equal(r.value.status, 200, r.value.body);
          assert.ok(r.value.body.endsWith('\n') && /^inspectd_tracked_processes /m.test(r.value.body));
          count.whole++;
        } else {
          assert.doesNotMatch(r.reason.message, /cut short/, `round ${round}: ${JSON.stringify(count)}`);
          count.refused++;
        }
      }
      await waitFor('the agent to exit on its SIGTERM', () => agent.exited, 20000);
    } finally {
      await agent.stop();
    }
  }
  t.diagnostic(`${count.whole} answered whole, ${count.refused} refused`);
  assert.ok(count.whole > 0 && count.refused > 0, JSON.stringify(count));
});

test('GET /v1/processes lists tracked node processes with RSS, CPU and cmdline', async () => {
  await withAgent(['--rss-threshold', '2G'], async (agent, targets) => {
    const t = await start(targets, 'idle.js');
    await sleep(2500);
    const r = await agent.request('GET', '/v1/processes');
    assert.equal(r.status, 200);
    const row = r.json.processes.find((p) => p.pid === t.pid);
    assert.ok(row, JSON.stringify(r.json));
    assert.equal(row.comm, 'node');
    assert.deepEqual(row.cmdline, [t.cmd, ...t.args]);
    assert.ok(row.rss_bytes > 10e6 && row.rss_bytes < 500e6, `rss ${row.rss_bytes}`);
    assert.deepEqual(row.armed, ['rss-threshold']);
    assert.equal(row.capture, null);
    assert.ok('cpu_percent' in row && 'memory_limit_bytes' in row);
  });
});

test('POST /v1/captures runs a capture; GET shows it; DELETE stops one early', async () => {
  await withAgent([], async (agent, targets) => {
    const t = await start(targets, 'leak.js');
    let r = await agent.request('POST', '/v1/captures', { pid: t.pid, kind: 'heap', seconds: 1 });
    assert.equal(r.status, 202, r.body);
    assert.match(r.json.id, /^c-\d{6}$/);
    assert.equal(r.json.pid, t.pid);
    assert.equal(r.json.warning, undefined, 'heap sampling is not a costly kind');
    assert.equal(r.json.trigger.kind, 'api');
    const id = r.json.id;
    const done = await agent.waitState(id, 'done');
    assert.equal(done.files.length, 2);
    assert.equal(heapSelfByFunction(readJSON(done.files[0]))[0][0], 'leakyFunction');
    assert.equal(readJSON(done.files[1]).trigger.kind, 'api');

    // A long one, stopped early through DELETE: it exports what it took.
    r = await agent.request('POST', '/v1/captures', { pid: t.pid, kind: 'cpu', seconds: 600 });
    assert.equal(r.status, 202);
    await agent.waitState(r.json.id, 'running');
    const del = await agent.request('DELETE', `/v1/captures/${r.json.id}`);
    assert.equal(del.status, 202);
    const stopped = await agent.waitState(r.json.id, 'done', { timeoutMs: 10000 });
    assert.match(stopped.files[0], /\.cpuprofile$/);
    assert.deepEqual((await agent.captures()).map((c) => c.id), [r.json.id, id]);
    assert.equal((await agent.request('DELETE', `/v1/captures/${id}`)).status, 409);
  });
});

test('bad requests get the right 4xx with a JSON error', async () => {
  await withAgent([], async (agent, targets) => {
    const t = await start(targets, 'idle.js');
    const cases = [
      ['POST', '/v1/captures', '{', 400, /not a JSON object/],
      ['POST', '/v1/captures', '[]', 400, /not a JSON object/],
      ['POST', '/v1/captures', '', 400, /JSON body is required/],
      ['POST', '/v1/captures', { kind: 'heap' }, 400, /"pid" is required/],
      ['POST', '/v1/captures', { pid: 'x' }, 400, /"pid" must be a positive integer/],
      ['POST', '/v1/captures', { pid: t.pid, kind: 'memory' }, 400,
        /"kind" must be "heap", "cpu", "heap-snapshot", "allocation-timeline" or "trace"/],
      ['POST', '/v1/captures', { pid: t.pid, kind: 'heap-snapshot', seconds: 5 }, 400, /a heap snapshot has no duration/],
      ['POST', '/v1/captures', { pid: t.pid, categories: 'v8' }, 400, /only a trace has categories/],
      ['POST', '/v1/captures', { pid: t.pid, kind: 'trace', categories: 'v8,,node' }, 400, /"categories": an empty category/],
      ['POST', '/v1/captures', { pid: t.pid, seconds: 0 }, 400, /"seconds" must be an integer/],
      ['POST', '/v1/captures', { pid: t.pid, kidn: 'heap' }, 400, /unknown field "kidn"/],
      ['POST', '/v1/captures', { pid: 999999 }, 404, /pid 999999 is not a tracked node process/],
      ['POST', '/v1/captures', { pid: 1 }, 404, /not a tracked node process/],
      ['POST', '/v1/captures', 'x'.repeat(70000), 413, /larger than 65536/],
      ['GET', '/v1/captures/c-000999', undefined, 404, /no capture/],
      ['GET', '/v1/captures/nonsense', undefined, 404, /no such endpoint/],
      ['PUT', '/v1/captures', '{}', 405, /method not allowed/],
      ['POST', '/v1/captures', undefined, 400, /JSON body is required/],
      ['DELETE', '/v1/processes', undefined, 405, /method not allowed/],
      ['GET', '/v2/anything', undefined, 404, /no such endpoint/],
    ];
    for (const [method, url, body, status, re] of cases) {
      const r = await agent.request(method, url, body);
      assert.equal(r.status, status, `${method} ${url} ${String(body).slice(0, 40)}: ${r.status} ${r.body}`);
      assert.match(r.json.error, re, `${method} ${url}`);
    }
    // A chunked body (no Content-Length) is refused before it is read.
    const chunked = await agent.request('POST', '/v1/captures', undefined, { 'Transfer-Encoding': 'chunked' });
    assert.equal(chunked.status, 411);
    assert.match(chunked.json.error, /Content-Length is required/);
    // A second capture of a process already being captured: 409.
    const first = await agent.request('POST', '/v1/captures', { pid: t.pid, seconds: 5 });
    assert.equal(first.status, 202);
    const second = await agent.request('POST', '/v1/captures', { pid: t.pid, kind: 'cpu' });
    assert.equal(second.status, 409);
    assert.match(second.json.error, /already being captured/);
    // ... naming the capture that holds it, as GET /v1/captures/ID shows it.
    assert.match(second.json.error, new RegExp(`: a heap capture, ${first.json.id}, is (queued|in progress)$`));
    await agent.request('DELETE', `/v1/captures/${first.json.id}`);
    await agent.waitState(first.json.id, 'done', { timeoutMs: 10000 });
    // A trace's job shows its categories: the request's, else --trace-categories as they were.
    const trace = await agent.request('POST', '/v1/captures', { pid: t.pid, kind: 'trace', categories: 'node.perf' });
    assert.equal(trace.status, 202, trace.body);
    assert.equal(trace.json.kind, 'trace');
    assert.equal(trace.json.categories, 'node.perf');
    assert.equal((await agent.request('GET', `/v1/captures/${trace.json.id}`)).json.categories, 'node.perf');
    await agent.request('DELETE', `/v1/captures/${trace.json.id}`);
  });
});

test('--max-concurrent queues the rest in order, with a reason, and runs them all', async () => {
  await withAgent(['--max-concurrent', '1'], async (agent, targets) => {
    const a = await start(targets, 'idle.js');
    const b = await start(targets, 'idle.js');
    const ra = await agent.request('POST', '/v1/captures', { pid: a.pid, seconds: 1 });
    const rb = await agent.request('POST', '/v1/captures', { pid: b.pid, seconds: 1 });
    assert.equal(rb.status, 202);
    assert.equal(rb.json.state, 'queued');
    assert.match(rb.json.queued_reason, /1 captures running, the --max-concurrent limit/);
    for (const id of [ra.json.id, rb.json.id]) {
      const done = await agent.waitState(id, 'done', { timeoutMs: 20000 });
      assert.equal(done.files.length, 2);
    }
  });
});

test('captures in one network namespace take turns on 9229; another namespace runs at once', async () => {
  await withAgent([], async (agent, targets) => {
    const a = await start(targets, 'idle.js');
    const b = await start(targets, 'idle.js');
    const c = await start(targets, 'idle.js', {
      wrap: ['unshare', '--net', '--', 'sh', '-c', 'ip link set lo up && exec "$0" "$@"'],
    });
    const ra = await agent.request('POST', '/v1/captures', { pid: a.pid, seconds: 2 });
    const rb = await agent.request('POST', '/v1/captures', { pid: b.pid, seconds: 2 });
    const rc = await agent.request('POST', '/v1/captures', { pid: c.pid, seconds: 2 });
    assert.deepEqual([ra.status, rb.status, rc.status], [202, 202, 202]);
    assert.notEqual(ra.json.state, 'queued');
    assert.equal(rb.json.state, 'queued');
    assert.equal(rb.json.queued_reason, `pid ${a.pid} is being captured in the same network namespace (one inspector port)`);
    assert.notEqual(rc.json.state, 'queued');
    const done = {};
    for (const [t, r] of [[a, ra], [b, rb], [c, rc]]) {
      done[t.pid] = await agent.waitState(r.json.id, 'done', { timeoutMs: 20000 });
      assert.equal(done[t.pid].files.length, 2);
      assert.deepEqual(listeningPorts(t.pid), []);
    }
    // b started only after a ended; c ran beside a.
    const ms = (s) => Date.parse(s);
    assert.ok(ms(done[b.pid].started_at) >= ms(done[a.pid].ended_at), 'b after a');
    assert.ok(ms(done[c.pid].started_at) < ms(done[a.pid].ended_at), 'c beside a');
  });
});

test('/metrics is valid Prometheus text and counts captures by trigger, kind and outcome', async () => {
  await withAgent([], async (agent, targets) => {
    const t = await start(targets, 'idle.js');
    const r = await agent.request('POST', '/v1/captures', { pid: t.pid, kind: 'cpu', seconds: 1 });
    await agent.waitState(r.json.id, 'done');
    const m = await agent.request('GET', '/metrics');
    assert.equal(m.status, 200);
    assert.match(m.headers['content-type'], /^text\/plain; version=0\.0\.4/);
    const fam = parsePrometheus(m.body);
    assert.equal(fam.inspectd_tracked_processes.type, 'gauge');
    assert.ok(fam.inspectd_tracked_processes.samples[0].value >= 1);
    assert.equal(await agent.metric('inspectd_captures_total', { trigger: 'api', kind: 'cpu', outcome: 'exported' }), 1);
    assert.equal(await agent.metric('inspectd_captures_total'), 1, 'one capture in all');
    const h = fam.inspectd_trigger_to_start_seconds;
    assert.equal(h.type, 'histogram');
    const buckets = h.samples.filter((s) => s.name.endsWith('_bucket'));
    for (let i = 1; i < buckets.length; i++) assert.ok(buckets[i].value >= buckets[i - 1].value);
    assert.equal(buckets.at(-1).labels, 'le="+Inf"');
    assert.equal(buckets.at(-1).value, h.samples.find((s) => s.name.endsWith('_count')).value);
    assert.equal(buckets.at(-1).value, 1);
  });
});

test('inspectctl: ps, capture --wait, status, stop', async () => {
  await withAgent([], async (agent, targets) => {
    const t = await start(targets, 'leak.js');
    let r = ctl(agent, 'ps');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^\s*PID\s+CONTAINER\s+POD\s+COMM\s+RSS\s+CPU%/m);
    assert.match(r.stdout, new RegExp(`^\\s*${t.pid}\\s+-\\s+-\\s+node\\s`, 'm'));

    r = ctl(agent, 'capture', String(t.pid), '--kind', 'heap', '--seconds', '1', '--wait');
    assert.equal(r.status, 0, r.stderr + r.stdout);
    const files = r.stdout.split('\n').filter((l) => l.startsWith('/'));
    assert.equal(files.length, 2, r.stdout);
    assert.equal(heapSelfByFunction(readJSON(files.find((f) => f.endsWith('.heapprofile'))))[0][0], 'leakyFunction');

    r = ctl(agent, '--json', 'status');
    assert.equal(r.status, 0);
    assert.equal(JSON.parse(r.stdout).captures[0].state, 'done');

    r = ctl(agent, 'capture', String(t.pid), '--kind', 'cpu');
    assert.equal(r.status, 0, r.stderr);
    const id = /capture (c-\d+)/.exec(r.stdout)[1];
    await agent.waitState(id, 'running');
    r = ctl(agent, 'stop', id);
    assert.equal(r.status, 0, r.stderr);
    await agent.waitState(id, 'done', { timeoutMs: 10000 });

    r = ctl(agent, 'capture', '1');
    assert.equal(r.status, 1);
    assert.match(r.stderr, /not a tracked node process/);

    // Another user than root: one line saying why and what to do, nothing else (issue 13).
    for (const args of [['ps'], ['capture', String(t.pid), '--kind', 'heap']]) {
      r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', '--', INSPECTCTL, '--socket', agent.socket, ...args],
        { encoding: 'utf8', timeout: 20000 });
      assert.equal(r.status, 1, r.stderr);
      assert.equal(r.stdout, '');
      assert.equal(r.stderr, `inspectctl: cannot connect to inspectd at ${agent.socket}: Permission denied (the socket is root's: try with sudo)\n`);
    }
    r = ctl(agent, 'capture', 'abc');
    assert.equal(r.status, 2);
  });
});

test('the API on TCP requires the bearer token', async () => {
  const dir = tmpdir();
  const tokenFile = path.join(dir, 'token');
  fs.writeFileSync(tokenFile, 'a-long-enough-secret-token\n', { mode: 0o600 });
  await withAgent(['--api-listen', '127.0.0.1:19393', '--api-token-file', tokenFile], async () => {
    const get = (headers) => new Promise((resolve, reject) => {
      require('node:http').get({ host: '127.0.0.1', port: 19393, path: '/healthz', headers, timeout: 5000 }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode));
      }).on('error', reject);
    });
    assert.equal(await get({}), 401);
    assert.equal(await get({ Authorization: 'Bearer wrong-token-of-some-length' }), 401);
    assert.equal(await get({ Authorization: 'Bearer a-long-enough-secret-token' }), 200);
  });
});

test('a process in a container\'s cgroup: its container in /v1/processes, inspectctl ps and meta.json', async () => {
  // Named as docker's systemd driver names a container's scope; beneath this test's own cgroup.
  const id = crypto.randomBytes(32).toString('hex');
  const cg = makeCgroup(`docker-${id}.scope`);
  try {
    await withAgent([], async (agent, targets) => {
      const t = await start(targets, 'idle.js');
      const other = await start(targets, 'idle.js');
      cg.add(t.pid);
      const row = await agent.waitTracked(t.pid, (p) => p.container, 5000);
      // No config.v2.json of it on this host: no names.
      assert.deepEqual(row.container, { runtime: 'docker', id, pod_uid: null, name: null, image: null });
      assert.equal(row.kubernetes, null);
      assert.equal((await agent.process(other.pid)).container, null);

      const table = ctl(agent, 'ps');
      assert.equal(table.status, 0, table.stderr);
      assert.match(table.stdout, /^\s*PID\s+CONTAINER\s+POD\s+COMM\s+RSS/m);
      assert.match(table.stdout, new RegExp(`^\\s*${t.pid}\\s+${id.slice(0, 12)}\\s+-\\s+node\\s`, 'm'));
      assert.match(table.stdout, new RegExp(`^\\s*${other.pid}\\s+-\\s+-\\s+node\\s`, 'm'));

      const c = await agent.request('POST', '/v1/captures', { pid: t.pid, kind: 'heap', seconds: 1 });
      assert.equal(c.status, 202);
      const done = await agent.waitState(c.json.id, 'done', { timeoutMs: 10000 });
      assert.deepEqual(listeningPorts(t.pid), [], 'the inspector it opened is closed');
      const meta = readJSON(done.files.find((f) => f.endsWith('.meta.json')));
      assert.deepEqual(meta.container, { runtime: 'docker', id, pod_uid: null, name: null, image: null });
      assert.equal(meta.kubernetes, null);
    });
  } finally {
    fs.rmdirSync(cg.dir);
  }
});
