import { describe, expect, it } from 'vitest';
import { encodeLineBitmap, lineInBitmap } from '../../../../core/dedup/line-bitmap.js';
import { reusedOf } from '../../../../core/requests/request-status.js';

describe('reused line bitmaps', () => {
  it('holds exactly the lines given, from the chunk’s first line, across byte boundaries', () => {
    const lines = [2001, 2008, 2009, 2017, 4000];
    const bitmap = encodeLineBitmap(lines, 2001);
    for (let n = 1990; n <= 4010; n++) expect(lineInBitmap(bitmap, 2001, n)).toBe(lines.includes(n));
  });

  it('takes at most 336 base64 characters for a 2,000-line chunk', () => {
    const all = Array.from({ length: 2000 }, (_, i) => 1 + i);
    expect(encodeLineBitmap(all, 1).length).toBeLessThanOrEqual(336);
  });

  it('says no line is reused without a bitmap', () => {
    expect(lineInBitmap(undefined, 1, 1)).toBe(false);
  });
});

describe('reusedOf (per-request rows)', () => {
  const chunk = { lineStart: 11, reused_lines: encodeLineBitmap([12], 11) };
  it('a done chunk’s line from its record; a running one’s from its checkpoint; never an undelivered line', () => {
    expect(reusedOf(chunk, { kind: 'done' }, 12, undefined)).toBe(true);
    expect(reusedOf(chunk, { kind: 'done' }, 13, undefined)).toBe(false);
    expect(reusedOf({ lineStart: 11 }, { kind: 'running' }, 12, true)).toBe(true);
    expect(reusedOf({ lineStart: 11 }, { kind: 'running' }, 12, undefined)).toBe(false);
    expect(reusedOf(chunk, { kind: 'uniform', status: 'expired' }, 12, true)).toBe(false);
  });
});
