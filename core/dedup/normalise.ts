import { createHash } from 'node:crypto';

/**
 * Exact deduplication's rules, pure (docs/dedup.md). A request is known by the hash of its
 * normalised form: the tenant, the endpoint and the body with every object's keys sorted
 * (recursively; arrays keep their order). The model is part of the body. JSON numbers are
 * normalised by parsing (`1.0` and `1` are the same request), strings are compared exactly.
 */

/** How a batch deduplicates: `on` reuses deterministic requests only, `include_sampling` all. */
export type DedupMode = 'on' | 'off' | 'include_sampling';

/** The body as canonical JSON: object keys sorted at every depth, no whitespace. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value))
    return `[${value.map((v) => canonicalJson(v === undefined ? null : v)).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * The request's 32-byte identity: SHA-256 of tenant, endpoint and canonical body. The tenant is
 * in the hash as well as in every index key, so an answer can never be found for another tenant.
 */
export function requestHash(tenant: string, url: string, body: Record<string, unknown>): Buffer {
  return createHash('sha256')
    .update(JSON.stringify([tenant, url]))
    .update('\n')
    .update(canonicalJson(body))
    .digest();
}

/** Endpoints whose answers do not depend on sampling. */
const DETERMINISTIC_ENDPOINTS = new Set(['/v1/embeddings']);

/**
 * Whether the engine samples for this request, so that running it again could answer
 * differently: a temperature above 0, or none at all (OpenAI's default is 1), and no `seed`.
 */
export function isSampling(url: string, body: Record<string, unknown>): boolean {
  if (DETERMINISTIC_ENDPOINTS.has(url)) return false;
  if (body.seed !== undefined && body.seed !== null) return false;
  const t = body.temperature;
  if (t === undefined || t === null) return true;
  return typeof t !== 'number' || t > 0;
}

/**
 * Whether a batch in `mode` may reuse an earlier answer for this request, and records its own
 * answer for later batches: never when off, sampling requests only with `include_sampling`.
 */
export function dedupApplies(mode: DedupMode, url: string, body: Record<string, unknown>): boolean {
  if (mode === 'off') return false;
  return mode === 'include_sampling' || !isSampling(url, body);
}

/**
 * The mode a new batch gets: the create request's `openbatch.dedup` (true: `on`, false: `off`),
 * default `on`; a deployment with DEDUP=off turns every batch off.
 */
export function batchDedupMode(
  deployment: 'on' | 'off',
  requested: boolean | 'include_sampling' | undefined,
): DedupMode {
  if (deployment === 'off' || requested === false) return 'off';
  return requested === 'include_sampling' ? 'include_sampling' : 'on';
}

/** The create request's `openbatch.dedup` that gives a batch `mode` (a retry keeps its source's). */
export const dedupRequestOf = (mode: DedupMode): boolean | 'include_sampling' =>
  mode === 'include_sampling' ? mode : mode === 'on';
