import { existsSync, mkdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { log } from '../../core/observability/log.js';

/**
 * The local runtime's data directory (`npm start`: `.openbatch/data`), what lets files, batches,
 * API keys and queued work outlast a restart:
 *
 *   dynamodb/           DynamoDB Local's database (-dbPath, -sharedDb): SQLite, committed as
 *                       each request is, so it survives any way the runtime ends
 *   moto-state.pickle   moto's S3 objects and SQS queues and messages (and its DynamoDB when moto
 *                       plays DynamoDB), saved when moto stops (moto-server.py): on the runtime's
 *                       close, and when the runtime is killed, through the emulator's watchdog
 *   runtime.json        the runtime using the directory and its emulators' processes
 */
export interface DataDir {
  dir: string;
  dynamoDbPath: string;
  motoStateFile: string;
  /** The emulators' processes: a runtime started next waits until they have saved and exited. */
  recordEmulators(pids: (number | undefined)[]): void;
  /** Gives the directory up (at close). */
  release(): void;
}

interface Owner {
  pid: number;
  emulators: number[];
}

/** Whether `pid` is a running process (a zombie, exited but not yet reaped, is not). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    // /proc/PID/stat: "pid (comm) state ...", comm may hold spaces and parentheses.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true; // no /proc (macOS): kill(0) said it exists
  }
}

/**
 * Opens `dir` for this runtime. Refuses when another runtime is using it. When the previous
 * runtime was killed, waits for its emulators to finish saving. `fresh` empties it first.
 */
export async function openDataDir(
  dir: string,
  opts: { fresh?: boolean; waitForPreviousMs?: number } = {},
): Promise<DataDir> {
  mkdirSync(dir, { recursive: true });
  const ownerFile = resolve(dir, 'runtime.json');
  const dynamoDbPath = resolve(dir, 'dynamodb');
  const motoStateFile = resolve(dir, 'moto-state.pickle');

  const previous = readOwner(ownerFile);
  if (previous && previous.pid !== process.pid && processAlive(previous.pid)) {
    throw new Error(
      `${dir} is in use by another openbatch runtime (pid ${previous.pid}): stop it, or start this one ` +
        `with another data directory (OPENBATCH_DATA_DIR). If no runtime is running, delete ${ownerFile}.`,
    );
  }
  const lingering = () => (previous?.emulators ?? []).filter(processAlive);
  if (lingering().length > 0) {
    log.info('waiting for the previous runtime’s emulators to save their data and exit', {
      pids: lingering(),
    });
    const deadline = Date.now() + (opts.waitForPreviousMs ?? 130_000);
    while (lingering().length > 0) {
      if (Date.now() > deadline)
        throw new Error(`the previous runtime's emulators (${lingering().join(', ')}) are still running`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  if (opts.fresh) {
    for (const path of [dynamoDbPath, motoStateFile, `${motoStateFile}.tmp`])
      rmSync(path, { recursive: true, force: true });
  }
  const owner: Owner = { pid: process.pid, emulators: [] };
  const write = () => writeFileSync(ownerFile, `${JSON.stringify(owner)}\n`);
  write();
  return {
    dir,
    dynamoDbPath,
    motoStateFile,
    recordEmulators: (pids) => {
      owner.emulators = pids.filter((p): p is number => p !== undefined);
      write();
    },
    release: () => {
      if (readOwner(ownerFile)?.pid === process.pid) unlinkSync(ownerFile);
    },
  };
}

function readOwner(file: string): Owner | undefined {
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Owner;
  } catch {
    return undefined;
  }
}
