import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { processAlive } from '../../localstack/runtime/persistence.js';

export { processAlive };

/** Every process below `pid` (Linux /proc), children first-seen order. */
export function descendants(pid: number): number[] {
  const out: number[] = [];
  const walk = (p: number) => {
    let tasks: string[] = [];
    try {
      tasks = readdirSync(`/proc/${p}/task`);
    } catch {
      return;
    }
    for (const t of tasks) {
      let children = '';
      try {
        children = readFileSync(`/proc/${p}/task/${t}/children`, 'utf8');
      } catch {}
      for (const c of children.split(' ').filter(Boolean).map(Number)) {
        out.push(c);
        walk(c);
      }
    }
  };
  walk(pid);
  return out;
}

export const commandLine = (pid: number): string => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return '';
  }
};

/** /proc/net/tcp{,6} addresses: hex, each 32-bit word in host (little-endian) order. */
function decodeAddress(hex: string): string {
  const word = (w: string) => (w.match(/../g) ?? []).map((b) => Number.parseInt(b, 16)).reverse();
  const bytes = (hex.match(/.{8}/g) ?? []).flatMap(word);
  if (bytes.length === 4) return bytes.join('.');
  if (bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 255 && bytes[11] === 255)
    return `::ffff:${bytes.slice(12).join('.')}`;
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0)).toString(16));
  return groups.join(':');
}

/** The TCP sockets `pid` listens on, with their local address. */
export function listeningSockets(pid: number): { address: string; port: number }[] {
  const inodes = new Set<string>();
  let fds: string[] = [];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return [];
  }
  for (const fd of fds) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m?.[1]) inodes.add(m[1]);
    } catch {}
  }
  const out: { address: string; port: number }[] = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      const [local, , state] = [f[1], f[2], f[3]];
      const inode = f[9];
      if (!local || state !== '0A' || !inode || !inodes.has(inode)) continue; // 0A: LISTEN
      const [addr, port] = local.split(':');
      out.push({ address: decodeAddress(addr ?? ''), port: Number.parseInt(port ?? '0', 16) });
    }
  }
  return out;
}

export async function waitUntilGone(pids: number[], timeoutMs: number): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const alive = pids.filter(processAlive);
    if (alive.length === 0 || Date.now() > deadline) return alive;
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface MainProcess {
  child: ChildProcess;
  /** The API base URL without /v1. */
  url: string;
  /** The emulator's endpoint (S3, SQS), from the banner. */
  endpoint: string;
  /** The last 20,000 characters it printed. */
  output(): string;
}

/**
 * `npm start`'s program (localstack/runtime/main.ts) in a process of its own, on a free port,
 * once its banner is out. Starting on a data directory may first wait for the previous
 * runtime's emulators to save their data: give `startTimeoutMs` room for that.
 */
export async function startMain(
  env: Record<string, string>,
  args: string[] = [],
  opts: { startTimeoutMs?: number } = {},
): Promise<MainProcess> {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  const childEnv: NodeJS.ProcessEnv = { ...process.env, PORT: '0', LOG_LEVEL: 'warn', ...env };
  // Not an endpoint of its own: a runtime started in this process sets these.
  delete childEnv.AWS_ENDPOINT_URL;
  delete childEnv.AWS_ENDPOINT_URL_DYNAMODB;
  const child = spawn(process.execPath, ['--import', 'tsx', 'localstack/runtime/main.ts', ...args], {
    cwd: root,
    env: childEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (d: Buffer) => {
    output = (output + d.toString()).slice(-20_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const deadline = Date.now() + (opts.startTimeoutMs ?? 90_000);
  for (;;) {
    const url = /API:\s+(http:\/\/\S+)\/v1/.exec(output)?.[1];
    const endpoint = /AWS:\s+(http:\/\/[^\s,]+)/.exec(output)?.[1];
    if (url && endpoint) return { child, url, endpoint, output: () => output };
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`main.ts exited with ${child.exitCode ?? child.signalCode}: ${output}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`main.ts did not start: ${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Stops it as Ctrl-C does (SIGTERM here); resolves with its exit code. */
export async function stopMain(main: MainProcess | undefined, signal: NodeJS.Signals = 'SIGTERM') {
  if (!main) return undefined;
  const { child } = main;
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  child.kill(signal);
  return exited;
}
