import { num, optStr, outDir, str, UsageError, type Command } from '../command';
import { generateDataset, DEFAULT_SIZES, FAMILIES, type Family } from '../../lib/data/synth/index';
import { didYouMean } from '../../lib/errors';

export const synth: Command = {
  name: 'synth',
  usage: `usage: sifd synth --out DIR --n N --seed S [--forged-ratio R] [--test-fraction F]
                  [--min-size PX] [--max-size PX] [--families a,b,...]

Draws N procedural scientific figures (${FAMILIES.join(', ')}),
copy-move forges a fraction of them and writes, atomically, the Kaggle layout:
  DIR/train_images/{authentic,forged}/<id>.png   DIR/train_masks/<id>.npy  (uint8 (N,H,W))
  DIR/test_images/<id>.png                       DIR/test_masks/<id>.npy   (truth of forged test images)
  DIR/manifest.json  (per image: id, split, label, family, size, each forgery's boxes and transform)
The same options give byte-identical files. DIR must not exist, be empty, or hold an earlier
sifd synth output and nothing else (it is replaced); a folder with any other file is refused and
left as it is. A DIR that is a symbolic link stays one (the folder it points to is written).

options:
  --out DIR             output folder (required)
  --n N                 number of images, train + test (required)
  --seed S              random seed, a number or a string (required)
  --forged-ratio R      fraction of forged images (default 0.5)
  --test-fraction F     fraction of images in test_images/ (default 0.1)
  --min-size PX         smallest image side (default ${DEFAULT_SIZES.min}, >= 32)
  --max-size PX         largest image side (default ${DEFAULT_SIZES.max}, <= 4096); sizes are skewed small
  --families LIST       comma-separated figure families to draw from (default: all)`,
  options: {
    out: { type: 'string' },
    n: { type: 'string' },
    seed: { type: 'string' },
    'forged-ratio': { type: 'string' },
    'test-fraction': { type: 'string' },
    'min-size': { type: 'string' },
    'max-size': { type: 'string' },
    families: { type: 'string' },
  },
  async run(args) {
    const out = outDir(args, 'out');
    const n = num(args, 'n', undefined, { integer: true, min: 1, max: 1_000_000 });
    const forgedRatio = num(args, 'forged-ratio', 0.5, { min: 0, max: 1 });
    const testFraction = num(args, 'test-fraction', 0.1, { min: 0, max: 1, maxExclusive: true });
    const sizes = {
      min: num(args, 'min-size', DEFAULT_SIZES.min, { integer: true, min: 32, max: 4096 }),
      max: num(args, 'max-size', DEFAULT_SIZES.max, { integer: true, min: 32, max: 4096 }),
    };
    if (sizes.min > sizes.max) throw new UsageError(`--min-size ${sizes.min} is above --max-size ${sizes.max}`);
    const seedText = str(args, 'seed');
    const seed = /^\d+$/.test(seedText) ? Number(seedText) : seedText;
    const familiesText = optStr(args, 'families');
    const families = familiesText?.split(',').map((f) => f.trim()).filter(Boolean) as Family[] | undefined;
    for (const f of families ?? []) {
      if (!FAMILIES.includes(f)) throw new UsageError(`unknown family '${f}'; ${didYouMean(f, FAMILIES)}`);
    }
    const started = Date.now();
    let lastReport = started;
    const manifest = await generateDataset({
      out,
      n,
      seed,
      forgedRatio,
      testFraction,
      sizes,
      families,
      onProgress(done, total) {
        const now = Date.now();
        if (now - lastReport > 2000 || done === total) {
          lastReport = now;
          process.stderr.write(`synth: ${done}/${total} images\n`);
        }
      },
    });
    const forged = manifest.images.filter((r) => r.label === 'forged').length;
    const test = manifest.images.filter((r) => r.split === 'test').length;
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    console.log(`synth: wrote ${manifest.n} images (${forged} forged, ${test} test) to ${out} in ${seconds} s`);
  },
};
