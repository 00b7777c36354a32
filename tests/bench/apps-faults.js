// Faults in and frees 256 MiB, ROUNDS times; prints the elapsed milliseconds.
'use strict';
const rounds = Number(process.argv[2] || 10);
const t0 = process.hrtime.bigint();
for (let i = 0; i < rounds; i++) {
  let b = Buffer.allocUnsafeSlow(256 << 20);
  b.fill(i & 0xff);     // touches every page: 65536 page faults, one rss_stat event each
  b = null;
  global.gc();          // frees it: the pages go back to the kernel
}
console.log(Number(process.hrtime.bigint() - t0) / 1e6);
