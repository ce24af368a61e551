import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../../core/config/schema.js';
import type { ProjectionIdentity } from '../../projection-module/identity.js';
import type { Endpoints } from '../engines/engines.js';
import type { ResourceNames } from '../provision.js';
import type { ControlEndpoint } from './control-server.js';

/** Where a running `npm start` tells `cdcp` how to reach its engines and tables. */
interface RuntimeInfo {
  readonly pid: number;
  readonly startedAt: string;
  readonly endpoints: Endpoints;
  readonly names: ResourceNames;
  readonly config: Config;
  /** The run's local config store (`cdcp config set` publishes there). */
  readonly configFile?: string;
  /** Where `cdcp local workers` lists, adds, stops and kills the run's worker processes. */
  readonly control?: ControlEndpoint;
  /** The projection the run applies (`cdcp parked replay` applies it and no other); absent: the mirror. */
  readonly projection?: ProjectionIdentity;
}

/** `.cdcp/runtime.json` in the working folder, or the file named by CDCP_RUNTIME_FILE. */
const runtimeFilePath = (cwd = process.cwd()) =>
  process.env.CDCP_RUNTIME_FILE ?? join(cwd, '.cdcp', 'runtime.json');

function writeRuntimeFile(info: RuntimeInfo, cwd?: string): () => void {
  const path = runtimeFilePath(cwd);
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, `${JSON.stringify(info, null, 2)}\n`);
  return () => {
    try {
      const current = JSON.parse(readFileSync(path, 'utf8')) as RuntimeInfo;
      if (current.pid === info.pid) rmSync(path);
    } catch {
      // gone already
    }
  };
}

/** The running local run, if its process is alive. */
function readRuntimeFile(cwd?: string): RuntimeInfo | undefined {
  try {
    const info = JSON.parse(readFileSync(runtimeFilePath(cwd), 'utf8')) as RuntimeInfo;
    process.kill(info.pid, 0);
    return info;
  } catch {
    return undefined;
  }
}

export type { RuntimeInfo };
export { readRuntimeFile, runtimeFilePath, writeRuntimeFile };
