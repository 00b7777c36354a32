// A container is hostile: what it answers on its inspector port must not turn the
// root agent against anything outside that container.
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const { withAgent, start, sleep, tmpdir } = require('./lib');

// A process in its own network namespace with its loopback up, like a pod's.
const OWN_NETNS = ['unshare', '--net', '--', 'sh', '-c', 'ip link set lo up && exec "$0" "$@"'];

// Listeners in the agent's (host's) namespace that count every connection made to them.
async function canaries() {
  const hits = [];
  const tcp = net.createServer((s) => { hits.push('tcp'); s.destroy(); });
  await new Promise((r) => tcp.listen(0, '127.0.0.1', r));
  const sock = path.join(tmpdir(), 'canary.sock');
  const unix = net.createServer((s) => { hits.push('unix'); s.destroy(); });
  await new Promise((r) => unix.listen(sock, r));
  return {
    hits,
    tcpUrl: `http://127.0.0.1:${tcp.address().port}/json/version`,
    unixUrl: `http://+${sock}:/json/version`,
    close: () => { tcp.close(); unix.close(); fs.rmSync(path.dirname(sock), { recursive: true, force: true }); },
  };
}

for (const mode of ['redirect-version', 'redirect-list', 'redirect-upgrade']) {
  for (const target of ['tcp', 'unix']) {
    test(`an inspector in its own network namespace that answers with a redirect (${mode}, to a ${target} canary on the host): not followed`, async () => {
      const c = await canaries();
      try {
        await withAgent(['--attach-timeout', '1500'], {}, async (agent, targets) => {
          const url = target === 'tcp' ? c.tcpUrl : c.unixUrl;
          const t = await start(targets, 'fake-inspector.js', {
            wrap: OWN_NETNS, args: [path.join(__dirname, 'apps/fake-inspector.js'), mode, url],
          });
          t.signal('SIGWINCH');
          await agent.waitLog(new RegExp(`pid ${t.pid}: heap capture failed: .*`), 5000);
          await sleep(500);
          assert.deepEqual(c.hits, [], 'the agent connected to a canary in its own namespace');
          assert.ok(t.alive());
          assert.deepEqual(agent.files(), []);
        });
      } finally {
        c.close();
      }
    });
  }
}
