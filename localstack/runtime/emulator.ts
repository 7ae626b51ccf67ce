import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { resolve } from 'node:path';

export interface Emulator {
  endpoint: string;
  /** Whether this process started it (and so stops it). */
  owned: boolean;
  /** The emulator's process id when this process started it. */
  pid?: number;
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
 * (installed by scripts/ensure-deps.sh).
 */
export async function startEmulator(opts: { endpoint?: string; root?: string } = {}): Promise<Emulator> {
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
  const child: ChildProcess = spawn(python, ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(port)], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, MOTO_ALLOW_NONEXISTENT_REGION: 'true' },
  });
  return serveChild(child, `http://localhost:${port}`, 'moto', 30_000);
}

/**
 * Waits until a spawned emulator answers at `endpoint`, failing with the end of its stderr if it
 * exits or stays silent past `timeoutMs`; the result stops it with SIGTERM.
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
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}: ${stderr}`);
    if (Date.now() > deadline)
      throw new Error(`${name} did not start within ${timeoutMs / 1000} s: ${stderr}`);
    await new Promise((r) => setTimeout(r, 150));
  }
  return {
    endpoint,
    owned: true,
    ...(child.pid ? { pid: child.pid } : {}),
    stop: () =>
      new Promise<void>((res) => {
        if (child.exitCode !== null) return res();
        child.once('exit', () => res());
        child.kill('SIGTERM');
      }),
  };
}
