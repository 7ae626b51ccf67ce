import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FileObject } from 'openai/resources/files';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalRuntime, startLocalRuntime } from '../../localstack/runtime/runtime.js';
import {
  commandLine,
  descendants,
  listeningSockets,
  type MainProcess,
  startMain,
  waitUntilGone,
} from '../support/processes.js';
import { sdk, upload } from '../support/sdk.js';
import { chatLines } from '../support/test-aws.js';

/**
 * `npm start`'s program in a process of its own, killed outright (SIGKILL): no process it
 * started outlives it, the emulators listened on loopback only, and what it stored is still
 * there for the next start.
 */
const KEY = 'sk-local-processes';
const dataDir = mkdtempSync(join(tmpdir(), 'openbatch-data-'));
let main: MainProcess | undefined;
let rt: LocalRuntime | undefined;
afterAll(async () => {
  main?.child.kill('SIGKILL');
  await rt?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

// It reads the process tree and the sockets from /proc.
describe.runIf(process.platform === 'linux')('the local runtime’s processes', () => {
  let tree: { pid: number; cmd: string }[] = [];
  let file: FileObject;
  const input = chatLines(3, { prefix: 'kill' });
  beforeAll(async () => {
    main = await startMain({ OPENBATCH_DATA_DIR: dataDir, OPENBATCH_API_KEY: KEY });
    tree = descendants(main.child.pid ?? 0).map((pid) => ({ pid, cmd: commandLine(pid) }));
  });

  it('runs the emulators, functions and workers in processes of its own; emulators on 127.0.0.1 only', () => {
    // The watchdog's command line names its emulator's too: count the emulators by their own.
    const own = (p: { cmd: string }) => !p.cmd.includes('watchdog.ts');
    const count = (part: string) => tree.filter((p) => p.cmd.includes(part) && own(p)).length;
    expect(count('moto-server.py')).toBe(1);
    expect(count('LoopbackDynamoDbLocal')).toBe(1);
    expect(tree.filter((p) => p.cmd.includes('watchdog.ts')).length).toBe(2);
    expect(count('function-host.ts')).toBeGreaterThan(3);
    expect(count('gpu-worker/src/main.ts')).toBe(2);

    const emulators = tree.filter((p) => /moto-server\.py|LoopbackDynamoDbLocal/.test(p.cmd) && own(p));
    const sockets = emulators.flatMap((p) => listeningSockets(p.pid));
    expect(sockets.length).toBeGreaterThanOrEqual(2);
    for (const s of sockets) expect(['127.0.0.1', '::ffff:127.0.0.1']).toContain(s.address);
  });

  it('ends every process it started when the runtime is killed (SIGKILL)', async () => {
    if (!main) throw new Error('not started');
    file = await upload(sdk(main.url, KEY), input, 'kept.jsonl');
    main.child.kill('SIGKILL');
    // Usually gone within a second or two: functions at once, workers once wound down (SIGTERM;
    // SIGKILL after 15 s, as WorkerFleet.stop), the emulators after their last worker.
    const alive = await waitUntilGone(
      tree.map((p) => p.pid),
      25_000,
    );
    expect(alive.map((pid) => tree.find((p) => p.pid === pid)?.cmd)).toEqual([]);
  });

  it('keeps what it stored before the SIGKILL: the emulators saved on their way out', {
    timeout: 120_000,
  }, async () => {
    // No key registered here: the one from before comes from the data directory too.
    rt = await startLocalRuntime({ port: 0, dataDir, apiKeys: {}, workers: { spot: 0, dedicated: 0 } });
    const again = sdk(rt.url, KEY);
    expect(await again.files.retrieve(file.id)).toMatchObject({ id: file.id, filename: 'kept.jsonl' });
    expect(await (await again.files.content(file.id)).text()).toBe(input);
  });
});
