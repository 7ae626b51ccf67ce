import { describe, expect, it } from 'vitest';
import {
  awsSchema,
  ConfigError,
  limitsSchema,
  readConfig,
  slaSchema,
  workerSchema,
} from '../../../core/config.js';

const configErrorOf = (fn: () => unknown): ConfigError => {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
};

describe('readConfig', () => {
  it('applies every default to an empty environment', () => {
    expect(readConfig(limitsSchema, {})).toEqual({
      MAX_REQUESTS_PER_BATCH: 50_000,
      MAX_BATCH_FILE_BYTES: 200 * 1024 * 1024,
      MAX_LINE_BYTES: 10 * 1024 * 1024,
      MAX_API_UPLOAD_BYTES: 4 * 1024 * 1024,
      MAX_UPLOAD_BYTES: 8 * 1024 * 1024 * 1024,
      MAX_API_PARTS_TOTAL_BYTES: 512 * 1024 * 1024,
      MAX_MD5_CHECK_BYTES: 256 * 1024 * 1024,
      MAX_INLINE_CONTENT_BYTES: 4 * 1024 * 1024,
      CHUNK_MAX_LINES: 2_000,
      CHUNK_MAX_BYTES: 8 * 1024 * 1024,
      CHUNK_TAIL_MIN_LINES: 250,
      MAX_REPORTED_LINE_ERRORS: 100,
      COMPLETION_WINDOWS: ['24h'],
      MODELS: [],
      FILE_RETENTION_DAYS: 30,
      SCHEDULER_SEGMENT_SECONDS: 600,
      SCHEDULER_SEGMENT_LINES: 0,
    });
    expect(readConfig(slaSchema, {})).toEqual({
      SLA_RISK_RATIO: 0.5,
      SLA_ASSUMED_REQUESTS_PER_SECOND: 5,
      VALIDATION_STALL_SECONDS: 1_200,
      VALIDATION_REDRIVES: 2,
      SLA_RECONCILE_SECONDS: 600,
    });
    expect(readConfig(awsSchema, {})).toEqual({ AWS_REGION: 'us-east-1' });
  });

  it('coerces numbers and splits comma-separated lists, trimming blanks', () => {
    const limits = readConfig(limitsSchema, {
      CHUNK_MAX_LINES: '500',
      COMPLETION_WINDOWS: ' 24h, 1h ,,48h ',
      MODELS: 'llama-3,  mistral ,',
    });
    expect(limits.CHUNK_MAX_LINES).toBe(500);
    expect(limits.COMPLETION_WINDOWS).toEqual(['24h', '1h', '48h']);
    expect(limits.MODELS).toEqual(['llama-3', 'mistral']);
  });

  it('ignores unrelated variables', () => {
    expect(readConfig(slaSchema, { PATH: '/bin', SLA_RISK_RATIO: '0.25' }).SLA_RISK_RATIO).toBe(0.25);
  });

  it('reads process.env by default', () => {
    expect(readConfig(limitsSchema).CHUNK_MAX_LINES).toBeGreaterThan(0);
  });

  it('reports every bad variable by name at once', () => {
    const err = configErrorOf(() =>
      readConfig(limitsSchema, {
        CHUNK_MAX_LINES: 'lots',
        MAX_LINE_BYTES: '-5',
        MAX_REQUESTS_PER_BATCH: '1.5',
        FILE_RETENTION_DAYS: '0',
      }),
    );
    expect(err.name).toBe('ConfigError');
    expect(err.message).toMatch(/^Invalid configuration: /);
    for (const name of [
      'CHUNK_MAX_LINES',
      'MAX_LINE_BYTES',
      'MAX_REQUESTS_PER_BATCH',
      'FILE_RETENTION_DAYS',
    ]) {
      expect(err.message).toContain(`${name}:`);
    }
    expect(err.message).not.toContain('CHUNK_MAX_BYTES');
  });

  it('names missing required variables', () => {
    const err = configErrorOf(() => readConfig(workerSchema, {}));
    expect(err.message).toContain('POOL:');
    expect(err.message).toContain('QUEUE_URL:');
  });

  it('rejects values outside their ranges', () => {
    const err = configErrorOf(() =>
      readConfig(workerSchema, {
        POOL: 'reserved',
        QUEUE_URL: 'https://sqs/q',
        ENGINE_URL: 'not a url',
        SIM_ENGINE_FAILURE_RATE: '1.5',
        RECEIVE_WAIT_SECONDS: '21',
      }),
    );
    for (const name of ['POOL', 'ENGINE_URL', 'SIM_ENGINE_FAILURE_RATE', 'RECEIVE_WAIT_SECONDS']) {
      expect(err.message).toContain(`${name}:`);
    }
    expect(err.message).not.toContain('QUEUE_URL:');
  });

  it('rejects a risk ratio of 0 or above 1', () => {
    expect(() => readConfig(slaSchema, { SLA_RISK_RATIO: '0' })).toThrow(/SLA_RISK_RATIO/);
    expect(() => readConfig(slaSchema, { SLA_RISK_RATIO: '1.01' })).toThrow(/SLA_RISK_RATIO/);
    expect(readConfig(slaSchema, { SLA_RISK_RATIO: '1' }).SLA_RISK_RATIO).toBe(1);
  });

  it('reads a worker configuration with its defaults', () => {
    expect(readConfig(workerSchema, { POOL: 'spot', QUEUE_URL: 'https://sqs/q' })).toMatchObject({
      POOL: 'spot',
      QUEUE_URL: 'https://sqs/q',
      ENGINE_TIMEOUT_MS: 600_000,
      ENGINE_CONCURRENCY: 256,
      ENGINE_MAX_RETRIES: 4,
      CHUNKS_IN_PARALLEL: 16,
      RECEIVE_WAIT_SECONDS: 20,
      VISIBILITY_TIMEOUT_SECONDS: 30,
      SIM_ENGINE_LATENCY_MS: 0,
      SIM_ENGINE_FAILURE_RATE: 0,
      SIM_SPOT_INTERRUPTION_RATE: 0,
    });
  });

  it('accepts an AWS endpoint URL and rejects a malformed one', () => {
    expect(readConfig(awsSchema, { AWS_ENDPOINT_URL: 'http://localhost:4566' }).AWS_ENDPOINT_URL).toBe(
      'http://localhost:4566',
    );
    expect(() => readConfig(awsSchema, { AWS_ENDPOINT_URL: 'localhost' })).toThrow(/AWS_ENDPOINT_URL/);
  });
});
