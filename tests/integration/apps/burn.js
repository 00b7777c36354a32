// Burns CPU in one named function, in slices, so the event loop stays alive.
'use strict';
function burnCpu() {
  const end = Date.now() + 40;
  let x = 0;
  while (Date.now() < end) { for (let i = 0; i < 1e4; i++) x += Math.sqrt(i * x + 1); }
  return x;
}
function idleWork() { return Date.now(); }
// burnCpu is the timer's callback itself: no JS caller for V8 to inline it into.
setInterval(burnCpu, 50);
setInterval(idleWork, 50);
console.log('ready');
