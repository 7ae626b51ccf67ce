import { describe, expect, it } from 'vitest';
import {
  configFor,
  configProblems,
  EnvironmentConfigError,
  environmentNames,
  environments,
  validateConfig,
} from '../../cdk/config.js';
import { configWith } from './support.js';

describe('environment configuration', () => {
  it.each(environmentNames)('%s is valid and named after its environment', (name) => {
    const config = configFor(name);
    expect(configProblems(config)).toEqual([]);
    expect(config.name).toBe(name);
    expect(config.prefix).toBe(`openbatch-${name}`);
  });

  it('keeps data in staging and prod, not in dev', () => {
    expect(environments.dev.retainData).toBe(false);
    expect(environments.staging.retainData).toBe(true);
    expect(environments.prod.retainData).toBe(true);
  });

  it('refuses an unknown environment, naming the valid ones', () => {
    expect(() => configFor('qa')).toThrow(/env=<dev\|staging\|prod>/);
    expect(() => configFor(undefined)).toThrow(EnvironmentConfigError);
  });

  it('reports every problem at once', () => {
    const bad = configWith(environments.prod, (c) => {
      c.prefix = 'Openbatch_Prod';
      c.region = 'moon-1';
      c.logRetentionDays = 42 as never;
      c.fileRetentionDays = 0;
      c.allowedOrigins = ['https://portal.example.com/app'];
      c.domain = {
        name: 'batch.example.com',
        certificateArn: 'arn:aws:acm:eu-west-1:123456789012:certificate/abc',
      };
      c.pools = {
        ...c.pools,
        spot: { instanceTypes: ['m5.large', 'g5.xlarge', 'g5.xlarge'], minWorkers: 3, maxWorkers: 2 },
      };
      c.engine = { ...c.engine, image: { repository: 'vllm/vllm-openai', tag: 'latest' }, gpus: 0 };
      c.worker = { ...c.worker, image: 'latest', chunksInParallel: 0 };
      c.alarms = {
        ...c.alarms,
        email: 'ops',
        maxMessageAgeSeconds: { ...c.alarms.maxMessageAgeSeconds, spot: 5 * 86400 },
      };
      c.settings = { MAX_REQUESTS_PER_BATCH: 'many', NOT_A_SETTING: '1', FILE_RETENTION_DAYS: '3' };
    });
    const problems = configProblems(bad);
    const expected = [
      /^prefix:/,
      /^region:/,
      /^logRetentionDays:/,
      /^fileRetentionDays:/,
      /^allowedOrigins:/,
      /^domain\.certificateArn: .*us-east-1/,
      /^pools\.spot\.instanceTypes: 'm5\.large' is not an NVIDIA GPU instance type listed/,
      /^pools\.spot\.instanceTypes: duplicates/,
      /^pools\.spot\.maxWorkers: must be at least minWorkers/,
      /^engine\.image\.tag: .* pinned/,
      /^engine\.gpus:/,
      /^worker\.image:/,
      /^worker\.chunksInParallel:/,
      /^alarms\.email:/,
      /^alarms\.maxMessageAgeSeconds\.spot:/,
      /^settings\.NOT_A_SETTING:/,
      /^settings\.MAX_REQUESTS_PER_BATCH:/,
      /^settings\.FILE_RETENTION_DAYS: set fileRetentionDays/,
    ];
    for (const pattern of expected)
      expect(
        problems.some((p) => pattern.test(p)),
        String(pattern),
      ).toBe(true);
    expect(() => validateConfig(bad)).toThrow(EnvironmentConfigError);
    try {
      validateConfig(bad);
    } catch (err) {
      expect((err as EnvironmentConfigError).problems).toEqual(problems);
      expect((err as Error).message).toContain("environment 'prod'");
    }
  });

  it('refuses GPU instance types a worker task does not fit on', () => {
    const tooBig = configWith(environments.prod, (c) => {
      c.engine = { ...c.engine, memoryMiB: 20_000, gpus: 2 };
    });
    const problems = configProblems(tooBig);
    expect(problems).toContain(
      'pools.spot.instanceTypes: a worker task (21280 MiB) does not fit on g6.xlarge (16 GiB)',
    );
    expect(problems).toContain(
      'pools.dedicated.instanceTypes: g5.xlarge has 1 GPU(s); the engine reserves 2',
    );
  });

  it('keeps the longest bucket name within S3 limits', () => {
    const longest = configWith(environments.dev, (c) => {
      c.prefix = 'a'.repeat(24);
    });
    expect(configProblems(longest)).toEqual([]);
    // prefix-files-<12-digit account>-<longest region name>
    expect(`${longest.prefix}-files-123456789012-ap-southeast-4`.length).toBeLessThanOrEqual(63);
    const tooLong = configWith(longest, (c) => {
      c.prefix = 'a'.repeat(25);
    });
    expect(configProblems(tooLong)).toHaveLength(1);
  });

  it('accepts limit and SLA settings that core/config.ts accepts', () => {
    const tuned = configWith(environments.dev, (c) => {
      c.settings = { COMPLETION_WINDOWS: '24h,48h', CHUNK_MAX_LINES: '500', SLA_RISK_RATIO: '0.4' };
    });
    expect(configProblems(tuned)).toEqual([]);
  });
});
