import { ConfigError } from '../config.js';
import {
  type PoolQueueUrls,
  parsePoolQueue,
  poolQueueUrlsSchema,
  type QueueTarget,
} from '../models/catalog.js';
import { type Binding, bindingsOf } from './access.js';
import { type BucketName, POOL_QUEUE_URLS, type TableName, type Uses } from './declaration.js';

/**
 * A function touched a resource its declaration does not name. On AWS it would have no
 * variable and no grant; here it fails at once, naming both, wherever it runs.
 */
export class WiringError extends Error {
  override readonly name = 'WiringError';
}

/** Physical names of the resources one principal (a function or the worker) declared. */
export interface Resources {
  readonly principal: string;
  bucket(logical: BucketName): string;
  table(logical: TableName): string;
  /** A declared queue's URL, or (`spot@<group>`) a pool group's pool queue from POOL_QUEUE_URLS. */
  queue(target: QueueTarget): string;
}

/**
 * Reads, from `env`, the name of every resource `uses` declares, failing fast (every missing
 * variable at once) when one is absent. Asking for a resource that is not declared throws a
 * WiringError naming the principal and the resource, instead of handing out an empty name.
 */
export function resolveResources(principal: string, uses: Uses, env: NodeJS.ProcessEnv): Resources {
  const bindings = bindingsOf(uses);
  const missing = bindings.filter((b) => !env[b.env]);
  if (missing.length > 0) {
    throw new ConfigError(
      `${principal}: missing ${missing.map((b) => `${b.env} (${b.kind} ${b.logical})`).join(', ')}`,
    );
  }
  const names = new Map(bindings.map((b) => [key(b.kind, b.logical), env[b.env] as string]));
  const lookup = (kind: Binding['kind'], logical: string): string => {
    const name = names.get(key(kind, logical));
    if (name === undefined) {
      throw new WiringError(
        `${principal} uses ${kind} '${logical}' but does not declare it (core/app/declaration.ts)`,
      );
    }
    return name;
  };
  let groups: PoolQueueUrls | undefined;
  const poolGroupQueue = (pool: 'spot' | 'dedicated', group: string): string => {
    lookup('queue', pool); // only a principal that sends to a pool's queues sends to any group's
    groups ??= parsePoolQueueUrls(env[POOL_QUEUE_URLS]);
    const url = groups[group]?.[pool];
    if (!url)
      throw new WiringError(
        `${principal} sends to the ${pool} queue of pool group '${group}', which ${POOL_QUEUE_URLS} does not name`,
      );
    return url;
  };
  return {
    principal,
    bucket: (b) => lookup('bucket', b),
    table: (t) => lookup('table', t),
    queue: (q) => {
      const pq = parsePoolQueue(q);
      return pq ? poolGroupQueue(pq.pool, pq.group) : lookup('queue', q);
    },
  };
}

/** POOL_QUEUE_URLS's JSON ({} when unset: no pool group besides the default). */
export function parsePoolQueueUrls(text: string | undefined): PoolQueueUrls {
  if (!text) return {};
  const parsed = poolQueueUrlsSchema.safeParse(JSON.parse(text));
  if (!parsed.success) throw new ConfigError(`${POOL_QUEUE_URLS}: ${parsed.error.issues[0]?.message}`);
  return parsed.data;
}

const key = (kind: string, logical: string) => `${kind}:${logical}`;

/** The environment that names the resources `uses` declares, from their physical names. */
export function resourceEnvironment(uses: Uses, physical: (b: Binding) => string): Record<string, string> {
  return Object.fromEntries(bindingsOf(uses).map((b) => [b.env, physical(b)]));
}
