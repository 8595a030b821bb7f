#!/usr/bin/env node
// The CLI is TypeScript run through tsx, like the notebooks (tslab) and the tests.
require('tsx/cjs');
const { main } = require('../src/cli/main.ts');
main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err) => { console.error(err && err.stack ? err.stack : err); process.exitCode = 1; },
);
