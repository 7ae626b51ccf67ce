import { type ChildProcess, spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UploadStopped, uploadFile } from '../../cli/uploader.js';
import { type LocalRuntime, startLocalRuntime } from '../../localstack/runtime/runtime.js';
import { countIds, resultLines, sdk, waitUntilEnded } from '../support/sdk.js';

/**
 * The `openbatch upload` command against the local runtime: parts PUT straight to S3 through
 * pre-signed URLs, interrupted and resumed. A proxy in front of the API routes the part URLs
 * through itself, so the test sees every PUT that reaches S3 (and can hold or fail one).
 */
const KEY = 'sk-cli-a';
const MiB = 1024 * 1024;
let rt: LocalRuntime;
let client: OpenAI;
let proxy: PartProxy;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'openbatch-cli-'));
  rt = await startLocalRuntime({ port: 0, apiKeys: { [KEY]: 'tenant-cli' } });
  client = sdk(rt.url, KEY);
  proxy = await startPartProxy(rt.url);
});
afterAll(async () => {
  await proxy?.close();
  await rt?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A JSONL batch input of about `mib` MiB: lines of ~6 KB, so the batch stays about two thousand requests. */
function writeInput(name: string, mib: number, prefix: string): { path: string; lines: number } {
  const pad = 'lorem ipsum dolor sit amet '.repeat(220);
  const out: string[] = [];
  let bytes = 0;
  for (let i = 0; bytes < mib * MiB; i++) {
    const line = `${JSON.stringify({
      custom_id: `${prefix}-${i}`,
      method: 'POST',
      url: '/v1/chat/completions',
      body: { model: 'test-model', messages: [{ role: 'user', content: `Question ${i}: ${pad}` }] },
    })}\n`;
    out.push(line);
    bytes += line.length;
  }
  const path = join(dir, name);
  writeFileSync(path, out.join(''));
  return { path, lines: out.length };
}

const content = async (fileId: string) =>
  Buffer.from(await (await client.files.content(fileId)).arrayBuffer());

describe('openbatch upload (module)', () => {
  it('is interrupted after some parts, then resumes sending only the missing parts, retrying a failed one', async () => {
    const input = writeInput('module.jsonl', 12, 'mod'); // 3 parts of 5 MiB
    const stateDir = join(dir, 'state-module');
    const base = { file: input.path, baseUrl: proxy.baseUrl, apiKey: KEY, partSize: 5 * MiB, stateDir };

    // First run: parts 1 and 2 reach S3, part 3 is held by the proxy; the run is aborted meanwhile.
    proxy.reset({ hold: (n) => n === 3 });
    const interrupt = new AbortController();
    let done = 0;
    const first = uploadFile({
      ...base,
      parallel: 2,
      signal: interrupt.signal,
      onPartDone: () => {
        if (++done === 2) interrupt.abort();
      },
    });
    const stopped = (await first.catch((e) => e)) as UploadStopped;
    expect(stopped).toBeInstanceOf(UploadStopped);
    expect(stopped.interrupted).toBe(true);
    expect(proxy.sent.sort()).toEqual([1, 2]);
    expect(readdirSync(stateDir)).toHaveLength(1);
    const state = JSON.parse(readFileSync(stopped.statePath, 'utf8'));
    expect(state).toMatchObject({ upload_id: stopped.uploadId, part_size: 5 * MiB, file_path: input.path });
    const status = await fetch(`${rt.url}/v1/openbatch/uploads/${stopped.uploadId}`, {
      headers: { authorization: `Bearer ${KEY}` },
    }).then((r) => r.json());
    expect(status).toMatchObject({
      status: 'pending',
      openbatch: {
        mode: 'presigned',
        parts: [
          { part_number: 1, bytes: 5 * MiB },
          { part_number: 2, bytes: 5 * MiB },
        ],
      },
    });

    // Second run, without --part-size: the recorded one is kept; part 3's first PUT fails and is retried.
    proxy.reset({ failOnce: (n) => n === 3 });
    const logs: string[] = [];
    const result = await uploadFile({
      ...base,
      partSizeGiven: false,
      retryDelayMs: 20,
      log: (m) => logs.push(m),
    });
    expect(result).toMatchObject({
      uploadId: stopped.uploadId,
      resumed: true,
      partsSkipped: [1, 2],
      partsSent: [3],
    });
    expect(proxy.attempts).toEqual([3, 3]);
    expect(proxy.sent).toEqual([3]);
    expect(logs.join('\n')).toMatch(/Resuming upload .*: 2 of 3 parts already uploaded, 1 to go/);
    expect(readdirSync(stateDir)).toEqual([]); // a completed upload leaves no state
    expect(result.file).toMatchObject({ object: 'file', purpose: 'batch', filename: 'module.jsonl' });
    expect((await content(result.file.id)).equals(readFileSync(input.path))).toBe(true);

    // The File runs as a batch: every custom_id exactly once.
    const batch = await client.batches.create({
      input_file_id: result.file.id,
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
    });
    const ended = await waitUntilEnded(client, batch.id, 40_000);
    expect(ended.status).toBe('completed');
    expect(ended.request_counts).toMatchObject({ total: input.lines, completed: input.lines, failed: 0 });
    const counts = countIds(await resultLines(client, ended.output_file_id));
    expect(counts.size).toBe(input.lines);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
  });

  it('starts over when the file changed since the interrupted upload, cancelling the old one', async () => {
    const input = writeInput('changed.jsonl', 6, 'chg'); // 2 parts
    const stateDir = join(dir, 'state-changed');
    const base = { file: input.path, baseUrl: proxy.baseUrl, apiKey: KEY, partSize: 5 * MiB, stateDir };
    proxy.reset({ hold: (n) => n === 2 });
    const interrupt = new AbortController();
    const stopped = (await uploadFile({
      ...base,
      parallel: 1,
      signal: interrupt.signal,
      onPartDone: () => interrupt.abort(),
    }).catch((e) => e)) as UploadStopped;
    expect(stopped).toBeInstanceOf(UploadStopped);

    appendFileSync(
      input.path,
      '{"custom_id":"chg-extra","method":"POST","url":"/v1/chat/completions","body":{}}\n',
    );
    proxy.reset({});
    const logs: string[] = [];
    const result = await uploadFile({ ...base, log: (m) => logs.push(m) });
    expect(result.resumed).toBe(false);
    expect(result.uploadId).not.toBe(stopped.uploadId);
    expect(result.partsSent).toEqual([1, 2]);
    expect(logs.join('\n')).toMatch(/Starting over: .* changed since upload/);
    expect((await content(result.file.id)).equals(readFileSync(input.path))).toBe(true);
    const old = await fetch(`${rt.url}/v1/openbatch/uploads/${stopped.uploadId}`, {
      headers: { authorization: `Bearer ${KEY}` },
    }).then((r) => r.json());
    expect(old).toMatchObject({ status: 'cancelled' });
  });
});

describe('openbatch upload (the command)', () => {
  it('stops on Ctrl-C keeping its state (exit 130), and the same command resumes and prints the File', async () => {
    const input = writeInput('command.jsonl', 11, 'cmd'); // 3 parts of 5 MiB
    const env = {
      ...process.env,
      OPENAI_BASE_URL: proxy.baseUrl,
      OPENAI_API_KEY: KEY,
      OPENBATCH_STATE_DIR: join(dir, 'state-command'),
    };
    const args = ['upload', input.path, '--part-size', '5', '--parallel', '1'];

    // Node itself runs the command here, so that the signal and the exit status are its own
    // (npx and tsx would stand between them); the resume below goes through `npx tsx`.
    proxy.reset({ hold: (n) => n >= 2 });
    const first = run(['node', '--import', 'tsx', 'cli/openbatch.ts', ...args], env);
    await first.waitForStderr(/part 1 uploaded: 1\/3 parts/);
    await proxy.waitForHeld();
    first.child.kill('SIGINT');
    const r1 = await first.exit;
    expect(r1.stderr).toMatch(/interrupted; run the same command again to resume it/);
    expect(r1.code).toBe(130);
    expect(r1.stdout).toBe('');
    expect(proxy.sent).toEqual([1]);

    proxy.reset({});
    const r2 = await run(['npx', 'tsx', 'cli/openbatch.ts', ...args, '--json'], env).exit;
    expect(r2.code).toBe(0);
    expect(r2.stderr).toMatch(/Resuming upload upload_\S+: 1 of 3 parts already uploaded, 2 to go/);
    expect(r2.stderr).toMatch(/part 3 uploaded: 3\/3 parts/);
    expect(proxy.sent.sort()).toEqual([2, 3]);
    const file = JSON.parse(r2.stdout) as { id: string; object: string; bytes: number };
    expect(file).toMatchObject({ object: 'file', bytes: readFileSync(input.path).length });
    expect((await content(file.id)).equals(readFileSync(input.path))).toBe(true);
    expect(readdirSync(env.OPENBATCH_STATE_DIR)).toEqual([]);
  });
});

const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

/** The command in a child process, as a user runs it. */
function run([command, ...args]: string[], env: NodeJS.ProcessEnv) {
  const child: ChildProcess = spawn(command as string, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let stdout = '';
  let stderr = '';
  const waiters: { re: RegExp; resolve: () => void }[] = [];
  child.stdout?.on('data', (d) => {
    stdout += d;
  });
  child.stderr?.on('data', (d) => {
    stderr += d;
    for (const w of waiters.filter((w) => w.re.test(stderr))) w.resolve();
  });
  const exit = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (code) => resolve({ code, stdout, stderr })),
  );
  return {
    child,
    exit,
    waitForStderr: (re: RegExp) =>
      new Promise<void>((resolve, reject) => {
        if (re.test(stderr)) return resolve();
        waiters.push({ re, resolve });
        void exit.then(() => reject(new Error(`exited before ${re}: ${stderr}`)));
      }),
  };
}

interface PartProxy {
  baseUrl: string;
  /** Part numbers whose PUT reached S3 and succeeded, in order. */
  sent: number[];
  /** Part numbers of every PUT that arrived, held and failed ones included. */
  attempts: number[];
  reset(rules: { hold?: (part: number) => boolean; failOnce?: (part: number) => boolean }): void;
  waitForHeld(): Promise<void>;
  close(): Promise<void>;
}

const readBody = async (req: IncomingMessage) => {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
};

/**
 * Forwards the API to the runtime, rewriting each pre-signed part URL to pass through here; a
 * part's PUT is forwarded to S3, held unanswered (an upload in flight when the client stops) or
 * failed once with a 500 (to be retried).
 */
async function startPartProxy(apiUrl: string): Promise<PartProxy> {
  let rules: { hold?: (part: number) => boolean; failOnce?: (part: number) => boolean } = {};
  const failed = new Set<number>();
  const held: ServerResponse[] = [];
  const heldWaiters: (() => void)[] = [];
  const state = { sent: [] as number[], attempts: [] as number[] };
  let origin = '';

  const server: Server = createServer(async (req, res) => {
    try {
      const body = await readBody(req);
      const url = new URL(req.url ?? '/', 'http://proxy');
      if (url.pathname === '/s3') {
        const target = url.searchParams.get('u') as string;
        const part = Number(new URL(target).searchParams.get('partNumber'));
        state.attempts.push(part);
        if (rules.hold?.(part)) {
          held.push(res);
          for (const w of heldWaiters.splice(0)) w();
          return;
        }
        if (rules.failOnce?.(part) && !failed.has(part)) {
          failed.add(part);
          res.writeHead(500, { 'content-type': 'application/xml' });
          res.end('<Error><Code>InternalError</Code></Error>');
          return;
        }
        const md5 = req.headers['content-md5'];
        const r = await fetch(target, {
          method: 'PUT',
          body,
          headers: md5 ? { 'content-md5': String(md5) } : {},
        });
        if (r.ok) state.sent.push(part);
        res.writeHead(r.status, { etag: r.headers.get('etag') ?? '' });
        res.end(Buffer.from(await r.arrayBuffer()));
        return;
      }
      const headers: Record<string, string> = {};
      for (const h of ['authorization', 'content-type', 'accept']) {
        const v = req.headers[h];
        if (typeof v === 'string') headers[h] = v;
      }
      const r = await fetch(`${apiUrl}${req.url}`, {
        method: req.method ?? 'GET',
        headers,
        ...(req.method === 'GET' || req.method === 'HEAD' ? {} : { body }),
        redirect: 'manual',
      });
      let out = Buffer.from(await r.arrayBuffer());
      if (r.ok && url.pathname.endsWith('/part_urls')) {
        const list = JSON.parse(out.toString()) as { data: { url: string }[] };
        for (const d of list.data) d.url = `${origin}/s3?u=${encodeURIComponent(d.url)}`;
        out = Buffer.from(JSON.stringify(list));
      }
      const resHeaders: Record<string, string> = {};
      for (const h of ['content-type', 'location']) {
        const v = r.headers.get(h);
        if (v) resHeaders[h] = v;
      }
      res.writeHead(r.status, resHeaders);
      res.end(out);
    } catch (e) {
      res.writeHead(502);
      res.end(String(e));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const release = () => {
    for (const r of held.splice(0)) r.destroy();
  };
  return {
    baseUrl: `${origin}/v1`,
    get sent() {
      return state.sent;
    },
    get attempts() {
      return state.attempts;
    },
    reset(next) {
      release();
      rules = next;
      failed.clear();
      state.sent = [];
      state.attempts = [];
    },
    waitForHeld: () => new Promise<void>((resolve) => (held.length ? resolve() : heldWaiters.push(resolve))),
    close: async () => {
      release();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
