// Faults in and frees 256 MiB, ROUNDS times; prints each round's milliseconds, space-separated.
'use strict';
const rounds = Number(process.argv[2] || 10);
const ms = [];
for (let i = 0; i < rounds; i++) {
  const t0 = process.hrtime.bigint();
  let b = Buffer.allocUnsafeSlow(256 << 20);
  b.fill(i & 0xff);     // touches every page: 65536 page faults, one rss_stat event each
  b = null;
  global.gc();          // frees it: the pages go back to the kernel
  ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
}
console.log(ms.map((x) => x.toFixed(2)).join(' '));
