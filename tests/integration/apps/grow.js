// Grows or frees its memory, or blocks, on command, one line on stdin at a time:
//   grow MB    keep MB more of touched memory (in a named function)
//   free       drop all of it
//   block S    block the main thread in native code for S seconds, as a synchronous
//              child process does: SIGUSR1 opens the inspector only once it runs again
'use strict';
const { execFileSync } = require('node:child_process');
const kept = [];
function growMemory(mb) {
  for (let i = 0; i < mb; i++) {
    const chunk = new Array(1 << 14);  // 16 Ki slots, ~128 KiB of pointers
    for (let j = 0; j < chunk.length; j++) chunk[j] = { j };
    kept.push(chunk);
  }
}
function freeMemory() { kept.length = 0; if (global.gc) global.gc(); }
let buf = '';
process.stdin.on('data', (d) => {
  buf += d;
  let nl;
  while ((nl = buf.indexOf('\n')) >= 0) {
    const [cmd, arg] = buf.slice(0, nl).trim().split(/\s+/);
    buf = buf.slice(nl + 1);
    if (cmd === 'grow') growMemory(Number(arg));
    if (cmd === 'free') freeMemory();
    if (cmd === 'block') execFileSync('sleep', [String(Number(arg))]);
    console.log(`ok ${cmd} rss=${process.memoryUsage().rss}`);
  }
});
setInterval(() => {}, 1000);
console.log('ready');
