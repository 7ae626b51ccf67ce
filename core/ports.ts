import type { BatchRecord, ChunkProgress } from './batches/batch-record.js';
import type { BatchRef } from './chunks/chunk-message.js';
import type { ChunkOutcome, ChunkRecord } from './chunks/chunk-record.js';
import type { ChunkRange } from './chunks/plan-chunks.js';
import type { PackRecord } from './dedup/answer-index.js';
import type { QueueTarget } from './models/catalog.js';
import type { BatchStatus } from './openai/schemas.js';
import type { AskedRecord, TaskReport } from './pools/task-report.js';
import type { UploadPartRecord, UploadRecord } from './uploads/upload-record.js';

/**
 * The small interfaces the flows (schedule, run chunk, finalize, SLA sweep, the API services)
 * depend on. The AWS adapters in core/adapters implement them with one SDK client each; tests
 * hand in the in-memory fakes of test/support/fakes.ts instead.
 */

/** A file as stored in the files table. */
export interface FileRecord {
  tenant: string;
  id: string;
  filename: string;
  purpose: string;
  bytes: number;
  created_at: number;
  expires_at: number | null;
  s3_key: string;
  /** Batches not yet ended whose input this file is: while any is, the file cannot be deleted. */
  in_use_by?: Set<string>;
  /** Its lines' validation and chunk plan, made at upload (core/chunks/file-plan.ts); absent when it had errors. */
  plan?: string;
}

export interface FileRepo {
  put(record: FileRecord): Promise<void>;
  get(tenant: string, id: string): Promise<FileRecord | undefined>;
  /** Marks the file as `batchId`'s input; false when the file no longer exists. */
  reserve(tenant: string, id: string, batchId: string): Promise<boolean>;
  /** Ends `batchId`'s hold on the file (a no-op when it has none, or the file is gone). */
  release(tenant: string, id: string, batchId: string): Promise<void>;
  /** Deletes the record unless a batch holds it: the holders then, and nothing deleted. */
  deleteIfUnused(
    tenant: string,
    id: string,
  ): Promise<{ deleted: true } | { deleted: false; heldBy: string[] }>;
  /** Files whose `expires_at` has passed by `nowS`, for the sweep. */
  listExpired(nowS: number): Promise<FileRecord[]>;
  list(
    tenant: string,
    opts: { after?: string; limit: number; order: 'asc' | 'desc'; purpose?: string },
  ): Promise<{ items: FileRecord[]; hasMore: boolean }>;
}

export interface BlobStorePort {
  put(key: string, body: Buffer | string, contentType?: string): Promise<void>;
  /** Streams an object, or the byte range [start, end) of it. */
  stream(key: string, range?: { start: number; end: number }): Promise<AsyncIterable<Uint8Array>>;
  read(key: string): Promise<Buffer>;
  /** The object's size in bytes; undefined when there is no such object. */
  size(key: string): Promise<number | undefined>;
  /**
   * Writes a stream; returns the bytes written. `bytes`, when the caller knows the length: a
   * stream of up to STREAMED_PUT_MAX_BYTES then goes out as it is read, in one request.
   */
  upload(key: string, source: AsyncIterable<Buffer>, contentType?: string, bytes?: number): Promise<number>;
  delete(key: string): Promise<void>;
  deletePrefix(prefix: string): Promise<number>;
  presignedGetUrl(key: string, filename: string, expiresInSeconds?: number): Promise<string>;
  /** S3 multipart uploads, for the pre-signed part path: bytes go straight from client to S3. */
  createMultipart(key: string, contentType: string): Promise<string>;
  presignedPartUrl(
    key: string,
    uploadId: string,
    partNumber: number,
    expiresInSeconds: number,
  ): Promise<string>;
  listMultipartParts(
    key: string,
    uploadId: string,
  ): Promise<{ partNumber: number; size: number; etag: string }[]>;
  completeMultipart(
    key: string,
    uploadId: string,
    parts: readonly { partNumber: number; etag: string }[],
  ): Promise<void>;
  abortMultipart(key: string, uploadId: string): Promise<void>;
}

/** The uploads table: uploads and the parts added to them through the API. */
export interface UploadRepo {
  create(record: UploadRecord): Promise<void>;
  get(tenant: string, id: string): Promise<UploadRecord | undefined>;
  /** Records the S3 multipart upload of the pre-signed path, unless one is recorded already; false then. */
  claimMultipart(tenant: string, id: string, s3UploadId: string): Promise<boolean>;
  /** Moves a pending upload to its final status (ending its `active` flag); false if not pending. */
  finish(tenant: string, id: string, status: UploadRecord['status'], nowS: number): Promise<boolean>;
  putPart(part: UploadPartRecord): Promise<void>;
  listParts(tenant: string, uploadId: string): Promise<UploadPartRecord[]>;
  /** Pending uploads whose hour ran out by `nowS`, for the sweep. */
  listExpired(nowS: number): Promise<UploadRecord[]>;
}

/** Sends JSON messages to the declared queues, by logical name. */
export interface QueuePort {
  /** `queue`: a declared queue, or a pool queue of a pool group (`spot@<group>`, core/models/catalog.ts). */
  send(queue: QueueTarget, body: unknown): Promise<void>;
  sendAll(queue: QueueTarget, bodies: readonly unknown[]): Promise<void>;
}

/** The batches and chunks tables. Every write that decides something is conditional. */
export interface BatchRepo {
  create(record: BatchRecord): Promise<void>;
  get(ref: BatchRef): Promise<BatchRecord | undefined>;
  list(
    tenant: string,
    opts: { after?: string; limit: number },
  ): Promise<{ items: BatchRecord[]; hasMore: boolean }>;
  /** Moves a batch to `to` if it is in one of `from`; the updated record, or undefined if it was not. */
  transition(
    ref: BatchRef,
    to: BatchStatus,
    nowS: number,
    fields?: Partial<BatchRecord>,
    from?: readonly BatchStatus[],
  ): Promise<BatchRecord | undefined>;
  update(ref: BatchRef, fields: Partial<BatchRecord>): Promise<void>;
  claimFinalization(ref: BatchRef, nowS: number, untilS: number): Promise<boolean>;
  putChunks(ref: BatchRef, chunks: readonly ChunkRange[], ttl: number): Promise<void>;
  getBatchAndChunk(ref: BatchRef, chunk: number): Promise<{ batch?: BatchRecord; chunk?: ChunkRecord }>;
  /** Completes a chunk exactly once; false for a duplicate or a batch no longer running. */
  completeChunk(ref: BatchRef, chunk: number, outcome: ChunkOutcome): Promise<boolean>;
  listChunks(ref: BatchRef): Promise<ChunkRecord[]>;
  /** An attempt's finished lines; `interrupted` (default) also counts an interruption. */
  saveCheckpoint(
    ref: BatchRef,
    chunk: number,
    checkpoint: { key: string; lines: number } | undefined,
    interrupted?: boolean,
  ): Promise<boolean>;
  /**
   * A running chunk's lines finished so far, shown in its batch's request_counts until the
   * chunk completes (its completion removes them): set, never added, and only while the chunk
   * is pending, so a retried or late attempt cannot count a line twice. False when the chunk is
   * done or the batch no longer running.
   */
  reportProgress(ref: BatchRef, chunk: number, progress: ChunkProgress): Promise<boolean>;
  markEscalated(ref: BatchRef, chunks: readonly number[]): Promise<void>;
  /** Moves a validating batch from validation segment `from` to `to`; false if another run did. */
  advanceValidation(ref: BatchRef, from: number, to: number, nowS: number): Promise<boolean>;
  listActive(): Promise<BatchRecord[]>;
  /** Appends `retryId` to the batch's `retries`. */
  addRetry(ref: BatchRef, retryId: string): Promise<void>;
}

/** The `dedup` table: a tenant's answer packs (docs/dedup.md). */
export interface DedupRepo {
  putPack(record: PackRecord): Promise<void>;
  /**
   * The tenant's packs with ids after `after` (all when absent), newest first, read page by
   * page until at least `maxEntries` entries are in hand.
   */
  listPacks(tenant: string, opts: { after?: string; maxEntries: number }): Promise<PackRecord[]>;
}

/** The worker tasks' reports (core/pools/task-report.ts). */
export interface PoolReportRepo {
  /** Writes (replaces) a task's report. */
  put(report: TaskReport): Promise<void>;
  /** The reports of one pool (`<group>#<pool>`) written at or after `sinceS`. */
  recent(pool: string, sinceS: number): Promise<TaskReport[]>;
  /** What the SLA monitor last asked the pools (`askedKey`) for; those never asked are left out. */
  asked(pools: readonly string[]): Promise<AskedRecord[]>;
  putAsked(record: AskedRecord): Promise<void>;
}

export interface ApiKeyRepo {
  tenantFor(apiKey: string): Promise<string | undefined>;
  register(apiKey: string, tenant: string): Promise<void>;
}
