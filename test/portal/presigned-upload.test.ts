// @vitest-environment happy-dom
import { afterEach, describe, expect, it, vi } from 'vitest';
import { uploadInputFile } from '../../portal/src/features/batches/api/create-batch.js';
import {
  apiTransport,
  MAX_PARTS,
  MIN_PART_BYTES,
  PartUploadError,
  type PresignedUploadState,
  planParts,
  presignedUpload,
  type UploadTransport,
  xhrPut,
} from '../../portal/src/features/batches/api/presigned-upload.js';
import { ApiClient, ApiError } from '../../portal/src/lib/api-client.js';
import type { UploadObject } from '../../portal/src/types/api.js';
import { fakeFetch } from './support/render.js';

const MiB = 1024 * 1024;

/** A Blob stand-in of any size that allocates nothing: slices remember their offsets. */
function sizedBlob(size: number): Blob {
  return {
    size,
    type: '',
    slice: (start = 0, end = size) => ({ size: end - start, start, end }),
  } as unknown as Blob;
}
const sliceOf = (b: Blob) => b as unknown as { start: number; end: number; size: number };

function uploadObject(over: Partial<UploadObject> = {}): UploadObject {
  return {
    id: 'upload_1',
    object: 'upload',
    bytes: 0,
    created_at: 1,
    filename: 'in.jsonl',
    purpose: 'batch',
    status: 'pending',
    expires_at: 3601,
    file: null,
    ...over,
  };
}

interface Put {
  url: string;
  partNumber: number;
  body: { start: number; end: number; size: number };
  onProgress: (loaded: number) => void;
  signal: AbortSignal;
  settled: () => boolean;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * A transport whose PUTs wait until the test settles them (or settle themselves with `auto`),
 * recording every call and how many PUTs were in flight at once.
 */
function fakeTransport(opts: { auto?: (put: Put, attempt: number) => 'ok' | Error | undefined } = {}) {
  let urlSeq = 0;
  const attempts = new Map<number, number>();
  const log = {
    created: [] as { filename: string; bytes: number; mime_type: string }[],
    urlCalls: [] as number[][],
    puts: [] as Put[],
    inFlight: 0,
    maxInFlight: 0,
    completed: [] as string[],
    cancelled: [] as string[],
  };
  const transport: UploadTransport = {
    create: async (input) => {
      log.created.push(input);
      return uploadObject({ bytes: input.bytes, filename: input.filename });
    },
    partUrls: async (_id, numbers) => {
      log.urlCalls.push(numbers);
      return numbers.map((n) => ({
        part_number: n,
        url: `https://s3.test/part${n}?sig=${++urlSeq}`,
        expires_at: 0,
      }));
    },
    put: (url, body, onProgress, signal) =>
      new Promise<void>((resolve, reject) => {
        const partNumber = Number(/part(\d+)/.exec(url)?.[1]);
        const attempt = (attempts.get(partNumber) ?? 0) + 1;
        attempts.set(partNumber, attempt);
        log.inFlight += 1;
        log.maxInFlight = Math.max(log.maxInFlight, log.inFlight);
        let settled = false;
        const settle = (f: () => void) => {
          if (settled) return;
          settled = true;
          log.inFlight -= 1;
          f();
        };
        const put: Put = {
          url,
          partNumber,
          body: sliceOf(body),
          onProgress,
          signal,
          settled: () => settled,
          resolve: () => settle(resolve),
          reject: (err) => settle(() => reject(err)),
        };
        signal.addEventListener('abort', () => put.reject(new DOMException('aborted', 'AbortError')), {
          once: true,
        });
        log.puts.push(put);
        const auto = opts.auto?.(put, attempt);
        if (auto === 'ok') queueMicrotask(() => put.resolve());
        else if (auto instanceof Error) queueMicrotask(() => put.reject(auto));
      }),
    complete: async (id) => {
      log.completed.push(id);
      return uploadObject({
        status: 'completed',
        file: {
          id: 'file-up',
          object: 'file',
          bytes: 1,
          created_at: 1,
          expires_at: null,
          filename: 'in.jsonl',
          purpose: 'batch',
          status: 'processed',
          status_details: null,
        },
      });
    },
    cancel: async (id) => {
      log.cancelled.push(id);
      return uploadObject({ status: 'cancelled' });
    },
  };
  return { transport, log };
}

const noSleep = async () => {};

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('planParts', () => {
  it('cuts 5 MiB parts in file order, the last one the rest', () => {
    expect(planParts(1)).toEqual([{ partNumber: 1, start: 0, end: 1 }]);
    expect(planParts(5 * MiB)).toEqual([{ partNumber: 1, start: 0, end: 5 * MiB }]);
    expect(planParts(5 * MiB + 1)).toEqual([
      { partNumber: 1, start: 0, end: 5 * MiB },
      { partNumber: 2, start: 5 * MiB, end: 5 * MiB + 1 },
    ]);
    expect(planParts(12 * MiB).map((p) => p.end - p.start)).toEqual([5 * MiB, 5 * MiB, 2 * MiB]);
  });

  it('never plans a part below 5 MiB but the last, and never more than 10,000 parts', () => {
    expect(planParts(12 * MiB, 1 * MiB).map((p) => p.end - p.start)).toEqual([5 * MiB, 5 * MiB, 2 * MiB]);
    expect(planParts(20 * MiB, 8 * MiB).map((p) => p.end - p.start)).toEqual([8 * MiB, 8 * MiB, 4 * MiB]);
    const huge = 100 * 1024 * MiB; // 100 GiB
    const parts = planParts(huge);
    expect(parts.length).toBeLessThanOrEqual(MAX_PARTS);
    for (const [i, p] of parts.entries()) {
      expect(p.partNumber).toBe(i + 1);
      if (i < parts.length - 1) expect(p.end - p.start).toBeGreaterThanOrEqual(MIN_PART_BYTES);
      if (i > 0) expect(p.start).toBe(parts[i - 1]?.end);
    }
    expect(parts.at(-1)?.end).toBe(huge);
  });

  it('refuses an empty file', () => {
    expect(() => planParts(0)).toThrow(RangeError);
  });
});

describe('presignedUpload', () => {
  it('creates the upload, PUTs each part to its URL and completes into a File', async () => {
    const { transport, log } = fakeTransport({ auto: () => 'ok' });
    const states: PresignedUploadState[] = [];
    const size = 12 * MiB + 7;
    const file = await presignedUpload(sizedBlob(size), 'in.jsonl', {
      transport,
      sleep: noSleep,
      onState: (s) => states.push(s),
    });
    expect(file.id).toBe('file-up');
    expect(log.created).toEqual([{ filename: 'in.jsonl', bytes: size, mime_type: 'application/jsonl' }]);
    expect(log.urlCalls).toEqual([[1, 2, 3]]); // one call for the window, not one per part
    expect(log.puts.map((p) => [p.partNumber, p.body.start, p.body.end])).toEqual([
      [1, 0, 5 * MiB],
      [2, 5 * MiB, 10 * MiB],
      [3, 10 * MiB, size],
    ]);
    expect(log.completed).toEqual(['upload_1']);
    expect(log.cancelled).toEqual([]);
    expect(states.map((s) => s.phase).filter((p, i, a) => p !== a[i - 1])).toEqual([
      'creating',
      'uploading',
      'completing',
      'done',
    ]);
    const last = states.at(-1) as PresignedUploadState;
    expect(last).toMatchObject({ uploadId: 'upload_1', loaded: size, total: size, maxAttempts: 4 });
    expect(last.parts.every((p) => p.status === 'done' && p.attempt === 1)).toBe(true);
  });

  it('asks for part URLs a window at a time, never more than 1,000 a call', async () => {
    const { transport, log } = fakeTransport({ auto: () => 'ok' });
    await presignedUpload(sizedBlob(25 * MiB), 'in.jsonl', { transport, urlBatch: 2, sleep: noSleep });
    expect(log.urlCalls).toEqual([[1, 2], [3, 4], [5]]);
    const many = fakeTransport({ auto: () => 'ok' });
    await presignedUpload(sizedBlob(1_001 * 5 * MiB), 'in.jsonl', {
      transport: many.transport,
      urlBatch: 5_000,
      concurrency: 50,
      sleep: noSleep,
    });
    expect(many.log.urlCalls.map((c) => c.length)).toEqual([1_000, 1]);
  });

  it('keeps at most 3 parts in flight and starts the next as one finishes', async () => {
    const { transport, log } = fakeTransport();
    const done = presignedUpload(sizedBlob(10 * 5 * MiB), 'in.jsonl', { transport, sleep: noSleep });
    await vi.waitFor(() => expect(log.puts).toHaveLength(3));
    expect(log.puts.map((p) => p.partNumber)).toEqual([1, 2, 3]);
    // Finish them one at a time, out of order: a new part starts for each one that ends.
    log.puts[1]?.resolve();
    await vi.waitFor(() => expect(log.puts).toHaveLength(4));
    expect(log.inFlight).toBe(3);
    while (log.puts.some((p) => !p.settled())) {
      // Settle the newest part in flight: the order parts finish in does not matter.
      log.puts.findLast((p) => !p.settled())?.resolve();
      await new Promise((r) => setTimeout(r, 0));
      expect(log.inFlight).toBeLessThanOrEqual(3);
    }
    await done;
    expect(log.maxInFlight).toBe(3);
    expect(new Set(log.puts.map((p) => p.partNumber)).size).toBe(10);
    const one = fakeTransport({ auto: () => 'ok' });
    await presignedUpload(sizedBlob(10 * 5 * MiB), 'in.jsonl', {
      transport: one.transport,
      concurrency: 1,
      sleep: noSleep,
    });
    expect(one.log.maxInFlight).toBe(1);
  });

  it('retries a failed part with a fresh URL, and reports the retry', async () => {
    const { transport, log } = fakeTransport({
      auto: (put, attempt) =>
        put.partNumber === 2 && attempt === 1 ? new PartUploadError(503, 'Storage answered HTTP 503.') : 'ok',
    });
    const delays: number[] = [];
    const states: PresignedUploadState[] = [];
    await presignedUpload(sizedBlob(12 * MiB), 'in.jsonl', {
      transport,
      sleep: async (ms) => {
        delays.push(ms);
      },
      onState: (s) => states.push(s),
    });
    expect(log.urlCalls).toEqual([[1, 2, 3], [2]]);
    const part2 = log.puts.filter((p) => p.partNumber === 2).map((p) => p.url);
    expect(part2).toHaveLength(2);
    expect(part2[1]).not.toBe(part2[0]);
    expect(delays).toEqual([500]);
    const retrying = states.find((s) => s.parts[1]?.status === 'retrying')?.parts[1];
    expect(retrying).toMatchObject({ attempt: 1, loaded: 0, error: 'Storage answered HTTP 503.' });
    expect(states.at(-1)?.parts[1]).toMatchObject({ status: 'done', attempt: 2 });
    expect(states.at(-1)?.parts[1]?.error).toBeUndefined();
    expect(log.completed).toEqual(['upload_1']);
  });

  it('gives up after 3 retries, stops the other parts and cancels the upload', async () => {
    const failure = new PartUploadError(0, 'The connection to storage was lost.');
    const { transport, log } = fakeTransport({ auto: (put) => (put.partNumber === 1 ? failure : undefined) });
    const delays: number[] = [];
    const states: PresignedUploadState[] = [];
    await expect(
      presignedUpload(sizedBlob(20 * MiB), 'in.jsonl', {
        transport,
        sleep: async (ms) => {
          delays.push(ms);
        },
        onState: (s) => states.push(s),
      }),
    ).rejects.toBe(failure);
    expect(log.puts.filter((p) => p.partNumber === 1)).toHaveLength(4);
    expect(log.urlCalls).toEqual([[1, 2, 3, 4], [1], [1], [1]]);
    expect(delays).toEqual([500, 1000, 2000]);
    // The parts still in flight were aborted, none started after, and nothing was completed.
    expect(log.puts.filter((p) => p.partNumber !== 1).every((p) => p.signal.aborted)).toBe(true);
    expect(log.puts.some((p) => p.partNumber === 4)).toBe(false);
    expect(log.completed).toEqual([]);
    expect(log.cancelled).toEqual(['upload_1']);
    expect(states.at(-1)).toMatchObject({ phase: 'failed' });
    expect(states.at(-1)?.parts.map((p) => p.status)).toEqual(['failed', 'stopped', 'stopped', 'stopped']);
    expect(states.at(-1)?.parts[0]).toMatchObject({
      attempt: 4,
      error: 'The connection to storage was lost.',
    });
  });

  it('does not retry when the API refuses the upload itself', async () => {
    const { transport, log } = fakeTransport({
      auto: (put) => (put.partNumber === 1 ? new PartUploadError(500, 'boom') : 'ok'),
    });
    const gone = new ApiError(
      400,
      'Upload upload_1 is already cancelled.',
      'invalid_request_error',
      'upload_cancelled',
    );
    const partUrls = transport.partUrls;
    transport.partUrls = async (id, numbers) => {
      if (numbers.length === 1) throw gone;
      return partUrls(id, numbers);
    };
    await expect(presignedUpload(sizedBlob(6 * MiB), 'in.jsonl', { transport, sleep: noSleep })).rejects.toBe(
      gone,
    );
    expect(log.puts.filter((p) => p.partNumber === 1)).toHaveLength(1);
  });

  it('adds up bytes sent across parts; a retried part starts again from zero', async () => {
    const { transport, log } = fakeTransport();
    let state: PresignedUploadState | null = null;
    const done = presignedUpload(sizedBlob(12 * MiB), 'in.jsonl', {
      transport,
      sleep: noSleep,
      progressEveryMs: 0,
      onState: (s) => {
        state = s;
      },
    });
    const now = () => state as unknown as PresignedUploadState;
    await vi.waitFor(() => expect(log.puts).toHaveLength(3));
    log.puts[0]?.onProgress(1 * MiB);
    log.puts[1]?.onProgress(2 * MiB);
    log.puts[2]?.onProgress(512 * 1024);
    expect(now().loaded).toBe(3.5 * MiB);
    expect(now().parts.map((p) => p.loaded)).toEqual([MiB, 2 * MiB, 512 * 1024]);
    // Progress beyond a part's size (headers counted by a browser) is capped at the part.
    log.puts[2]?.onProgress(3 * MiB);
    expect(now().parts[2]?.loaded).toBe(2 * MiB);
    log.puts[0]?.resolve();
    await vi.waitFor(() => expect(now().parts[0]?.status).toBe('done'));
    expect(now().loaded).toBe(5 * MiB + 2 * MiB + 2 * MiB);
    log.puts[1]?.reject(new PartUploadError(500, 'boom'));
    await vi.waitFor(() => expect(log.puts).toHaveLength(4));
    expect(now().parts[1]).toMatchObject({ loaded: 0, status: 'uploading', attempt: 2 });
    expect(now().loaded).toBe(5 * MiB + 2 * MiB);
    // A late event from the failed try does not count.
    log.puts[1]?.onProgress(4 * MiB);
    expect(now().parts[1]?.loaded).toBe(0);
    log.puts[3]?.onProgress(5 * MiB);
    log.puts[3]?.resolve();
    log.puts[2]?.resolve();
    await done;
    expect(now()).toMatchObject({ phase: 'done', loaded: 12 * MiB, total: 12 * MiB });
    expect(now().loaded).toBeLessThanOrEqual(now().total);
  });

  it('reports byte progress at most every 100 ms, but every change of state at once', async () => {
    const { transport, log } = fakeTransport();
    let clock = 0;
    const states: PresignedUploadState[] = [];
    const done = presignedUpload(sizedBlob(6 * MiB), 'in.jsonl', {
      transport,
      now: () => clock,
      onState: (s) => states.push(s),
    });
    await vi.waitFor(() => expect(log.puts).toHaveLength(2));
    const before = states.length;
    log.puts[0]?.onProgress(1 * MiB); // reported
    log.puts[0]?.onProgress(2 * MiB); // within 100 ms: held back
    clock = 99;
    log.puts[1]?.onProgress(100); // still held back
    clock = 100;
    log.puts[0]?.onProgress(3 * MiB); // reported, with everything so far
    expect(states.slice(before).map((s) => s.loaded)).toEqual([MiB, 3 * MiB + 100]);
    log.puts[0]?.resolve(); // a part done is reported at once
    await vi.waitFor(() => expect(states.at(-1)?.parts[0]?.status).toBe('done'));
    expect(states.at(-1)?.loaded).toBe(5 * MiB + 100);
    log.puts[1]?.resolve();
    await done;
  });

  it('cancels: aborts the parts in flight, starts no more and cancels the upload', async () => {
    const { transport, log } = fakeTransport();
    const abort = new AbortController();
    const states: PresignedUploadState[] = [];
    const done = presignedUpload(sizedBlob(30 * MiB), 'in.jsonl', {
      transport,
      signal: abort.signal,
      sleep: noSleep,
      onState: (s) => states.push(s),
    });
    await vi.waitFor(() => expect(log.puts).toHaveLength(3));
    log.puts[0]?.onProgress(MiB);
    abort.abort();
    await expect(done).rejects.toMatchObject({ name: 'AbortError' });
    expect(log.puts.every((p) => p.signal.aborted)).toBe(true);
    expect(log.puts).toHaveLength(3);
    expect(log.completed).toEqual([]);
    expect(log.cancelled).toEqual(['upload_1']);
    expect(states.map((s) => s.phase).slice(-2)).toEqual(['cancelling', 'cancelled']);
    expect(new Set(states.at(-1)?.parts.map((p) => p.status))).toEqual(new Set(['stopped']));
  });

  it('cancels an upload that was still being created', async () => {
    const { transport, log } = fakeTransport({ auto: () => 'ok' });
    const abort = new AbortController();
    const create = transport.create;
    transport.create = async (input) => {
      abort.abort(); // the user cancels while POST /v1/uploads is on its way
      return create(input);
    };
    await expect(
      presignedUpload(sizedBlob(6 * MiB), 'in.jsonl', { transport, signal: abort.signal }),
    ).rejects.toMatchObject({ name: 'AbortError' });
    expect(log.puts).toHaveLength(0);
    expect(log.cancelled).toEqual(['upload_1']);
  });
});

describe('xhrPut', () => {
  class FakeXhr {
    static last: FakeXhr;
    method = '';
    url = '';
    headers: Record<string, string> = {};
    status = 0;
    responseText = '';
    upload: { onprogress: ((e: { loaded: number }) => void) | null } = { onprogress: null };
    onload: (() => void) | null = null;
    onerror: (() => void) | null = null;
    ontimeout: (() => void) | null = null;
    onabort: (() => void) | null = null;
    onloadend: (() => void) | null = null;
    sent: unknown;
    aborted = false;
    constructor() {
      FakeXhr.last = this;
    }
    open(method: string, url: string) {
      this.method = method;
      this.url = url;
    }
    setRequestHeader(k: string, v: string) {
      this.headers[k] = v;
    }
    send(body: unknown) {
      this.sent = body;
    }
    abort() {
      this.aborted = true;
      this.onabort?.();
      this.onloadend?.();
    }
    answer(status: number, text = '') {
      this.status = status;
      this.responseText = text;
      this.onload?.();
      this.onloadend?.();
    }
  }

  it('PUTs the bytes without the API key and reports upload progress', async () => {
    vi.stubGlobal('XMLHttpRequest', FakeXhr);
    const seen: number[] = [];
    const body = new Blob(['abc']);
    const done = xhrPut('https://s3.test/p1?sig=1', body, (n) => seen.push(n), new AbortController().signal);
    const xhr = FakeXhr.last;
    expect([xhr.method, xhr.url, xhr.sent, xhr.headers]).toEqual([
      'PUT',
      'https://s3.test/p1?sig=1',
      body,
      {},
    ]);
    xhr.upload.onprogress?.({ loaded: 1 });
    xhr.upload.onprogress?.({ loaded: 3 });
    xhr.answer(200);
    await done;
    expect(seen).toEqual([1, 3]);
  });

  it("turns storage's XML error into a PartUploadError, and aborts on the signal", async () => {
    vi.stubGlobal('XMLHttpRequest', FakeXhr);
    const failed = xhrPut('https://s3.test/p', new Blob(['x']), () => {}, new AbortController().signal);
    FakeXhr.last.answer(
      403,
      '<?xml version="1.0"?><Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>',
    );
    await expect(failed).rejects.toMatchObject({
      name: 'PartUploadError',
      status: 403,
      message: 'Storage answered HTTP 403 (AccessDenied: Request has expired).',
    });
    const abort = new AbortController();
    const aborted = xhrPut('https://s3.test/p', new Blob(['x']), () => {}, abort.signal);
    abort.abort();
    expect(FakeXhr.last.aborted).toBe(true);
    await expect(aborted).rejects.toMatchObject({ name: 'AbortError' });
  });
});

describe('the API transport and the choice of path', () => {
  const api = () =>
    fakeFetch((method, path) => {
      if (method === 'POST' && path === '/uploads') return uploadObject();
      if (path === '/openbatch/uploads/upload_1/part_urls')
        return { object: 'list', data: [{ part_number: 1, url: 'https://s3.test/part1', expires_at: 9 }] };
      if (path === '/uploads/upload_1/complete') return uploadObject({ status: 'completed' });
      return uploadObject({ status: 'cancelled' });
    });

  it('calls the Uploads API and the part URL extension with their bodies', async () => {
    const { fetch, calls } = api();
    const t = apiTransport(new ApiClient({ baseUrl: 'http://api.test/v1', apiKey: 'sk-1', fetch }));
    await t.create({ filename: 'in.jsonl', bytes: 9, mime_type: 'application/jsonl' });
    expect(await t.partUrls('upload_1', [1])).toEqual([
      { part_number: 1, url: 'https://s3.test/part1', expires_at: 9 },
    ]);
    await t.complete('upload_1');
    await t.cancel('upload_1');
    expect(calls).toEqual([
      {
        method: 'POST',
        path: '/uploads',
        body: { filename: 'in.jsonl', bytes: 9, mime_type: 'application/jsonl', purpose: 'batch' },
      },
      { method: 'POST', path: '/openbatch/uploads/upload_1/part_urls', body: { part_numbers: [1] } },
      { method: 'POST', path: '/uploads/upload_1/complete', body: { part_ids: [] } },
      { method: 'POST', path: '/uploads/upload_1/cancel', body: undefined },
    ]);
  });

  it('sends files up to the direct limit in one request and larger ones in parts', async () => {
    const { fetch } = api();
    const client = new ApiClient({ baseUrl: 'http://api.test/v1', apiKey: 'sk-1', fetch });
    const direct = vi.spyOn(client, 'upload').mockResolvedValue({ id: 'file-direct' } as never);
    const { transport, log } = fakeTransport({ auto: () => 'ok' });
    const small = new File(['x'.repeat(100)], 'small.jsonl');
    expect((await uploadInputFile(client, small, { directLimitBytes: 100, transport })).id).toBe(
      'file-direct',
    );
    expect(direct).toHaveBeenCalledOnce();
    expect(log.created).toHaveLength(0);
    const progress: number[] = [];
    const big = new File(['x'.repeat(101)], 'big.jsonl');
    const file = await uploadInputFile(client, big, {
      directLimitBytes: 100,
      transport,
      onProgress: (p) => progress.push(p.loaded / p.total),
    });
    expect(file.id).toBe('file-up');
    expect(direct).toHaveBeenCalledOnce();
    expect(log.created).toEqual([{ filename: 'big.jsonl', bytes: 101, mime_type: 'application/jsonl' }]);
    expect(progress.at(-1)).toBe(1);
  });
});
