// The test peers' npm dependencies, installed by `make test-peers` into $TEST_PEERS_DIR
// (.output/test-peers) from tests/peers/package.json and its lockfile: never from a
// node_modules beside the sources, never silently missing.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

// require() of one package installed there (or of sub, a module inside it:
// need('kubernetes-models', 'apps/v1/DaemonSet')); throws, saying how to install it, when
// the folder or the package is absent.
function need(name, sub) {
  const dir = process.env.TEST_PEERS_DIR;
  if (!dir) throw new Error(`TEST_PEERS_DIR is not set: run \`make test-peers\` and export TEST_PEERS_DIR=.output/test-peers (needed for ${name})`);
  const where = path.join(path.resolve(dir), 'node_modules', name);
  if (!fs.existsSync(path.join(where, 'package.json'))) {
    throw new Error(`${name} is not installed in ${where}: run \`make test-peers\``);
  }
  return require(sub ? path.join(where, sub) : where);
}

module.exports = { need };
