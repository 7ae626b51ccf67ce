import { describe, expect, it } from 'vitest';
import type { PartUrl } from '../../../cli/extensions.js';
import { MiB, planParts } from '../../../cli/part-planner.js';
import { UrlBook } from '../../../cli/uploader.js';

/** A stand-in for POST /v1/openbatch/uploads/{id}/part_urls that records its calls. */
function fakeExtensions(ttlS = 3_600) {
  const calls: number[][] = [];
  let serial = 0;
  return {
    calls,
    ext: {
      async partUrls(_id: string, numbers: readonly number[]): Promise<PartUrl[]> {
        calls.push([...numbers]);
        const now = Math.floor(Date.now() / 1000);
        return numbers.map((n) => ({
          part_number: n,
          url: `https://s3/p${n}?v=${++serial}`,
          expires_at: now + ttlS,
        }));
      },
    },
  };
}

describe('UrlBook', () => {
  it('asks the URLs of a large file in calls of at most 1,000 part numbers, each number once', async () => {
    const plan = planParts(2_345 * 5 * MiB, 5 * MiB);
    const { ext, calls } = fakeExtensions();
    const book = new UrlBook(ext, 'upload_x', plan, new AbortController().signal);
    const urls = await Promise.all(plan.map((p) => book.get(p.partNumber)));
    expect(calls.map((c) => c.length)).toEqual([1_000, 1_000, 345]);
    expect(calls.flat()).toEqual(plan.map((p) => p.partNumber));
    expect(new Set(urls).size).toBe(plan.length);
    expect(urls[1_233]).toMatch(/\/p1234\?/);
  });

  it('asks from the part needed onward, skipping the parts already in S3', async () => {
    const plan = planParts(20 * MiB, 5 * MiB);
    const todo = plan.filter((p) => p.partNumber !== 2);
    const { ext, calls } = fakeExtensions();
    const book = new UrlBook(ext, 'upload_x', todo, new AbortController().signal);
    await book.get(3);
    await book.get(1);
    expect(calls).toEqual([[3, 4], [1]]);
  });

  it('gives a retry a fresh URL, and asks again for a URL about to expire', async () => {
    const plan = planParts(10 * MiB, 5 * MiB);
    const { ext, calls } = fakeExtensions(30);
    const book = new UrlBook(ext, 'upload_x', plan, new AbortController().signal);
    const first = await book.get(1);
    const retry = await book.fresh(1);
    expect(retry).not.toBe(first);
    await book.get(2); // handed out with part 1, but within a minute of expiring
    expect(calls).toEqual([[1, 2], [1], [2]]);
  });

  it('lets a part retry after a call that failed', async () => {
    const plan = planParts(10 * MiB, 5 * MiB);
    let fail = true;
    const { ext } = fakeExtensions();
    const flaky = {
      partUrls: (id: string, numbers: readonly number[]) => {
        if (fail) {
          fail = false;
          return Promise.reject(new Error('503'));
        }
        return ext.partUrls(id, numbers);
      },
    };
    const book = new UrlBook(flaky, 'upload_x', plan, new AbortController().signal);
    await expect(book.get(1)).rejects.toThrow('503');
    await expect(book.get(2)).resolves.toMatch(/\/p2\?/);
  });
});
