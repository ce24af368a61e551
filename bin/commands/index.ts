import type { Command } from './command.js';

/** Every command of `cdcp`; add new ones here. */
const commands: readonly Command[] = [];

export { commands };
