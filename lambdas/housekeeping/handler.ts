import type { Context } from 'aws-lambda';
import { getDeps } from '../../core/app/deps.js';
import { expireFiles } from '../../core/files/files-service.js';
import { log } from '../../core/observability/log.js';
import { emitMetrics } from '../../core/observability/metrics.js';
import { expireUploads } from '../../core/uploads/uploads-service.js';
import { withInvocation } from '../shared/invocation.js';

/**
 * Runs on a schedule (EventBridge on AWS, a timer locally): ends uploads past their hour and
 * discards their parts (S3's lifecycle rule aborts any multipart upload left over after that),
 * and deletes files past their `expires_at` (the emulators do not expire anything themselves).
 */
export function handler(_event?: unknown, context?: Context): Promise<void> {
  return withInvocation(context, {}, sweep);
}

async function sweep(): Promise<void> {
  const deps = getDeps('housekeeping');
  const uploads = await expireUploads(deps);
  const files = await expireFiles(deps);
  if (uploads.length + files.length > 0)
    log.info('housekeeping', { uploadsExpired: uploads, filesDeleted: files });
  await emitMetrics(
    { Function: 'housekeeping' },
    { UploadsExpired: uploads.length, FilesExpired: files.length },
  );
}
