import type { PlannerState } from './plan-chunks.js';

/**
 * A validation pass's state as one S3 object between invocations: a 4-byte length, the JSON of
 * everything but the custom_id digests, then the digests as raw bytes (16 each), so a million
 * requests cost 16 MB and no JSON escaping.
 */
export function encodePlannerState(state: PlannerState): Buffer {
  const { ids, ...rest } = state;
  const header = Buffer.from(JSON.stringify(rest));
  const length = Buffer.alloc(4);
  length.writeUInt32BE(header.length);
  return Buffer.concat([length, header, ids]);
}

export function decodePlannerState(bytes: Buffer): PlannerState {
  const length = bytes.readUInt32BE(0);
  const rest = JSON.parse(bytes.toString('utf8', 4, 4 + length)) as Omit<PlannerState, 'ids'>;
  const ids = bytes.subarray(4 + length);
  if (ids.length % 16 !== 0) throw new Error('Corrupt validation state: digest bytes not a multiple of 16');
  return { ...rest, model: rest.model ?? undefined, ids };
}
