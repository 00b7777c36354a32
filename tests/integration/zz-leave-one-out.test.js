// NOT COMMITTED: the running set measured, one capability left out at a time.
'use strict';
const { test } = require('node:test');
const { Agent, start } = require('./lib');
const CAPS = { CAP_DAC_READ_SEARCH: 2, CAP_KILL: 5, CAP_NET_ADMIN: 12, CAP_SYS_PTRACE: 19, CAP_SYS_ADMIN: 21, NONE: 63 };
for (const [cap, n] of Object.entries(CAPS)) {
  test(`without ${cap}`, async () => {
    const agent = new Agent([], { env: { ...process.env, INSPECTD_MEASURE_LESS: String(n) } });
    await agent.start();
    const targets = [];
    const out = [];
    try {
      for (const [name, wrap] of [['root', undefined], ['root-netns', ['unshare', '--net', '--', 'sh', '-c', 'ip link set lo up && exec "$0" "$@"']],
        ['nobody-netns', ['unshare', '--net', '--', 'sh', '-c', 'ip link set lo up && exec "$0" "$@"', 'setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--']]]) {
        const t = await start(targets, 'idle.js', wrap ? { wrap } : {});
        try { await agent.waitTracked(t.pid); } catch (e) { out.push(`${name}: not tracked`); continue; }
        for (const kind of ['heap', 'cpu']) {
          const r = await agent.request('POST', '/v1/captures', { pid: t.pid, kind, seconds: 1 });
          if (r.status !== 202) { out.push(`${name} ${kind}: ${r.status} ${r.body}`); continue; }
          let j;
          for (let i = 0; i < 200; i++) { j = await agent.capture(r.json.id); if (j && j.ended_at) break; await new Promise((res) => setTimeout(res, 100)); }
          out.push(`${name} ${kind}: ${j.state}${j.error ? ' ' + j.error : ''}`);
        }
      }
    } finally {
      for (const t of targets) await t.stop();
      try { await agent.stop(); } catch (e) { out.push(`stop: ${e.message.split('\n')[0]}`); }
      console.log(`### without ${cap}:\n  ${out.join('\n  ')}\n  log: ${agent.log.split('\n').filter((l) => /error|warn|refused|kept/.test(l)).slice(0, 8).join('\n       ')}`);
    }
  });
}
