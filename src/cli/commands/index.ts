import type { Command } from '../command';

/** Every `sifd` sub-command, in the order `sifd --help` lists them. Add one line per command. */
export const commands: Command[] = [];
