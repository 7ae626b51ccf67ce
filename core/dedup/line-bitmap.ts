/**
 * A chunk's reused lines as the chunk record keeps them (`reused_lines`): one bit per line from
 * the chunk's first line, base64. 2,000 lines take at most 336 characters.
 */

/** Line numbers as a bitmap from `lineStart` (bit i: line lineStart + i), base64. */
export function encodeLineBitmap(lines: readonly number[], lineStart: number): string {
  const max = Math.max(...lines) - lineStart;
  const bits = Buffer.alloc((max >> 3) + 1);
  for (const n of lines) {
    const i = n - lineStart;
    bits[i >> 3] = (bits[i >> 3] as number) | (1 << (i & 7));
  }
  return bits.toString('base64');
}

/** Whether `line` is set in a bitmap of encodeLineBitmap. */
export function lineInBitmap(bitmap: string | undefined, lineStart: number, line: number): boolean {
  if (!bitmap) return false;
  const i = line - lineStart;
  if (i < 0) return false;
  const bits = Buffer.from(bitmap, 'base64');
  return i >> 3 < bits.length && ((bits[i >> 3] as number) & (1 << (i & 7))) !== 0;
}
