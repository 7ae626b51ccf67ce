import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { answerAt, ENTRY_BYTES, encodePack, findEntry } from '../../../../core/dedup/answer-pack.js';

const hash = (s: string) => createHash('sha256').update(s).digest();
const response = (n: number) => ({ status_code: 200, request_id: `req_${n}`, body: { n } });

describe('answer packs', () => {
  const answers = Array.from({ length: 50 }, (_, i) => ({ hash: hash(`r${i}`), response: response(i) }));
  const pack = encodePack(answers);

  it('holds one 16-byte entry per distinct answer, sorted by hash prefix', () => {
    const again = encodePack([...answers, { hash: hash('r3'), response: response(999) }]);
    expect(again.count).toBe(50);
    expect(pack.entries.length).toBe(50 * ENTRY_BYTES);
    for (let i = 1; i < pack.count; i++) {
      const prev = pack.entries.subarray((i - 1) * ENTRY_BYTES, (i - 1) * ENTRY_BYTES + 8);
      const cur = pack.entries.subarray(i * ENTRY_BYTES, i * ENTRY_BYTES + 8);
      expect(Buffer.compare(prev, cur)).toBeLessThan(0);
    }
  });

  it('finds every answer by binary search and reads it back from a ranged read, checked against the full hash', () => {
    for (let i = 0; i < 50; i++) {
      const at = findEntry(pack.entries, hash(`r${i}`));
      expect(at).toBeDefined();
      if (!at) continue;
      const start = Math.max(0, at.offset - 10);
      expect(answerAt(pack.body.subarray(start), start, at, hash(`r${i}`))).toEqual(response(i));
    }
    expect(findEntry(pack.entries, hash('absent'))).toBeUndefined();
  });

  it('refuses a line whose full hash differs (a prefix collision) or lies outside the bytes read', () => {
    const at = findEntry(pack.entries, hash('r7'));
    if (!at) throw new Error('r7 is in the pack');
    const other = Buffer.concat([hash('r7').subarray(0, 8), Buffer.alloc(24, 1)]);
    expect(answerAt(pack.body, 0, at, other)).toBeUndefined();
    expect(answerAt(pack.body.subarray(0, at.offset), 0, at, hash('r7'))).toBeUndefined();
  });
});
