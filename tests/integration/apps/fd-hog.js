// A hostile "node": a fd table of argv[2] files (default 19000), nothing listening. Its
// SIGUSR1 is node's own; the test holds 127.0.0.1:9229, so no inspector ever opens.
'use strict';
const fs = require('node:fs');
const N = Number(process.argv[2]) || 19000;
const fds = [];
for (let i = 0; i < N; i++) fds.push(fs.openSync('/dev/null', 'r'));
setInterval(() => {}, 1000);
console.log(`ready fds=${fds.length}`);
