// Leaks memory in one named function, steadily, until killed.
'use strict';
const leaked = [];
function leakyFunction() {
  for (let i = 0; i < 2000; i++) {
    leaked.push({ id: i, values: [i, i + 1, i + 2, i + 3], label: 'item-' + i + '-' + leaked.length });
  }
}
// Unrelated, short-lived allocations elsewhere.
function churn() { const tmp = []; for (let i = 0; i < 100; i++) tmp.push({ i }); return tmp.length; }
setInterval(leakyFunction, 20);
setInterval(churn, 5);
console.log('ready');
