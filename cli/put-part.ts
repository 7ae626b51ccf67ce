import { createHash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Readable } from 'node:stream';

/** A PUT that S3 refused or that broke off; retried with a fresh URL. */
export class PartPutError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'PartPutError';
  }
}

export interface PutPartOptions {
  signal?: AbortSignal;
  /** Called with each piece of the body as it is handed to the socket. */
  onBytes?: (n: number) => void;
  /** Idle socket timeout, ms. */
  timeoutMs?: number;
}

const READ_SIZE = 256 * 1024;

/**
 * Bytes [start, end) of the open file, read piece by piece at their positions. (Not
 * `fh.createReadStream`: destroying such a stream closes the handle that the other parts share.)
 */
export async function* readRange(fh: FileHandle, start: number, end: number): AsyncGenerator<Buffer> {
  for (let pos = start; pos < end; ) {
    const len = Math.min(READ_SIZE, end - pos);
    const { bytesRead, buffer } = await fh.read(Buffer.allocUnsafe(len), 0, len, pos);
    if (bytesRead === 0) throw new Error(`The file ended at byte ${pos}, before ${end}: was it changed?`);
    pos += bytesRead;
    yield bytesRead === len ? buffer : buffer.subarray(0, bytesRead);
  }
}

const rangeStream = (fh: FileHandle, start: number, end: number): Readable =>
  Readable.from(readRange(fh, start, end), { objectMode: false });

/** The base64 MD5 of a byte range (S3 checks the part against it: Content-MD5). */
export async function rangeMd5(fh: FileHandle, start: number, end: number, signal?: AbortSignal) {
  const hash = createHash('md5');
  for await (const piece of readRange(fh, start, end)) {
    signal?.throwIfAborted();
    hash.update(piece);
  }
  return hash.digest('base64');
}

/**
 * PUTs bytes [start, end) of the file to a pre-signed S3 UploadPart URL, streamed from disk with
 * an exact Content-Length (S3 takes no chunked bodies). Resolves with the part's ETag.
 */
export function putPart(
  url: string,
  fh: FileHandle,
  start: number,
  end: number,
  contentMd5: string | undefined,
  opts: PutPartOptions = {},
): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    opts.signal?.throwIfAborted();
    const target = new URL(url);
    const request = target.protocol === 'https:' ? httpsRequest : httpRequest;
    const body = rangeStream(fh, start, end);
    const req = request(target, {
      method: 'PUT',
      headers: {
        'content-length': String(end - start),
        ...(contentMd5 ? { 'content-md5': contentMd5 } : {}),
      },
      ...(opts.signal ? { signal: opts.signal } : {}),
      timeout: opts.timeoutMs ?? 120_000,
    });
    let settled = false;
    const fail = (e: Error) => {
      if (settled) return;
      settled = true;
      body.destroy();
      req.destroy();
      reject(e);
    };
    req.on('timeout', () => fail(new PartPutError('the connection to S3 went idle')));
    req.on('error', (e) => fail(opts.signal?.aborted ? (opts.signal.reason as Error) : e));
    body.on('error', fail);
    body.on('data', (piece: Buffer | string) => opts.onBytes?.(piece.length));
    req.on('response', (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.length < 64 && chunks.push(c));
      res.on('error', fail);
      res.on('end', () => {
        if (settled) return;
        const status = res.statusCode ?? 0;
        if (status >= 200 && status < 300) {
          settled = true;
          body.destroy();
          resolve(String(res.headers.etag ?? ''));
        } else {
          const text = Buffer.concat(chunks).toString('utf8');
          const code = /<Code>([^<]+)<\/Code>/.exec(text)?.[1];
          fail(new PartPutError(`S3 answered ${status}${code ? ` ${code}` : ''} for the part`, status));
        }
      });
    });
    body.pipe(req);
  });
}
