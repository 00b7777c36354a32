// A service with a huge call tree: thousands of distinct functions calling each other
// along pseudo-random paths, so that a CPU profile of it holds a node for nearly every
// sample (tens of MB at --cpu-sampling-interval 50). Runs until killed.
'use strict';
const N = Number(process.argv[2]) || 3000;
const DEPTH = 10;
const fns = [];
for (let i = 0; i < N; i++) {
  // Each a function of its own (its own name, its own script position), not one closure.
  fns.push(new Function('fns', 'seed', 'depth', `
    return function f${i}_work(seed, depth) {
      let x = seed;
      for (let k = 0; k < 40; k++) x = (x * 1103515245 + 12345) & 0x7fffffff;
      if (depth === 0) return x;
      return fns[(Math.random() * fns.length) | 0](x, depth - 1) ^ x;
    };`)(fns));
}
let seed = 1;
function tick() {
  const until = Date.now() + 20;
  while (Date.now() < until) seed = fns[(Math.random() * N) | 0](seed, DEPTH) & 0x7fffffff || 1;
  setImmediate(tick);
}
tick();
console.log('ready');
