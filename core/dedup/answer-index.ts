import type { DedupRepo } from '../ports.js';
import { findEntry } from './answer-pack.js';

/**
 * The index of a tenant's answer packs as a worker holds it in memory (docs/dedup.md): the
 * packs' entries, newest first, loaded once and then refreshed incrementally with one query
 * for the packs written since, shared by every chunk of the tenant the worker runs.
 */

/** One pack's index item (the `dedup` table): where its object is and what it holds. */
export interface PackRecord {
  tenant: string;
  /** `<unix ms, 15 digits>-<batch id>-<chunk>`: time-ordered, one per completed chunk. */
  pack: string;
  /** The pack object's key in the files bucket. */
  key: string;
  /** 16-byte entries sorted by hash prefix (answer-pack.ts). */
  entries: Uint8Array;
  count: number;
  /** Unix seconds after which the pack is not reused (DynamoDB TTL removes the item later). */
  ttl: number;
}

export interface AnswerRef {
  pack: string;
  key: string;
  offset: number;
  length: number;
}

export interface AnswerIndexOptions {
  /** Entries a worker keeps per tenant; older packs beyond it are not consulted. */
  maxEntries: number;
  /** Chunks starting within this long of the last refresh share it (default 1 s). */
  refreshEveryMs?: number;
  /**
   * A refresh reads the packs whose ids are after the start of the last refresh less this much,
   * so a pack indexed a little after the time in its id (its writer's `PutItem` in flight, or a
   * clock a little behind) is not missed (default 10 s).
   */
  overlapMs?: number;
}

/** A time-ordered pack id from unix ms (fixed width, so ids sort as times). */
export const packIdAt = (ms: number, suffix: string): string =>
  `${String(Math.max(0, Math.floor(ms))).padStart(15, '0')}${suffix ? `-${suffix}` : ''}`;

/** One tenant's packs, newest first, within the entry cap. */
export class TenantAnswers {
  private packs: PackRecord[] = [];
  private readonly known = new Set<string>();
  private entries = 0;
  /** When the last refresh started; undefined until one succeeded (the next loads everything). */
  loadedFrom: number | undefined;
  refreshedAt = Number.NEGATIVE_INFINITY;
  refreshing: Promise<void> | undefined;

  constructor(private readonly maxEntries: number) {}

  get size(): { packs: number; entries: number } {
    return { packs: this.packs.length, entries: this.entries };
  }

  /** Adds packs not held yet, keeps newest first, and drops the oldest beyond the cap. */
  add(records: readonly PackRecord[]): void {
    let added = false;
    for (const r of records) {
      if (this.known.has(r.pack)) continue;
      this.known.add(r.pack);
      this.packs.push(r);
      this.entries += r.count;
      added = true;
    }
    if (!added) return;
    this.packs.sort((a, b) => (a.pack < b.pack ? 1 : a.pack > b.pack ? -1 : 0));
    while (this.entries > this.maxEntries && this.packs.length > 1) {
      const dropped = this.packs.pop() as PackRecord;
      this.entries -= dropped.count;
      // Still known: a refresh's overlap must not load it again.
    }
  }

  /** The newest unexpired pack's answer to `hash`, if any pack holds its prefix. */
  find(hash: Buffer, nowS: number): AnswerRef | undefined {
    for (const p of this.packs) {
      if (p.ttl <= nowS) continue;
      const at = findEntry(p.entries, hash);
      if (at) return { pack: p.pack, key: p.key, ...at };
    }
    return undefined;
  }
}

/**
 * A worker's answer index over all tenants it runs chunks of. `forTenant` loads a tenant on
 * first use (newest packs first, up to the cap) and refreshes it at most every
 * `refreshEveryMs`; chunks that start meanwhile share the refresh in flight.
 */
export class AnswerIndex {
  private readonly tenants = new Map<string, TenantAnswers>();
  private readonly refreshEveryMs: number;
  private readonly overlapMs: number;

  constructor(
    private readonly repo: DedupRepo,
    private readonly opts: AnswerIndexOptions,
  ) {
    this.refreshEveryMs = opts.refreshEveryMs ?? 1_000;
    this.overlapMs = opts.overlapMs ?? 10_000;
  }

  async forTenant(tenant: string, nowMs: number): Promise<TenantAnswers> {
    let t = this.tenants.get(tenant);
    if (!t) {
      t = new TenantAnswers(this.opts.maxEntries);
      this.tenants.set(tenant, t);
    }
    if (t.refreshing) await t.refreshing;
    else if (nowMs - t.refreshedAt >= this.refreshEveryMs) {
      const held = t;
      // Every pack indexed since the last refresh started has an id after that time, less the
      // time its writer took between its id and its PutItem: the overlap.
      const after =
        held.loadedFrom === undefined ? undefined : packIdAt(held.loadedFrom - this.overlapMs, '');
      held.refreshedAt = nowMs;
      held.refreshing = this.repo
        .listPacks(tenant, { after, maxEntries: this.opts.maxEntries })
        .then((records) => {
          held.add(records);
          held.loadedFrom = nowMs;
        })
        .catch((err: unknown) => {
          held.refreshedAt = Number.NEGATIVE_INFINITY; // tried again by the next chunk
          throw err;
        })
        .finally(() => {
          held.refreshing = undefined;
        });
      await held.refreshing;
    }
    return t;
  }

  /** A pack this worker just wrote: known at once, without waiting for a refresh. */
  added(record: PackRecord): void {
    this.tenants.get(record.tenant)?.add([record]);
  }
}

/** One index per repository (per worker process, or per set of test fakes). */
const indexes = new WeakMap<DedupRepo, AnswerIndex>();
export function answerIndexOf(repo: DedupRepo, opts: AnswerIndexOptions): AnswerIndex {
  let index = indexes.get(repo);
  if (!index) {
    index = new AnswerIndex(repo, opts);
    indexes.set(repo, index);
  }
  return index;
}
