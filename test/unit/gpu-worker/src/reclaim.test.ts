import { describe, expect, it } from 'vitest';
import { handOffFor, spotNotice } from '../../../../gpu-worker/src/reclaim.js';

describe('handOffFor', () => {
  it.each([
    ['spot', 'reclaim', 'dedicated'],
    ['spot', 'unknown', 'dedicated'],
    ['spot', 'no-notice', 'own-pool'],
    ['dedicated', 'no-notice', 'own-pool'],
    ['dedicated', 'unknown', 'own-pool'],
  ] as const)('%s task, notice %s → %s', (pool, notice, to) => {
    expect(handOffFor(pool, notice)).toBe(to);
  });
});

/** A stand-in for IMDSv2: the token call, then the instance-action item answering `status`. */
const imds = (status: number): typeof fetch =>
  (async (url: string | URL | Request) => {
    if (String(url).endsWith('/api/token')) return new Response('token');
    return new Response(status === 200 ? '{"action":"terminate"}' : '', { status });
  }) as typeof fetch;

const onEcs = { ECS_CONTAINER_METADATA_URI_V4: 'http://169.254.170.2/v4/x' };

describe('spotNotice', () => {
  it('reads a scheduled reclaim from instance-action, and 404 as no notice', async () => {
    expect(await spotNotice(onEcs, imds(200))).toBe('reclaim');
    expect(await spotNotice(onEcs, imds(404))).toBe('no-notice');
  });

  it('is unknown when the metadata service cannot be reached', async () => {
    const down = (async () => {
      throw new TypeError('fetch failed');
    }) as typeof fetch;
    expect(await spotNotice(onEcs, down)).toBe('unknown');
  });

  it('asks nothing off ECS', async () => {
    let asked = false;
    const spy = (async () => {
      asked = true;
      return new Response('');
    }) as typeof fetch;
    expect(await spotNotice({}, spy)).toBe('unknown');
    expect(asked).toBe(false);
  });
});
