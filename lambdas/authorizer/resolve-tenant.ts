import type { ApiKeysRepo } from '../../core/adapters/api-keys-repo.js';

const CACHE_MS = 5 * 60_000;
const cache = new Map<string, { tenant: string | undefined; at: number }>();

/** `Bearer <key>` → tenant, or undefined for a missing or unknown key. */
export async function resolveTenant(
  repo: Pick<ApiKeysRepo, 'tenantFor'>,
  authorization: string | undefined,
  now = Date.now(),
): Promise<string | undefined> {
  const match = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
  if (!match?.[1]) return undefined;
  const key = match[1];
  const hit = cache.get(key);
  if (hit && now - hit.at < CACHE_MS) return hit.tenant;
  const tenant = await repo.tenantFor(key);
  // Unknown keys are not cached, so a key registered a moment ago works at once.
  if (tenant) cache.set(key, { tenant, at: now });
  return tenant;
}
