/**
 * Runs one emulator (moto, DynamoDB Local: Python and Java, which cannot watch an IPC channel
 * as the runtime's Node children do) and ends it when the local runtime goes away, even when
 * the runtime is killed outright (SIGKILL) and has no chance to stop it.
 *
 *   node --import tsx watchdog.ts <grace seconds> <working directory> <command> [args...]
 *
 * How it knows: the runtime holds the write end of this process's stdin (a pipe) and never
 * writes to it; so do the worker processes, which may still use the emulator while they wind
 * down. The kernel closes each copy when its process exits, however it exits, and stdin reads
 * end-of-file once the last one has: immediate, immune to pid reuse, and no help needed from
 * the emulator. Should a worker hang on, the emulator is stopped anyway `LINGER_MS` after the
 * runtime (this process's parent) is gone.
 *
 * Then, as on SIGTERM/SIGINT/SIGHUP to this process, the emulator gets SIGTERM (moto saves its
 * state on it, see moto-server.py) and SIGKILL if it is still running `grace` seconds later.
 * The emulator's stderr passes through this process while the runtime reads it, and is dropped
 * after, so the emulator never writes into a broken pipe while it shuts down.
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:os';

const [graceArg, cwd, command, ...args] = process.argv.slice(2);
if (!command) {
  console.error('usage: watchdog.ts <grace seconds> <working directory> <command> [args...]');
  process.exit(2);
}
const graceMs = Number(graceArg) * 1000;

const child = spawn(command, args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
let runtimeGone = false;
process.stderr.on('error', () => {});
child.stderr?.on('data', (chunk: Buffer) => {
  if (!runtimeGone) process.stderr.write(chunk);
});

let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  setTimeout(() => child.kill('SIGKILL'), graceMs).unref();
};
for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(signal, stop);

process.stdin.on('data', () => {});
process.stdin.on('close', () => {
  runtimeGone = true;
  stop();
});
process.stdin.on('error', () => {});

// Longer than a worker's wind-down (worker-guard.ts kills it after 15 s).
const LINGER_MS = 30_000;
const runtimePid = process.ppid;
const parentWatch = setInterval(() => {
  if (process.ppid === runtimePid) return;
  clearInterval(parentWatch);
  runtimeGone = true;
  setTimeout(stop, LINGER_MS);
}, 500);
parentWatch.unref();

child.on('error', (err) => {
  console.error(`watchdog: cannot start ${command}: ${err.message}`);
  process.exit(127);
});
child.on('exit', (code, signal) => {
  process.exit(code ?? 128 + (signal ? constants.signals[signal] : 0));
});
