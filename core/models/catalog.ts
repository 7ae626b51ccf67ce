import { z } from 'zod';
import type { PoolName, QueueName } from '../app/declaration.js';

/**
 * The deployment's model catalog (MODEL_CATALOG, docs/deploy.md "Models and pools"): which
 * models a batch may name, and which pool group runs each. A pool group is one spot and one
 * dedicated pool with their own queues, workers and engine. Pure: no AWS, no environment.
 */

/**
 * The pool group on the deployment's original queues (`<prefix>-spot`, `<prefix>-dedicated`),
 * its original ECS services and metric dimensions: adding a model to a deployed environment
 * adds resources and replaces none.
 */
export const DEFAULT_POOL_GROUP = 'default';

/** Lowercase, as it becomes part of queue names, ECS service names and CloudFormation ids. */
export const poolGroupName = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,23}$/, 'a pool group is lowercase letters, digits and hyphens (at most 24)');

export const catalogModelSchema = z.object({
  /** The name requests use (`body.model`), and the name the engine serves the model under. */
  id: z.string().min(1),
  /** The pool group that runs it. */
  pool: poolGroupName.default(DEFAULT_POOL_GROUP),
  /** OpenAI's Model `owned_by`. */
  owned_by: z.string().min(1).default('openbatch'),
  /** OpenAI's Model `created`, Unix seconds. */
  created: z.number().int().min(0).default(0),
});

/** A pool's task count bounds: what its ECS service may scale between. */
export const poolBoundsSchema = z
  .object({ min_tasks: z.number().int().min(0), max_tasks: z.number().int().min(0) })
  .refine((b) => b.min_tasks <= b.max_tasks, 'min_tasks is above max_tasks');
export type PoolBounds = z.infer<typeof poolBoundsSchema>;

export const poolGroupSchema = z.object({
  /**
   * The OpenAI-compatible engine the group's workers call. Unset: the engine the worker is
   * given (ENGINE_URL: its task's engine container on AWS), else the simulated engine.
   */
  engine_url: z.string().url().optional(),
  /**
   * The group's pools' bounds (the CDK app writes its pools' minWorkers and maxWorkers), which
   * core/policy decides within. Unset: the deployment's SLA_SPOT_* and SLA_DEDICATED_* bounds.
   */
  spot: poolBoundsSchema.optional(),
  dedicated: poolBoundsSchema.optional(),
});

export const catalogSchema = z
  .object({
    pools: z.record(poolGroupName, poolGroupSchema).default({}),
    models: z.array(catalogModelSchema).min(1),
  })
  .superRefine((c, ctx) => {
    const seen = new Set<string>();
    for (const [i, m] of c.models.entries()) {
      if (seen.has(m.id))
        ctx.addIssue({ code: 'custom', path: ['models', i, 'id'], message: `duplicate model '${m.id}'` });
      seen.add(m.id);
    }
    const used = new Set(c.models.map((m) => m.pool));
    for (const group of Object.keys(c.pools))
      if (!used.has(group))
        ctx.addIssue({
          code: 'custom',
          path: ['pools', group],
          message: `no model runs on pool group '${group}'`,
        });
  });
export type Catalog = z.infer<typeof catalogSchema>;
export type CatalogModel = z.infer<typeof catalogModelSchema>;

/**
 * The catalog when none is configured: the simulated engine's models (every name the local
 * runtime's tests and examples send), all on the default pool group, so `npm start` needs no
 * settings.
 */
export const simulatedModels = ['sim', 'sim-small', 'test-model', 'tiny', 'm', 'bench-model'] as const;

export const simulatedCatalog: Catalog = {
  pools: {},
  models: simulatedModels.map((id) => ({ id, pool: DEFAULT_POOL_GROUP, owned_by: 'openbatch', created: 0 })),
};

/** Parses MODEL_CATALOG's JSON text, naming the problem. */
export function parseCatalog(text: string): Catalog {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error('MODEL_CATALOG is not JSON');
  }
  const parsed = catalogSchema.safeParse(json);
  if (!parsed.success)
    throw new Error(
      `MODEL_CATALOG: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(catalog)'}: ${i.message}`).join('; ')}`,
    );
  return parsed.data;
}

/**
 * The deployment's catalog: MODEL_CATALOG when set; else MODELS (the older comma-separated
 * allowlist), every model on the default pool group; else the simulated models.
 */
export function catalogOf(settings: {
  MODEL_CATALOG?: Catalog | undefined;
  MODELS: readonly string[];
}): Catalog {
  if (settings.MODEL_CATALOG) return settings.MODEL_CATALOG;
  if (settings.MODELS.length > 0)
    return {
      pools: {},
      models: settings.MODELS.map((id) => ({
        id,
        pool: DEFAULT_POOL_GROUP,
        owned_by: 'openbatch',
        created: 0,
      })),
    };
  return simulatedCatalog;
}

export const modelIds = (catalog: Catalog): string[] => catalog.models.map((m) => m.id);

export const findModel = (catalog: Catalog, id: string): CatalogModel | undefined =>
  catalog.models.find((m) => m.id === id);

/** The catalog's pool groups, in the order their first model is listed. */
export const poolGroups = (catalog: Catalog): string[] => [...new Set(catalog.models.map((m) => m.pool))];

/**
 * The pool group that runs `model`. A batch without a model (none validated yet) or with one the
 * catalog no longer lists runs on the default group, as every batch did before pool groups.
 */
export const poolGroupOf = (catalog: Catalog, model: string | undefined): string =>
  (model === undefined ? undefined : findModel(catalog, model)?.pool) ?? DEFAULT_POOL_GROUP;

/** The bounds the catalog gives a group's pools, where it gives them. */
export const poolBoundsOf = (
  catalog: Catalog,
  group: string,
): { spot?: PoolBounds | undefined; dedicated?: PoolBounds | undefined } => ({
  spot: catalog.pools[group]?.spot,
  dedicated: catalog.pools[group]?.dedicated,
});

/** A group's engine URL, when the catalog names one. */
export const engineUrlOf = (catalog: Catalog, group: string): string | undefined =>
  catalog.pools[group]?.engine_url;

/**
 * Where a chunk message goes: a pool's queue of one pool group. The default group's queues are
 * the declared `spot` and `dedicated`; another group's are `spot@<group>` and `dedicated@<group>`,
 * found through POOL_QUEUE_URLS (core/app/resources.ts).
 */
export type PoolQueue = PoolName | `${PoolName}@${string}`;
export type QueueTarget = QueueName | PoolQueue;

export const poolQueue = (pool: PoolName, group: string): PoolQueue =>
  group === DEFAULT_POOL_GROUP ? pool : `${pool}@${group}`;

/** The pool queue of `model`'s group. */
export const poolQueueOf = (catalog: Catalog, model: string | undefined, pool: PoolName): PoolQueue =>
  poolQueue(pool, poolGroupOf(catalog, model));

/** Splits `spot@group` into its pool and group; undefined for a plain queue name. */
export function parsePoolQueue(target: QueueTarget): { pool: PoolName; group: string } | undefined {
  const at = target.indexOf('@');
  if (at < 0) return undefined;
  return { pool: target.slice(0, at) as PoolName, group: target.slice(at + 1) };
}

/** POOL_QUEUE_URLS: the pool queues of every group besides the default, by group. */
export const poolQueueUrlsSchema = z.record(
  poolGroupName,
  z.object({ spot: z.string().min(1), dedicated: z.string().min(1) }),
);
export type PoolQueueUrls = z.infer<typeof poolQueueUrlsSchema>;

/** The pool groups that need queues of their own (every group but the default). */
export const extraPoolGroups = (catalog: Catalog): string[] =>
  poolGroups(catalog).filter((g) => g !== DEFAULT_POOL_GROUP);

/** A group's queue's logical name, for physical names: `spot` or `<group>-spot`. */
export const poolQueueLogical = (pool: PoolName, group: string): string =>
  group === DEFAULT_POOL_GROUP ? pool : `${group}-${pool}`;
