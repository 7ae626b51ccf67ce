import { z } from 'zod';

/** Token counts summed over requests: what a chunk adds to its batch once, when it completes. */
export interface TokenUsage {
  input: number;
  cached: number;
  output: number;
  reasoning: number;
}

export const noUsage = (): TokenUsage => ({ input: 0, cached: 0, output: 0, reasoning: 0 });

const count = z.number().int().nonnegative().catch(0);
const details = <K extends string>(key: K) =>
  z
    .object({ [key]: count.optional() } as Record<K, z.ZodOptional<typeof count>>)
    .partial()
    .nullish()
    .catch(undefined);

/**
 * The usage object of any endpoint's response body: chat and legacy completions and
 * embeddings count `prompt_tokens` / `completion_tokens`, the Responses API
 * `input_tokens` / `output_tokens`. An engine that reports no usage (or nonsense) counts 0:
 * the answer is still the user's, and the totals never turn into NaN.
 */
const usageSchema = z
  .object({
    prompt_tokens: count.optional(),
    completion_tokens: count.optional(),
    input_tokens: count.optional(),
    output_tokens: count.optional(),
    prompt_tokens_details: details('cached_tokens'),
    input_tokens_details: details('cached_tokens'),
    completion_tokens_details: details('reasoning_tokens'),
    output_tokens_details: details('reasoning_tokens'),
  })
  .passthrough();

/** Token usage of one response body; zeros when it carries none. Pure. */
export function usageOfBody(body: unknown): TokenUsage {
  if (typeof body !== 'object' || body === null) return noUsage();
  const raw = (body as { usage?: unknown }).usage;
  const parsed = usageSchema.safeParse(raw);
  if (!parsed.success) return noUsage();
  const u = parsed.data;
  return {
    input: u.input_tokens ?? u.prompt_tokens ?? 0,
    cached: u.input_tokens_details?.cached_tokens ?? u.prompt_tokens_details?.cached_tokens ?? 0,
    output: u.output_tokens ?? u.completion_tokens ?? 0,
    reasoning:
      u.output_tokens_details?.reasoning_tokens ?? u.completion_tokens_details?.reasoning_tokens ?? 0,
  };
}

export function addUsage(into: TokenUsage, more: TokenUsage): TokenUsage {
  into.input += more.input;
  into.cached += more.cached;
  into.output += more.output;
  into.reasoning += more.reasoning;
  return into;
}

/** OpenAI's Batch `usage` object. */
export interface BatchUsage {
  input_tokens: number;
  input_tokens_details: { cached_tokens: number };
  output_tokens: number;
  output_tokens_details: { reasoning_tokens: number };
  total_tokens: number;
}

export const toBatchUsage = (u: TokenUsage): BatchUsage => ({
  input_tokens: u.input,
  input_tokens_details: { cached_tokens: u.cached },
  output_tokens: u.output,
  output_tokens_details: { reasoning_tokens: u.reasoning },
  total_tokens: u.input + u.output,
});
