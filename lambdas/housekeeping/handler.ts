import { getDeps } from '../../core/app/deps.js';
import { log } from '../../core/observability/log.js';
import { emitMetrics } from '../../core/observability/metrics.js';
import { expireUploads } from '../../core/uploads/uploads-service.js';

/**
 * Runs on a schedule (EventBridge on AWS, a timer locally): ends uploads past their hour and
 * discards their parts. S3's lifecycle rule aborts any multipart upload left over after that.
 */
export async function handler(): Promise<void> {
  const expired = await expireUploads(getDeps('housekeeping'));
  if (expired.length > 0) log.info('uploads expired', { uploads: expired });
  await emitMetrics({ Function: 'housekeeping' }, { UploadsExpired: expired.length });
}
