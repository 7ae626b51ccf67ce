import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AnswerIndex, type PackRecord, packIdAt } from '../../../../core/dedup/answer-index.js';
import { encodePack } from '../../../../core/dedup/answer-pack.js';
import { InMemoryDedupRepo } from '../../../support/fakes.js';

const hash = (s: string) => createHash('sha256').update(s).digest();
const T0 = Date.UTC(2026, 0, 1);

function pack(tenant: string, ms: number, names: string[], ttlS = T0 / 1000 + 86_400): PackRecord {
  const p = encodePack(
    names.map((n) => ({ hash: hash(n), response: { status_code: 200, request_id: n, body: {} } })),
  );
  const id = packIdAt(ms, `b-${ms}`);
  return {
    tenant,
    pack: id,
    key: `${tenant}/dedup/packs/${id}.jsonl`,
    entries: p.entries,
    count: p.count,
    ttl: ttlS,
  };
}

describe('AnswerIndex', () => {
  it('finds a tenant’s answers, newest pack first, and never another tenant’s', async () => {
    const repo = new InMemoryDedupRepo();
    const older = pack('a', T0, ['x', 'y']);
    const newer = pack('a', T0 + 1000, ['x']);
    await repo.putPack(older);
    await repo.putPack(newer);
    await repo.putPack(pack('b', T0, ['z']));
    const index = new AnswerIndex(repo, { maxEntries: 100 });
    const a = await index.forTenant('a', T0 + 2000);
    expect(a.find(hash('x'), T0 / 1000)?.pack).toBe(newer.pack);
    expect(a.find(hash('y'), T0 / 1000)?.pack).toBe(older.pack);
    expect(a.find(hash('z'), T0 / 1000)).toBeUndefined();
  });

  it('skips expired packs', async () => {
    const repo = new InMemoryDedupRepo();
    await repo.putPack(pack('a', T0, ['x'], T0 / 1000 + 10));
    const a = await new AnswerIndex(repo, { maxEntries: 100 }).forTenant('a', T0);
    expect(a.find(hash('x'), T0 / 1000 + 9)).toBeDefined();
    expect(a.find(hash('x'), T0 / 1000 + 10)).toBeUndefined();
  });

  it('keeps the newest packs up to its entry cap', async () => {
    const repo = new InMemoryDedupRepo();
    for (let i = 0; i < 5; i++) await repo.putPack(pack('a', T0 + i * 1000, [`p${i}-1`, `p${i}-2`]));
    const a = await new AnswerIndex(repo, { maxEntries: 6 }).forTenant('a', T0 + 10_000);
    expect(a.size).toEqual({ packs: 3, entries: 6 });
    expect(a.find(hash('p4-1'), T0 / 1000)).toBeDefined();
    expect(a.find(hash('p1-1'), T0 / 1000)).toBeUndefined();
  });

  it('refreshes at most once a refresh interval, shared by chunks starting together, reading what was indexed since', async () => {
    const repo = new InMemoryDedupRepo();
    await repo.putPack(pack('a', T0, ['x']));
    const index = new AnswerIndex(repo, { maxEntries: 100, refreshEveryMs: 1000, overlapMs: 10_000 });
    const t1 = T0 + 60_000;
    await Promise.all([index.forTenant('a', t1), index.forTenant('a', t1), index.forTenant('a', t1 + 500)]);
    expect(repo.queries).toBe(1);
    // Indexed after that refresh began, by writers whose ids are 5 s and 20 s older than it:
    // the overlap (10 s) covers the first; the second writer took longer than any PutItem.
    await repo.putPack(pack('a', t1 - 5_000, ['within-overlap']));
    await repo.putPack(pack('a', t1 - 20_000, ['beyond-overlap']));
    const a = await index.forTenant('a', t1 + 1000);
    expect(repo.queries).toBe(2);
    expect(a.find(hash('x'), T0 / 1000)).toBeDefined();
    expect(a.find(hash('within-overlap'), T0 / 1000)).toBeDefined();
    expect(a.find(hash('beyond-overlap'), T0 / 1000)).toBeUndefined();
    // A pack of this worker's own, newer than any, does not move the next refresh's start.
    index.added(pack('a', t1 + 30_000, ['own']));
    await repo.putPack(pack('a', t1 - 1_000, ['late-other']));
    await index.forTenant('a', t1 + 2000);
    expect(a.find(hash('late-other'), T0 / 1000)).toBeDefined();
    expect(a.find(hash('own'), T0 / 1000)).toBeDefined();
  });
});
