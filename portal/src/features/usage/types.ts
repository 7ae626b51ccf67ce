/**
 * Usage and cost on a batch, from the API contract: OpenAI's `usage` on the batch object
 * (core/results/usage.ts) and openbatch's `openbatch.cost` estimate (core/pricing/cost.ts).
 * Type-only imports, erased at build time.
 */
export type { CostEstimate } from '../../../../core/pricing/cost.js';
export type { BatchUsage } from '../../../../core/results/usage.js';
