/**
 * The project's tslab kernel process (environment/tslab-kernel runs this file at the repository
 * root): tslab itself, with two patches that turn silent or misleading failures into messages
 * that say what to do.
 *
 * 1. tslab aborts every cell whose execute request arrives within 200 ms after a cell failed
 *    (`execQueue.reset(200)` in tslab/dist/jupyter.js) and the aborted cell shows nothing. The
 *    abort itself stays (it is how "Run All" stops at an error); the cell now says it was not run.
 * 2. Importing a folder ('./src/lib/data/synth') fails with "Cannot find module ... Require
 *    stack: - <repo>/src.js": tslab loads files, not folders. The error now names the index file.
 *
 * Plain CommonJS: it runs before tslab, outside tslab's TypeScript compiler.
 */
'use strict';
const fs = require('fs');
const path = require('path');
const Module = require('module');

const SKIPPED =
  'sifd: this cell was NOT run. tslab skips every cell sent while, or within 200 ms after, a cell fails ' +
  '(Run All stops at the first error). Fix the failed cell above, then run this one again.\n';

/** Patch 1: an aborted execute request writes SKIPPED into its cell. */
function patchAbortMessage(jupyter) {
  const proto = jupyter.JupyterHandlerImpl && jupyter.JupyterHandlerImpl.prototype;
  if (!proto || typeof proto.handleExecute !== 'function' || proto.handleExecute.sifdPatched) return false;
  const original = proto.handleExecute;
  const patched = async function (req, writeStream, writeDisplayData) {
    const reply = await original.call(this, req, writeStream, writeDisplayData);
    if (reply && reply.status === 'abort') {
      try {
        writeStream('stderr', SKIPPED);
      } catch (_) {
        // the reply still goes out; the message is a courtesy
      }
    }
    return reply;
  };
  patched.sifdPatched = true;
  proto.handleExecute = patched;
  return true;
}

function folderIndex(dir) {
  for (const name of ['index.ts', 'index.js', 'index.cjs']) {
    if (fs.existsSync(path.join(dir, name))) return name;
  }
  return undefined;
}

/** Patch 2: a relative import of a folder fails with a message naming `<folder>/index`. */
function patchFolderImports(mod = Module) {
  if (mod._resolveFilename.sifdPatched) return false;
  const original = mod._resolveFilename;
  const patched = function (request, parent, ...rest) {
    try {
      return original.call(this, request, parent, ...rest);
    } catch (err) {
      if (err && err.code === 'MODULE_NOT_FOUND' && typeof request === 'string' && /^\.{1,2}(\/|$)|^\//.test(request)) {
        const base = parent && parent.filename ? path.dirname(parent.filename) : process.cwd();
        const target = path.resolve(base, request);
        let isDir = false;
        try {
          isDir = fs.statSync(target).isDirectory();
        } catch (_) {
          isDir = false;
        }
        const index = isDir ? folderIndex(target) : undefined;
        if (index) {
          const suggestion = `${request.replace(/\/+$/, '')}/index`;
          const better = new Error(
            `Cannot import '${request}': it is a folder, and notebooks (tslab) import files, not folders. ` +
              `Import '${suggestion}' instead (the folder's ${index}).`,
          );
          better.code = 'MODULE_NOT_FOUND';
          throw better;
        }
      }
      throw err;
    }
  };
  patched.sifdPatched = true;
  mod._resolveFilename = patched;
  return true;
}

module.exports = { patchAbortMessage, patchFolderImports, SKIPPED };

if (require.main === module) {
  patchFolderImports();
  patchAbortMessage(require('tslab/dist/jupyter'));
  require('tslab/dist/main').main();
}
