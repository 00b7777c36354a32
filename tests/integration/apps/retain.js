// Retains what it is told to, one line on stdin at a time, each answered "ok":
//   things N       keep N more instances of the class RetainedThing (small objects)
//   doubles MB     keep MB more of heap as arrays of doubles (bytes, few objects)
//   mark           a performance mark and measure, and a synchronous file read (trace
//                  events of node.fs.sync)
// It allocates a little all the time, as a service does.
'use strict';
class RetainedThing {
  constructor(i) { this.id = i; this.label = `thing-${i}`; }
}
const things = [];
const doubles = [];
let churn = [];
let buf = '';
process.stdin.on('data', (d) => {
  buf += d;
  let nl;
  while ((nl = buf.indexOf('\n')) >= 0) {
    const [cmd, arg] = buf.slice(0, nl).trim().split(/\s+/);
    buf = buf.slice(nl + 1);
    if (cmd === 'things') for (let i = 0, n = Number(arg); i < n; i++) things.push(new RetainedThing(things.length));
    if (cmd === 'doubles') for (let i = 0; i < Number(arg); i++) doubles.push(new Array(131072).fill(1.5));
    if (cmd === 'mark') {
      performance.mark('a'); performance.mark('b'); performance.measure('a-b', 'a', 'b');
      require('node:fs').readFileSync(__filename);
    }
    const u = process.memoryUsage();
    console.log(`ok ${cmd} heapUsed=${u.heapUsed} rss=${u.rss}`);
  }
});
setInterval(() => { churn = new Array(100).fill(0).map((_, i) => ({ i })); performance.mark('tick'); performance.clearMarks('tick'); }, 20);
console.log('ready');
