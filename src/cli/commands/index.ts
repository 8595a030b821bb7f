import type { Command } from '../command';
import { notebooksRun } from './notebooks';
import { start } from './start';
import { lab } from './lab';
import { synth } from './synth';
import { info } from './info';
import { eda } from './eda';
import { predict } from './predict';
import { evaluate } from './evaluate';
import { train } from './train';

/** Every `sifd` sub-command, in the order `sifd --help` lists them. Add one line per command. */
export const commands: Command[] = [
  start,
  notebooksRun,
  lab,
  synth,
  info,
  eda,
  train,
  predict,
  evaluate,
];
