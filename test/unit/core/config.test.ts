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
      DISPATCH_WINDOW_CHUNKS: 16,
      COMPLETION_WINDOWS: ['1h', '4h', '24h', '72h', '7d'],
      MODELS: [],
      FILE_RETENTION_DAYS: 30,
      DEDUP: 'on',
      DEDUP_RETENTION_DAYS: 7,
      DEDUP_INDEX_MAX_ENTRIES: 1_000_000,
      SCHEDULER_SEGMENT_SECONDS: 600,
      SCHEDULER_SEGMENT_LINES: 0,
    });
    expect(readConfig(slaSchema, {})).toEqual({
      SLA_RISK_RATIO: 0.5,
      SLA_ASSUMED_REQUESTS_PER_SECOND: 5,
      VALIDATION_STALL_SECONDS: 1_200,
      VALIDATION_REDRIVES: 2,
      DISPATCH_STALL_SECONDS: 3_600,
      SLA_RECONCILE_SECONDS: 600,
      SLA_ADMISSION: 'reject',
      SLA_ADMISSION_BYTES_PER_REQUEST: 2_048,
      SLA_SPOT_MIN_TASKS: 1,
      SLA_SPOT_MAX_TASKS: 1,
      SLA_DEDICATED_MIN_TASKS: 1,
      SLA_DEDICATED_MAX_TASKS: 1,
      SLA_TASK_STARTUP_SECONDS: 180,
      SLA_SPOT_PRICE_PER_TASK_HOUR: 0.3,
      SLA_ON_DEMAND_PRICE_PER_TASK_HOUR: 0.8048,
      SLA_EXPIRY_LOOKAHEAD_SECONDS: 0,
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

  it.each([
    ['1h,20s', ['24h', '1h', '20s']],
    ['24h', ['24h']],
    ['7d, 72h', ['24h', '7d', '72h']],
  ])('always allows 24h beside the windows of %j', (windows, names) => {
    expect(readConfig(limitsSchema, { COMPLETION_WINDOWS: windows }).COMPLETION_WINDOWS).toEqual(names);
  });

  it('refuses a completion window allowlist entry that is not a duration, naming the variable and the entry', () => {
    expect(() => readConfig(limitsSchema, { COMPLETION_WINDOWS: '24h,1week,0h' })).toThrow(
      /COMPLETION_WINDOWS: .*'1week', '0h'/,
    );
  });

  it('refuses an admission mode other than reject or warn', () => {
    expect(() => readConfig(slaSchema, { SLA_ADMISSION: 'allow' })).toThrow(/SLA_ADMISSION/);
    expect(readConfig(slaSchema, { SLA_ADMISSION: 'warn' }).SLA_ADMISSION).toBe('warn');
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
