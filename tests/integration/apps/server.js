// A small HTTP service, for the benchmarks: PORT from argv. With --report it prints, every
// 250 ms, "requests N T": the requests it answered since the last line, and the wall clock
// (ms) then, for a bench that reads its throughput window by window (tests/bench/schedule.js).
'use strict';
const http = require('http');
const port = Number(process.argv[2] || 18080);
let requests = 0;
function handle(req, res) {
  const body = JSON.stringify({ now: Date.now(), items: Array.from({ length: 20 }, (_, i) => ({ i, s: 'v' + i })) });
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(body);
  requests++;
}
if (process.argv.includes('--report')) {
  setInterval(() => { process.stdout.write(`requests ${requests} ${Date.now()}\n`); requests = 0; }, 250);
}
http.createServer(handle).listen(port, '127.0.0.1', () => console.log('ready'));
