'use strict';
setInterval(() => {}, 1000);
console.log('ready');
