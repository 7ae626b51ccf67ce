import { type ECSClient, UpdateTaskProtectionCommand } from '@aws-sdk/client-ecs';
import { log } from '../../core/observability/log.js';

/**
 * ECS task scale-in protection while the worker holds chunks: a busy task is never chosen by
 * a service scale-in or a deployment, and an idle one is free to go. Protection does not stop
 * a spot reclaim or an instance drain; those arrive as SIGTERM and the chunk is handed off.
 */
export interface TaskProtection {
  /** A chunk was taken: protect the task if it was idle. */
  hold(): Promise<void>;
  /** A chunk is done: when none is held, let the task be scaled in. */
  release(): Promise<void>;
  /** Whether the task is protected now (a SIGTERM then means a reclaim or a drain, not a scale-in). */
  readonly held: boolean;
}

/** Where the task runs, from the ECS task metadata endpoint (v4). */
export interface TaskIdentity {
  cluster: string;
  taskArn: string;
}

/** Off ECS (the local runtime passes no metadata endpoint): nothing to protect, no AWS call. */
export class NoTaskProtection implements TaskProtection {
  private count = 0;
  get held() {
    return this.count > 0;
  }
  async hold() {
    this.count += 1;
  }
  async release() {
    this.count = Math.max(0, this.count - 1);
  }
}

export interface EcsProtectionOptions {
  /** How long one protection lasts; renewed while the task stays busy. ECS allows 1 to 2,880. */
  expiresInMinutes: number;
  /** Renew this often while busy (before `expiresInMinutes` runs out). */
  renewEveryMs: number;
}

export class EcsTaskProtection implements TaskProtection {
  private count = 0;
  private renewal: NodeJS.Timeout | undefined;
  /** Serializes the calls, so a release never overtakes the hold before it. */
  private last: Promise<void> = Promise.resolve();

  constructor(
    private readonly ecs: ECSClient,
    private readonly task: TaskIdentity,
    private readonly options: EcsProtectionOptions = { expiresInMinutes: 60, renewEveryMs: 20 * 60_000 },
  ) {}

  get held() {
    return this.count > 0;
  }

  async hold(): Promise<void> {
    this.count += 1;
    if (this.count > 1) return;
    this.renewal = setInterval(() => void this.set(true), this.options.renewEveryMs);
    this.renewal.unref();
    await this.set(true);
  }

  async release(): Promise<void> {
    if (this.count === 0) return;
    this.count -= 1;
    if (this.count > 0) return;
    clearInterval(this.renewal);
    this.renewal = undefined;
    await this.set(false);
  }

  private set(enabled: boolean): Promise<void> {
    this.last = this.last.then(async () => {
      try {
        const out = await this.ecs.send(
          new UpdateTaskProtectionCommand({
            cluster: this.task.cluster,
            tasks: [this.task.taskArn],
            protectionEnabled: enabled,
            ...(enabled ? { expiresInMinutes: this.options.expiresInMinutes } : {}),
          }),
        );
        // The API answers 200 with per-task failures (e.g. TASK_NOT_VALID for a standalone task).
        if (out.failures?.length) log.warn('task protection refused', { enabled, failures: out.failures });
      } catch (err) {
        // Losing protection risks a scale-in mid-chunk, which the checkpoint and SQS redelivery
        // survive; it is never a reason to fail the chunk.
        log.warn('task protection call failed', { enabled, err });
      }
    });
    return this.last;
  }
}

/**
 * Reads the task's cluster and ARN from the task metadata endpoint v4, which the ECS agent
 * injects as ECS_CONTAINER_METADATA_URI_V4. Undefined off ECS.
 */
export async function taskIdentity(
  env: NodeJS.ProcessEnv,
  fetchImpl: typeof fetch = fetch,
): Promise<TaskIdentity | undefined> {
  const base = env.ECS_CONTAINER_METADATA_URI_V4;
  if (!base) return undefined;
  try {
    const res = await fetchImpl(`${base}/task`, { signal: AbortSignal.timeout(2_000) });
    if (!res.ok) throw new Error(`task metadata answered ${res.status}`);
    const meta = (await res.json()) as { Cluster?: string; TaskARN?: string };
    if (!meta.Cluster || !meta.TaskARN) throw new Error('task metadata without Cluster or TaskARN');
    return { cluster: meta.Cluster, taskArn: meta.TaskARN };
  } catch (err) {
    log.warn('task metadata unavailable; running without scale-in protection', { err });
    return undefined;
  }
}
