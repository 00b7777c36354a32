// A node "inspector" that speaks the DevTools protocol itself, to send the agent what a
// real one would not: it listens on 127.0.0.1:9229 from the start (an inspector found
// open, as the agent uses one without SIGUSR1), answers /json/version and /json/list like node, takes the WebSocket
// upgrade, and answers CDP commands as MODE says:
//   profile:MB     like node, but the stop command's profile is a valid CPU profile of about MB MiB
//   huge-answer:MB the first command is answered with a JSON array of about MB MiB of small numbers
//   flood:N        like node, and N small events a second from the moment the WebSocket opens
//   error:KB       the start command fails with an error message of KB KiB holding newlines and
//                  terminal escape codes
//   stall:N        a heap snapshot that sends N chunks, then nothing more (never answered)
//   huge-chunk:MB  a heap snapshot whose first chunk is a string of about MB MiB
// Runtime.evaluate (process._debugEnd()) closes the WebSocket and the port, like node.
'use strict';
const crypto = require('node:crypto');
const net = require('node:net');

const [kind, arg] = (process.argv[2] || 'profile:1').split(':');
const size = Number(arg) || 1;
let server = null;
const sockets = new Set();

const version = JSON.stringify({ Browser: 'node.js/v20.20.2', 'Protocol-Version': '1.1' });
const list = JSON.stringify([{ id: 'x', type: 'node', webSocketDebuggerUrl: 'ws://127.0.0.1:9229/0f2c1f3e-7b7c-4c0e-9d4f-000000000002' }]);

function frame(text) {
  const payload = Buffer.isBuffer(text) ? text : Buffer.from(text);
  const n = payload.length;
  let head;
  if (n < 126) head = Buffer.from([0x81, n]);
  else if (n < 65536) { head = Buffer.alloc(4); head[0] = 0x81; head[1] = 126; head.writeUInt16BE(n, 2); }
  else { head = Buffer.alloc(10); head[0] = 0x81; head[1] = 127; head.writeBigUInt64BE(BigInt(n), 2); }
  return [head, payload];
}

function send(sock, text) {
  for (const b of frame(text)) sock.write(b);
}

// A CPU profile of about mb MiB: a chain of nodes, every sample on the last.
function cpuProfile(mb) {
  const parts = [];
  const n = Math.max(2, Math.floor((mb * 1048576) / 160));
  parts.push('{"nodes":[');
  for (let i = 1; i <= n; i++) {
    parts.push(`${i > 1 ? ',' : ''}{"id":${i},"callFrame":{"functionName":"f${i}","scriptId":"1","url":"file:///app/x.js","lineNumber":${i},"columnNumber":1},"hitCount":${i === n ? 1 : 0}${i < n ? `,"children":[${i + 1}]` : ''}}`);
  }
  parts.push(`],"startTime":1,"endTime":2,"samples":[${n}],"timeDeltas":[1]}`);
  return { text: parts.join(''), nodes: n };
}

function hugeArray(mb) {
  const chunk = Buffer.from('1,'.repeat(65536));
  const bufs = [Buffer.from('[')];
  for (let i = 0; i < mb * 8; i++) bufs.push(chunk);
  bufs.push(Buffer.from('1]'));
  return Buffer.concat(bufs);
}

function onCommand(sock, msg, state) {
  const { id, method } = msg;
  if (kind === 'huge-answer' && !state.answered) {
    state.answered = true;
    const arr = hugeArray(size);
    send(sock, Buffer.concat([Buffer.from(`{"id":${id},"result":{"value":`), arr, Buffer.from('}}')]));
    return;
  }
  if (kind === 'error' && /start/i.test(method)) {
    const line = 'refused\n\x1b[31mred\x1b[0m \r\x07 ';
    const text = line.repeat(Math.ceil((size * 1024) / line.length));
    send(sock, JSON.stringify({ id, error: { code: -32000, message: text } }));
    return;
  }
  if (method === 'Runtime.evaluate') {
    sock.destroy();
    for (const s of sockets) s.destroy();
    server.close();
    server = null;
    return;
  }
  if (method === 'Runtime.getHeapUsage') {
    send(sock, JSON.stringify({ id, result: { usedSize: 1 << 20, totalSize: 2 << 20 } }));
    return;
  }
  if (method === 'HeapProfiler.takeHeapSnapshot' && (kind === 'stall' || kind === 'huge-chunk')) {
    if (kind === 'stall') {
      for (let i = 0; i < size; i++) send(sock, JSON.stringify({ method: 'HeapProfiler.addHeapSnapshotChunk', params: { chunk: `{"snapshot":${i}` } }));
      console.log(`sent ${size} chunks, stalling`);
      return;
    }
    send(sock, Buffer.concat([Buffer.from('{"method":"HeapProfiler.addHeapSnapshotChunk","params":{"chunk":"'),
      Buffer.alloc(size * 1048576, 'x'), Buffer.from('"}}')]));
    console.log('sent a huge chunk');
    return;
  }
  if (method === 'Profiler.stop' || method === 'HeapProfiler.stopSampling') {
    const p = cpuProfile(kind === 'profile' ? size : 1);
    console.log(`sent profile nodes=${p.nodes} bytes=${Buffer.byteLength(p.text)}`);
    send(sock, `{"id":${id},"result":{"profile":${p.text}}}`);
    return;
  }
  send(sock, JSON.stringify({ id, result: {} }));
}

function websocket(sock, head) {
  const state = { answered: false };
  let buf = head;
  if (kind === 'flood') {
    const every = 10;    // ms
    const per = Math.max(1, Math.round((size * every) / 1000));
    const t = setInterval(() => {
      for (let i = 0; i < per; i++) send(sock, '{"method":"Runtime.consoleAPICalled","params":{"type":"log","args":[{"type":"string","value":"x"}]}}');
    }, every);
    sock.on('close', () => clearInterval(t));
  }
  sock.on('data', (d) => {
    buf = Buffer.concat([buf, d]);
    for (;;) {
      if (buf.length < 2) return;
      let len = buf[1] & 0x7f;
      let off = 2;
      if (len === 126) { if (buf.length < 4) return; len = buf.readUInt16BE(2); off = 4; }
      else if (len === 127) { if (buf.length < 10) return; len = Number(buf.readBigUInt64BE(2)); off = 10; }
      const masked = buf[1] & 0x80;
      const mask = masked ? buf.subarray(off, off + 4) : null;
      if (masked) off += 4;
      if (buf.length < off + len) return;
      const payload = Buffer.from(buf.subarray(off, off + len));
      if (mask) for (let i = 0; i < payload.length; i++) payload[i] ^= mask[i & 3];
      const opcode = buf[0] & 0x0f;
      buf = buf.subarray(off + len);
      if (opcode === 8) { sock.destroy(); return; }
      if (opcode !== 1) continue;
      let msg;
      try { msg = JSON.parse(payload.toString()); } catch { continue; }
      onCommand(sock, msg, state);
    }
  });
}

function http(sock) {
  let buf = Buffer.alloc(0);
  const onData = (d) => {
    buf = Buffer.concat([buf, d]);
    const end = buf.indexOf('\r\n\r\n');
    if (end < 0) return;
    sock.removeListener('data', onData);
    const head = buf.subarray(0, end).toString('latin1');
    const rest = buf.subarray(end + 4);
    const p = head.split(' ')[1];
    const key = /sec-websocket-key:\s*(\S+)/i.exec(head);
    if (key) {
      const accept = crypto.createHash('sha1').update(key[1] + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
      sock.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
      websocket(sock, rest);
      return;
    }
    const body = p === '/json/version' ? version : list;
    sock.end(`HTTP/1.0 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  };
  sock.on('data', onData);
}

server = net.createServer((sock) => {
  sockets.add(sock);
  sock.on('close', () => sockets.delete(sock));
  sock.on('error', () => {});
  http(sock);
}).listen(9229, '127.0.0.1', () => console.log('ready'));
setInterval(() => {}, 1000);
