import { type ApiClient, ApiError } from '../../../lib/api-client';
import type { FileObject, PartUrl, UploadObject } from '../../../types/api';

/**
 * Files above the direct-upload limit go through OpenAI's Uploads API with openbatch's pre-signed
 * parts: create the Upload, ask for part URLs, PUT each part's bytes straight to S3 (a few at a
 * time, with real byte progress), retry a failed part with a fresh URL, then complete the Upload
 * into a File. The transport is injected, so the whole flow runs in unit tests without a network.
 */

/** S3's smallest part (every part but the last). */
export const MIN_PART_BYTES = 5 * 1024 * 1024;
/** S3's most parts in one multipart upload. */
export const MAX_PARTS = 10_000;
/** Parts in flight at once, by default. */
export const PARALLEL_PARTS = 3;
/** Retries of a failed part, each with a fresh URL, by default. */
export const PART_RETRIES = 3;
/** The most part URLs one `part_urls` call hands out. */
export const MAX_URLS_PER_CALL = 1_000;

export interface PlannedPart {
  partNumber: number;
  /** Byte offsets in the file, `end` exclusive. */
  start: number;
  end: number;
}

/**
 * Splits `size` bytes into parts numbered from 1 in file order: each `partBytes` (at least 5 MiB,
 * and larger when the file would otherwise need more than 10,000 parts), the last one the rest.
 */
export function planParts(size: number, partBytes = MIN_PART_BYTES): PlannedPart[] {
  if (!Number.isSafeInteger(size) || size < 1) {
    throw new RangeError(`An upload needs at least one byte (got ${size}).`);
  }
  const each = Math.max(MIN_PART_BYTES, Math.floor(partBytes), Math.ceil(size / MAX_PARTS));
  const parts: PlannedPart[] = [];
  for (let start = 0; start < size; start += each) {
    parts.push({ partNumber: parts.length + 1, start, end: Math.min(size, start + each) });
  }
  return parts;
}

/** What the flow needs from the outside world; `apiTransport` is the real one. */
export interface UploadTransport {
  create(input: { filename: string; bytes: number; mime_type: string }): Promise<UploadObject>;
  partUrls(uploadId: string, partNumbers: number[]): Promise<PartUrl[]>;
  /** PUTs `body` to a pre-signed URL, reporting bytes sent so far; rejects with an AbortError on abort. */
  put(url: string, body: Blob, onProgress: (loaded: number) => void, signal: AbortSignal): Promise<void>;
  complete(uploadId: string): Promise<UploadObject>;
  cancel(uploadId: string): Promise<unknown>;
}

/** `stopped`: the upload was cancelled, or ended by another part's failure, before this part was done. */
export type PartStatus = 'queued' | 'uploading' | 'retrying' | 'done' | 'failed' | 'stopped';

export interface PartProgress {
  partNumber: number;
  bytes: number;
  loaded: number;
  status: PartStatus;
  /** 1 for the first try; 0 before it starts. */
  attempt: number;
  /** Why the last try failed (shown while retrying, or when the part failed for good). */
  error?: string;
}

export type UploadPhase =
  | 'creating'
  | 'uploading'
  | 'completing'
  | 'done'
  | 'cancelling'
  | 'cancelled'
  | 'failed';

export interface PresignedUploadState {
  phase: UploadPhase;
  uploadId: string | null;
  /** Bytes sent, all parts together (a retried part starts again from 0). */
  loaded: number;
  total: number;
  parts: PartProgress[];
  /** Tries a part gets: the first and the retries. */
  maxAttempts: number;
}

export interface PresignedUploadOptions {
  transport: UploadTransport;
  /** Parts in flight at once; default 3. */
  concurrency?: number;
  /** Retries of a failed part, each with a fresh URL; default 3. */
  retries?: number;
  /** Part size; default (and at least) 5 MiB. */
  partBytes?: number;
  /** Part URLs asked for in one call (at most 1,000); default 100. */
  urlBatch?: number;
  mimeType?: string;
  /** Wait before retry number `retry` (1, 2, …); default 500 ms, 1 s, 2 s, … */
  retryDelayMs?: (retry: number) => number;
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /**
   * Called with a snapshot on every change of phase or part status, and on byte progress at
   * most every `progressEveryMs` (default 100 ms; a snapshot copies every part's state).
   */
  onState?: (state: PresignedUploadState) => void;
  progressEveryMs?: number;
  now?: () => number;
  signal?: AbortSignal;
}

/** A part the storage refused (HTTP status, 0 for a lost connection). */
export class PartUploadError extends Error {
  override name = 'PartUploadError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export const abortError = () => new DOMException('Upload cancelled', 'AbortError');
export const isAbortError = (err: unknown) => (err as Error | null)?.name === 'AbortError';

function defaultSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(abortError());
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortError());
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** The API refusing the upload itself (gone, cancelled, a bad key) is not helped by trying again. */
function retryable(err: unknown): boolean {
  if (err instanceof ApiError)
    return err.status === 0 || err.status === 408 || err.status === 429 || err.status >= 500;
  return true;
}

const messageOf = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** Uploads `file` in pre-signed parts and returns the File the completed Upload became. */
export async function presignedUpload(
  file: Blob,
  filename: string,
  opts: PresignedUploadOptions,
): Promise<FileObject> {
  const { transport, signal } = opts;
  const concurrency = Math.max(1, Math.floor(opts.concurrency ?? PARALLEL_PARTS));
  const retries = Math.max(0, Math.floor(opts.retries ?? PART_RETRIES));
  const urlBatch = Math.min(MAX_URLS_PER_CALL, Math.max(1, Math.floor(opts.urlBatch ?? 100)));
  const retryDelayMs = opts.retryDelayMs ?? ((n: number) => 500 * 2 ** (n - 1));
  const sleep = opts.sleep ?? defaultSleep;

  const plan = planParts(file.size, opts.partBytes);
  const parts: PartProgress[] = plan.map((p) => ({
    partNumber: p.partNumber,
    bytes: p.end - p.start,
    loaded: 0,
    status: 'queued',
    attempt: 0,
  }));
  let phase: UploadPhase = 'creating';
  let uploadId: string | null = null;
  const emit = () =>
    opts.onState?.({
      phase,
      uploadId,
      loaded: parts.reduce((n, p) => n + p.loaded, 0),
      total: file.size,
      parts: parts.map((p) => ({ ...p })),
      maxAttempts: retries + 1,
    });
  const progressEveryMs = opts.progressEveryMs ?? 100;
  const now = opts.now ?? (() => performance.now());
  let lastProgress = Number.NEGATIVE_INFINITY;
  const emitProgress = () => {
    const t = now();
    if (t - lastProgress < progressEveryMs) return;
    lastProgress = t;
    emit();
  };

  // Aborted by the caller's signal, or by a part that failed for good (stops the others).
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  signal?.addEventListener('abort', onAbort, { once: true });
  const checkAborted = () => {
    if (signal?.aborted) throw abortError();
  };

  try {
    checkAborted();
    emit();
    const upload = await transport.create({
      filename,
      bytes: file.size,
      mime_type: opts.mimeType ?? 'application/jsonl',
    });
    uploadId = upload.id;
    checkAborted();
    phase = 'uploading';
    emit();

    const id = upload.id;
    // URLs are asked for a window of parts at a time, as the first part of each window starts.
    const windows = new Map<number, Promise<Map<number, string>>>();
    const urlFor = async (partNumber: number, fresh: boolean): Promise<string> => {
      let found: string | undefined;
      if (fresh) {
        found = (await transport.partUrls(id, [partNumber])).find((u) => u.part_number === partNumber)?.url;
      } else {
        const w = Math.floor((partNumber - 1) / urlBatch);
        let pending = windows.get(w);
        if (!pending) {
          const numbers = plan.slice(w * urlBatch, (w + 1) * urlBatch).map((p) => p.partNumber);
          pending = transport
            .partUrls(id, numbers)
            .then((list) => new Map(list.map((u) => [u.part_number, u.url] as const)));
          windows.set(w, pending);
          pending.catch(() => windows.delete(w));
        }
        found = (await pending).get(partNumber);
      }
      if (!found) throw new Error(`The API gave no URL for part ${partNumber}.`);
      return found;
    };

    let failure: unknown = null;
    const send = async (i: number) => {
      const p = plan[i] as PlannedPart;
      const state = parts[i] as PartProgress;
      for (let attempt = 1; ; attempt++) {
        state.attempt = attempt;
        state.status = 'uploading';
        state.loaded = 0;
        emit();
        try {
          const url = await urlFor(p.partNumber, attempt > 1);
          if (stop.signal.aborted) throw abortError();
          await transport.put(
            url,
            file.slice(p.start, p.end),
            (loaded) => {
              // A late event from an earlier, failed try does not count.
              if (state.status !== 'uploading' || state.attempt !== attempt) return;
              state.loaded = Math.min(Math.max(0, loaded), state.bytes);
              emitProgress();
            },
            stop.signal,
          );
          state.loaded = state.bytes;
          state.status = 'done';
          delete state.error;
          emit();
          return;
        } catch (err) {
          if (stop.signal.aborted) throw abortError();
          state.loaded = 0;
          state.error = messageOf(err);
          if (attempt > retries || !retryable(err)) {
            state.status = 'failed';
            emit();
            throw err;
          }
          state.status = 'retrying';
          emit();
          await sleep(retryDelayMs(attempt), stop.signal);
        }
      }
    };

    let next = 0;
    const worker = async () => {
      while (next < plan.length && !stop.signal.aborted) {
        const i = next++;
        try {
          await send(i);
        } catch (err) {
          if (!isAbortError(err) && failure === null) {
            failure = err;
            stop.abort();
          }
          return;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, plan.length) }, worker));
    checkAborted();
    if (failure !== null) throw failure;

    phase = 'completing';
    emit();
    const done = await transport.complete(id);
    if (!done.file) throw new Error(`Upload ${id} completed without a file.`);
    phase = 'done';
    emit();
    return done.file;
  } catch (err) {
    const cancelled = signal?.aborted === true;
    for (const p of parts) if (p.status !== 'done' && p.status !== 'failed') p.status = 'stopped';
    if (uploadId !== null) {
      // Give the parts back: a failed or cancelled upload is not resumed from the form.
      if (cancelled) {
        phase = 'cancelling';
        emit();
      }
      await transport.cancel(uploadId).catch(() => undefined);
    }
    phase = cancelled ? 'cancelled' : 'failed';
    emit();
    throw cancelled ? abortError() : err;
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}

/** S3's XML error (`<Code>` and `<Message>`) in a sentence, or the status alone. */
function storageError(status: number, body: string): PartUploadError {
  const code = /<Code>([^<]*)<\/Code>/.exec(body)?.[1];
  const message = /<Message>([^<]*)<\/Message>/.exec(body)?.[1];
  const detail = [code, message].filter(Boolean).join(': ');
  return new PartUploadError(status, `Storage answered HTTP ${status}${detail ? ` (${detail})` : ''}.`);
}

/**
 * PUTs a part with XMLHttpRequest, which (unlike fetch) reports upload progress. The URL is
 * pre-signed: no API key goes to storage.
 */
export function xhrPut(
  url: string,
  body: Blob,
  onProgress: (loaded: number) => void,
  signal: AbortSignal,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal.aborted) return reject(abortError());
    const xhr = new XMLHttpRequest();
    const onAbort = () => xhr.abort();
    xhr.open('PUT', url);
    xhr.upload.onprogress = (e) => onProgress(e.loaded);
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) resolve();
      else reject(storageError(xhr.status, xhr.responseText ?? ''));
    };
    xhr.onerror = () => reject(new PartUploadError(0, 'The connection to storage was lost.'));
    xhr.ontimeout = () => reject(new PartUploadError(0, 'Storage did not answer in time.'));
    xhr.onabort = () => reject(abortError());
    xhr.onloadend = () => signal.removeEventListener('abort', onAbort);
    signal.addEventListener('abort', onAbort, { once: true });
    xhr.send(body);
  });
}

/** The real transport: the API through the one client, parts to storage with `xhrPut`. */
export function apiTransport(client: ApiClient): UploadTransport {
  const path = (id: string, rest: string) => `/uploads/${encodeURIComponent(id)}${rest}`;
  return {
    create: (input) => client.post<UploadObject>('/uploads', { ...input, purpose: 'batch' }),
    partUrls: async (id, partNumbers) =>
      (
        await client.post<{ data: PartUrl[] }>(`/openbatch${path(id, '/part_urls')}`, {
          part_numbers: partNumbers,
        })
      ).data,
    put: xhrPut,
    complete: (id) => client.post<UploadObject>(path(id, '/complete'), { part_ids: [] }),
    cancel: (id) => client.post<UploadObject>(path(id, '/cancel')),
  };
}
