import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { environments } from '../../cdk/config.js';
import { queues, tables } from '../../core/app/declaration.js';
import { onlyResource, resourcesOf, synth } from './support.js';

const prod = synth({ env: 'prod' });
const dev = synth({ env: 'dev' });
const data = prod.template(prod.stacks.data);

const filesBucket = () =>
  onlyResource(data, 'AWS::S3::Bucket', (p) =>
    JSON.stringify(p.BucketName ?? '').includes('openbatch-prod-files-'),
  );

describe('data stack: files bucket', () => {
  it('is encrypted, private and logged', () => {
    const { props } = filesBucket();
    expect(props.BucketEncryption).toEqual({
      ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
    });
    expect(props.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    expect(props.LoggingConfiguration).toMatchObject({ LogFilePrefix: 'files/' });
  });

  it('is unique per account and region', () => {
    expect(filesBucket().props.BucketName).toEqual({
      'Fn::Join': ['', ['openbatch-prod-files-', { Ref: 'AWS::AccountId' }, '-us-east-1']],
    });
  });

  it('refuses requests without TLS', () => {
    const { id } = filesBucket();
    data.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: id },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Action: 's3:*',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
  });

  it('aborts incomplete multipart uploads and expires files after the retention period', () => {
    expect(filesBucket().props.LifecycleConfiguration).toEqual({
      Rules: [
        {
          Id: 'abort-incomplete-multipart-uploads',
          AbortIncompleteMultipartUpload: {
            DaysAfterInitiation: environments.prod.abortIncompleteUploadsAfterDays,
          },
          Status: 'Enabled',
        },
        { Id: 'expire-files', ExpirationInDays: environments.prod.fileRetentionDays, Status: 'Enabled' },
      ],
    });
  });

  it('lets browsers upload pre-signed parts and read their ETag', () => {
    expect(filesBucket().props.CorsConfiguration).toEqual({
      CorsRules: [
        {
          AllowedMethods: ['PUT', 'GET', 'HEAD'],
          AllowedOrigins: ['*'],
          AllowedHeaders: ['*'],
          ExposedHeaders: ['ETag'],
          MaxAge: 3600,
        },
      ],
    });
  });

  it('is retained in prod and destroyed with the stack in dev', () => {
    expect(resourcesOf(data, 'AWS::S3::Bucket')[filesBucket().id]?.DeletionPolicy).toBe('Retain');
    const devData = dev.template(dev.stacks.data);
    const devBucket = onlyResource(devData, 'AWS::S3::Bucket', (p) =>
      JSON.stringify(p.BucketName ?? '').includes('openbatch-dev-files-'),
    );
    expect(resourcesOf(devData, 'AWS::S3::Bucket')[devBucket.id]?.DeletionPolicy).toBe('Delete');
  });
});

describe('data stack: tables', () => {
  it.each(Object.keys(tables))(
    '%s: on-demand, point-in-time recovery, encrypted, protected in prod',
    (logical) => {
      data.hasResourceProperties('AWS::DynamoDB::Table', {
        TableName: `openbatch-prod-${logical.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`,
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: { SSEEnabled: true },
        DeletionProtectionEnabled: true,
      });
    },
  );

  it('expires chunk records through their TTL attribute', () => {
    data.hasResourceProperties('AWS::DynamoDB::Table', {
      TableName: 'openbatch-prod-chunks',
      TimeToLiveSpecification: { AttributeName: tables.chunks.ttlAttribute, Enabled: true },
    });
  });

  it('keeps the sparse active-by-expiry index with every attribute projected', () => {
    data.hasResourceProperties('AWS::DynamoDB::Table', {
      TableName: 'openbatch-prod-batches',
      GlobalSecondaryIndexes: [
        Match.objectLike({ IndexName: 'active-by-expiry', Projection: { ProjectionType: 'ALL' } }),
      ],
      AttributeDefinitions: Match.arrayWith([
        { AttributeName: 'active', AttributeType: 'S' },
        { AttributeName: 'expires_at', AttributeType: 'N' },
      ]),
    });
  });

  it('keys API keys by their hash: keys are never stored', () => {
    data.hasResourceProperties('AWS::DynamoDB::Table', {
      TableName: 'openbatch-prod-api-keys',
      KeySchema: [{ AttributeName: 'key_hash', KeyType: 'HASH' }],
    });
  });

  it('is not deletion-protected in dev', () => {
    dev.template(dev.stacks.data).hasResourceProperties('AWS::DynamoDB::Table', {
      TableName: 'openbatch-dev-batches',
      DeletionProtectionEnabled: false,
    });
  });
});

describe('data stack: queues', () => {
  it.each(Object.keys(queues))('%s and its DLQ are encrypted and TLS-only', (logical) => {
    const name = `openbatch-prod-${logical}`;
    for (const queueName of [name, `${name}-dlq`]) {
      const { id, props } = onlyResource(data, 'AWS::SQS::Queue', (p) => p.QueueName === queueName);
      expect(props.SqsManagedSseEnabled).toBe(true);
      data.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: id }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          ]),
        },
      });
    }
  });

  it('keeps dead letters for 14 days', () => {
    for (const logical of Object.keys(queues)) {
      const { props } = onlyResource(
        data,
        'AWS::SQS::Queue',
        (p) => p.QueueName === `openbatch-prod-${logical}-dlq`,
      );
      expect(props.MessageRetentionPeriod).toBe(14 * 86400);
    }
  });

  it('lets spot work survive repeated interruptions before it is dead-lettered', () => {
    const spot = onlyResource(data, 'AWS::SQS::Queue', (p) => p.QueueName === 'openbatch-prod-spot');
    const redrive = spot.props.RedrivePolicy as { maxReceiveCount: number };
    expect(redrive.maxReceiveCount).toBe(queues.spot.maxReceiveCount);
    expect(redrive.maxReceiveCount).toBeGreaterThanOrEqual(10);
    for (const other of ['scheduling', 'dedicated', 'finalizing'] as const)
      expect(redrive.maxReceiveCount).toBeGreaterThan(queues[other].maxReceiveCount);
  });
});
