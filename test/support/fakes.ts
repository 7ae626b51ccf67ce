import type { Deps } from '../../core/app/deps.js';
import type { BatchRecord, ChunkProgress } from '../../core/batches/batch-record.js';
import { createBatch } from '../../core/batches/batches-service.js';
import { isTerminal, predecessorsOf, timestampField } from '../../core/batches/lifecycle.js';
import { scheduleBatch } from '../../core/batches/schedule-batch.js';
import { type BatchRef, batchKey, type ChunkMessage } from '../../core/chunks/chunk-message.js';
import type { ChunkOutcome, ChunkRecord } from '../../core/chunks/chunk-record.js';
import type { ChunkRange } from '../../core/chunks/plan-chunks.js';
import type { Clock } from '../../core/clock.js';
import { limitsSchema, slaSchema } from '../../core/config.js';
import type { PackRecord } from '../../core/dedup/answer-index.js';
import { createFile } from '../../core/files/files-service.js';
import { createSequentialIdSource } from '../../core/ids.js';
import type { QueueTarget } from '../../core/models/catalog.js';
import type { BatchStatus, CreateBatchBody, FileObject } from '../../core/openai/schemas.js';
import type { AskedRecord, TaskReport } from '../../core/pools/task-report.js';
import type {
  ApiKeyRepo,
  BatchRepo,
  BlobStorePort,
  DedupRepo,
  FileRecord,
  FileRepo,
  PoolReportRepo,
  QueuePort,
  UploadRepo,
} from '../../core/ports.js';
import type { UploadPartRecord, UploadRecord } from '../../core/uploads/upload-record.js';

/**
 * In-memory implementations of the ports, for unit tests of the flows: no emulator, no network.
 * They keep the adapters' contracts (conditional writes, exactly-once completion) so a flow
 * tested against them behaves the same against DynamoDB; the emulator suites check that.
 */

const clone = <T>(v: T): T => structuredClone(v);

export class FakeClock implements Clock {
  constructor(public ms: number = Date.UTC(2026, 0, 1)) {}
  now(): number {
    return this.ms;
  }
  advance(ms: number): void {
    this.ms += ms;
  }
}

export class InMemoryBatchRepo implements BatchRepo {
  readonly batches = new Map<string, BatchRecord>();
  readonly chunks = new Map<string, Map<number, ChunkRecord>>();

  private key = (ref: BatchRef) => batchKey(ref);

  async create(record: BatchRecord): Promise<void> {
    const k = this.key({ tenant: record.tenant, batchId: record.id });
    if (this.batches.has(k))
      throw Object.assign(new Error('exists'), { name: 'ConditionalCheckFailedException' });
    this.batches.set(k, clone(record));
  }

  async get(ref: BatchRef): Promise<BatchRecord | undefined> {
    const b = this.batches.get(this.key(ref));
    return b && clone(b);
  }

  async list(tenant: string, opts: { after?: string; limit: number }) {
    const all = [...this.batches.values()]
      .filter((b) => b.tenant === tenant && (!opts.after || b.id < opts.after))
      .sort((a, b) => b.id.localeCompare(a.id));
    return { items: all.slice(0, opts.limit).map(clone), hasMore: all.length > opts.limit };
  }

  async transition(
    ref: BatchRef,
    to: BatchStatus,
    nowS: number,
    fields: Partial<BatchRecord> = {},
    from: readonly BatchStatus[] = predecessorsOf(to),
  ): Promise<BatchRecord | undefined> {
    const b = this.batches.get(this.key(ref));
    if (!b || !from.includes(b.status)) return undefined;
    Object.assign(b, fields, { status: to, [timestampField[to]]: nowS });
    if (isTerminal(to)) delete b.active;
    if (to !== 'validating') delete b.plan;
    return clone(b);
  }

  async update(ref: BatchRef, fields: Partial<BatchRecord>): Promise<void> {
    const b = this.batches.get(this.key(ref));
    if (b) Object.assign(b, fields);
  }

  async claimFinalization(ref: BatchRef, nowS: number, untilS: number): Promise<boolean> {
    const b = this.batches.get(this.key(ref));
    if (!b) return false;
    if (b.finalizer_lease !== undefined && b.finalizer_lease >= nowS) return false;
    b.finalizer_lease = untilS;
    return true;
  }

  async putChunks(ref: BatchRef, ranges: readonly ChunkRange[], ttl: number): Promise<void> {
    const k = this.key(ref);
    const map = this.chunks.get(k) ?? new Map<number, ChunkRecord>();
    for (const c of ranges) map.set(c.chunk, { ...c, batch_key: k, status: 'pending', ttl });
    this.chunks.set(k, map);
  }

  async getBatchAndChunk(ref: BatchRef, chunk: number) {
    const c = this.chunks.get(this.key(ref))?.get(chunk);
    return { batch: await this.get(ref), chunk: c && clone(c) };
  }

  async completeChunk(ref: BatchRef, chunk: number, outcome: ChunkOutcome): Promise<boolean> {
    const b = this.batches.get(this.key(ref));
    const c = this.chunks.get(this.key(ref))?.get(chunk);
    if (!b || !c || c.status !== 'pending' || b.status !== 'in_progress') return false;
    Object.assign(c, {
      status: 'done',
      completed: outcome.completed,
      failed: outcome.failed,
      output_key: outcome.outputKey,
      pool: outcome.pool,
      ...(outcome.errorKey ? { error_key: outcome.errorKey } : {}),
      ...(outcome.outputBytes !== undefined ? { output_bytes: outcome.outputBytes } : {}),
      ...(outcome.errorBytes !== undefined ? { error_bytes: outcome.errorBytes } : {}),
    });
    b.completed += outcome.completed;
    b.failed += outcome.failed;
    b.chunks_done = (b.chunks_done ?? 0) + 1;
    if (outcome.at !== undefined) b.last_chunk_at = outcome.at;
    delete b[`progress_${chunk}`];
    if (outcome.usage) {
      const u = outcome.usage;
      Object.assign(c, {
        usage_input: u.input,
        usage_cached: u.cached,
        usage_output: u.output,
        usage_reasoning: u.reasoning,
      });
      b.usage_input = (b.usage_input ?? 0) + u.input;
      b.usage_cached = (b.usage_cached ?? 0) + u.cached;
      b.usage_output = (b.usage_output ?? 0) + u.output;
      b.usage_reasoning = (b.usage_reasoning ?? 0) + u.reasoning;
    }
    if (outcome.reused) {
      Object.assign(c, { reused: outcome.reused.count, reused_lines: outcome.reused.bitmap });
      b.reused = (b.reused ?? 0) + outcome.reused.count;
    }
    const pool = `${outcome.pool}_requests` as const;
    b[pool] = (b[pool] ?? 0) + outcome.completed + outcome.failed;
    return true;
  }

  async listChunks(ref: BatchRef): Promise<ChunkRecord[]> {
    return [...(this.chunks.get(this.key(ref))?.values() ?? [])].sort((a, b) => a.chunk - b.chunk).map(clone);
  }

  async reportProgress(ref: BatchRef, chunk: number, progress: ChunkProgress) {
    const b = this.batches.get(this.key(ref));
    const c = this.chunks.get(this.key(ref))?.get(chunk);
    if (b?.status !== 'in_progress' || c?.status !== 'pending') return false;
    b[`progress_${chunk}`] = { ...progress };
    return true;
  }

  async saveCheckpoint(
    ref: BatchRef,
    chunk: number,
    checkpoint: { key: string; lines: number } | undefined,
    interrupted = true,
  ) {
    const c = this.chunks.get(this.key(ref))?.get(chunk);
    const b = this.batches.get(this.key(ref));
    if (c?.status !== 'pending') return false;
    if (checkpoint) Object.assign(c, { checkpoint_key: checkpoint.key, checkpoint_lines: checkpoint.lines });
    if (!interrupted) return true;
    c.interruptions = (c.interruptions ?? 0) + 1;
    if (b) b.interruptions = (b.interruptions ?? 0) + 1;
    return true;
  }

  async markEscalated(ref: BatchRef, chunks: readonly number[]): Promise<void> {
    for (const n of chunks) {
      const c = this.chunks.get(this.key(ref))?.get(n);
      if (c) c.escalated = true;
    }
    const b = this.batches.get(this.key(ref));
    if (b) Object.assign(b, { at_risk: true, chunks_escalated: (b.chunks_escalated ?? 0) + chunks.length });
  }

  async advanceValidation(ref: BatchRef, from: number, to: number, nowS: number): Promise<boolean> {
    const b = this.batches.get(this.key(ref));
    if (!b || b.status !== 'validating' || (b.validation_segment ?? 0) !== from) return false;
    b.validation_segment = to;
    b.validation_progress_at = nowS;
    return true;
  }

  async addRetry(ref: BatchRef, retryId: string): Promise<void> {
    const b = this.batches.get(this.key(ref));
    if (!b) throw Object.assign(new Error('no batch'), { name: 'ConditionalCheckFailedException' });
    b.retries = [...(b.retries ?? []), retryId];
  }

  async listActive(): Promise<BatchRecord[]> {
    return [...this.batches.values()]
      .filter((b) => b.active === 'yes')
      .sort((a, b) => a.expires_at - b.expires_at)
      .map(clone);
  }
}

export class InMemoryFileRepo implements FileRepo {
  readonly files = new Map<string, FileRecord>();
  async put(record: FileRecord) {
    this.files.set(`${record.tenant}#${record.id}`, clone(record));
  }
  async get(tenant: string, id: string) {
    const f = this.files.get(`${tenant}#${id}`);
    return f && clone(f);
  }
  async list(
    tenant: string,
    opts: { after?: string; limit: number; order: 'asc' | 'desc'; purpose?: string },
  ) {
    const all = [...this.files.values()]
      .filter((f) => f.tenant === tenant && (!opts.purpose || f.purpose === opts.purpose))
      .sort((a, b) => (opts.order === 'asc' ? a.id.localeCompare(b.id) : b.id.localeCompare(a.id)));
    const start = opts.after ? all.findIndex((f) => f.id === opts.after) + 1 : 0;
    const page = all.slice(start);
    return { items: page.slice(0, opts.limit), hasMore: page.length > opts.limit };
  }
  async reserve(tenant: string, id: string, batchId: string) {
    const f = this.files.get(`${tenant}#${id}`);
    if (!f) return false;
    f.in_use_by = new Set([...(f.in_use_by ?? []), batchId]);
    return true;
  }
  async release(tenant: string, id: string, batchId: string) {
    const f = this.files.get(`${tenant}#${id}`);
    if (!f?.in_use_by) return;
    f.in_use_by.delete(batchId);
    if (f.in_use_by.size === 0) delete f.in_use_by;
  }
  async deleteIfUnused(tenant: string, id: string) {
    const f = this.files.get(`${tenant}#${id}`);
    if (f?.in_use_by) return { deleted: false as const, heldBy: [...f.in_use_by] };
    this.files.delete(`${tenant}#${id}`);
    return { deleted: true as const };
  }
  async listExpired(nowS: number) {
    return [...this.files.values()].filter((f) => f.expires_at !== null && f.expires_at <= nowS).map(clone);
  }
}

export class NoSuchKey extends Error {
  override readonly name = 'NoSuchKey';
}

export class InMemoryBlobStore implements BlobStorePort {
  readonly objects = new Map<string, Buffer>();
  async put(key: string, body: Buffer | string) {
    this.objects.set(key, Buffer.from(body));
  }
  async stream(key: string, range?: { start: number; end: number }): Promise<AsyncIterable<Uint8Array>> {
    const body = this.objects.get(key);
    if (!body) throw new NoSuchKey(key);
    const bytes = range ? body.subarray(range.start, range.end) : body;
    // Small pieces, so line splitting across piece boundaries is exercised.
    return (async function* () {
      for (let i = 0; i < bytes.length; i += 7) yield bytes.subarray(i, i + 7);
    })();
  }
  async read(key: string) {
    const body = this.objects.get(key);
    if (!body) throw new NoSuchKey(key);
    return Buffer.from(body);
  }
  async size(key: string) {
    return this.objects.get(key)?.length;
  }
  async upload(key: string, source: AsyncIterable<Buffer>, _contentType?: string, known?: number) {
    const parts: Buffer[] = [];
    for await (const b of source) parts.push(Buffer.from(b));
    const body = Buffer.concat(parts);
    // As S3 answers a PutObject whose body is not its Content-Length.
    if (known !== undefined && known !== body.length)
      throw Object.assign(new Error(`body of ${body.length} bytes, length ${known}`), {
        name: 'IncompleteBody',
      });
    this.objects.set(key, body);
    return body.length;
  }
  async delete(key: string) {
    this.objects.delete(key);
  }
  async deletePrefix(prefix: string) {
    const doomed = [...this.objects.keys()].filter((k) => k.startsWith(prefix));
    for (const k of doomed) this.objects.delete(k);
    return doomed.length;
  }
  async presignedGetUrl(key: string, filename: string) {
    return `https://blobs.invalid/${key}?filename=${encodeURIComponent(filename)}`;
  }
  /** S3 multipart uploads in progress: upload id → key and parts by number. */
  readonly multipart = new Map<string, { key: string; parts: Map<number, Buffer> }>();
  private nextUpload = 0;
  async createMultipart(key: string) {
    const id = `mpu-${++this.nextUpload}`;
    this.multipart.set(id, { key, parts: new Map() });
    return id;
  }
  async presignedPartUrl(key: string, uploadId: string, partNumber: number, expiresInSeconds: number) {
    return `https://blobs.invalid/${key}?uploadId=${uploadId}&partNumber=${partNumber}&ttl=${expiresInSeconds}`;
  }
  /** What a client's PUT to a pre-signed part URL does. */
  putPart(uploadId: string, partNumber: number, body: Buffer | string): void {
    const mpu = this.multipart.get(uploadId);
    if (!mpu) throw new Error(`NoSuchUpload ${uploadId}`);
    mpu.parts.set(partNumber, Buffer.from(body));
  }
  async listMultipartParts(_key: string, uploadId: string) {
    const mpu = this.multipart.get(uploadId);
    if (!mpu) throw Object.assign(new Error('NoSuchUpload'), { name: 'NoSuchUpload' });
    return [...mpu.parts.entries()].map(([n, b]) => ({ partNumber: n, size: b.length, etag: `"etag-${n}"` }));
  }
  async completeMultipart(
    key: string,
    uploadId: string,
    parts: readonly { partNumber: number; etag: string }[],
  ) {
    const mpu = this.multipart.get(uploadId);
    if (!mpu) throw Object.assign(new Error('NoSuchUpload'), { name: 'NoSuchUpload' });
    this.objects.set(key, Buffer.concat(parts.map((p) => mpu.parts.get(p.partNumber) ?? Buffer.alloc(0))));
    this.multipart.delete(uploadId);
  }
  async abortMultipart(_key: string, uploadId: string) {
    this.multipart.delete(uploadId);
  }
  text(key: string): string {
    return this.objects.get(key)?.toString('utf8') ?? '';
  }
}

export class RecordingQueue implements QueuePort {
  readonly sent: { queue: QueueTarget; body: unknown }[] = [];
  async send(queue: QueueTarget, body: unknown) {
    this.sent.push({ queue, body: clone(body) });
  }
  async sendAll(queue: QueueTarget, bodies: readonly unknown[]) {
    for (const b of bodies) await this.send(queue, b);
  }
  /** Takes (and removes) what was sent to `queue`. */
  take<T = unknown>(queue: QueueTarget): T[] {
    const mine = this.sent.filter((m) => m.queue === queue);
    for (const m of mine) this.sent.splice(this.sent.indexOf(m), 1);
    return mine.map((m) => m.body as T);
  }
}

export class InMemoryUploadRepo implements UploadRepo {
  readonly uploads = new Map<string, UploadRecord>();
  readonly parts = new Map<string, UploadPartRecord>();
  async create(record: UploadRecord) {
    this.uploads.set(`${record.tenant}#${record.id}`, clone(record));
  }
  async get(tenant: string, id: string) {
    const u = this.uploads.get(`${tenant}#${id}`);
    return u && clone(u);
  }
  async claimMultipart(tenant: string, id: string, s3UploadId: string) {
    const u = this.uploads.get(`${tenant}#${id}`);
    if (!u || u.status !== 'pending' || u.s3_upload_id) return false;
    u.s3_upload_id = s3UploadId;
    return true;
  }
  async finish(tenant: string, id: string, status: UploadRecord['status'], nowS: number) {
    const u = this.uploads.get(`${tenant}#${id}`);
    if (!u || u.status !== 'pending') return false;
    Object.assign(u, { status, completed_at: nowS });
    delete u.active;
    return true;
  }
  async putPart(part: UploadPartRecord) {
    this.parts.set(`${part.tenant}#${part.id}`, clone(part));
  }
  async listParts(tenant: string, uploadId: string) {
    return [...this.parts.values()].filter((p) => p.tenant === tenant && p.upload_id === uploadId).map(clone);
  }
  async listExpired(nowS: number) {
    return [...this.uploads.values()].filter((u) => u.active === 'yes' && u.expires_at <= nowS).map(clone);
  }
}

export class InMemoryApiKeys implements ApiKeyRepo {
  readonly keys = new Map<string, string>();
  async tenantFor(apiKey: string) {
    return this.keys.get(apiKey);
  }
  async register(apiKey: string, tenant: string) {
    this.keys.set(apiKey, tenant);
  }
}

/** The dedup table in memory: packs by tenant, written once. */
export class InMemoryDedupRepo implements DedupRepo {
  readonly packs = new Map<string, PackRecord>();
  /** listPacks calls, for tests of the index's refresh. */
  queries = 0;
  async putPack(record: PackRecord) {
    this.packs.set(`${record.tenant}#${record.pack}`, clone(record));
  }
  async listPacks(tenant: string, opts: { after?: string; maxEntries: number }) {
    this.queries += 1;
    const mine = [...this.packs.values()]
      .filter((p) => p.tenant === tenant && (opts.after === undefined || p.pack > opts.after))
      .sort((a, b) => b.pack.localeCompare(a.pack));
    const out: PackRecord[] = [];
    let entries = 0;
    for (const p of mine) {
      if (entries >= opts.maxEntries) break;
      out.push(clone(p));
      entries += p.count;
    }
    return out;
  }
}

/** The pools table as a map by pool and task; a report replaces the task's last. */
export class InMemoryPoolReports implements PoolReportRepo {
  readonly reports = new Map<string, TaskReport>();
  async put(report: TaskReport): Promise<void> {
    this.reports.set(`${report.pool}|${report.task}`, clone(report));
  }
  async recent(pool: string, sinceS: number): Promise<TaskReport[]> {
    return [...this.reports.values()].filter((r) => r.pool === pool && r.at >= sinceS).map(clone);
  }
  readonly askedRecords = new Map<string, AskedRecord>();
  async asked(pools: readonly string[]): Promise<AskedRecord[]> {
    return pools.flatMap((p) => {
      const r = this.askedRecords.get(p);
      return r ? [clone(r)] : [];
    });
  }
  async putAsked(record: AskedRecord): Promise<void> {
    this.askedRecords.set(record.pool, clone(record));
  }
}

export interface FakeDeps extends Deps {
  clock: FakeClock;
  blobs: InMemoryBlobStore;
  files: InMemoryFileRepo;
  batches: InMemoryBatchRepo;
  apiKeys: InMemoryApiKeys;
  uploads: InMemoryUploadRepo;
  queue: RecordingQueue;
  dedup: InMemoryDedupRepo;
  pools: InMemoryPoolReports;
}

/** A whole set of in-memory deps; `env` overrides limits and SLA settings by variable name. */
export function fakeDeps(env: Record<string, string> = {}): FakeDeps {
  return {
    clock: new FakeClock(),
    ids: createSequentialIdSource(),
    limits: limitsSchema.parse(env),
    sla: slaSchema.parse(env),
    blobs: new InMemoryBlobStore(),
    files: new InMemoryFileRepo(),
    batches: new InMemoryBatchRepo(),
    apiKeys: new InMemoryApiKeys(),
    uploads: new InMemoryUploadRepo(),
    queue: new RecordingQueue(),
    dedup: new InMemoryDedupRepo(),
    pools: new InMemoryPoolReports(),
  };
}

/** A JSONL input of `n` chat requests, ids `<prefix>-0` … */
export const jsonlOf = (n: number, prefix = 'req'): string =>
  Array.from({ length: n }, (_, i) =>
    JSON.stringify({
      custom_id: `${prefix}-${i}`,
      method: 'POST',
      url: '/v1/chat/completions',
      body: { model: 'm', messages: [{ role: 'user', content: `q${i}` }] },
    }),
  ).join('\n');

/**
 * A file of `content` and a batch on it, as the API creates them (its scheduling message taken).
 * `unplanned`: the file has no upload-time plan (core/chunks/file-plan.ts), as a file assembled
 * by the Uploads API, so the scheduler reads and validates it.
 */
export async function createdBatch(
  deps: FakeDeps,
  content: string,
  body: Partial<CreateBatchBody> = {},
  tenant = 'acme',
  opts: { unplanned?: boolean } = {},
): Promise<{ file: FileObject; ref: BatchRef }> {
  const file = await createFile(deps, tenant, {
    filename: 'in.jsonl',
    purpose: 'batch',
    content: Buffer.from(content),
  });
  if (opts.unplanned) delete deps.files.files.get(`${tenant}#${file.id}`)?.plan;
  const batch = await createBatch(deps, tenant, {
    input_file_id: file.id,
    endpoint: '/v1/chat/completions',
    completion_window: '24h',
    ...body,
  });
  deps.queue.take('scheduling');
  return { file, ref: { tenant, batchId: batch.id } };
}

/** A batch of `n` requests, scheduled: its chunk messages taken from the spot queue. */
export async function scheduledBatch(
  deps: FakeDeps,
  n: number,
  body: Partial<CreateBatchBody> = {},
): Promise<{ ref: BatchRef; msgs: ChunkMessage[] }> {
  const { ref } = await createdBatch(deps, jsonlOf(n), body);
  await scheduleBatch(deps, ref);
  return { ref, msgs: deps.queue.take<ChunkMessage>('spot') };
}
