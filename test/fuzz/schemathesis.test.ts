import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalRuntime, startLocalRuntime } from '../../localstack/runtime/runtime.js';
import { sdk, upload } from '../support/sdk.js';
import { chatLines } from '../support/test-aws.js';
import { buildSpec, GENERATED_SPEC, sourceSpecPath } from './build-spec.js';

/**
 * schemathesis (pinned in scripts/ensure-deps.sh) fuzzes the Files, Uploads and Batches paths of
 * OpenAI's spec (test/fuzz/build-spec.ts) against the local runtime: every answer must be below
 * 500, and every documented answer must match OpenAI's response schemas. Bounded: a few
 * examples per operation and a fixed seed, so a run takes seconds and a failure reproduces.
 */
const SCHEMATHESIS = resolve('.venv/bin/schemathesis');
const KEY = 'sk-fuzz';
/** CI defaults; FUZZ_MAX_EXAMPLES and FUZZ_SEED run a deeper or another search locally. */
const MAX_EXAMPLES = process.env.FUZZ_MAX_EXAMPLES ?? '15';
const SEED = process.env.FUZZ_SEED ?? '20261130';
const RUN_LIMIT_MS = Number(process.env.FUZZ_RUN_LIMIT_MS ?? 75_000);
/** Where to keep a HAR of every request and answer (FUZZ_REPORT_DIR), to see what was tried. */
const REPORT_DIR = process.env.FUZZ_REPORT_DIR;

let rt: LocalRuntime;
let work: string;
/** Real ids, which schemathesis uses for half the ids it sends, so operations get past 404. */
const fixtures = { fileIds: [] as string[], batchIds: [] as string[], uploadIds: [] as string[] };

beforeAll(async () => {
  if (!existsSync(SCHEMATHESIS))
    throw new Error(
      `${SCHEMATHESIS} is missing: run scripts/ensure-deps.sh (it installs the pinned schemathesis)`,
    );
  work = mkdtempSync(join(tmpdir(), 'openbatch-fuzz-'));
  // No workers: batches stay in progress, so cancel and retrieve see live batches.
  rt = await startLocalRuntime({
    port: 0,
    apiKeys: { [KEY]: 'tenant-fuzz' },
    workers: { spot: 0, dedicated: 0 },
  });
  const client = sdk(rt.url, KEY);
  for (let i = 0; i < 2; i++) {
    const file = await upload(client, chatLines(2, { prefix: `fuzz${i}` }));
    fixtures.fileIds.push(file.id);
    fixtures.batchIds.push(
      (
        await client.batches.create({
          input_file_id: file.id,
          endpoint: '/v1/chat/completions',
          completion_window: '24h',
        })
      ).id,
    );
    fixtures.uploadIds.push(
      (
        await client.uploads.create({
          bytes: 8,
          filename: 'f.jsonl',
          mime_type: 'application/jsonl',
          purpose: 'batch',
        })
      ).id,
    );
  }
});
afterAll(async () => {
  await rt?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

const toml = (values: string[]) => `[${values.map((v) => JSON.stringify(v)).join(', ')}]`;

function run(cmd: string, args: string[], cwd: string): Promise<{ code: number | null; output: string }> {
  return new Promise((done, fail) => {
    const child = spawn(cmd, args, { cwd, env: { ...process.env, NO_COLOR: '1', PYTHONUNBUFFERED: '1' } });
    let output = '';
    child.stdout.on('data', (d) => {
      output += d;
    });
    child.stderr.on('data', (d) => {
      output += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), RUN_LIMIT_MS);
    child.on('error', fail);
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ code, output });
    });
  });
}

describe('schemathesis over OpenAI’s Files, Uploads and Batches spec', () => {
  it('finds no 5xx and no response that breaks OpenAI’s schemas', async () => {
    const config = join(work, 'schemathesis.toml');
    writeFileSync(
      config,
      [
        `[dictionaries.file_ids]\nvalues = ${toml(fixtures.fileIds)}`,
        `[dictionaries.batch_ids]\nvalues = ${toml(fixtures.batchIds)}`,
        `[dictionaries.upload_ids]\nvalues = ${toml(fixtures.uploadIds)}`,
        '[parameters]',
        '"path.file_id" = { dictionary = "file_ids", probability = 0.5 }',
        '"body.input_file_id" = { dictionary = "file_ids", probability = 0.5 }',
        '"path.batch_id" = { dictionary = "batch_ids", probability = 0.5 }',
        '"path.upload_id" = { dictionary = "upload_ids", probability = 0.5 }',
        '',
      ].join('\n'),
    );
    const { code, output } = await run(
      SCHEMATHESIS,
      [
        '--no-color',
        '--config-file',
        config,
        'run',
        GENERATED_SPEC,
        '--url',
        `${rt.url}/v1`,
        '--header',
        `Authorization: Bearer ${KEY}`,
        '--checks',
        'not_a_server_error,response_schema_conformance',
        '--phases',
        'examples,coverage,fuzzing',
        '--max-examples',
        MAX_EXAMPLES,
        '--seed',
        SEED,
        '--no-shrink',
        // One worker: concurrent workers trip a CPython 3.11 race in hypothesis' lambda reprs.
        '--workers',
        '1',
        '--request-timeout',
        '10',
        '--generation-database',
        'none',
        '--warnings',
        'off',
        ...(REPORT_DIR ? ['--report', 'har', '--report-dir', resolve(REPORT_DIR)] : []),
      ],
      work,
    );
    expect(code, output.slice(-12_000)).toBe(0);
    expect(output).toMatch(/\d+ generated, \d+ passed/);
  });

  it.runIf(sourceSpecPath() !== undefined)(
    'fuzzes the spec build-spec.ts makes from OpenAI’s document (regenerate it if this fails)',
    () => {
      const source = readFileSync(sourceSpecPath() as string, 'utf8');
      expect(readFileSync(GENERATED_SPEC, 'utf8')).toBe(buildSpec(source));
    },
  );
});
