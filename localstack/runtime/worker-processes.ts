import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { resolve } from 'node:path';
import type { PoolName } from '../../core/app/declaration.js';
import { log } from '../../core/observability/log.js';

export interface WorkerProcess {
  pool: PoolName;
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
    private readonly logStream?: WriteStream,
  ) {}

  start(pool: PoolName, count: number, queueUrl: string, extraEnv: NodeJS.ProcessEnv = {}): void {
    for (let i = 0; i < count; i++) {
      const w: WorkerProcess = { pool, index: i, child: this.spawn(pool, queueUrl, extraEnv) };
      this.workers.push(w);
      this.watch(w, queueUrl, extraEnv);
    }
  }

  private spawn(pool: PoolName, queueUrl: string, extraEnv: NodeJS.ProcessEnv): ChildProcess {
    const child = spawn(process.execPath, ['--import', 'tsx', resolve(this.root, 'gpu-worker/src/main.ts')], {
      cwd: this.root,
      env: { ...this.env, ...extraEnv, POOL: pool, QUEUE_URL: queueUrl },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const sink = this.logStream ?? process.stdout;
    child.stdout?.pipe(sink, { end: false });
    child.stderr?.pipe(sink, { end: false });
    return child;
  }

  private watch(w: WorkerProcess, queueUrl: string, extraEnv: NodeJS.ProcessEnv): void {
    w.child.once('exit', (code, signal) => {
      if (this.stopping) return;
      log.warn('worker exited; restarting', { pool: w.pool, index: w.index, code, signal });
      w.child = this.spawn(w.pool, queueUrl, extraEnv);
      this.watch(w, queueUrl, extraEnv);
    });
  }

  async stop(): Promise<void> {
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
  }
}

export const openLog = (path: string): WriteStream => createWriteStream(path, { flags: 'a' });
