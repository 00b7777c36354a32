// A bare CDP client, for tests/bench/snapshot.js (BENCH_SNAPSHOT_CDP=1): the floor under the
// agent's snapshot. Opens pid's inspector (SIGUSR1, in the target's network namespace: run it
// under nsenter --net), asks HeapProfiler.takeHeapSnapshot as the agent does (HeapProfiler.enable,
// then reportProgress true), counts the chunks' bytes and throws them away, and closes the
// inspector again (process._debugEnd()). Prints one JSON line:
//   { ms (the command sent -> answered), chunks, bytes (the chunks' text), messages, attach_ms,
//     cpu_ms (this client's own) }
// Needs node 22 or later (the global WebSocket).
'use strict';

const pid = Number(process.argv[2]);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function debuggerUrl(deadline) {
  for (;;) {
    try {
      const list = await (await fetch('http://127.0.0.1:9229/json/list')).json();
      if (list[0] && list[0].webSocketDebuggerUrl) return list[0].webSocketDebuggerUrl;
    } catch { /* not listening yet */ }
    if (Date.now() > deadline) throw new Error('the inspector did not open');
    await sleep(2);
  }
}

async function main() {
  if (typeof WebSocket !== 'function') throw new Error(`node ${process.version} has no global WebSocket`);
  const t0 = performance.now();
  process.kill(pid, 'SIGUSR1');
  const ws = new WebSocket(await debuggerUrl(Date.now() + 5000));
  await new Promise((resolve, reject) => { ws.onopen = resolve; ws.onerror = reject; });
  const attachMs = performance.now() - t0;
  let next = 1;
  const pending = new Map();
  const r = { chunks: 0, bytes: 0, messages: 0 };
  const CHUNK = '{"method":"HeapProfiler.addHeapSnapshotChunk"';
  ws.onmessage = (e) => {
    const d = e.data;
    r.messages++;
    // A chunk is counted, not parsed: its text (the escaped JSON) is as long as it came.
    if (d.startsWith(CHUNK)) { r.chunks++; r.bytes += d.length; return; }
    if (d.startsWith('{"method"')) return;
    const m = JSON.parse(d);
    const p = pending.get(m.id);
    if (p) { pending.delete(m.id); p(m); }
  };
  const send = (method, params) => new Promise((resolve) => {
    const id = next++;
    pending.set(id, resolve);
    ws.send(JSON.stringify({ id, method, params }));
  });
  await send('HeapProfiler.enable');
  const s0 = performance.now();
  const answer = await send('HeapProfiler.takeHeapSnapshot', { reportProgress: true });
  r.ms = performance.now() - s0;
  if (answer.error) throw new Error(`takeHeapSnapshot: ${JSON.stringify(answer.error)}`);
  await send('HeapProfiler.disable');
  r.attach_ms = attachMs;
  const cpu = process.cpuUsage();
  r.cpu_ms = (cpu.user + cpu.system) / 1000;
  // No answer comes: the socket closes, the inspector with it.
  ws.send(JSON.stringify({ id: next++, method: 'Runtime.evaluate', params: { expression: 'process._debugEnd()' } }));
  await new Promise((resolve) => { ws.onclose = resolve; setTimeout(resolve, 2000); });
  console.log(JSON.stringify(r));
}

main().then(() => process.exit(0), (e) => { console.error(`cdp-snapshot: ${e.stack || e}`); process.exit(1); });
