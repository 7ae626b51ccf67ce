import { keys } from '../adapters/blob-store.js';
import type { Deps } from '../app/deps.js';
import { log } from '../observability/log.js';
import type { ResultLine } from '../openai/schemas.js';
import { isSuccess } from '../results/result-lines.js';
import {
  type AnswerIndex,
  type AnswerRef,
  answerIndexOf,
  type PackRecord,
  packIdAt,
} from './answer-index.js';
import { answerAt, encodePack, type PackAnswer, type StoredResponse } from './answer-pack.js';
import { encodeLineBitmap } from './line-bitmap.js';
import { type DedupMode, dedupApplies, requestHash } from './normalise.js';

type DedupDeps = Pick<Deps, 'dedup' | 'blobs' | 'clock' | 'ids' | 'limits'>;

/** The worker's answer index (one per repository), capped as the deployment says. */
const indexOf = (deps: Pick<DedupDeps, 'dedup' | 'limits'>) =>
  answerIndexOf(deps.dedup, { maxEntries: deps.limits.DEDUP_INDEX_MAX_ENTRIES });

interface Request {
  custom_id: string;
  url: string;
  body: Record<string, unknown>;
}

interface Waiter {
  hash: Buffer;
  at: AnswerRef;
  resolve: (response: StoredResponse | undefined) => void;
}

/**
 * Deduplication for one chunk attempt (docs/dedup.md), called by the worker around the engine:
 *
 * - `reuse(line, request)` before a request runs: undefined when the request cannot be reused
 *   (its batch's mode, sampling); otherwise a promise of the earlier answer as this line's
 *   result, or of undefined when there is none (the caller runs it). Answers are fetched by
 *   `fetch()`, called once every line was read: one ranged GET per pack holding hits.
 * - `resumed(line, reused)` and `remember(line, bytes)` for a line an earlier attempt finished
 *   (its checkpoint): counted as reused or not, and recorded with the chunk's answers.
 * - `reusedLines(order)` for the completion: how many lines were reused and which.
 * - `record(finished)` once the chunk's completion won: its new 2xx answers as one answer pack
 *   (one S3 PUT, one DynamoDB PutItem). Nothing is recorded when the chunk has none.
 *
 * A failure of the index or a pack never fails the chunk: the request runs instead, or the
 * answers are not recorded (logged).
 */
export class ChunkDedup {
  private readonly hashes = new Map<number, Buffer>();
  private readonly reused = new Set<number>();
  private readonly waiting = new Map<string, Waiter[]>();
  private ready: Promise<AnswerIndexLookup> | undefined;
  private readonly index: AnswerIndex;

  constructor(
    private readonly deps: DedupDeps,
    private readonly ref: { tenant: string; batchId: string; chunk: number },
    private readonly mode: DedupMode,
  ) {
    this.index = indexOf(deps);
  }

  /**
   * Starts loading `tenant`'s answer index (a refresh at most every second, shared by the chunks
   * that start meanwhile) before the chunk's batch record says whether it deduplicates, so the
   * chunk's first requests do not wait for that query after the record read. Batches deduplicate
   * unless they ask not to; a failure here is the lookup's to report.
   */
  static warm(deps: DedupDeps, tenant: string): void {
    if (deps.limits.DEDUP === 'off') return;
    indexOf(deps)
      .forTenant(tenant, deps.clock.now())
      .catch(() => {});
  }

  /** The chunk's dedup, or undefined when the deployment or the batch turned it off. */
  static open(
    deps: DedupDeps,
    ref: { tenant: string; batchId: string; chunk: number },
    mode: DedupMode | undefined,
  ): ChunkDedup | undefined {
    if (deps.limits.DEDUP === 'off' || mode === undefined || mode === 'off') return undefined;
    return new ChunkDedup(deps, ref, mode);
  }

  reuse(line: number, request: Request): Promise<ResultLine | undefined> | undefined {
    if (!dedupApplies(this.mode, request.url, request.body)) return undefined;
    const hash = requestHash(this.ref.tenant, request.url, request.body);
    this.hashes.set(line, hash);
    this.ready ??= this.lookup();
    return this.ready.then((find) => {
      const at = find(hash);
      if (!at) return undefined;
      return new Promise<StoredResponse | undefined>((resolve) => {
        const list = this.waiting.get(at.key) ?? [];
        list.push({ hash, at, resolve });
        this.waiting.set(at.key, list);
      }).then((response) => {
        if (!response) return undefined;
        this.reused.add(line);
        // A normal result line of this batch: a fresh id, the earlier response as it was
        // (its request_id names the engine call that produced the body).
        return { id: this.deps.ids.requestLineId(), custom_id: request.custom_id, response, error: null };
      });
    });
  }

  /** A line finished by an earlier attempt: reused or not as its checkpoint says. */
  resumed(line: number, reused: boolean): void {
    if (reused) this.reused.add(line);
  }

  /**
   * A line an earlier attempt finished (read from the input again, `bytes`): not looked up, but
   * its answer is recorded with the chunk's others if the batch may reuse it.
   */
  remember(line: number, bytes: Buffer): void {
    const request = JSON.parse(bytes.toString('utf8')) as Request;
    if (dedupApplies(this.mode, request.url, request.body))
      this.hashes.set(line, requestHash(this.ref.tenant, request.url, request.body));
  }

  isReused(line: number): boolean {
    return this.reused.has(line);
  }

  /** Fetches the answers of every hit so far: one ranged GET per pack. Call after the last `reuse`. */
  async fetch(): Promise<void> {
    if (!this.ready) return;
    await this.ready;
    // Every lookup's continuation on `ready` ran before this one: all hits are registered.
    await Promise.resolve();
    const groups = [...this.waiting.values()];
    this.waiting.clear();
    await Promise.all(groups.map((g) => this.fetchPack(g)));
  }

  /**
   * Lines of `order` reused in this chunk (by this attempt or one before it), as a count and a
   * bitmap from `lineStart`; undefined when none was.
   */
  reusedLines(order: readonly number[], lineStart: number): { count: number; bitmap: string } | undefined {
    const mine = order.filter((n) => this.reused.has(n));
    return mine.length > 0 ? { count: mine.length, bitmap: encodeLineBitmap(mine, lineStart) } : undefined;
  }

  /** Records the chunk's new answers (2xx, not reused; this attempt's and its checkpoint's) as one answer pack. */
  async record(finished: ReadonlyMap<number, ResultLine>): Promise<void> {
    const answers: PackAnswer[] = [];
    for (const [line, hash] of this.hashes) {
      const result = finished.get(line);
      if (!result?.response || !isSuccess(result) || this.reused.has(line)) continue;
      answers.push({ hash, response: result.response });
    }
    if (answers.length === 0) return;
    try {
      const pack = encodePack(answers);
      // One pack per completed chunk: its object is named after the chunk.
      const key = keys.answerPack(this.ref.tenant, `${this.ref.batchId}-${this.ref.chunk}`);
      await this.deps.blobs.put(key, pack.body);
      // The id's time is taken just before the PutItem, after the object is written, so it is
      // at most one PutItem older than the item's visibility (readers' overlap, answer-index.ts).
      const nowMs = this.deps.clock.now();
      const id = packIdAt(nowMs, `${this.ref.batchId}-${this.ref.chunk}`);
      const days = Math.min(this.deps.limits.DEDUP_RETENTION_DAYS, this.deps.limits.FILE_RETENTION_DAYS);
      const record: PackRecord = {
        tenant: this.ref.tenant,
        pack: id,
        key,
        entries: pack.entries,
        count: pack.count,
        ttl: Math.floor(nowMs / 1000) + days * 86_400,
      };
      // The object first: an index item always names an object that exists.
      await this.deps.dedup.putPack(record);
      this.index.added(record);
    } catch (err) {
      log.warn('dedup: answers not recorded', { error: (err as Error).message });
    }
  }

  private async lookup(): Promise<AnswerIndexLookup> {
    const nowMs = this.deps.clock.now();
    try {
      const answers = await this.index.forTenant(this.ref.tenant, nowMs);
      const nowS = Math.floor(nowMs / 1000);
      return (hash) => answers.find(hash, nowS);
    } catch (err) {
      log.warn('dedup: answer index unavailable, running every request', { error: (err as Error).message });
      return () => undefined;
    }
  }

  private async fetchPack(waiters: readonly Waiter[]): Promise<void> {
    const first = waiters[0];
    if (!first) return;
    const start = Math.min(...waiters.map((w) => w.at.offset));
    const end = Math.max(...waiters.map((w) => w.at.offset + w.at.length));
    let bytes: Buffer | undefined;
    try {
      const parts: Buffer[] = [];
      for await (const piece of await this.deps.blobs.stream(first.at.key, { start, end }))
        parts.push(Buffer.from(piece));
      bytes = Buffer.concat(parts);
    } catch (err) {
      // Expired or unreadable: these requests run.
      log.warn('dedup: answer pack unreadable', { error: (err as Error).message });
    }
    for (const w of waiters) w.resolve(bytes ? answerAt(bytes, start, w.at, w.hash) : undefined);
  }
}

type AnswerIndexLookup = (hash: Buffer) => AnswerRef | undefined;
