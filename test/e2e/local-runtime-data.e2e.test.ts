import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Batch } from 'openai/resources/batches';
import type { FileObject } from 'openai/resources/files';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalRuntime, startLocalRuntime } from '../../localstack/runtime/runtime.js';
import { descendants, type MainProcess, startMain, stopMain, waitUntilGone } from '../support/processes.js';
import { resultLines, sdk, upload, waitUntilEnded } from '../support/sdk.js';
import { chatLines } from '../support/test-aws.js';

/**
 * `npm start` keeps its data across a restart: a file, a batch, its output and an API key
 * made before a graceful stop (SIGTERM) are all there after the next start, through the
 * official SDK.
 */
const KEY = 'sk-local-data';
const dataDir = mkdtempSync(join(tmpdir(), 'openbatch-data-'));
let main: MainProcess | undefined;
let rt: LocalRuntime | undefined;
afterAll(async () => {
  main?.child.kill('SIGKILL');
  await rt?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('the local runtime’s data directory', () => {
  const input = chatLines(20, { prefix: 'kept' });
  let file: FileObject;
  let batch: Batch;
  let output: string;
  beforeAll(async () => {
    main = await startMain({ OPENBATCH_DATA_DIR: dataDir, OPENBATCH_API_KEY: KEY });
  });

  it('runs a batch, then stops gracefully on SIGTERM with every process it started', async () => {
    if (!main) throw new Error('not started');
    const first = sdk(main.url, KEY);
    file = await upload(first, input);
    const created = await first.batches.create({
      input_file_id: file.id,
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
    });
    batch = await waitUntilEnded(first, created.id, 30_000);
    expect(batch.status).toBe('completed');
    output = await (await first.files.content(batch.output_file_id ?? '')).text();
    expect(output.split('\n').filter(Boolean)).toHaveLength(20);

    // As Ctrl-C or SIGTERM stops `npm start`: it exits, and so does all it started.
    const tree = descendants(main.child.pid ?? 0);
    expect(await stopMain(main)).toBe(0);
    expect(await waitUntilGone(tree, 5_000)).toEqual([]);
  });

  it('finds the file, the batch, its output and the API key after a restart', async () => {
    // This start registers no key: the one from before must come from the data directory.
    rt = await startLocalRuntime({ port: 0, dataDir, apiKeys: {} });
    const again = sdk(rt.url, KEY);
    expect(await again.files.retrieve(file.id)).toMatchObject({ id: file.id, status: 'processed' });
    expect(await (await again.files.content(file.id)).text()).toBe(input);
    expect(await again.batches.retrieve(batch.id)).toMatchObject({
      status: 'completed',
      output_file_id: batch.output_file_id,
      request_counts: { total: 20, completed: 20, failed: 0 },
    });
    expect(await (await again.files.content(batch.output_file_id ?? '')).text()).toBe(output);
    expect((await again.batches.list()).data.map((b) => b.id)).toContain(batch.id);
    // The restored buckets and queues work: the same input runs again.
    const rerun = await again.batches.create({
      input_file_id: file.id,
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
    });
    const rerunDone = await waitUntilEnded(again, rerun.id, 30_000);
    expect(rerunDone.status).toBe('completed');
    expect(await resultLines(again, rerunDone.output_file_id)).toHaveLength(20);
  });
});
