'use strict';
// Entry point of each pthread worker of the threaded tfjs-wasm build in Node (see wasm-threads.ts).
// tfjs-backend-wasm ships emscripten's pthread worker script only as a string (it hands browsers a Blob URL, which
// Node's worker_threads cannot start), so it is evaluated here with this module's require and __filename.
// Newlines inside that template literal's string literals must be re-escaped first, as the package does for Blobs.
const { wasmWorkerContents } = require('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.worker.js');
new Function('require', '__filename', wasmWorkerContents.replace(/\n/g, '\\n'))(require, __filename);
