import { describe, expect, it } from 'vitest';
import { DEFAULT_COMPLETION_WINDOWS } from '../../core/sla/windows.js';
import {
  ConfigError,
  loadRuntimeConfig,
  parseRuntimeConfig,
} from '../../portal/src/config/runtime-config.js';

describe('runtime config (/config.json)', () => {
  it('reads the API URL and fills in the defaults', () => {
    expect(parseRuntimeConfig({ apiBaseUrl: 'http://127.0.0.1:8080/v1/', environment: 'local' })).toEqual({
      apiBaseUrl: 'http://127.0.0.1:8080/v1',
      environment: 'local',
      completionWindows: ['1h', '4h', '24h', '72h', '7d'],
      directUploadLimitBytes: 4 * 1024 * 1024,
    });
  });

  it("takes the deployment's completion windows, with OpenAI's 24h always among them", () => {
    const base = { apiBaseUrl: 'http://127.0.0.1:8080/v1' };
    expect(parseRuntimeConfig({ ...base, completionWindows: ['30m', '2h'] }).completionWindows).toEqual([
      '30m',
      '2h',
      '24h',
    ]);
    expect(parseRuntimeConfig({ ...base, completionWindows: ['24h', '7d'] }).completionWindows).toEqual([
      '24h',
      '7d',
    ]);
  });

  it("defaults to the server's own default allowlist", () => {
    expect(parseRuntimeConfig({ apiBaseUrl: 'http://x.test/v1' }).completionWindows).toEqual([
      ...DEFAULT_COMPLETION_WINDOWS,
    ]);
  });

  it("takes the API's direct-upload limit when config.json gives it", () => {
    const base = { apiBaseUrl: 'http://127.0.0.1:8080/v1' };
    expect(parseRuntimeConfig({ ...base, directUploadLimitBytes: 262_144 }).directUploadLimitBytes).toBe(
      262_144,
    );
    expect(() => parseRuntimeConfig({ ...base, directUploadLimitBytes: 0 })).toThrow(
      /'directUploadLimitBytes'/,
    );
    expect(() => parseRuntimeConfig({ ...base, directUploadLimitBytes: '4MB' })).toThrow(
      /'directUploadLimitBytes'/,
    );
  });

  it('names the field that is wrong', () => {
    expect(() => parseRuntimeConfig({ apiBaseUrl: 'not a url' })).toThrow(/'apiBaseUrl'/);
    expect(() => parseRuntimeConfig({})).toThrow(ConfigError);
  });

  it('fails clearly when the file is missing', async () => {
    const fetch404 = async () => new Response('nope', { status: 404 });
    await expect(loadRuntimeConfig(fetch404 as typeof fetch)).rejects.toThrow(
      'Could not load /config.json (HTTP 404).',
    );
  });
});
