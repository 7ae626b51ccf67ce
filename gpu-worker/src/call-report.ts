import { writeFileSync } from 'node:fs';
import { awsCalls } from '../../core/adapters/aws-clients.js';

/**
 * Writes this process's AWS call counts to a file now and then, so a benchmark can add up the
 * calls of every process. Off unless OPENBATCH_CALLS_FILE is set.
 */
export function reportCallsPeriodically(file: string | undefined, everyMs = 500): () => void {
  if (!file) return () => {};
  const write = () => writeFileSync(file, JSON.stringify({ pid: process.pid, calls: awsCalls.snapshot() }));
  const timer = setInterval(write, everyMs);
  timer.unref();
  return () => {
    clearInterval(timer);
    write();
  };
}
