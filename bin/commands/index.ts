import type { Command } from './command.js';
import { configDefaults, configDocs, configGet, configSet, configStatus, configValidate } from './config.js';
import { decodeCommand } from './decode.js';
import { failuresList, failuresRedrive } from './failures.js';
import { localWorkersAdd, localWorkersKill, localWorkersList, localWorkersRemove } from './local-workers.js';
import { parkedDiscard, parkedList, parkedReplay } from './parked.js';
import { scaleHistory, scalePlan } from './scale.js';
import { statusCommand } from './status.js';
import { workerCommand } from './worker.js';

/** Every command of `cdcp`; add new ones here. */
const commands: readonly Command[] = [
  parkedList,
  parkedReplay,
  parkedDiscard,
  failuresList,
  failuresRedrive,
  decodeCommand,
  configDefaults,
  configValidate,
  configSet,
  configGet,
  configStatus,
  configDocs,
  localWorkersList,
  localWorkersAdd,
  localWorkersRemove,
  localWorkersKill,
  statusCommand,
  scalePlan,
  scaleHistory,
  workerCommand,
];

export { commands };
