/**
 * Usage and cost on a batch, as issue 10 describes them: OpenAI's `usage` on the batch object
 * and openbatch's `openbatch.cost` estimate. The server side is being built; until its types land
 * in `core/openai/schemas.ts` these are the portal's reading of the contract, and the components
 * take them as props only: no page shows them before the API reports them.
 */

/** OpenAI's batch `usage`: tokens summed over the batch's responses. */
export interface BatchUsage {
  input_tokens: number;
  input_tokens_details: { cached_tokens: number };
  output_tokens: number;
  output_tokens_details: { reasoning_tokens: number };
  total_tokens: number;
}

/**
 * openbatch's cost estimate, in US dollars, from the environment's price table: what the work
 * cost on each pool, and what the same work would have cost all on dedicated capacity.
 */
export interface CostEstimate {
  estimated_usd: number;
  by_pool: { spot: number; dedicated: number };
  all_dedicated_usd: number;
}
