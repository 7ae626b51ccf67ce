/**
 * Runs one emulator (moto, DynamoDB Local: Python and Java, which cannot watch an IPC channel
 * as the runtime's Node children do) and ends it when the local runtime goes away, even when
 * the runtime is killed outright (SIGKILL) and has no chance to stop it.
 *
 *   node --import tsx watchdog.ts <grace seconds> <command> [args...]
 *
 * How it knows: the runtime holds the write end of this process's stdin (a pipe) and never
 * writes to it. The kernel closes that end when the runtime exits, however it exits, and stdin
 * reads end-of-file at once. That is immediate and immune to pid reuse, unlike polling the
 * runtime's pid, and needs no help from the emulator.
 *
 * Then, as on SIGTERM/SIGINT/SIGHUP to this process, the emulator gets SIGTERM (moto saves its
 * state on it, see moto-server.py) and SIGKILL if it is still running `grace` seconds later.
 * The emulator's stderr passes through this process while the runtime reads it, and is dropped
 * after, so the emulator never writes into a broken pipe while it shuts down.
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:os';

const [graceArg, command, ...args] = process.argv.slice(2);
if (!command) {
  console.error('usage: watchdog.ts <grace seconds> <command> [args...]');
  process.exit(2);
}
const graceMs = Number(graceArg) * 1000;

const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
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

child.on('error', (err) => {
  console.error(`watchdog: cannot start ${command}: ${err.message}`);
  process.exit(127);
});
child.on('exit', (code, signal) => {
  process.exit(code ?? 128 + (signal ? constants.signals[signal] : 0));
});
