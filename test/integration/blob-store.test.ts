import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestAws, type TestAws } from '../support/test-aws.js';

let t: TestAws;
beforeAll(async () => {
  t = await startTestAws();
});
afterAll(() => t?.close());

const collect = async (it: AsyncIterable<Uint8Array>) => {
  const parts: Buffer[] = [];
  for await (const c of it) parts.push(Buffer.from(c));
  return Buffer.concat(parts);
};

describe('BlobStore against the emulator', () => {
  it('reads an exact byte range with a ranged GET', async () => {
    const body = Buffer.from('line one\nline twö\nline three\n');
    await t.deps.blobs.put('tenant-a/files/range.jsonl', body);
    const start = body.indexOf('line two'.slice(0, 5), 1);
    const end = body.indexOf('line three');
    const got = await collect(await t.deps.blobs.stream('tenant-a/files/range.jsonl', { start, end }));
    expect(got.equals(body.subarray(start, end))).toBe(true);
    expect(got.toString()).toBe('line twö\n');
  });

  it('reads exact ranges of an object large enough that the emulator keeps it on disk', async () => {
    // Above 5 MB moto spools an object to a file, and the local runtime's moto reads a single
    // range from there rather than the whole object (localstack/runtime/moto-server.py).
    const body = Buffer.from(
      Array.from({ length: 200_000 }, (_, i) => `{"line":${i},"pad":"${'é'.repeat(i % 7)}"}\n`).join(''),
    );
    expect(body.length).toBeGreaterThan(5 * 1024 * 1024);
    await t.deps.blobs.put('tenant-a/files/spooled.jsonl', body);
    const last = body.length;
    for (const [start, end] of [
      [0, 1],
      [0, 4096],
      [1_234_567, 3_456_789],
      [last - 10, last],
      [last - 1, last],
    ] as const) {
      const got = await collect(await t.deps.blobs.stream('tenant-a/files/spooled.jsonl', { start, end }));
      expect(got.equals(body.subarray(start, end)), `${start}-${end}`).toBe(true);
    }
    expect((await t.deps.blobs.read('tenant-a/files/spooled.jsonl')).equals(body)).toBe(true);
  });

  it('writes a large stream as a multipart upload and reads it back intact', async () => {
    const piece = Buffer.alloc(1024 * 1024, 'x');
    async function* source() {
      for (let i = 0; i < 12; i++) yield Buffer.concat([piece, Buffer.from(`#${i}\n`)]);
    }
    const bytes = await t.deps.blobs.upload('tenant-a/files/big.jsonl', source());
    const expected = Array.from({ length: 12 }, (_, i) => piece.length + `#${i}\n`.length).reduce(
      (a, b) => a + b,
    );
    expect(bytes).toBe(expected);
    const back = await t.deps.blobs.read('tenant-a/files/big.jsonl');
    expect(back.length).toBe(bytes);
    expect(back.subarray(-4).toString()).toBe('#11\n');
  });

  it('tells the size of an object, and of none', async () => {
    await t.deps.blobs.put('tenant-a/files/sized.jsonl', 'twelve bytes');
    expect(await t.deps.blobs.size('tenant-a/files/sized.jsonl')).toBe(12);
    expect(await t.deps.blobs.size('tenant-a/files/never-written.jsonl')).toBeUndefined();
  });

  it('streams a stream of known length into one PutObject, and refuses one that is shorter', async () => {
    const pieces = ['{"a":1}\n', '{"b":2}\n', '{"c":3}\n'].map((s) => Buffer.from(s));
    async function* source() {
      for (const p of pieces) yield p;
    }
    const length = pieces.reduce((n, p) => n + p.length, 0);
    expect(
      await t.deps.blobs.upload('tenant-a/files/known.jsonl', source(), 'application/jsonl', length),
    ).toBe(length);
    expect((await t.deps.blobs.read('tenant-a/files/known.jsonl')).toString()).toBe(
      Buffer.concat(pieces).toString(),
    );
    await expect(
      t.deps.blobs.upload('tenant-a/files/short.jsonl', source(), 'application/jsonl', length + 5),
    ).rejects.toThrow();
    expect(await t.deps.blobs.size('tenant-a/files/short.jsonl')).toBeUndefined();
    // A source that fails half-way (a part's GET) fails the write with its error, without waiting.
    async function* failing() {
      yield pieces[0] as Buffer;
      throw new Error('part read failed');
    }
    await expect(
      t.deps.blobs.upload('tenant-a/files/failed.jsonl', failing(), 'application/jsonl', length),
    ).rejects.toThrow('part read failed');
    expect(await t.deps.blobs.size('tenant-a/files/failed.jsonl')).toBeUndefined();
  });

  it('serves a pre-signed GET URL without credentials', async () => {
    await t.deps.blobs.put('tenant-a/files/signed.jsonl', '{"a":1}\n');
    const url = await t.deps.blobs.presignedGetUrl('tenant-a/files/signed.jsonl', 'signed.jsonl');
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('{"a":1}\n');
  });

  it('completes a pre-signed multipart upload from parts PUT straight to S3, retried parts replaced', async () => {
    const key = 'tenant-a/files/presigned.jsonl';
    const id = await t.deps.blobs.createMultipart(key, 'application/jsonl');
    const part1 = Buffer.alloc(5 * 1024 * 1024, 'a');
    const part2 = Buffer.from('the last part may be small\n');
    const put = async (n: number, body: Buffer) =>
      (await fetch(await t.deps.blobs.presignedPartUrl(key, id, n, 60), { method: 'PUT', body })).status;
    expect(await put(2, Buffer.from('a first try of part 2\n'))).toBe(200);
    expect(await put(1, part1)).toBe(200);
    expect(await put(2, part2)).toBe(200); // the retry replaces the first try
    const parts = await t.deps.blobs.listMultipartParts(key, id);
    expect(parts.map((p) => [p.partNumber, p.size])).toEqual([
      [1, part1.length],
      [2, part2.length],
    ]);
    await t.deps.blobs.completeMultipart(key, id, parts);
    expect((await t.deps.blobs.read(key)).equals(Buffer.concat([part1, part2]))).toBe(true);
  });

  it('aborts a multipart upload: its parts are gone, and aborting again is harmless', async () => {
    const key = 'tenant-a/files/abandoned.jsonl';
    const id = await t.deps.blobs.createMultipart(key, 'application/jsonl');
    await fetch(await t.deps.blobs.presignedPartUrl(key, id, 1, 60), { method: 'PUT', body: 'x' });
    await t.deps.blobs.abortMultipart(key, id);
    await expect(t.deps.blobs.listMultipartParts(key, id)).rejects.toThrow(/NoSuchUpload|does not exist/);
    await expect(t.deps.blobs.abortMultipart(key, id)).resolves.toBeUndefined();
  });
});
