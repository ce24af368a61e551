import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of /proc's CPU times (USER_HZ; 100 on Linux). */
const TICKS_PER_SECOND = 100;

/**
 * CPU seconds (user + system) a process has used so far, from `/proc/<pid>/stat` (Linux); `undefined` once it
 * is gone. Fields 14 and 15 after the parenthesised command name.
 */
function cpuSecondsOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/**
 * The processes and every descendant of theirs (engines run under a guard process, workers under a launcher),
 * from the parent ids in `/proc/<pid>/stat` (field 4).
 */
function withDescendants(pids: readonly number[]): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(parent, [...(children.get(parent) ?? []), Number(entry)]);
    } catch {
      // Gone while listing.
    }
  }
  const all = new Set<number>();
  const visit = (pid: number) => {
    if (all.has(pid)) return;
    all.add(pid);
    for (const child of children.get(pid) ?? []) visit(child);
  };
  for (const pid of pids) visit(pid);
  return [...all];
}

/**
 * CPU seconds used by several processes and their descendants between two readings; processes gone since
 * count what they had.
 */
class CpuMeter {
  readonly #start = new Map<number, number>();
  readonly #last = new Map<number, number>();

  public constructor(pids: readonly number[]) {
    for (const pid of withDescendants(pids)) {
      const s = cpuSecondsOf(pid);
      if (s !== undefined) {
        this.#start.set(pid, s);
        this.#last.set(pid, s);
      }
    }
  }

  /** CPU seconds since construction, over every process. */
  public seconds(): number {
    let total = 0;
    for (const [pid, start] of this.#start) {
      const now = cpuSecondsOf(pid) ?? this.#last.get(pid)!;
      this.#last.set(pid, now);
      total += now - start;
    }
    return total;
  }
}

export { CpuMeter, cpuSecondsOf, withDescendants };
