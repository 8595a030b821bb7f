#!/usr/bin/env node
// The CLI is TypeScript run through tsx, like the notebooks (tslab) and the tests.
const fs = require('fs');
const path = require('path');
// The GPU variant of the native backend needs its CUDA libraries on LD_LIBRARY_PATH before the process starts
// (environment/native.sh with SIFD_TF=gpu installs them): rerun this command with it.
const nvidia = path.join(__dirname, '..', 'environment', 'native', 'libtensorflow', 'nvidia');
if (fs.existsSync(nvidia) && !process.env.SIFD_CUDA_PATH_SET) {
  const libs = fs.readdirSync(nvidia).map((d) => path.join(nvidia, d, 'lib')).filter((d) => fs.existsSync(d));
  const LD_LIBRARY_PATH = [...libs, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':');
  const r = require('child_process').spawnSync(process.execPath, process.argv.slice(1), {
    stdio: 'inherit', env: { ...process.env, LD_LIBRARY_PATH, SIFD_CUDA_PATH_SET: '1' },
  });
  process.exit(r.status ?? 1);
}
require('tsx/cjs');
const { main } = require('../src/cli/main.ts');
main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err) => { console.error(err && err.stack ? err.stack : err); process.exitCode = 1; },
);
