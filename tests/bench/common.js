// What the bench scripts of make bench share: children killed on every way out, waits,
// a process started and waited for until it prints that it is ready.
'use strict';
const { spawn } = require('node:child_process');
const path = require('node:path');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const children = new Set();
process.on('exit', () => { for (const c of children) { try { c.kill('SIGKILL'); } catch { /* gone */ } } });

async function waitFor(what, fn, timeoutMs = 20000, stepMs = 10) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(stepMs);
  }
}

// argv started, its output gathered in p.out, once ready matches it.
function run(argv, ready) {
  const p = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(p);
  p.out = '';
  p.stdout.on('data', (d) => { p.out += d; });
  p.stderr.on('data', (d) => { p.out += d; });
  p.on('exit', () => children.delete(p));
  return waitFor(`${path.basename(argv[1] || argv[0])} to be ready`, () => ready.test(p.out)).then(() => p);
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

module.exports = { sleep, children, waitFor, run, median };
