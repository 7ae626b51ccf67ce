import { describe, expect, it, vi } from 'vitest';
import { ApiClient, ApiError } from '../../portal/src/lib/api-client.js';

function client(respond: (url: string, init?: RequestInit) => Response, onUnauthorized = vi.fn()) {
  const fetch = vi.fn(async (url: string | URL | Request, init?: RequestInit) => respond(String(url), init));
  return {
    api: new ApiClient({ baseUrl: 'http://api.test/v1/', apiKey: 'sk-1', fetch, onUnauthorized }),
    fetch,
  };
}

describe('ApiClient', () => {
  it('sends the bearer key to the configured base URL with the query', async () => {
    const { api, fetch } = client(() => Response.json({ object: 'list', data: [] }));
    await api.get('/batches', { limit: 100, after: undefined });
    const [url, init] = fetch.mock.calls[0] ?? [];
    expect(String(url)).toBe('http://api.test/v1/batches?limit=100');
    const headers = (init?.headers ?? {}) as Record<string, string>;
    expect(headers.authorization).toBe('Bearer sk-1');
  });

  it("turns OpenAI's error body into an ApiError and reports a 401", async () => {
    const onUnauthorized = vi.fn();
    const { api } = client(
      () =>
        Response.json(
          {
            error: {
              message: 'Incorrect API key provided.',
              type: 'invalid_request_error',
              param: null,
              code: 'invalid_api_key',
            },
          },
          { status: 401 },
        ),
      onUnauthorized,
    );
    const err = await api.get('/batches').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({
      status: 401,
      message: 'Incorrect API key provided.',
      code: 'invalid_api_key',
    });
    expect(onUnauthorized).toHaveBeenCalledOnce();
  });

  it('explains a network failure without a status', async () => {
    const api = new ApiClient({
      baseUrl: 'http://api.test/v1',
      apiKey: 'k',
      fetch: async () => {
        throw new TypeError('fetch failed');
      },
    });
    await expect(api.get('/batches')).rejects.toMatchObject({
      status: 0,
      message: expect.stringContaining('Cannot reach'),
    });
  });

  it('posts JSON bodies', async () => {
    const { api, fetch } = client(() => Response.json({ id: 'batch_1' }));
    await api.post('/batches/batch_1/cancel');
    await api.post('/batches', { input_file_id: 'f' });
    expect(fetch.mock.calls[0]?.[1]?.body).toBeUndefined();
    expect(fetch.mock.calls[1]?.[1]?.body).toBe('{"input_file_id":"f"}');
  });
});
