import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { awsCalls } from '../../core/adapters/aws-clients.js';

/**
 * Writes this process's AWS call counts and peak memory to `<dir>/<pid>.json` now and then, so
 * a benchmark can add up every process's figures. Off unless OPENBATCH_REPORT_DIR is set.
 */
export function reportPeriodically(dir: string | undefined, label: string, everyMs = 500): () => void {
  if (!dir) return () => {};
  const file = join(dir, `${process.pid}.json`);
  // Written aside and renamed: a reader never sees a half-written report.
  const write = () => {
    writeFileSync(
      `${file}.tmp`,
      JSON.stringify({
        pid: process.pid,
        label,
        calls: awsCalls.snapshot(),
        maxRssBytes: process.resourceUsage().maxRSS * 1024,
      }),
    );
    renameSync(`${file}.tmp`, file);
  };
  const timer = setInterval(write, everyMs);
  timer.unref();
  return () => {
    clearInterval(timer);
    write();
  };
}
