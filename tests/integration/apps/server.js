// A small HTTP service, for the benchmarks: PORT from argv.
'use strict';
const http = require('http');
const port = Number(process.argv[2] || 18080);
function handle(req, res) {
  const body = JSON.stringify({ now: Date.now(), items: Array.from({ length: 20 }, (_, i) => ({ i, s: 'v' + i })) });
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(body);
}
http.createServer(handle).listen(port, '127.0.0.1', () => console.log('ready'));
