import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Writable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import type { PoolName } from '../../core/app/declaration.js';
import { log } from '../../core/observability/log.js';
import { isMetricsMessage, localMetrics } from './local-metrics.js';

export interface WorkerProcess {
  pool: PoolName;
  /** Its pool group (core/models/catalog.ts). */
  group: string;
  index: number;
  /** The live child (replaced when it exits and is restarted, as an ECS service would). */
  child: ChildProcess;
}

/** Runs gpu-worker processes per pool and restarts any that exit, like an ECS service keeping its desired count. */
export class WorkerFleet {
  readonly workers: WorkerProcess[] = [];
  private stopping = false;

  constructor(
    private readonly root: string,
    private readonly env: NodeJS.ProcessEnv,
    /** A file descriptor the workers write their output to (the fleet closes it when stopped); default: this process's. */
    private readonly logFd?: number,
    /** The emulators' lifelines (emulator.ts): each worker holds them until it exits. */
    private readonly lifelines: (Writable | undefined)[] = [],
  ) {}

  /** Starts `count` workers of `pool` on `queueUrl`; `env` adds what differs per pool group. */
  start(pool: PoolName, count: number, queueUrl: string, env: Record<string, string> = {}): void {
    for (let i = 0; i < count; i++) {
      const w: WorkerProcess = {
        pool,
        group: env.POOL_GROUP ?? 'default',
        index: i,
        child: this.spawn(pool, queueUrl, env),
      };
      this.workers.push(w);
      this.watch(w, queueUrl, env);
    }
  }

  private spawn(pool: PoolName, queueUrl: string, env: Record<string, string>): ChildProcess {
    // OPENBATCH_WORKER_NODE_ARGS passes flags such as --cpu-prof, which NODE_OPTIONS refuses.
    const nodeArgs = (this.env.OPENBATCH_WORKER_NODE_ARGS ?? '').split(' ').filter(Boolean);
    const child = spawn(
      process.execPath,
      [
        ...nodeArgs,
        '--import',
        'tsx',
        // IAM's part: the worker's AWS calls are refused unless its task role would allow them.
        '--import',
        pathToFileURL(resolve(this.root, 'localstack/runtime/worker-guard.ts')).href,
        // Its metrics also go to the runtime's GET /metrics, over the IPC channel.
        '--import',
        pathToFileURL(resolve(this.root, 'localstack/runtime/metrics-forwarder.ts')).href,
        resolve(this.root, 'gpu-worker/src/main.ts'),
      ],
      {
        cwd: this.root,
        env: { ...this.env, ...env, POOL: pool, QUEUE_URL: queueUrl },
        // The log file itself, not a pipe through this process: a worker still writes its logs
        // while it winds down after this process is gone. The IPC channel is how it sees that
        // (worker-guard.ts): it closes when this process exits, however it exits.
        stdio: [
          'ignore',
          this.logFd ?? 'inherit',
          this.logFd ?? 'inherit',
          'ipc',
          ...this.lifelines.filter((l) => l !== undefined),
        ],
      },
    );
    child.on('message', (msg: unknown) => {
      if (isMetricsMessage(msg)) localMetrics.add(msg.openbatchMetrics);
    });
    return child;
  }

  private watch(w: WorkerProcess, queueUrl: string, env: Record<string, string>, failures = 0): void {
    const startedAt = Date.now();
    w.child.once('exit', (code, signal) => {
      if (this.stopping) return;
      // A worker that dies at start-up is restarted with backoff, as ECS throttles failing tasks.
      const crashed = Date.now() - startedAt < 5_000;
      const delay = crashed ? Math.min(30_000, 500 * 2 ** failures) : 0;
      log.warn('worker exited; restarting', {
        pool: w.pool,
        group: w.group,
        index: w.index,
        code,
        signal,
        delayMs: delay,
      });
      setTimeout(() => {
        if (this.stopping) return;
        w.child = this.spawn(w.pool, queueUrl, env);
        this.watch(w, queueUrl, env, crashed ? failures + 1 : 0);
      }, delay);
    });
  }

  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    await Promise.all(
      this.workers.map(
        (w) =>
          new Promise<void>((res) => {
            if (w.child.exitCode !== null || w.child.signalCode !== null) return res();
            const kill = setTimeout(() => w.child.kill('SIGKILL'), 15_000);
            w.child.once('exit', () => {
              clearTimeout(kill);
              res();
            });
            w.child.kill('SIGTERM');
          }),
      ),
    );
    if (this.logFd !== undefined) closeSync(this.logFd);
  }
}

/** Opens the workers' log for appending; the fleet it is given to closes it. */
export const openLog = (path: string): number => openSync(path, 'a');
