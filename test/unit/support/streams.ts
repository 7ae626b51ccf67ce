/** Test sources for the streaming parsers: the same bytes delivered in awkward pieces. */

/** Yields `data` cut at the given byte positions (sorted, deduplicated, out-of-range ones ignored). */
export async function* cutAt(data: Buffer, positions: readonly number[]): AsyncGenerator<Buffer> {
  const cuts = [...new Set(positions)].filter((p) => p > 0 && p < data.length).sort((a, b) => a - b);
  let from = 0;
  for (const p of cuts) {
    yield data.subarray(from, p);
    from = p;
  }
  if (from < data.length) yield data.subarray(from);
}

/** Yields `data` in pieces of `size` bytes (the last one shorter). */
export async function* inPieces(data: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}

/** Yields each piece as given, empty pieces included, as plain Uint8Arrays (not Buffers). */
export async function* asUint8Arrays(pieces: readonly Buffer[]): AsyncGenerator<Uint8Array> {
  for (const p of pieces) {
    // A copy inside a larger ArrayBuffer, so a wrong byteOffset would show.
    const backing = new Uint8Array(p.length + 8);
    backing.set(p, 4);
    yield backing.subarray(4, 4 + p.length);
  }
}

export async function collect<T>(source: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of source) out.push(item);
  return out;
}
