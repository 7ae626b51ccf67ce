import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** What a worker writes to OPENBATCH_REPORT_DIR (gpu-worker/src/call-report.ts), cumulatively. */
export interface WorkerReport {
  pid: number;
  label: string;
  calls: Record<string, number>;
  maxRssBytes: number;
}

/** Every worker's latest report; a report still being written (`.tmp`) is not read. */
export function readWorkerReports(dir: string): WorkerReport[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as WorkerReport);
}

/** AWS calls made, empty long polls left out (as awsCalls.total counts them). */
export const callsMade = (calls: Record<string, number>): number =>
  Object.entries(calls).reduce((a, [k, v]) => a + (k.endsWith('(empty)') ? 0 : v), 0);
