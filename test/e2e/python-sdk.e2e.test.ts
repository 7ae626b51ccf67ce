import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalRuntime, startLocalRuntime } from '../../localstack/runtime/runtime.js';

/**
 * The official OpenAI Python SDK (pinned in scripts/ensure-deps.sh, installed in .venv),
 * unmodified, drives the local runtime: a chunked upload through the Uploads API, a batch on
 * the File, the output downloaded. The script is test/support/python-sdk/upload_and_batch.py.
 */
const KEY = 'sk-python-sdk';
const PYTHON = resolve('.venv/bin/python');
const SCRIPT = resolve('test/support/python-sdk/upload_and_batch.py');
let rt: LocalRuntime;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'openbatch-py-'));
  rt = await startLocalRuntime({ port: 0, apiKeys: { [KEY]: 'tenant-py' } });
});
afterAll(async () => {
  await rt?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the official OpenAI Python SDK', () => {
  it('uploads with upload_file_chunked, runs a batch and reads every custom_id exactly once', async () => {
    expect(existsSync(PYTHON), 'run scripts/ensure-deps.sh to create .venv').toBe(true);
    const pad = 'the quick brown fox jumps over the lazy dog '.repeat(60);
    const lines = Array.from({ length: 1200 }, (_, i) =>
      JSON.stringify({
        custom_id: `py-${i}`,
        method: 'POST',
        url: '/v1/chat/completions',
        body: { model: 'test-model', messages: [{ role: 'user', content: `Question ${i}: ${pad}` }] },
      }),
    );
    const input = join(dir, 'requests.jsonl');
    const content = `${lines.join('\n')}\n`;
    writeFileSync(input, content); // ~3.2 MB: four parts of 1 MiB
    const partSize = 1024 * 1024;

    const { stdout } = await promisify(execFile)(PYTHON, [SCRIPT, input], {
      env: {
        ...process.env,
        OPENAI_BASE_URL: `${rt.url}/v1`,
        OPENAI_API_KEY: KEY,
        PART_SIZE: String(partSize),
      },
      timeout: 55_000, // under the test's own minute, so a hang fails with the script's output
    }).catch((e: { stderr?: string; message: string }) => {
      throw new Error(`the Python SDK script failed: ${e.stderr || e.message}`);
    });
    const summary = JSON.parse(stdout);
    expect(summary).toMatchObject({
      sdk_version: expect.stringMatching(/^\d+\.\d+\.\d+$/),
      upload: { status: 'completed', bytes: Buffer.byteLength(content) },
      file: { bytes: Buffer.byteLength(content), filename: 'requests.jsonl', purpose: 'batch' },
      parts: Math.ceil(Buffer.byteLength(content) / partSize),
      content_matches: true,
      batch: {
        status: 'completed',
        request_counts: { total: 1200, completed: 1200, failed: 0 },
        metadata: { client: 'openai-python' },
      },
      input_ids: 1200,
      output_ids: 1200,
      error_lines: 0,
      every_id_once: true,
    });
    expect(summary.parts).toBeGreaterThan(1);
  });
});
