// Burns CPU in one named function, in slices, so the event loop stays alive.
'use strict';
function burnCpu() {
  const end = Date.now() + 40;
  let x = 0;
  while (Date.now() < end) { for (let i = 0; i < 1e4; i++) x += Math.sqrt(i * x + 1); }
  return x;
}
function idleWork() { return Date.now(); }
setInterval(() => { burnCpu(); idleWork(); }, 50);
console.log('ready');
