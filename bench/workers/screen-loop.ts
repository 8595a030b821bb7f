/**
 * The screening bench's bare detector loop (bench/screen.ts): a detector screens a list of images one after the
 * other in this process, no workers, no queue, no store: the single-process rate. Forked (`node --require tsx/cjs
 * screen-loop.ts`, spec and files as one JSON message), it runs the same loop beside a sibling, so the bench can
 * tell what two processes on this machine do without any of the screening machinery.
 */
import { createDetector, detectorId, postprocessOf, type DetectorSpec } from '../../src/lib/screen/detector';
import { hashFile, resultKey } from '../../src/lib/screen/corpus';
import { screenImage } from '../../src/lib/screen/screen-one';

export interface LoopResult {
  images: number;
  seconds: number;
  /** CPU (user + system) of this process per image, ms. */
  cpuMsPerImage: number;
}

/** Warm the detector up on the first image, then screen every image once, timed. */
export async function detectorLoop(spec: DetectorSpec, files: readonly string[]): Promise<LoopResult> {
  const id = detectorId(spec);
  const predictor = await createDetector(spec);
  try {
    const job = (file: string) => {
      const sha256 = hashFile(file);
      return { key: resultKey(sha256, id), sha256, detector: id, path: file };
    };
    await screenImage(predictor, job(files[0]), postprocessOf(spec));
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    for (const f of files) await screenImage(predictor, job(f), postprocessOf(spec));
    const cpu = process.cpuUsage(cpu0);
    return { images: files.length, seconds: (performance.now() - t0) / 1000, cpuMsPerImage: (cpu.user + cpu.system) / 1000 / files.length };
  } finally {
    predictor.dispose();
  }
}

if (require.main === module) {
  process.once('message', (m: { spec: DetectorSpec; files: string[] }) => {
    void detectorLoop(m.spec, m.files).then(
      (r) => process.send?.(r, () => process.exit(0)),
      (err) => {
        console.error(err);
        process.exit(1);
      },
    );
  });
}
