// A busy server: it holds N connections to itself (2N sockets: a WebSocket or proxy
// service's shape), plus whatever node has. argv[2]: N (default 3000).
'use strict';
const net = require('node:net');
const N = Number(process.argv[2]) || 3000;
const held = [];
const server = net.createServer((s) => { held.push(s); s.on('error', () => {}); });
server.listen(0, '127.0.0.1', async () => {
  const { port } = server.address();
  for (let i = 0; i < N; i += 100) {
    await Promise.all(Array.from({ length: Math.min(100, N - i) }, () => new Promise((resolve, reject) => {
      const c = net.connect(port, '127.0.0.1', () => resolve());
      c.on('error', reject);
      held.push(c);
    })));
  }
  // Something to profile.
  const junk = [];
  setInterval(() => { junk.push(Buffer.alloc(1024)); if (junk.length > 10000) junk.length = 0; }, 1);
  console.log(`ready port=${port} sockets=${held.length}`);
});
