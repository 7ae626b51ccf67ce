import type { Pool } from '../../core/sla/policy.js';

/** What the instance metadata service says about a spot reclaim. */
export type SpotNotice = 'reclaim' | 'no-notice' | 'unknown';

/** Where the unfinished rest of a chunk goes when the worker is told to stop. */
export type HandOff = 'dedicated' | 'own-pool';

/**
 * A SIGTERM on a spot task that holds work is a reclaim unless the instance says otherwise:
 * the rest goes to dedicated capacity, which will not be taken away again. A drain without a
 * reclaim notice (a scale-in of the instances, a deployment) gives the rest back to the task's
 * own pool. When the metadata service cannot be asked, assume a reclaim: dedicated always
 * finishes the work, at a higher price.
 */
export function handOffFor(pool: Pool, notice: SpotNotice): HandOff {
  if (pool === 'dedicated') return 'own-pool';
  return notice === 'no-notice' ? 'own-pool' : 'dedicated';
}

const IMDS = 'http://169.254.169.254/latest';

/**
 * Asks EC2's instance metadata service (IMDSv2) for a spot interruption notice. The
 * `spot/instance-action` item exists (200) only once EC2 has scheduled the stop; 404 means no
 * notice. Off ECS, or unreachable (a hop limit that keeps containers out), it is `unknown`.
 */
export async function spotNotice(
  env: NodeJS.ProcessEnv,
  fetchImpl: typeof fetch = fetch,
  timeoutMs = 1_000,
): Promise<SpotNotice> {
  // Off ECS (the local runtime) there is no instance to ask: never call out of the machine.
  if (!env.ECS_CONTAINER_METADATA_URI_V4) return 'unknown';
  try {
    const token = await fetchImpl(`${IMDS}/api/token`, {
      method: 'PUT',
      headers: { 'x-aws-ec2-metadata-token-ttl-seconds': '60' },
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!token.ok) return 'unknown';
    const res = await fetchImpl(`${IMDS}/meta-data/spot/instance-action`, {
      headers: { 'x-aws-ec2-metadata-token': await token.text() },
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (res.status === 404) return 'no-notice';
    return res.ok ? 'reclaim' : 'unknown';
  } catch {
    return 'unknown';
  }
}
