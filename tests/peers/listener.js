// One loopback HTTP listener for a test peer: an ephemeral port on 127.0.0.1 that can go
// down (refusing connections, as a server that stopped) and come back on the same port,
// the connections it accepted tracked so that down() and close() cut them too.
'use strict';
const http = require('node:http');

class Listener {
  // handler(req, res) as for http.createServer.
  constructor(handler) {
    this.server = http.createServer(handler);
    // A peer that stalls holds requests open: no timeout of node's own cuts them.
    this.server.requestTimeout = 0;
    this.server.headersTimeout = 0;
    this.server.keepAliveTimeout = 5000;
    this.sockets = new Set();
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    this.port = 0;
    this.listening = false;
  }

  // Listen on 127.0.0.1, on the port it had before (0 the first time: an ephemeral one).
  listen() {
    return new Promise((resolve, reject) => {
      const onError = (e) => reject(e);
      this.server.once('error', onError);
      this.server.listen(this.port, '127.0.0.1', () => {
        this.server.off('error', onError);
        this.port = this.server.address().port;
        this.listening = true;
        resolve(this.port);
      });
    });
  }

  // Stop listening and cut every connection: a client sees its connection reset or
  // refused, as from a server that went away.
  async down() {
    if (!this.listening) return;
    this.listening = false;
    const closed = new Promise((resolve) => this.server.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    await closed;
  }

  up() {
    return this.listening ? Promise.resolve(this.port) : this.listen();
  }

  close() {
    return this.down();
  }
}

module.exports = { Listener };
