// A CPU-bound service with a large call tree: each unit of work runs through a chain of
// 10 calls among 500 distinct functions, as a request through a framework's layers does,
// so that a sampling profiler walks deep stacks and grows a large tree. Prints, every
// 250 ms, how many units it did (the event loop stays free between slices). Its rate is
// what a profiler's cost takes away. With --stamp each line ends with the wall clock (ms):
// "units N T", for a bench that reads the rate window by window (tests/bench/schedule.js).
'use strict';
const N = 500;
const DEPTH = 10;
const fns = [];
for (let i = 0; i < N; i++) {
  fns.push(new Function('fns', `
    return function layer${i}(seed, depth) {
      let x = seed;
      for (let k = 0; k < 200; k++) x = (x * 1103515245 + 12345) & 0x7fffffff;
      return depth ? fns[x % fns.length](x, depth - 1) ^ x : x;
    };`)(fns));
}
let units = 0;
let seed = 1;
function slice() {
  const until = Date.now() + 20;
  while (Date.now() < until) {
    seed = (fns[(Math.random() * N) | 0](seed, DEPTH) & 0x7fffffff) || 1;
    units++;
  }
  setImmediate(slice);
}
const stamp = process.argv.includes('--stamp');
setInterval(() => { process.stdout.write(`units ${units}${stamp ? ` ${Date.now()}` : ''}\n`); units = 0; }, 250);
slice();
console.log('ready');
