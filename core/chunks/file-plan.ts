import { hash } from 'node:crypto';
import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import { z } from 'zod';
import type { Limits } from '../config.js';
import { isBlank } from '../lines/split-lines.js';
import { catalogOf, modelIds } from '../models/catalog.js';
import { isSupportedEndpoint } from '../openai/schemas.js';
import { type ChunkRange, type PlanResult, type PlanRules, planChunks } from './plan-chunks.js';

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
 * Above this many chunks a plan is not kept (the file is validated at create instead): it rides
 * in the file's and the batch's items, under DynamoDB's 400 KB item limit with room to spare
 * (about 40 bytes a chunk: 20 KB at most), and every read of the batch while it validates reads it.
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
  const planner = new StreamingFilePlanner(limits);
  await planner.feed(content);
  return planner.done();
}

/**
 * The first non-blank line of `head`: `pending` while it has not ended yet; at the end of the
 * file (`atEnd`) a last line without a newline counts, and undefined means there is none.
 */
function firstLine(head: Buffer, atEnd: boolean): Buffer | 'pending' | undefined {
  let start = 0;
  while (start < head.length) {
    const nl = head.indexOf(0x0a, start);
    if (nl === -1 && !atEnd) return 'pending';
    const end = nl === -1 ? head.length : nl;
    const line = head.subarray(start, end);
    if (!isBlank(line)) return line;
    start = end + 1;
  }
  return atEnd ? undefined : 'pending';
}

/**
 * Plans a file whose bytes pass by once, in pieces (the Uploads API stitching its parts into the
 * file; `planUploadedFile` feeds a file in memory as one piece): `feed` each piece in order, then
 * `done`. The planner reads beside
 * the write, through a bounded buffer, so memory holds a piece or two, never the file. It gives
 * up quietly (no plan, as for a file with errors) when the first line names no supported
 * endpoint or is longer than a line may be.
 */
export class StreamingFilePlanner {
  private head: Buffer[] = [];
  private headBytes = 0;
  private channel: PassThrough | undefined;
  private planning: Promise<PlanResult> | undefined;
  private settled = false;
  private endpoint: string | undefined;
  private gaveUp = false;
  private newlines = 0;
  private lastByte = 0x0a;

  constructor(private readonly limits: Limits) {}

  async feed(piece: Buffer): Promise<void> {
    if (piece.length === 0) return;
    for (let i = piece.indexOf(0x0a); i !== -1; i = piece.indexOf(0x0a, i + 1)) this.newlines += 1;
    this.lastByte = piece[piece.length - 1] as number;
    if (this.gaveUp || this.settled) return;
    if (!this.channel) {
      this.head.push(piece);
      this.headBytes += piece.length;
      const first = firstLine(Buffer.concat(this.head), false);
      if (first === 'pending') {
        if (this.headBytes > this.limits.MAX_LINE_BYTES) this.giveUp();
        return;
      }
      if (!this.start(first)) return;
      for (const b of this.head.splice(0)) await this.write(b);
      return;
    }
    await this.write(piece);
  }

  /** The stored plan (undefined without one) and the lines validated. */
  async done(): Promise<{ plan: string | undefined; lines: number }> {
    if (!this.channel && !this.gaveUp) {
      // The file ended before a newline did: its last line, unterminated, is the first request.
      const first = firstLine(Buffer.concat(this.head), true);
      if (first !== 'pending' && this.start(first)) for (const b of this.head.splice(0)) await this.write(b);
    }
    if (!this.channel || !this.planning || !this.endpoint) return { plan: undefined, lines: 0 };
    this.channel.end();
    // A planner that failed (it should not) costs the plan, never the upload.
    const result = await this.planning.catch(() => undefined);
    const lines = this.newlines + (this.lastByte === 0x0a ? 0 : 1);
    if (!result?.ok || result.chunks.length > MAX_PLANNED_CHUNKS) return { plan: undefined, lines };
    const plan = { endpoint: this.endpoint, total: result.total, model: result.model, chunks: result.chunks };
    return { plan: encodeFilePlan(plan, this.limits), lines };
  }

  private start(first: Buffer | undefined): boolean {
    let url: unknown;
    try {
      url = first && (JSON.parse(first.toString('utf8')) as { url?: unknown })?.url;
    } catch {
      url = undefined;
    }
    if (typeof url !== 'string' || !isSupportedEndpoint(url)) {
      this.giveUp();
      return false;
    }
    this.endpoint = url;
    this.channel = new PassThrough();
    // A planner that stopped early closes the channel; a write racing that is dropped, not thrown.
    this.channel.on('error', () => {});
    this.planning = planChunks(this.channel, planRules(this.limits, url));
    // The planner may stop before the end (too many requests): from then on nothing is written.
    void this.planning.then(
      () => {
        this.settled = true;
      },
      () => {
        this.settled = true;
      },
    );
    return true;
  }

  private async write(piece: Buffer): Promise<void> {
    const channel = this.channel as PassThrough;
    if (this.settled || channel.destroyed || channel.write(piece)) return;
    await Promise.race([once(channel, 'drain'), this.planning]);
  }

  private giveUp(): void {
    this.gaveUp = true;
    this.head = [];
  }
}
