import type { ResultLine } from '../openai/schemas.js';

/**
 * An answer pack: the reusable answers of one completed chunk, as one S3 object, and its index
 * entries, as one DynamoDB item (docs/dedup.md). Pure encoding, no AWS.
 *
 * - The object is JSON lines `{"h": <request hash, hex>, "response": <the result line's response>}`.
 * - The entries are 16 bytes per answer, sorted by hash prefix: the first 8 bytes of the
 *   request hash, then the line's byte offset and length in the object (uint32, big-endian).
 *   A lookup is a binary search; a hit is confirmed against the full hash in the object, so a
 *   prefix collision can only cost a read, never a wrong answer.
 */

export const PREFIX_BYTES = 8;
export const ENTRY_BYTES = 16;

export type StoredResponse = NonNullable<ResultLine['response']>;

export interface PackAnswer {
  hash: Buffer;
  response: StoredResponse;
}

export interface EncodedPack {
  body: Buffer;
  entries: Buffer;
  count: number;
}

/** Encodes answers (one per distinct hash: the first wins) as a pack object and its entries. */
export function encodePack(answers: readonly PackAnswer[]): EncodedPack {
  const seen = new Set<string>();
  const lines: Buffer[] = [];
  const located: { prefix: Buffer; offset: number; length: number }[] = [];
  let offset = 0;
  for (const a of answers) {
    const hex = a.hash.toString('hex');
    if (seen.has(hex)) continue;
    seen.add(hex);
    const line = Buffer.from(`${JSON.stringify({ h: hex, response: a.response })}\n`);
    located.push({ prefix: a.hash.subarray(0, PREFIX_BYTES), offset, length: line.length });
    lines.push(line);
    offset += line.length;
  }
  located.sort((x, y) => Buffer.compare(x.prefix, y.prefix));
  const entries = Buffer.alloc(located.length * ENTRY_BYTES);
  located.forEach((e, i) => {
    e.prefix.copy(entries, i * ENTRY_BYTES);
    entries.writeUInt32BE(e.offset, i * ENTRY_BYTES + PREFIX_BYTES);
    entries.writeUInt32BE(e.length, i * ENTRY_BYTES + PREFIX_BYTES + 4);
  });
  return { body: Buffer.concat(lines), entries, count: located.length };
}

/** Where in its pack object the answer to `hash` may be, by binary search of the entries. */
export function findEntry(
  entries: Uint8Array,
  hash: Uint8Array,
): { offset: number; length: number } | undefined {
  const buf = Buffer.from(entries.buffer, entries.byteOffset, entries.byteLength);
  const prefix = Buffer.from(hash.buffer, hash.byteOffset, PREFIX_BYTES);
  let lo = 0;
  let hi = Math.floor(buf.length / ENTRY_BYTES) - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const at = mid * ENTRY_BYTES;
    const c = prefix.compare(buf, at, at + PREFIX_BYTES);
    if (c === 0)
      return { offset: buf.readUInt32BE(at + PREFIX_BYTES), length: buf.readUInt32BE(at + PREFIX_BYTES + 4) };
    if (c > 0) lo = mid + 1;
    else hi = mid - 1;
  }
  return undefined;
}

/**
 * The stored response at `offset` of a pack object, from `bytes` (the object's bytes from
 * `rangeStart` on), when the line there is the answer to exactly `hash`; undefined otherwise.
 */
export function answerAt(
  bytes: Buffer,
  rangeStart: number,
  at: { offset: number; length: number },
  hash: Buffer,
): StoredResponse | undefined {
  const start = at.offset - rangeStart;
  if (start < 0 || start + at.length > bytes.length) return undefined;
  try {
    const line = JSON.parse(bytes.subarray(start, start + at.length).toString('utf8')) as {
      h?: unknown;
      response?: StoredResponse;
    };
    return line.h === hash.toString('hex') && line.response ? line.response : undefined;
  } catch {
    return undefined;
  }
}
