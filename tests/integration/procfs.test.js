// What a process shows of itself in /proc is read whole, or not believed.
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { HELPERS, Target, sleep, tmpdir, withAgent } = require('./lib');

// A copy of the helper in a file named node: the agent tracks it by the executable's name.
function asNode(helperName) {
  const dir = tmpdir();
  const file = path.join(dir, 'node');
  fs.copyFileSync(path.join(HELPERS, helperName), file);
  fs.chmodSync(file, 0o755);
  return file;
}

test('a process named node with 480 supplementary groups that catches only SIGALRM is never sent SIGUSR1', async () => {
  const fake = asNode('many_groups');
  await withAgent(['--attach-timeout', '500'], async (agent, targets) => {
    const t = new Target(null, { cmd: fake, args: ['480'] });
    targets.push(t);
    await t.start();
    // The case is the one that was misread: status beyond 4 KiB, and its first 4 095 bytes
    // end one digit short inside SigCgt, where "000000000000200" is SIGUSR1's bit.
    const status = fs.readFileSync(`/proc/${t.pid}/status`, 'latin1');
    assert.equal((status.match(/^Groups:\t(.*)$/m)[1].trim().split(' ')).length, 480);
    assert.match(status, /^SigCgt:\t0000000000002000$/m);
    assert.ok(status.length > 4096, `status is ${status.length} bytes`);
    assert.match(status.slice(0, 4095), /\nSigCgt:\t000000000000200$/, 'the 4 KiB cut falls inside SigCgt');

    await agent.waitTracked(t.pid);
    t.signal('SIGWINCH');
    const job = await agent.waitState(t.pid, 'failed', { timeoutMs: 10000 });
    assert.match(job.error, /does not catch SIGUSR1/);
    await sleep(300);
    // SIGUSR1's default action would have killed it.
    assert.equal(t.exited, null, `the target exited: ${JSON.stringify(t.exited)}`);
    assert.ok(t.alive());
    assert.deepEqual(agent.files(), []);
  });
});
