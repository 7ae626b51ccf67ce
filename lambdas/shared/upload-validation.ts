import { emitMetrics } from '../../core/observability/metrics.js';

/** What the upload flows report of the validation they did on the way (core/chunks/file-plan.ts). */
export interface ValidationObserver {
  linesValidated(lines: number): void;
}

/**
 * Runs an upload flow that may validate a batch file on the way (`POST /v1/files`, an Uploads
 * completion from API parts) and publishes the lines it validated as `LinesValidatedAtUpload`.
 */
export async function countingValidatedLines<T>(
  run: (observe: ValidationObserver) => Promise<T>,
): Promise<T> {
  let lines = 0;
  const out = await run({ linesValidated: (n) => (lines = n) });
  if (lines > 0) await emitMetrics({ Function: 'api' }, { LinesValidatedAtUpload: lines });
  return out;
}
