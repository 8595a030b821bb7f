/**
 * A detector child process (detector-process.ts forks it, for the local pool and for BullMQ workers) that builds
 * the detector once and screens the jobs it is sent, one at a time, answering each with its result. It exits when
 * its parent goes away (the IPC channel closes), so a killed coordinator or worker leaves no processes behind.
 */
import { createDetector, postprocessOf, type DetectorSpec } from './detector';
import { screenImage } from './screen-one';
import type { Predictor } from '../infer/types';
import type { ScreenJob, ScreenResult } from './types';

export type ToWorker = { type: 'init'; spec: DetectorSpec } | { type: 'job'; job: ScreenJob; attempts: number };
export type FromWorker = { type: 'ready' } | { type: 'fatal'; error: string } | { type: 'result'; result: ScreenResult };

function send(msg: FromWorker): void {
  process.send?.(msg);
}

async function main(): Promise<void> {
  let predictor: Predictor | undefined;
  let spec: DetectorSpec | undefined;
  // Jobs run one after the other even if messages arrive faster.
  let chain: Promise<void> = Promise.resolve();
  process.on('disconnect', () => process.exit(0));
  process.on('message', (msg: ToWorker) => {
    chain = chain.then(async () => {
      if (msg.type === 'init') {
        try {
          spec = msg.spec;
          predictor = await createDetector(spec);
          send({ type: 'ready' });
        } catch (err) {
          send({ type: 'fatal', error: err instanceof Error ? err.message : String(err) });
        }
      } else if (msg.type === 'job' && predictor && spec) {
        send({ type: 'result', result: await screenImage(predictor, msg.job, postprocessOf(spec), msg.attempts) });
      }
    });
  });
}

if (require.main === module) void main();
