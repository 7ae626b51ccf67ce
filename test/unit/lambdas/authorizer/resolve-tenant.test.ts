import { beforeEach, describe, expect, it, vi } from 'vitest';

type ResolveTenant = typeof import('../../../../lambdas/authorizer/resolve-tenant.js').resolveTenant;

const T0 = 1_700_000_000_000;
const CACHE_MS = 5 * 60_000;

let resolveTenant: ResolveTenant;
const tenantFor = vi.fn<(key: string) => Promise<string | undefined>>();
const repo = { tenantFor };

beforeEach(async () => {
  // The cache lives in the module: a fresh module per test keeps tests independent.
  vi.resetModules();
  ({ resolveTenant } = await import('../../../../lambdas/authorizer/resolve-tenant.js'));
  tenantFor.mockReset();
  tenantFor.mockImplementation(async (key) => ({ 'sk-acme': 'acme', 'sk-beta': 'beta' })[key]);
});

describe('resolveTenant', () => {
  it('resolves a Bearer key to its tenant', async () => {
    expect(await resolveTenant(repo, 'Bearer sk-acme', T0)).toBe('acme');
    expect(tenantFor).toHaveBeenCalledExactlyOnceWith('sk-acme');
  });

  it.each(['bearer sk-acme', 'BEARER sk-acme', 'Bearer   sk-acme', 'Bearer\tsk-acme'])(
    'accepts the scheme in any case and any whitespace: %j',
    async (header) => {
      expect(await resolveTenant(repo, header, T0)).toBe('acme');
      expect(tenantFor).toHaveBeenCalledWith('sk-acme');
    },
  );

  it.each([
    ['no header', undefined],
    ['an empty header', ''],
    ['a bare key', 'sk-acme'],
    ['another scheme', 'Basic c2stYWNtZTo='],
    ['the scheme alone', 'Bearer'],
    ['the scheme and a space', 'Bearer '],
    ['two tokens', 'Bearer sk-acme extra'],
    ['a prefix before the scheme', 'xBearer sk-acme'],
  ])('returns undefined for %s, without a lookup', async (_name, header) => {
    expect(await resolveTenant(repo, header, T0)).toBeUndefined();
    expect(tenantFor).not.toHaveBeenCalled();
  });

  it('returns undefined for an unknown key', async () => {
    expect(await resolveTenant(repo, 'Bearer sk-nobody', T0)).toBeUndefined();
    expect(tenantFor).toHaveBeenCalledExactlyOnceWith('sk-nobody');
  });

  it('caches a known key for five minutes', async () => {
    await resolveTenant(repo, 'Bearer sk-acme', T0);
    expect(await resolveTenant(repo, 'Bearer sk-acme', T0 + 1)).toBe('acme');
    expect(await resolveTenant(repo, 'bearer  sk-acme', T0 + CACHE_MS - 1)).toBe('acme');
    expect(tenantFor).toHaveBeenCalledTimes(1);
  });

  it('looks a cached key up again once five minutes have passed', async () => {
    await resolveTenant(repo, 'Bearer sk-acme', T0);
    tenantFor.mockResolvedValue(undefined); // the key was disabled meanwhile
    expect(await resolveTenant(repo, 'Bearer sk-acme', T0 + CACHE_MS)).toBeUndefined();
    expect(tenantFor).toHaveBeenCalledTimes(2);
  });

  it('restarts the cache period from the fresh lookup', async () => {
    await resolveTenant(repo, 'Bearer sk-acme', T0);
    await resolveTenant(repo, 'Bearer sk-acme', T0 + CACHE_MS);
    await resolveTenant(repo, 'Bearer sk-acme', T0 + 2 * CACHE_MS - 1);
    expect(tenantFor).toHaveBeenCalledTimes(2);
  });

  it('does not cache unknown keys, so a key registered a moment ago works at once', async () => {
    expect(await resolveTenant(repo, 'Bearer sk-new', T0)).toBeUndefined();
    tenantFor.mockResolvedValueOnce('newco');
    expect(await resolveTenant(repo, 'Bearer sk-new', T0 + 1)).toBe('newco');
    expect(tenantFor).toHaveBeenCalledTimes(2);
  });

  it('keeps keys apart in the cache', async () => {
    expect(await resolveTenant(repo, 'Bearer sk-acme', T0)).toBe('acme');
    expect(await resolveTenant(repo, 'Bearer sk-beta', T0)).toBe('beta');
    expect(await resolveTenant(repo, 'Bearer sk-acme', T0 + 1)).toBe('acme');
    expect(await resolveTenant(repo, 'Bearer sk-beta', T0 + 1)).toBe('beta');
    expect(tenantFor).toHaveBeenCalledTimes(2);
  });

  it('passes a lookup failure on and caches nothing', async () => {
    tenantFor.mockRejectedValueOnce(new Error('throttled'));
    await expect(resolveTenant(repo, 'Bearer sk-acme', T0)).rejects.toThrow('throttled');
    expect(await resolveTenant(repo, 'Bearer sk-acme', T0 + 1)).toBe('acme');
    expect(tenantFor).toHaveBeenCalledTimes(2);
  });

  it('uses the wall clock when no time is given', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      vi.setSystemTime(T0);
      await resolveTenant(repo, 'Bearer sk-acme');
      vi.setSystemTime(T0 + CACHE_MS - 1);
      await resolveTenant(repo, 'Bearer sk-acme');
      expect(tenantFor).toHaveBeenCalledTimes(1);
      vi.setSystemTime(T0 + CACHE_MS);
      await resolveTenant(repo, 'Bearer sk-acme');
      expect(tenantFor).toHaveBeenCalledTimes(2);
    } finally {
      vi.useRealTimers();
    }
  });
});
