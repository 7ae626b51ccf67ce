/** How a file is cut into S3 multipart parts, and which of them still have to be sent. Pure. */

export const MiB = 1024 * 1024;
/** S3's rule: every part but the last holds at least 5 MiB. */
export const MIN_PART_SIZE = 5 * MiB;
/** S3's limit on the parts of one multipart upload. */
export const MAX_PARTS = 10_000;
/** The most part numbers one `part_urls` call takes. */
export const MAX_URLS_PER_CALL = 1_000;

export interface PlannedPart {
  /** 1-based, in file order. */
  partNumber: number;
  /** Byte range in the file: start inclusive, end exclusive. */
  start: number;
  end: number;
  bytes: number;
}

/** The parts of a file of `size` bytes, `partSize` bytes each but the last. */
export function planParts(size: number, partSize: number): PlannedPart[] {
  if (!Number.isSafeInteger(size) || size <= 0) throw new RangeError(`The file is empty (${size} bytes).`);
  if (!Number.isSafeInteger(partSize) || partSize < MIN_PART_SIZE)
    throw new RangeError(`The part size must be at least ${MIN_PART_SIZE / MiB} MiB (S3's minimum).`);
  const count = Math.ceil(size / partSize);
  if (count > MAX_PARTS)
    throw new RangeError(
      `${count} parts of ${formatBytes(partSize)} exceed S3's ${MAX_PARTS} parts: use a part size of at least ${Math.ceil(size / MAX_PARTS / MiB)} MiB.`,
    );
  return Array.from({ length: count }, (_, i) => {
    const start = i * partSize;
    const end = Math.min(size, start + partSize);
    return { partNumber: i + 1, start, end, bytes: end - start };
  });
}

/**
 * The planned parts that are not already in S3 with exactly their planned size. A part present
 * with another size (a different plan, a cut-off PUT) is sent again and replaces it.
 */
export function partsToSend(
  plan: readonly PlannedPart[],
  present: readonly { part_number: number; bytes: number }[],
): PlannedPart[] {
  const sizes = new Map(present.map((p) => [p.part_number, p.bytes]));
  return plan.filter((p) => sizes.get(p.partNumber) !== p.bytes);
}

/** `items` in consecutive groups of at most `size`. */
export function inBatches<T>(items: readonly T[], size: number): T[][] {
  if (size < 1) throw new RangeError('batch size must be at least 1');
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < MiB) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 * MiB) return `${(n / MiB).toFixed(1)} MiB`;
  return `${(n / (1024 * MiB)).toFixed(2)} GiB`;
}
