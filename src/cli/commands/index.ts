import type { Command } from '../command';
import { notebooksRun } from './notebooks';
import { start } from './start';
import { lab } from './lab';

/** Every `sifd` sub-command, in the order `sifd --help` lists them. Add one line per command. */
export const commands: Command[] = [
  start,
  notebooksRun,
  lab,
];
