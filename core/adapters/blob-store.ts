import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { attachment } from '../files/attachment.js';
import type { BlobStorePort } from '../ports.js';
import { nameOf, type ResourceName } from './resource-name.js';

/** S3's names for "no such object" (GetObject: NoSuchKey; HeadObject: NotFound), said only to a caller that may list the bucket. */
export const OBJECT_NOT_FOUND = new Set(['NoSuchKey', 'NotFound']);

/**
 * Whether a read failed because the object is not there: S3 answers 404 to a caller with
 * `s3:ListBucket` on the bucket, 403 `AccessDenied` to one without (the local runtime's access
 * guard answers the same way).
 */
export const isMissingObject = (err: unknown): boolean => {
  const name = (err as Error | undefined)?.name ?? '';
  return OBJECT_NOT_FOUND.has(name) || name === 'AccessDenied';
};

/**
 * The largest object written as one streamed PutObject when its length is known (S3 takes up
 * to 5 GB): above it, a multipart upload sends parts side by side and retries one part, not all.
 */
export const STREAMED_PUT_MAX_BYTES = 64 * 1024 * 1024;

/** S3 access for files, chunk parts and checkpoints. One bucket, keys always start with the tenant. */
export class BlobStore implements BlobStorePort {
  private readonly bucketName: () => string;

  constructor(
    private readonly s3: S3Client,
    bucket: ResourceName,
  ) {
    this.bucketName = nameOf(bucket);
  }

  private get bucket(): string {
    return this.bucketName();
  }

  async put(key: string, body: Buffer | string, contentType = 'application/jsonl'): Promise<void> {
    await this.s3.send(
      new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentType: contentType }),
    );
  }

  /** Streams an object, or the byte range [start, end) of it. */
  async stream(key: string, range?: { start: number; end: number }): Promise<AsyncIterable<Uint8Array>> {
    const out = await this.s3.send(
      new GetObjectCommand({
        Bucket: this.bucket,
        Key: key,
        ...(range ? { Range: `bytes=${range.start}-${range.end - 1}` } : {}),
      }),
    );
    if (!out.Body) throw new Error(`S3 object ${key} has no body`);
    return out.Body as unknown as AsyncIterable<Uint8Array>;
  }

  async size(key: string): Promise<number | undefined> {
    try {
      const out = await this.s3.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return out.ContentLength;
    } catch (err) {
      // A HEAD's 404 has no body: the SDK names it NotFound, not NoSuchKey.
      if (OBJECT_NOT_FOUND.has((err as Error).name)) return undefined;
      throw err;
    }
  }

  async read(key: string): Promise<Buffer> {
    const parts: Buffer[] = [];
    for await (const c of await this.stream(key)) parts.push(Buffer.from(c));
    return Buffer.concat(parts);
  }

  /**
   * Writes a stream. Of a known length up to STREAMED_PUT_MAX_BYTES: one PutObject whose body is
   * sent as the source yields it, so reading the source and writing the object overlap (S3
   * refuses a body shorter or longer than the length). Otherwise a multipart upload when it is
   * large: parts are buffered up to 8 MiB, so memory stays bounded whatever the object's size,
   * but a part is only sent once it is whole.
   */
  async upload(
    key: string,
    source: AsyncIterable<Buffer>,
    contentType = 'application/jsonl',
    known?: number,
  ): Promise<number> {
    if (known !== undefined && known <= STREAMED_PUT_MAX_BYTES) {
      // A body that fails or comes out shorter than its Content-Length would leave the request
      // waiting for bytes that never come: the request is aborted instead, and the send fails
      // with the reason. (The body stream itself ends quietly: the SDK pipes it, and an error
      // on it would reach no listener.)
      const abort = new AbortController();
      let failure: unknown;
      const exact = async function* () {
        try {
          let sent = 0;
          for await (const b of source) {
            sent += b.length;
            if (sent > known) throw new Error(`${key}: the stream is longer than its length, ${known} bytes`);
            yield b;
          }
          if (sent < known)
            throw new Error(`${key}: the stream ended at ${sent} bytes, short of its length, ${known}`);
        } catch (err) {
          failure = err;
          abort.abort(err);
        }
      };
      await this.s3
        .send(
          new PutObjectCommand({
            Bucket: this.bucket,
            Key: key,
            Body: Readable.from(exact(), { objectMode: false }),
            ContentLength: known,
            ContentType: contentType,
          }),
          { abortSignal: abort.signal },
        )
        .catch((err: unknown) => {
          throw failure ?? err;
        });
      return known;
    }
    let bytes = 0;
    const counted = Readable.from(
      (async function* () {
        for await (const b of source) {
          bytes += b.length;
          yield b;
        }
      })(),
    );
    await new Upload({
      client: this.s3,
      params: { Bucket: this.bucket, Key: key, Body: counted, ContentType: contentType },
      partSize: 8 * 1024 * 1024,
      queueSize: 2,
    }).done();
    return bytes;
  }

  async delete(key: string): Promise<void> {
    await this.s3.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
  }

  /** Deletes every object under a prefix: one list and one delete call per 1,000 objects. */
  async deletePrefix(prefix: string): Promise<number> {
    let deleted = 0;
    let token: string | undefined;
    do {
      const page = await this.s3.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token }),
      );
      const objects = (page.Contents ?? []).flatMap((o) => (o.Key ? [{ Key: o.Key }] : []));
      if (objects.length > 0) {
        await this.s3.send(
          new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: objects, Quiet: true } }),
        );
        deleted += objects.length;
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return deleted;
  }

  async presignedGetUrl(key: string, filename: string, expiresInSeconds = 300): Promise<string> {
    return getSignedUrl(
      this.s3,
      new GetObjectCommand({
        Bucket: this.bucket,
        Key: key,
        ResponseContentDisposition: attachment(filename),
      }),
      { expiresIn: expiresInSeconds },
    );
  }

  async createMultipart(key: string, contentType: string): Promise<string> {
    const out = await this.s3.send(
      new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: key, ContentType: contentType }),
    );
    if (!out.UploadId) throw new Error(`S3 returned no UploadId for ${key}`);
    return out.UploadId;
  }

  /** A URL the client PUTs one part's bytes to, straight into S3; S3 answers with the part's ETag. */
  async presignedPartUrl(
    key: string,
    uploadId: string,
    partNumber: number,
    expiresInSeconds: number,
  ): Promise<string> {
    return getSignedUrl(
      this.s3,
      new UploadPartCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId, PartNumber: partNumber }),
      { expiresIn: expiresInSeconds },
    );
  }

  async listMultipartParts(
    key: string,
    uploadId: string,
  ): Promise<{ partNumber: number; size: number; etag: string }[]> {
    const parts: { partNumber: number; size: number; etag: string }[] = [];
    let marker: string | undefined;
    do {
      const out = await this.s3.send(
        new ListPartsCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId, PartNumberMarker: marker }),
      );
      for (const p of out.Parts ?? [])
        parts.push({ partNumber: p.PartNumber ?? 0, size: p.Size ?? 0, etag: p.ETag ?? '' });
      marker = out.IsTruncated ? out.NextPartNumberMarker : undefined;
    } while (marker);
    return parts;
  }

  async completeMultipart(
    key: string,
    uploadId: string,
    parts: readonly { partNumber: number; etag: string }[],
  ): Promise<void> {
    await this.s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: this.bucket,
        Key: key,
        UploadId: uploadId,
        MultipartUpload: { Parts: parts.map((p) => ({ PartNumber: p.partNumber, ETag: p.etag })) },
      }),
    );
  }

  async abortMultipart(key: string, uploadId: string): Promise<void> {
    try {
      await this.s3.send(
        new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId }),
      );
    } catch (err) {
      if ((err as Error).name !== 'NoSuchUpload') throw err; // aborted already: the goal is met
    }
  }
}

/** Object keys. Every key starts with the tenant, so one tenant's data never shares a prefix with another's. */
export const keys = {
  file: (tenant: string, fileId: string) => `${tenant}/files/${fileId}.jsonl`,
  part: (tenant: string, batchId: string, chunk: number, attempt: string, kind: 'output' | 'error') =>
    `${tenant}/batches/${batchId}/parts/${String(chunk).padStart(6, '0')}/${attempt}.${kind}.jsonl`,
  /** Everything a batch writes while it runs (parts, checkpoints): removed once it is final. */
  batchWork: (tenant: string, batchId: string) => `${tenant}/batches/${batchId}/`,
  /** A part added through the API, kept until its upload completes or ends. */
  uploadPart: (tenant: string, uploadId: string, partId: string) => `${tenant}/uploads/${uploadId}/${partId}`,
  uploadWork: (tenant: string, uploadId: string) => `${tenant}/uploads/${uploadId}/`,
  /** A validation pass's state between scheduler invocations (under the batch's work prefix). */
  validationState: (tenant: string, batchId: string, segment: number) =>
    `${tenant}/batches/${batchId}/validation/${String(segment).padStart(6, '0')}.bin`,
  /** A completed chunk's reusable answers (docs/dedup.md): outside any batch's work, expired by the bucket's lifecycle. */
  answerPack: (tenant: string, chunk: string) => `${tenant}/dedup/packs/${chunk}.jsonl`,
  checkpoint: (tenant: string, batchId: string, chunk: number, attempt: string) =>
    `${tenant}/batches/${batchId}/checkpoints/${String(chunk).padStart(6, '0')}/${attempt}.jsonl`,
};
