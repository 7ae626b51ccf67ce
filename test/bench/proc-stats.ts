/**
 * What the bench records about the machine and each process: CPU-seconds from
 * /proc/<pid>/stat (utime + stime, of a process and its descendants: moto and DynamoDB Local
 * run under a watchdog), and the load average sampled while a scenario runs.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';

const ticksPerSecond = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

interface ProcStat {
  ppid: number;
  /** utime + stime, seconds. */
  cpu: number;
}

function statOf(pid: number): ProcStat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces: fields count from after it.
    const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return {
      ppid: Number(rest[1]),
      cpu: (Number(rest[11]) + Number(rest[12])) / ticksPerSecond,
    };
  } catch {
    return undefined;
  }
}

/** CPU-seconds a live process has used so far (utime + stime); undefined once it is gone. */
export function cpuSecondsOf(pid: number | undefined): number | undefined {
  return pid === undefined ? undefined : statOf(pid)?.cpu;
}

/** A live process and every live descendant. */
function treeOf(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const s = statOf(Number(name));
    if (!s) continue;
    const list = children.get(s.ppid) ?? [];
    list.push(Number(name));
    children.set(s.ppid, list);
  }
  const out: number[] = [];
  const todo = [pid];
  for (let p = todo.pop(); p !== undefined; p = todo.pop()) {
    out.push(p);
    todo.push(...(children.get(p) ?? []));
  }
  return out;
}

/** CPU-seconds of a live process and every live descendant. */
export function treeCpuSecondsOf(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  if (!statOf(pid)) return undefined;
  return treeOf(pid).reduce((total, p) => total + (statOf(p)?.cpu ?? 0), 0);
}

/** What the bench measures of a local runtime: its function and worker processes and the emulators. */
interface MeasuredRuntime {
  functionPids(): Record<string, number | undefined>;
  fleet: { workers: readonly { pool: string; index: number; child: { pid?: number | undefined } }[] };
  emulator: { pid?: number | undefined };
  dynamoDbLocal?: { pid?: number | undefined } | undefined;
}

/** The runtime's processes by label, for `snapshot`: each function, each worker, the emulators (trees). */
export function runtimeProcesses(
  rt: MeasuredRuntime,
): Record<string, { pid: number | undefined; tree?: boolean }> {
  return {
    ...Object.fromEntries(Object.entries(rt.functionPids()).map(([fn, pid]) => [`function ${fn}`, { pid }])),
    ...Object.fromEntries(rt.fleet.workers.map((w) => [`worker-${w.pool}-${w.index}`, { pid: w.child.pid }])),
    'moto emulator, S3 and SQS (not ours)': { pid: rt.emulator.pid, tree: true },
    'DynamoDB Local (not ours)': { pid: rt.dynamoDbLocal?.pid, tree: true },
  };
}

/** Takes CPU snapshots of named processes; `since` gives each one's CPU-seconds between two snapshots. */
export type CpuSnapshot = Record<string, number | undefined>;

export function snapshot(
  processes: Record<string, { pid: number | undefined; tree?: boolean }>,
): CpuSnapshot {
  const out: CpuSnapshot = {};
  for (const [label, p] of Object.entries(processes))
    out[label] = p.tree ? treeCpuSecondsOf(p.pid) : cpuSecondsOf(p.pid);
  // This process (the runtime: gateway, event sources, timers; and the bench's own client).
  const self = process.cpuUsage();
  out['bench process: runtime (gateway, event sources, timers) and the client'] =
    (self.user + self.system) / 1e6;
  return out;
}

export function since(before: CpuSnapshot, after: CpuSnapshot): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [label, v] of Object.entries(after)) {
    const b = before[label];
    if (v !== undefined && b !== undefined) out[label] = Number((v - b).toFixed(2));
  }
  return out;
}

/** Samples the 1-minute load average every second until stopped. */
export function sampleLoad(): { stop(): { before: number[]; after: number[]; meanDuring: number } } {
  const round = (l: number[]) => l.map((x) => Number(x.toFixed(2)));
  const before = round(loadavg());
  const samples: number[] = [];
  const timer = setInterval(() => samples.push(loadavg()[0] ?? 0), 1000);
  timer.unref();
  return {
    stop: () => {
      clearInterval(timer);
      const after = round(loadavg());
      const all = samples.length > 0 ? samples : [after[0] ?? 0];
      return { before, after, meanDuring: Number((all.reduce((a, b) => a + b, 0) / all.length).toFixed(2)) };
    },
  };
}

/** Resident memory of a live process now (VmRSS), bytes; undefined once it is gone. */
export function rssOf(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Resident memory of a live process and every live descendant (an emulator under its watchdog), bytes. */
export function treeRssOf(pid: number | undefined): number | undefined {
  if (pid === undefined || rssOf(pid) === undefined) return undefined;
  return treeOf(pid).reduce((total, p) => total + (rssOf(p) ?? 0), 0);
}
