import { open } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import OpenAI from 'openai';
import type { FileObject } from 'openai/resources/files';
import pLimit from 'p-limit';
import pRetry, { AbortError } from 'p-retry';
import { Extensions, type PartUrl, type UploadStatus } from './extensions.js';
import { inBatches, MAX_URLS_PER_CALL, type PlannedPart, partsToSend, planParts } from './part-planner.js';
import { type Progress, silentProgress } from './progress.js';
import { putPart, rangeMd5 } from './put-part.js';
import { defaultStateDir, StateStore, sameFile, stateKey, type UploadState } from './state-store.js';

export interface UploadFileOptions {
  file: string;
  baseUrl: string;
  apiKey: string;
  purpose?: string;
  mimeType?: string;
  /** Bytes; at least 5 MiB. */
  partSize: number;
  /** When false, a resume keeps the part size it was started with. Default true. */
  partSizeGiven?: boolean;
  parallel?: number;
  /** Default: OPENBATCH_STATE_DIR or ~/.openbatch/uploads. */
  stateDir?: string;
  /** Retries of one part after its first attempt. */
  retries?: number;
  /** First retry delay, ms (doubling after). */
  retryDelayMs?: number;
  signal?: AbortSignal;
  progress?: Progress;
  /** Messages for the user: resumed, started over, and why. */
  log?: (message: string) => void;
  /** Called when a part is in S3 (tests interrupt an upload with it). */
  onPartDone?: (partNumber: number) => void;
}

export interface UploadFileResult {
  file: FileObject;
  uploadId: string;
  resumed: boolean;
  /** Part numbers sent by this run, and those already in S3 from an earlier run. */
  partsSent: number[];
  partsSkipped: number[];
}

/**
 * The upload stopped part way, interrupted (Ctrl-C, a signal) or failed; its state stays for a
 * rerun to resume.
 */
export class UploadStopped extends Error {
  constructor(
    readonly uploadId: string,
    readonly statePath: string,
    readonly interrupted: boolean,
    cause: unknown,
  ) {
    super(
      interrupted
        ? `Upload ${uploadId} interrupted; run the same command again to resume it.`
        : `Upload ${uploadId} failed: ${(cause as Error)?.message ?? cause}`,
      { cause },
    );
    this.name = 'UploadStopped';
  }
}

/** Leaves at least this much of the upload's hour to finish a resumed upload. */
const RESUME_MARGIN_S = 120;
/** Part URLs are asked again this long before they expire. */
const URL_MARGIN_S = 60;

const nowS = () => Math.floor(Date.now() / 1000);

/**
 * Uploads a file with the Uploads API and pre-signed S3 part URLs: parts streamed from disk
 * straight to S3, several at once, each retried with backoff; resumable across runs through a
 * state file. Resolves with the completed File.
 */
export async function uploadFile(opts: UploadFileOptions): Promise<UploadFileResult> {
  const log = opts.log ?? (() => {});
  const progress = opts.progress ?? silentProgress;
  const path = resolve(opts.file);
  const client = new OpenAI({ baseURL: opts.baseUrl, apiKey: opts.apiKey, maxRetries: 3 });
  const ext = new Extensions(opts.baseUrl, opts.apiKey);
  const store = new StateStore(opts.stateDir ?? defaultStateDir());
  const key = stateKey(path, opts.baseUrl);
  const signal = opts.signal;

  const fh = await open(path, 'r');
  try {
    const stat = await fh.stat();
    if (!stat.isFile()) throw new Error(`${opts.file} is not a file.`);
    const file = { size: stat.size, mtimeMs: stat.mtimeMs };

    // A resumable upload of this very file, or a new one.
    const resumed = await resumable(store.load(key));
    let state: UploadState;
    let present: UploadStatus['openbatch']['parts'] = [];
    if (resumed) {
      state = resumed.state;
      present = resumed.status.openbatch.parts;
    } else {
      planParts(file.size, opts.partSize); // refuse a bad plan before creating anything
      signal?.throwIfAborted();
      const upload = await client.uploads.create(
        {
          bytes: file.size,
          filename: basename(path),
          mime_type: opts.mimeType ?? 'application/jsonl',
          purpose: (opts.purpose ?? 'batch') as 'batch',
        },
        { signal },
      );
      state = {
        version: 1,
        upload_id: upload.id,
        file_path: path,
        size: file.size,
        mtime_ms: file.mtimeMs,
        part_size: opts.partSize,
        base_url: opts.baseUrl,
        created_at: upload.created_at,
      };
      store.save(key, state);
    }
    const uploadId = state.upload_id;
    const plan = planParts(file.size, state.part_size);
    const todo = partsToSend(
      plan,
      present.flatMap((p) =>
        p.part_number === undefined ? [] : [{ part_number: p.part_number, bytes: p.bytes }],
      ),
    );
    const skipped = plan.filter((p) => !todo.includes(p)).map((p) => p.partNumber);
    if (resumed) {
      log(
        `Resuming upload ${uploadId}: ${skipped.length} of ${plan.length} parts already uploaded, ${todo.length} to go.`,
      );
    }

    const sent = await sendParts({ fh, ext, uploadId, todo, plan, opts, progress, signal });
    signal?.throwIfAborted();
    const after = await fh.stat();
    if (!sameFile(state, { size: after.size, mtimeMs: after.mtimeMs })) {
      await client.uploads.cancel(uploadId).catch(() => undefined);
      store.remove(key);
      throw new Error(`${opts.file} changed while it was being uploaded; upload ${uploadId} is cancelled.`);
    }

    const done = await client.uploads.complete(uploadId, { part_ids: [] }, { signal });
    if (!done.file) throw new Error(`Upload ${uploadId} completed without a File.`);
    store.remove(key);
    return { file: done.file, uploadId, resumed: Boolean(resumed), partsSent: sent, partsSkipped: skipped };
  } catch (e) {
    const saved = store.load(key);
    if (saved) throw new UploadStopped(saved.upload_id, store.pathOf(key), Boolean(signal?.aborted), e);
    throw e;
  } finally {
    await fh.close();
  }

  /** The saved upload, when it is still this file's, still pending and still has time. */
  async function resumable(saved: UploadState | undefined) {
    if (!saved) return undefined;
    const startOver = async (why: string, cancel: boolean) => {
      log(`Starting over: ${why}`);
      if (cancel) await client.uploads.cancel(saved.upload_id).catch(() => undefined);
      store.remove(key);
      return undefined;
    };
    const stat = await fh.stat();
    if (!sameFile(saved, { size: stat.size, mtimeMs: stat.mtimeMs }))
      return startOver(`${opts.file} changed since upload ${saved.upload_id} began.`, true);
    if (opts.partSizeGiven !== false && saved.part_size !== opts.partSize)
      return startOver(`upload ${saved.upload_id} was started with another part size.`, true);
    const status = await ext.status(saved.upload_id, signal);
    if (!status) return startOver(`upload ${saved.upload_id} is unknown to the server.`, false);
    if (status.status !== 'pending')
      return startOver(`upload ${saved.upload_id} is ${status.status}.`, false);
    if (status.expires_at - nowS() < RESUME_MARGIN_S)
      return startOver(`upload ${saved.upload_id} expires too soon to finish.`, true);
    if (status.bytes !== stat.size)
      return startOver(`upload ${saved.upload_id} was created for another size.`, true);
    if (status.openbatch.mode === 'api_parts' && status.openbatch.parts.length > 0)
      return startOver(`upload ${saved.upload_id} has parts sent through the API.`, true);
    return { state: saved, status };
  }
}

interface SendContext {
  fh: Awaited<ReturnType<typeof open>>;
  ext: Extensions;
  uploadId: string;
  todo: PlannedPart[];
  plan: PlannedPart[];
  opts: UploadFileOptions;
  progress: Progress;
  signal: AbortSignal | undefined;
}

/** Sends the parts, `parallel` at once; on the first part that fails for good, stops the others. */
async function sendParts(ctx: SendContext): Promise<number[]> {
  const { fh, ext, uploadId, todo, plan, opts, progress } = ctx;
  const stop = new AbortController();
  const signal = ctx.signal ? AbortSignal.any([ctx.signal, stop.signal]) : stop.signal;
  const urls = new UrlBook(ext, uploadId, todo, signal);
  const limit = pLimit(opts.parallel ?? 4);
  const total = plan.reduce((n, p) => n + p.bytes, 0);
  const already = total - todo.reduce((n, p) => n + p.bytes, 0);
  progress.start(total, already, { total: plan.length, done: plan.length - todo.length });
  const sent: number[] = [];

  const sendOne = async (part: PlannedPart) => {
    signal.throwIfAborted();
    const md5 = await rangeMd5(fh, part.start, part.end, signal);
    await pRetry(
      async (attempt) => {
        signal.throwIfAborted();
        const url = attempt === 1 ? await urls.get(part.partNumber) : await urls.fresh(part.partNumber);
        let counted = 0;
        try {
          await putPart(url, fh, part.start, part.end, md5, {
            signal,
            onBytes: (n) => {
              counted += n;
              progress.add(n);
            },
          });
        } catch (e) {
          progress.add(-counted); // those bytes will be sent again
          if (signal.aborted) throw new AbortError(e as Error);
          throw e;
        }
      },
      {
        retries: opts.retries ?? 5,
        minTimeout: opts.retryDelayMs ?? 500,
        factor: 2,
        randomize: true,
        signal,
      },
    );
    sent.push(part.partNumber);
    progress.partDone(part.partNumber);
    opts.onPartDone?.(part.partNumber);
  };

  const results = await Promise.allSettled(
    todo.map((part) =>
      limit(async () => {
        try {
          await sendOne(part);
        } catch (e) {
          stop.abort(e);
          throw e;
        }
      }),
    ),
  );
  progress.stop();
  ctx.signal?.throwIfAborted();
  if (stop.signal.aborted) throw stop.signal.reason; // the first part that failed for good
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return sent.sort((a, b) => a - b);
}

/**
 * Pre-signed URLs for the parts to send, asked in calls of up to 1,000 numbers as the parts
 * come up (a multi-GB file has more parts than one call takes, and URLs age); a retry asks
 * a fresh URL for its one part.
 */
export class UrlBook {
  private readonly urls = new Map<number, Promise<PartUrl>>();

  constructor(
    private readonly ext: Pick<Extensions, 'partUrls'>,
    private readonly uploadId: string,
    private readonly todo: readonly PlannedPart[],
    private readonly signal: AbortSignal,
  ) {}

  async get(partNumber: number): Promise<string> {
    const cached = this.urls.get(partNumber);
    if (cached) {
      const url = await cached.catch(() => undefined);
      if (url && url.expires_at - nowS() > URL_MARGIN_S) return url.url;
      return this.fresh(partNumber);
    }
    // This part and the next ones not asked yet, in one call.
    const from = this.todo.findIndex((p) => p.partNumber === partNumber);
    const numbers = this.todo
      .slice(Math.max(0, from))
      .map((p) => p.partNumber)
      .filter((n) => !this.urls.has(n));
    const [batch = [partNumber]] = inBatches(numbers.length ? numbers : [partNumber], MAX_URLS_PER_CALL);
    const call = this.ext.partUrls(this.uploadId, batch, this.signal);
    for (const n of batch) {
      const url = call.then((list) => {
        const found = list.find((u) => u.part_number === n);
        if (!found) throw new Error(`The server gave no URL for part ${n}.`);
        return found;
      });
      url.catch(() => undefined); // a failed call is seen (and retried) by the part that awaits it
      this.urls.set(n, url);
    }
    return (await (this.urls.get(partNumber) as Promise<PartUrl>)).url;
  }

  async fresh(partNumber: number): Promise<string> {
    const call = this.ext.partUrls(this.uploadId, [partNumber], this.signal).then((list) => {
      const found = list[0];
      if (!found) throw new Error(`The server gave no URL for part ${partNumber}.`);
      return found;
    });
    call.catch(() => undefined);
    this.urls.set(partNumber, call);
    return (await call).url;
  }
}
