// A hostile or broken "inspector": listens on 127.0.0.1:9229 from the start (an inspector
// found open, as the agent uses one without SIGUSR1; its own SIGUSR1 handler would never
// be run by the agent) and answers as MODE says.
//   silent            accepts and never answers
//   huge              answers /json/version with a 1 MiB body
//   garbage           answers with a body that is not JSON
//   notnode           answers /json/version as some other browser
//   redirect-version  answers /json/version with a 302 to URL (argv[3])
//   redirect-list     a good /json/version, then /json/list with a 302 to URL
//   redirect-upgrade  good /json/version and /json/list, then the WebSocket upgrade with a 302 to URL
'use strict';
const net = require('net');
const mode = process.argv[2];
const url = process.argv[3];
let server = null;

const version = JSON.stringify({ Browser: 'node.js/v20.20.2', 'Protocol-Version': '1.1' });
const list = JSON.stringify([{ id: 'x', type: 'node', webSocketDebuggerUrl: 'ws://127.0.0.1:9229/0f2c1f3e-7b7c-4c0e-9d4f-000000000001' }]);

function ok(body) {
  return `HTTP/1.0 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}
function redirect() {
  return `HTTP/1.1 302 Found\r\nLocation: ${url}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`;
}

// What to answer to a request line, by mode.
function answer(line) {
  const p = line.split(' ')[1] || '';
  const bodies = {
    huge: JSON.stringify({ Browser: 'node.js/v20', pad: 'x'.repeat(1 << 20) }),
    garbage: '\u0000\u0001not json at all',
    notnode: JSON.stringify({ Browser: 'Chrome/120.0', 'Protocol-Version': '1.3' }),
  };
  if (bodies[mode]) return ok(bodies[mode]);
  if (mode === 'redirect-version') return redirect();
  if (p === '/json/version') return ok(version);
  if (mode === 'redirect-list') return redirect();
  if (p === '/json/list') return ok(list);
  return redirect();    // redirect-upgrade: the WebSocket GET
}

server = net.createServer((sock) => {
  sock.on('error', () => {});
  if (mode === 'silent') return;
  sock.once('data', (d) => sock.end(answer(d.toString('latin1').split('\r\n')[0])));
}).listen(9229, '127.0.0.1', () => console.log('ready'));
setInterval(() => {}, 1000);
