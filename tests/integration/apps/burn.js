// Burns CPU in one named function, in slices, so the event loop stays alive.
// The hot loop makes no call out of burnCpu (no Date.now() in it): every sample
// taken while it runs is burnCpu's own.
'use strict';
let sink = 0;
function burnCpu() {
  let x = 0;
  for (let i = 0; i < 4e6; i++) x += Math.sqrt(i * 1.5 + x);
  sink = x;
}
function idleWork() { return Date.now() + sink; }
// burnCpu is the timer's callback itself: no JS caller for V8 to inline it into.
setInterval(burnCpu, 20);
setInterval(idleWork, 50);
console.log('ready');
