import { num, optStr, outDir, str, UsageError, type Command } from '../command';
import { generateDataset, DEFAULT_SIZES, FAMILIES, GENERATORS, REALISTIC_SIZES, type FigureFamily, type GeneratorName } from '../../lib/data/synth/index';
import { REAL_FORGED_RATIO } from '../../lib/data/synth/writer';
import { didYouMean } from '../../lib/errors';

export const synth: Command = {
  name: 'synth',
  usage: `usage: sifd synth --out DIR --n N --seed S [--generator realistic|classic] [--bases DIR [--bases-list FILE]]
                  [--forged-ratio R] [--test-fraction F] [--min-size PX] [--max-size PX] [--families a,b,...]

Draws N scientific figures (${FAMILIES.join(', ')}), or crops of real
photographs (--bases), copy-move forges a share of them and writes, atomically, the Kaggle layout:
  DIR/train_images/{authentic,forged}/<id>.png   DIR/train_masks/<id>.npy  (uint8 (N,H,W))
  DIR/test_images/<id>.png                       DIR/test_masks/<id>.npy   (truth of forged test images)
  DIR/manifest.json  (per image: id, split, label, family, size, mode, twin, each event's boxes,
                      transforms, interpolation, edges and re-encoding)
Each mask channel is one copy-move event: its source and all of its copies (as the real data).
The realistic generator (default) imitates real edits and the real data's statistics: authentic/
forged twins sharing an id, bilinear/bicubic copies (nearest a minority), soft or hard edges, small
brightness/contrast/blur/noise changes, some forged twins re-saved through JPEG or a resize, grey/
RGB/RGBA files, the real sizes (up to 3888 px), event counts and forged-area fractions. 'classic'
is the first generator (RGB, nearest-neighbour copies, skewed-small sizes, no twins).
The same options give byte-identical files. DIR must not exist, be empty, or hold an earlier
sifd synth output and nothing else (it is replaced); a folder with any other file is refused and
left as it is. A DIR that is a symbolic link stays one (the folder it points to is written).

options:
  --out DIR             output folder (required)
  --n N                 number of images, train + test (required)
  --seed S              random seed, a number or a string (required)
  --generator G         ${GENERATORS.join(' or ')} (default realistic)
  --bases DIR           forge crops of the photographs in DIR (read in place, never copied)
  --bases-list FILE     only the files of DIR this list names (one path relative to DIR per line,
                        '#' comments), e.g. data/skimage-photographs.txt: the photographs among
                        scikit-image's sample images, without its rendered ones
  --forged-ratio R      fraction of forged images (default ${REAL_FORGED_RATIO.toFixed(3)} realistic, 0.5 classic)
  --test-fraction F     fraction of images in test_images/ (default 0.1)
  --min-size PX         smallest image side (default ${REALISTIC_SIZES.min} realistic, ${DEFAULT_SIZES.min} classic; >= 32)
  --max-size PX         largest image side (default ${REALISTIC_SIZES.max} realistic, ${DEFAULT_SIZES.max} classic; <= 4096);
                        larger drawn sizes are scaled down, aspect kept (quick sets)
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
    generator: { type: 'string' },
    bases: { type: 'string' },
    'bases-list': { type: 'string' },
  },
  async run(args) {
    const out = outDir(args, 'out');
    const n = num(args, 'n', undefined, { integer: true, min: 1, max: 1_000_000 });
    const generator = (optStr(args, 'generator') ?? 'realistic') as GeneratorName;
    if (!GENERATORS.includes(generator)) throw new UsageError(`unknown generator '${generator}'; ${didYouMean(generator, GENERATORS)}`);
    const defaults = generator === 'realistic' ? REALISTIC_SIZES : DEFAULT_SIZES;
    const forgedRatio = optStr(args, 'forged-ratio') === undefined ? undefined : num(args, 'forged-ratio', undefined, { min: 0, max: 1 });
    const testFraction = num(args, 'test-fraction', 0.1, { min: 0, max: 1, maxExclusive: true });
    const sizes = {
      min: num(args, 'min-size', defaults.min, { integer: true, min: 32, max: 4096 }),
      max: num(args, 'max-size', defaults.max, { integer: true, min: 32, max: 4096 }),
    };
    if (sizes.min > sizes.max) throw new UsageError(`--min-size ${sizes.min} is above --max-size ${sizes.max}`);
    const seedText = str(args, 'seed');
    const seed = /^\d+$/.test(seedText) ? Number(seedText) : seedText;
    const familiesText = optStr(args, 'families');
    const families = familiesText?.split(',').map((f) => f.trim()).filter(Boolean) as FigureFamily[] | undefined;
    for (const f of families ?? []) {
      if (!FAMILIES.includes(f)) throw new UsageError(`unknown family '${f}'; ${didYouMean(f, FAMILIES)}`);
    }
    if (optStr(args, 'bases-list') !== undefined && optStr(args, 'bases') === undefined) throw new UsageError('--bases-list needs --bases DIR (the folder its paths are relative to)');
    const started = Date.now();
    let lastReport = started;
    const manifest = await generateDataset({
      out,
      n,
      seed,
      generator,
      bases: optStr(args, 'bases'),
      basesList: optStr(args, 'bases-list'),
      forgedRatio,
      testFraction,
      sizes,
      families,
      onWarning: (msg) => process.stderr.write(`synth: ${msg}\n`),
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
    const twins = manifest.images.filter((r) => r.twin && r.label === 'forged').length;
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    console.log(`synth: wrote ${manifest.n} images (${forged} forged, ${test} test${twins ? `, ${twins} twin pairs` : ''}) to ${out} in ${seconds} s`);
  },
};
