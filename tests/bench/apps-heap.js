// The target of tests/bench/snapshot.js (run with --expose-gc): a heap of small objects
// ({a: i, b: 's' + i}, kept in one array) grown until V8's used heap, garbage collected,
// reaches argv[2] MiB; then commands on stdin, one line each, each answered by one "ok ..." line:
//   write PATH   v8.writeHeapSnapshot(PATH), timed here (process.hrtime): "ok write ms=T bytes=B"
//   gap          the longest the event loop was held since the last "gap" (the pause a
//                snapshot taken through the inspector caused, seen from inside): "ok gap ms=T"
//   heap         "ok heap used=BYTES"
// Prints "ready used=BYTES objects=N" once the heap is built.
'use strict';
const fs = require('node:fs');
const v8 = require('node:v8');

const targetBytes = Number(process.argv[2] || 200) * 1048576;
const kept = [];
globalThis.kept = kept;  // alive after this module's function has returned
const used = () => v8.getHeapStatistics().used_heap_size;
// The garbage of growing collected: every snapshot after sees the heap the first one saw.
for (;;) {
  for (let i = kept.length, end = kept.length + 100000; i < end; i++) kept.push({ a: i, b: 's' + i });
  if (used() < targetBytes) continue;
  global.gc();
  if (used() >= targetBytes) break;
}

// The event loop's longest gap, from a 5 ms timer.
let last = process.hrtime.bigint();
let longest = 0;
setInterval(() => {
  const now = process.hrtime.bigint();
  const gap = Number(now - last) / 1e6;
  if (gap > longest) longest = gap;
  last = now;
}, 5);

let buf = '';
process.stdin.on('data', (d) => {
  buf += d;
  let nl;
  while ((nl = buf.indexOf('\n')) >= 0) {
    const line = buf.slice(0, nl).trim();
    buf = buf.slice(nl + 1);
    const sp = line.indexOf(' ');
    const cmd = sp < 0 ? line : line.slice(0, sp);
    const arg = sp < 0 ? '' : line.slice(sp + 1);
    if (cmd === 'write') {
      const t0 = process.hrtime.bigint();
      v8.writeHeapSnapshot(arg);
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      console.log(`ok write ms=${ms.toFixed(1)} bytes=${fs.statSync(arg).size}`);
    } else if (cmd === 'gap') {
      // What the timer has not seen yet counts too.
      const now = Number(process.hrtime.bigint() - last) / 1e6;
      console.log(`ok gap ms=${Math.max(longest, now).toFixed(1)}`);
      longest = 0;
    } else if (cmd === 'heap') {
      console.log(`ok heap used=${used()}`);
    } else {
      console.log(`ok unknown ${cmd}`);
    }
  }
});
console.log(`ready used=${used()} objects=${kept.length}`);
