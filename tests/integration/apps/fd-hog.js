// A hostile "node": a fd table of argv[2] files (default 19000), SIGUSR1 caught by a
// handler of its own (no inspector ever opens), nothing listening.
'use strict';
const fs = require('node:fs');
const N = Number(process.argv[2]) || 19000;
const fds = [];
for (let i = 0; i < N; i++) fds.push(fs.openSync('/dev/null', 'r'));
process.on('SIGUSR1', () => {});
setInterval(() => {}, 1000);
console.log(`ready fds=${fds.length}`);
