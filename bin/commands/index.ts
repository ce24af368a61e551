import type { Command } from './command.js';
import { decodeCommand } from './decode.js';
import { parkedList, parkedReplay } from './parked.js';

/** Every command of `cdcp`; add new ones here. */
const commands: readonly Command[] = [parkedList, parkedReplay, decodeCommand];

export { commands };
