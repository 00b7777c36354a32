// A hostile or broken "inspector": node's own SIGUSR1 handler is replaced by
// one that listens on 127.0.0.1:9229 and answers as MODE says.
//   silent   accepts and never answers
//   huge     answers /json/version with a 1 MiB body
//   garbage  answers with a body that is not JSON
//   notnode  answers /json/version as some other browser
'use strict';
const net = require('net');
const mode = process.argv[2];
let server = null;
process.on('SIGUSR1', () => {
  if (server) return;
  server = net.createServer((sock) => {
    sock.on('error', () => {});
    if (mode === 'silent') return;
    const bodies = {
      huge: JSON.stringify({ Browser: 'node.js/v20', pad: 'x'.repeat(1 << 20) }),
      garbage: '\u0000\u0001not json at all',
      notnode: JSON.stringify({ Browser: 'Chrome/120.0', 'Protocol-Version': '1.3' }),
    };
    const body = bodies[mode];
    sock.once('data', () => {
      sock.end(`HTTP/1.0 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    });
  }).listen(9229, '127.0.0.1');
});
setInterval(() => {}, 1000);
console.log('ready');
