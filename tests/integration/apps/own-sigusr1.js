'use strict';
// A service with a SIGUSR1 handler of its own (log rotation, say), installed at start, or
// on the line "install" on stdin when started with "later". Every SIGUSR1 it gets is
// counted in the file named by its first argument.
const fs = require('node:fs');
const [countFile, when] = process.argv.slice(2);
let count = 0;
function install() {
  process.on('SIGUSR1', () => {
    count++;
    fs.writeFileSync(countFile, `${count}\n`);
    console.log('rotating logs');
  });
}
if (when !== 'later') install();
process.stdin.setEncoding('utf8');
process.stdin.on('data', (d) => {
  if (d.includes('install')) {
    install();
    console.log('ok install');
  }
});
setInterval(() => {}, 1000);
console.log('ready');
