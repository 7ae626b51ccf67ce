import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import type { Writable } from 'node:stream';

export interface Emulator {
  endpoint: string;
  /** Whether this process started it (and so stops it). */
  owned: boolean;
  /** The emulator's process id when this process started it (its watchdog's). */
  pid?: number;
  /**
   * The write end of the pipe its watchdog watches, when this process started it: the emulator
   * stops once every copy is closed. Worker processes hold copies, so that when this process
   * is killed they still reach the emulators while they wind down, and the emulators stop
   * (and save) after their last client.
   */
  lifeline?: Writable;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? res(addr.port) : rej(new Error('no port'))));
    });
  });
}

async function reachable(endpoint: string): Promise<boolean> {
  try {
    await fetch(endpoint, { signal: AbortSignal.timeout(2000) });
    return true;
  } catch {
    return false;
  }
}

/**
 * The local AWS endpoint: an already running one (LocalStack, or moto started elsewhere) when
 * AWS_ENDPOINT_URL points at it, otherwise moto in server mode from the project's .venv
 * (installed by scripts/ensure-deps.sh), on 127.0.0.1 only, through moto-server.py: with
 * `stateFile`, S3 and SQS (and moto's DynamoDB) are saved there when it stops and loaded when
 * it starts.
 */
export async function startEmulator(
  opts: { endpoint?: string; root?: string; stateFile?: string } = {},
): Promise<Emulator> {
  if (opts.endpoint) {
    if (!(await reachable(opts.endpoint)))
      throw new Error(`AWS_ENDPOINT_URL ${opts.endpoint} is not reachable`);
    return { endpoint: opts.endpoint, owned: false, stop: async () => {} };
  }
  const root = opts.root ?? process.cwd();
  const python = resolve(root, '.venv/bin/python');
  if (!existsSync(python))
    throw new Error('The local AWS emulator is not installed: run `bash scripts/ensure-deps.sh`');
  const port = await freePort();
  const child = spawnWatched(
    root,
    // Time to pickle every object and message on the way out; SIGKILL only after that.
    120,
    python,
    [
      resolve(root, 'localstack/runtime/moto-server.py'),
      '-H',
      '127.0.0.1',
      '-p',
      String(port),
      ...(opts.stateFile ? ['--state', opts.stateFile] : []),
    ],
    root,
    { MOTO_ALLOW_NONEXISTENT_REGION: 'true' },
  );
  return serveChild(child, `http://localhost:${port}`, 'moto', 30_000);
}

/**
 * Starts an emulator (not a Node program, so it cannot watch an IPC channel) under
 * watchdog.ts, which ends it when this process goes away, even killed outright: the watchdog
 * reads end-of-file on the stdin pipe this process holds (and the workers, see `lifeline`).
 * Its own process group, so a Ctrl-C
 * in the terminal reaches the runtime only, and the runtime stops the emulators last, after
 * everything that writes to them.
 */
export function spawnWatched(
  root: string,
  graceSeconds: number,
  command: string,
  args: string[],
  cwd: string,
  env: Record<string, string> = {},
): ChildProcess {
  // The watchdog runs from the project (where `--import tsx` resolves), its emulator in `cwd`.
  return spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      resolve(root, 'localstack/runtime/watchdog.ts'),
      String(graceSeconds),
      cwd,
      command,
      ...args,
    ],
    { cwd: root, env: { ...process.env, ...env }, stdio: ['pipe', 'ignore', 'pipe'], detached: true },
  );
}

/**
 * Waits until a spawned emulator answers at `endpoint`, failing with the end of its stderr if it
 * exits or stays silent past `timeoutMs`; the result stops it with SIGTERM and waits for it to exit.
 */
export async function serveChild(
  child: ChildProcess,
  endpoint: string,
  name: string,
  timeoutMs: number,
): Promise<Emulator> {
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const deadline = Date.now() + timeoutMs;
  while (!(await reachable(endpoint))) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`${name} exited with ${child.exitCode ?? child.signalCode}: ${stderr}`);
    if (Date.now() > deadline) {
      child.kill('SIGTERM');
      throw new Error(`${name} did not start within ${timeoutMs / 1000} s: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  return {
    endpoint,
    owned: true,
    ...(child.pid ? { pid: child.pid } : {}),
    ...(child.stdin ? { lifeline: child.stdin } : {}),
    stop: () =>
      new Promise<void>((res) => {
        if (child.exitCode !== null || child.signalCode !== null) return res();
        child.once('exit', () => res());
        child.kill('SIGTERM');
      }),
  };
}
