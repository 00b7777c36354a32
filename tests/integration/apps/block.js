// Blocks its main thread in native code on command, as a synchronous child process
// does: SIGUSR1 opens the inspector only once the thread runs again.
//   block SECONDS
'use strict';
const { execFileSync } = require('node:child_process');
let buf = '';
process.stdin.on('data', (d) => {
  buf += d;
  let nl;
  while ((nl = buf.indexOf('\n')) >= 0) {
    const [cmd, arg] = buf.slice(0, nl).trim().split(/\s+/);
    buf = buf.slice(nl + 1);
    if (cmd === 'block') execFileSync('sleep', [String(Number(arg))]);
    console.log(`ok ${cmd}`);
  }
});
setInterval(() => {}, 1000);
console.log('ready');
