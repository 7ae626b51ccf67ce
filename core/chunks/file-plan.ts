import { hash } from 'node:crypto';
import { z } from 'zod';
import type { Limits } from '../config.js';
import { isBlank } from '../lines/split-lines.js';
import { catalogOf, modelIds } from '../models/catalog.js';
import { isSupportedEndpoint } from '../openai/schemas.js';
import { type ChunkRange, type PlanRules, planChunks } from './plan-chunks.js';

/**
 * A batch input file's validation, done once when the file is uploaded (its bytes are in the
 * files function's memory then) and kept with the file, so that a batch created from it is
 * scheduled without reading and checking the whole file again: create → first request no
 * longer pays for validation.
 *
 * Only a file that validated clean gets a plan. It is used only where it still applies: the
 * batch's endpoint is the one every line named, and the rules it was made under (request and
 * line limits, chunk sizes, the model catalog) are the scheduler's own. Anything else (a file
 * with errors, a batch for another endpoint, a deployment whose limits changed since the
 * upload) is validated at create as always, with the same line-numbered errors.
 */
export interface FilePlan {
  endpoint: string;
  total: number;
  model: string | undefined;
  chunks: ChunkRange[];
}

/** The planner's rules for a batch of `endpoint`: the scheduler and the upload use the same. */
export function planRules(limits: Limits, endpoint: string): PlanRules {
  // The catalog's models are the allowlist: any other model fails its line with model_not_found.
  return { endpoint, limits: { ...limits, MODELS: modelIds(catalogOf(limits)) } };
}

/** The rules a plan depends on, as a short digest: a plan made under other rules is not used. */
export function rulesDigest(limits: Limits): string {
  const { limits: l } = planRules(limits, '');
  const rules = [
    l.MAX_REQUESTS_PER_BATCH,
    l.MAX_LINE_BYTES,
    l.CHUNK_MAX_LINES,
    l.CHUNK_MAX_BYTES,
    l.CHUNK_TAIL_MIN_LINES ?? 0,
    l.MODELS,
  ];
  return hash('sha256', JSON.stringify(rules), 'base64url').slice(0, 16);
}

/**
 * Above this many chunks a plan is not kept: it is stored in the file's and the batch's items
 * (DynamoDB's 400 KB item limit), and such a file validates in well under a second at create.
 */
export const MAX_PLANNED_CHUNKS = 512;

const int = z.number().int().min(0);
/** Stored form: one string attribute; each chunk as [byteStart, byteEnd, lineStart, lineEnd, requests]. */
const storedPlanSchema = z.object({
  v: z.literal(1),
  rules: z.string(),
  endpoint: z.string(),
  total: int,
  model: z.string().optional(),
  chunks: z.array(z.tuple([int, int, int, int, int])).min(1),
});

export function encodeFilePlan(plan: FilePlan, limits: Limits): string {
  return JSON.stringify({
    v: 1,
    rules: rulesDigest(limits),
    endpoint: plan.endpoint,
    total: plan.total,
    ...(plan.model !== undefined ? { model: plan.model } : {}),
    chunks: plan.chunks.map((c) => [c.byteStart, c.byteEnd, c.lineStart, c.lineEnd, c.requests]),
  } satisfies z.input<typeof storedPlanSchema>);
}

/**
 * The stored plan when it applies to a batch of `endpoint` under `limits`; undefined when there
 * is none, it is unreadable, or it was made for another endpoint or under other rules.
 */
export function usableFilePlan(
  stored: string | undefined,
  endpoint: string,
  limits: Limits,
): FilePlan | undefined {
  if (!stored) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(stored);
  } catch {
    return undefined;
  }
  const parsed = storedPlanSchema.safeParse(raw);
  if (!parsed.success) return undefined;
  const p = parsed.data;
  if (p.endpoint !== endpoint || p.rules !== rulesDigest(limits)) return undefined;
  return {
    endpoint: p.endpoint,
    total: p.total,
    model: p.model,
    chunks: p.chunks.map(([byteStart, byteEnd, lineStart, lineEnd, requests], chunk) => ({
      chunk,
      byteStart,
      byteEnd,
      lineStart,
      lineEnd,
      requests,
    })),
  };
}

/** The endpoint the file's first request names, if it names a supported one. */
function firstEndpoint(content: Buffer): string | undefined {
  let start = 0;
  while (start < content.length) {
    const nl = content.indexOf(0x0a, start);
    const end = nl === -1 ? content.length : nl;
    const line = content.subarray(start, end);
    start = end + 1;
    if (isBlank(line)) continue;
    try {
      const url = (JSON.parse(line.toString('utf8')) as { url?: unknown })?.url;
      return typeof url === 'string' && isSupportedEndpoint(url) ? url : undefined;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** Lines in a file's bytes (a last line without a newline counts). */
function lineCount(content: Buffer): number {
  let n = 0;
  for (let i = content.indexOf(0x0a); i !== -1; i = content.indexOf(0x0a, i + 1)) n += 1;
  return content.length > 0 && content[content.length - 1] !== 0x0a ? n + 1 : n;
}

/**
 * Validates an uploaded batch file whole, for the endpoint its first request names, and plans
 * its chunks. `plan`: the stored plan, or undefined when the file has errors (its batches report
 * them at create) or would plan too many chunks to keep. `lines`: the lines validated (none when
 * the first request names no supported endpoint: nothing to validate against).
 */
export async function planUploadedFile(
  content: Buffer,
  limits: Limits,
): Promise<{ plan: string | undefined; lines: number }> {
  const endpoint = firstEndpoint(content);
  if (!endpoint) return { plan: undefined, lines: 0 };
  const result = await planChunks(
    (async function* () {
      yield content;
    })(),
    planRules(limits, endpoint),
  );
  const lines = lineCount(content);
  if (!result.ok || result.chunks.length > MAX_PLANNED_CHUNKS) return { plan: undefined, lines };
  const plan = { endpoint, total: result.total, model: result.model, chunks: result.chunks };
  return { plan: encodeFilePlan(plan, limits), lines };
}
