import type { Command } from '../command';
import { notebooksRun } from './notebooks';

/** Every `sifd` sub-command, in the order `sifd --help` lists them. Add one line per command. */
export const commands: Command[] = [
  notebooksRun,
];
