import * as tf from '@tensorflow/tfjs';
import type { Command } from '../command';
import { flag, optStr } from '../command';
import { initBackend } from '../../lib/backend/index';

/** sharp's package.json is not in its "exports", so read its version from the loaded module. */
function sharpVersion(): string {
  try {
    const sharp = require('sharp') as { versions?: Record<string, string> };
    return sharp.versions?.sharp ?? 'unknown';
  } catch (err) {
    return `not loadable (${(err as Error).message.split('\n')[0]})`;
  }
}

export const info: Command = {
  name: 'info',
  usage: `usage: sifd info [--backend tensorflow|wasm|cpu] [--json]

Initialises the tfjs backend the way every sifd command and notebook does (tensorflow -> wasm -> cpu;
the SIFD_BACKEND env var forces one; SIFD_NATIVE=0 skips the native build) and prints what was chosen
(for tensorflow: TensorFlow's version, its threads, where its libraries came from), why each earlier
choice was skipped, and the versions of node, tfjs and sharp.
  --backend B   start the search at B (same as the library's initBackend({prefer: B}))
  --json        print one JSON object instead of text`,
  options: {
    backend: { type: 'string' },
    json: { type: 'boolean' },
  },
  async run(args) {
    const report = await initBackend({ prefer: optStr(args, 'backend') });
    const versions = { node: process.versions.node, tfjs: tf.version.tfjs, sharp: sharpVersion() };
    if (flag(args, 'json')) {
      console.log(JSON.stringify({ versions, ...report }, null, 2));
      return 0;
    }
    const lines = [
      `node   ${versions.node}`,
      `tfjs   ${versions.tfjs}`,
      `sharp  ${versions.sharp}`,
      `backend ${report.backend} (${report.provider}; chosen by ${report.chosenBy})`,
    ];
    if (report.native) {
      const n = report.native;
      lines.push(`  ${n.package} ${n.packageVersion}, TensorFlow ${n.tensorflowVersion}${n.gpu ? ' on GPU' : ''}; threads: ${n.intraOpThreads} intra-op, ${n.interOpThreads} inter-op`);
      lines.push(`  libraries: ${n.libraries}`);
    }
    if (report.backend === 'wasm') {
      lines.push(`  wasm SIMD: ${report.wasmSimd ? 'yes' : 'no'}; threads: ${report.wasmThreads ?? 1}; training kernels added: ${report.wasmKernels?.join(', ')}`);
      const own = report.wasmSimdKernels;
      if (own) lines.push(`  sifd SIMD kernels: ${own.active ? 'active' : `off (${own.reason})`}`);
    }
    if (report.skipped.length) {
      lines.push('skipped:');
      for (const s of report.skipped) lines.push(`  ${s.backend}: ${s.reason}`);
    }
    console.log(lines.join('\n'));
    return 0;
  },
};
