/** The detector options `sifd screen` and `sifd worker` share: a coordinator and its workers must agree on them. */
import type { Command, ParsedArgs } from './command';
import { optNum, optStr, parseParams, UsageError } from './command';
import { checkInputDir } from '../lib/util/checkpath';
import type { DetectorSpec } from '../lib/screen/detector';

export const DETECTOR_USAGE = `  --detector classical  the classical copy-move detector (give this or --run)
  --param K=V           a classical detector parameter (repeatable), as in 'sifd predict --param'
  --max-pixels N        classical: larger images are detected on a downscaled copy (see 'sifd predict')
  --run DIR             a training run folder: its latest complete checkpoint
  --min-event-score X   --run: drop events scoring below X (default: the run's calibrated threshold in its predict.json, else 0)`;

export const DETECTOR_OPTIONS: Command['options'] = {
  detector: { type: 'string' },
  param: { type: 'string', multiple: true },
  'max-pixels': { type: 'string' },
  run: { type: 'string' },
  'min-event-score': { type: 'string' },
};

/** The detector spec from the command line, checked up front. */
export function detectorSpecFromArgs(args: ParsedArgs): DetectorSpec {
  const kind = optStr(args, 'detector');
  const run = optStr(args, 'run');
  if ((kind === undefined) === (run === undefined)) throw new UsageError('give exactly one of --detector classical or --run DIR');
  if (kind !== undefined && kind !== 'classical') throw new UsageError(`unknown --detector '${kind}'; known: classical (or --run DIR for a trained model)`);
  const params = (args.values.param as string[] | undefined) ?? [];
  if (run !== undefined) {
    if (params.length) throw new UsageError('--param goes with --detector classical');
    if (optStr(args, 'max-pixels') !== undefined) throw new UsageError('--max-pixels goes with --detector classical');
    // unset: the run's own threshold (its predict.json, where notebooks and `sifd calibrate` put it)
    return { kind: 'run', dir: checkInputDir(run, '--run'), minEventScore: optNum(args, 'min-event-score', { min: 0, max: 1 }) };
  }
  if (optStr(args, 'min-event-score') !== undefined) throw new UsageError('--min-event-score goes with --run (classical: --param minEventScore=X)');
  return { kind: 'classical', params: parseParams(params), maxPixels: optNum(args, 'max-pixels', { integer: true, min: 1 }) };
}
