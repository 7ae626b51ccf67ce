import type { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import {
  DescribeContinuousBackupsCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import {
  GetBucketCorsCommand,
  GetBucketEncryptionCommand,
  GetBucketLifecycleConfigurationCommand,
  GetBucketLoggingCommand,
  GetBucketOwnershipControlsCommand,
  GetPublicAccessBlockCommand,
  HeadBucketCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand, GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs';
import { App, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { environments } from '../../cdk/config.js';
import { ResourceNames } from '../../cdk/lib/names.js';
import { buckets, type QueueName, queues, type TableName, tables } from '../../core/app/declaration.js';
import { type Emulator, startEmulator } from '../../localstack/runtime/emulator.js';
import { synth } from '../cdk/support.js';
import {
  bootstrapCdk,
  type CfnTemplate,
  type Deployed,
  deployStack,
  emulatorCloudFormation,
  type Stripped,
  stripUnsupported,
  unsupportedInMoto,
} from '../support/cfn-emulator.js';

/**
 * The dev data stack, synthesized as `cdk synth -c env=dev` does, deployed into moto's
 * CloudFormation and checked through the S3, DynamoDB and SQS APIs against the declaration
 * (core/app/declaration.ts) and the dev configuration, not against the template. What this does
 * and does not prove: docs/emulator-deploy.md.
 */

const config = environments.dev;
const region = config.region;

/**
 * Template properties moto 5.2.1 accepts from CloudFormation but does not apply, so its APIs do
 * not report them. Checked wherever moto reports them; the test fails if this list goes stale
 * either way (a property moto now applies, or one it stopped reporting).
 */
const notAppliedByMoto = {
  s3: [
    'CorsConfiguration',
    'LifecycleConfiguration',
    'LoggingConfiguration',
    'OwnershipControls',
    'PublicAccessBlockConfiguration',
  ],
  dynamodb: ['PointInTimeRecoverySpecification', 'SSESpecification', 'TimeToLiveSpecification'],
  sqs: [] as string[],
};

/** Runs `check` on what moto reports, or records `property` as not reported. */
class Observations {
  readonly unreported = new Set<string>();
  check<T>(property: string, observed: T | undefined, check: (v: T) => void): void {
    if (observed === undefined) this.unreported.add(property);
    else check(observed);
  }
  sorted(): string[] {
    return [...this.unreported].sort();
  }
}

/** The SDK's answer, or undefined for a 404 (moto's "no such configuration"). */
async function orAbsent<T>(call: Promise<T>): Promise<T | undefined> {
  try {
    return await call;
  } catch (e) {
    if ((e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404)
      return undefined;
    throw e;
  }
}

let emulator: Emulator | undefined;
let cfn: CloudFormationClient;
let s3c: S3Client;
let ddb: DynamoDBClient;
let sqs: SQSClient;
let original: CfnTemplate;
let stripped: Stripped;
let deployed: Deployed;
let names: ResourceNames;
let account: string;

beforeAll(async () => {
  process.env.AWS_ACCESS_KEY_ID ??= 'test';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'test';
  const synthesized = synth({ env: 'dev' });
  const dataStack = synthesized.stacks.data;
  original = synthesized.template(dataStack).toJSON() as CfnTemplate;
  stripped = stripUnsupported(original);

  emulator = await startEmulator();
  const common = { region, endpoint: emulator.endpoint };
  cfn = emulatorCloudFormation(emulator.endpoint, region);
  s3c = new S3Client({ ...common, forcePathStyle: true });
  ddb = new DynamoDBClient(common);
  sqs = new SQSClient(common);

  await bootstrapCdk(emulator.endpoint, region, original);
  deployed = await deployStack(cfn, dataStack.stackName, stripped.template);
  // The dev configuration leaves the account to the deploying credentials: the emulator's here.
  account = deployed.stack.StackId?.split(':')[4] ?? '';
  names = new ResourceNames(config.prefix, new Stack(new App(), 'Names', { env: { account, region } }));
});

afterAll(async () => {
  await emulator?.stop();
});

const countBy = (xs: readonly { type: string }[]) =>
  xs.reduce<Record<string, number>>((acc, x) => {
    acc[x.type] = (acc[x.type] ?? 0) + 1;
    return acc;
  }, {});

describe('the dev data stack deployed into the emulator (moto CloudFormation)', () => {
  it('strips exactly the resources moto cannot create, and nothing the stack needs', () => {
    expect(stripped.unused, 'unsupportedInMoto rules matching nothing').toEqual([]);
    const ofType = (type: string) => Object.values(original.Resources).filter((r) => r.Type === type);
    // Buckets with autoDeleteObjects (dev's, where data is not retained) get one custom resource
    // each, all served by one provider Lambda per stack.
    const autoDeleted = ofType('AWS::S3::Bucket').filter((r) =>
      ((r.Properties?.Tags ?? []) as { Key: string }[]).some((t) => t.Key === 'aws-cdk:auto-delete-objects'),
    ).length;
    expect(countBy(stripped.removed)).toEqual({
      // Every bucket and every queue (dead-letter queues included) enforces TLS with a policy.
      'AWS::S3::BucketPolicy': ofType('AWS::S3::Bucket').length,
      'AWS::SQS::QueuePolicy': ofType('AWS::SQS::Queue').length,
      ...(autoDeleted ? { 'Custom::S3AutoDeleteObjects': autoDeleted, 'AWS::Lambda::Function': 1 } : {}),
    });
    expect(ofType('AWS::SQS::Queue')).toHaveLength(2 * Object.keys(queues).length);
  });

  it('creates every other resource of the template', () => {
    expect(deployed.stack.StackStatus).toBe('CREATE_COMPLETE');
    // A resource type moto skips silently (as it does the policies above) is missing here.
    const created = deployed.resources.map(
      (r) => `${r.LogicalResourceId} ${r.ResourceType} ${r.ResourceStatus}`,
    );
    const expected = Object.entries(stripped.template.Resources).map(
      ([id, r]) => `${id} ${r.Type} CREATE_COMPLETE`,
    );
    // moto lists a resource it skipped with an empty id and type.
    expect(created.sort(), 'resources moto created').toEqual(expected.sort());
  });

  it('outputs the physical names the other stacks find the resources by', () => {
    const outputs = new Set(deployed.stack.Outputs?.map((o) => o.OutputValue));
    for (const b of Object.keys(buckets) as (keyof typeof buckets)[])
      expect(outputs).toContain(names.bucket(b));
    for (const t of Object.keys(tables) as TableName[]) expect(outputs).toContain(names.table(t));
    const urls = [...outputs].filter((o): o is string => !!o?.startsWith('https://sqs.'));
    for (const q of Object.keys(queues) as QueueName[])
      expect(
        urls.some((u) => u.endsWith(`/${account}/${names.queue(q)}`)),
        q,
      ).toBe(true);
  });

  it('names each declared bucket as ResourceNames does, with its encryption and lifecycle', async () => {
    const seen = new Observations();
    const accessLogs = deployed.resources.find(
      (r) => r.ResourceType === 'AWS::S3::Bucket' && r.LogicalResourceId?.startsWith('AccessLogsBucket'),
    )?.PhysicalResourceId;
    expect(accessLogs).toBeDefined();
    for (const logical of Object.keys(buckets) as (keyof typeof buckets)[]) {
      const Bucket = names.bucket(logical);
      await s3c.send(new HeadBucketCommand({ Bucket }));
      const encryption = await orAbsent(s3c.send(new GetBucketEncryptionCommand({ Bucket })));
      seen.check('BucketEncryption', encryption, (e) =>
        expect(
          e.ServerSideEncryptionConfiguration?.Rules?.map(
            (r) => r.ApplyServerSideEncryptionByDefault?.SSEAlgorithm,
          ),
        ).toEqual(['AES256']),
      );
      const lifecycle = await orAbsent(s3c.send(new GetBucketLifecycleConfigurationCommand({ Bucket })));
      seen.check('LifecycleConfiguration', lifecycle, (l) => {
        const byId = Object.fromEntries((l.Rules ?? []).map((r) => [r.ID, r]));
        expect(
          byId['abort-incomplete-multipart-uploads']?.AbortIncompleteMultipartUpload?.DaysAfterInitiation,
        ).toBe(config.abortIncompleteUploadsAfterDays);
        expect(byId['expire-files']?.Expiration?.Days).toBe(config.fileRetentionDays);
      });
      const logging = (await s3c.send(new GetBucketLoggingCommand({ Bucket }))).LoggingEnabled;
      seen.check('LoggingConfiguration', logging, (l) => {
        expect(l.TargetBucket).toBe(accessLogs);
        expect(l.TargetPrefix).toBe(`${logical}/`);
      });
      const cors = await orAbsent(s3c.send(new GetBucketCorsCommand({ Bucket })));
      seen.check('CorsConfiguration', cors, (c) => expect(c.CORSRules?.[0]?.ExposeHeaders).toContain('ETag'));
      const publicAccess = await orAbsent(s3c.send(new GetPublicAccessBlockCommand({ Bucket })));
      seen.check('PublicAccessBlockConfiguration', publicAccess, (p) =>
        expect(p.PublicAccessBlockConfiguration).toEqual({
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        }),
      );
      const ownership = await orAbsent(s3c.send(new GetBucketOwnershipControlsCommand({ Bucket })));
      seen.check('OwnershipControls', ownership, (o) =>
        expect(o.OwnershipControls?.Rules?.map((r) => r.ObjectOwnership)).toEqual(['BucketOwnerEnforced']),
      );
    }
    const logsEncryption = await orAbsent(s3c.send(new GetBucketEncryptionCommand({ Bucket: accessLogs })));
    seen.check('BucketEncryption', logsEncryption, (e) =>
      expect(
        e.ServerSideEncryptionConfiguration?.Rules?.map(
          (r) => r.ApplyServerSideEncryptionByDefault?.SSEAlgorithm,
        ),
      ).toEqual(['AES256']),
    );
    expect(seen.sorted(), 'properties moto did not report').toEqual(notAppliedByMoto.s3);
  });

  it('creates each declared table under its name with its keys, indexes and TTL', async () => {
    const seen = new Observations();
    for (const [logical, decl] of Object.entries(tables) as [TableName, (typeof tables)[TableName]][]) {
      const TableName = names.table(logical);
      const table = (await ddb.send(new DescribeTableCommand({ TableName }))).Table;
      expect(table?.TableStatus, TableName).toBe('ACTIVE');
      expect(table?.KeySchema, TableName).toEqual([
        { AttributeName: decl.partitionKey.name, KeyType: 'HASH' },
        ...(decl.sortKey ? [{ AttributeName: decl.sortKey.name, KeyType: 'RANGE' }] : []),
      ]);
      const keyAttributes = [
        decl.partitionKey,
        decl.sortKey,
        ...(decl.indexes ?? []).flatMap((i) => [i.partitionKey, i.sortKey]),
      ]
        .filter((a) => a !== undefined)
        .map((a) => ({ AttributeName: a.name, AttributeType: a.type }));
      const uniqueKeys = [...new Map(keyAttributes.map((a) => [a.AttributeName, a])).values()];
      expect(
        [...(table?.AttributeDefinitions ?? [])].sort((a, b) =>
          String(a.AttributeName).localeCompare(String(b.AttributeName)),
        ),
        TableName,
      ).toEqual(uniqueKeys.sort((a, b) => a.AttributeName.localeCompare(b.AttributeName)));
      expect(table?.BillingModeSummary?.BillingMode, TableName).toBe('PAY_PER_REQUEST');
      expect(table?.DeletionProtectionEnabled ?? false, TableName).toBe(config.retainData);
      expect(
        (table?.GlobalSecondaryIndexes ?? []).map((i) => ({
          name: i.IndexName,
          keys: i.KeySchema,
          projection: i.Projection?.ProjectionType,
        })),
        TableName,
      ).toEqual(
        (decl.indexes ?? []).map((i) => ({
          name: i.name,
          keys: [
            { AttributeName: i.partitionKey.name, KeyType: 'HASH' },
            ...(i.sortKey ? [{ AttributeName: i.sortKey.name, KeyType: 'RANGE' }] : []),
          ],
          projection: 'ALL',
        })),
      );

      const ttl = (await ddb.send(new DescribeTimeToLiveCommand({ TableName }))).TimeToLiveDescription;
      if (decl.ttlAttribute) {
        // moto answers DISABLED for a TTL it never applied: indistinguishable from none.
        seen.check('TimeToLiveSpecification', ttl?.TimeToLiveStatus === 'DISABLED' ? undefined : ttl, (t) => {
          expect(t.TimeToLiveStatus).toBe('ENABLED');
          expect(t.AttributeName).toBe(decl.ttlAttribute);
        });
      } else {
        expect(ttl?.TimeToLiveStatus ?? 'DISABLED', TableName).toBe('DISABLED');
      }
      const pitr = (await ddb.send(new DescribeContinuousBackupsCommand({ TableName })))
        .ContinuousBackupsDescription?.PointInTimeRecoveryDescription?.PointInTimeRecoveryStatus;
      seen.check('PointInTimeRecoverySpecification', pitr === 'DISABLED' ? undefined : pitr, (p) =>
        expect(p).toBe('ENABLED'),
      );
      seen.check('SSESpecification', table?.SSEDescription, (d) => expect(d.Status).toBe('ENABLED'));
    }
    expect(seen.sorted(), 'properties moto did not report').toEqual(notAppliedByMoto.dynamodb);
  });

  it('gives each declared queue its dead-letter queue, maxReceiveCount, visibility timeout and retention', async () => {
    const seen = new Observations();
    const attributesOf = async (QueueName: string) => {
      const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName }));
      return (
        (await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['All'] }))).Attributes ??
        {}
      );
    };
    for (const [logical, decl] of Object.entries(queues) as [QueueName, (typeof queues)[QueueName]][]) {
      const queue = await attributesOf(names.queue(logical));
      const dlq = await attributesOf(names.deadLetterQueue(logical));
      expect(dlq.QueueArn, logical).toBe(
        `arn:aws:sqs:${region}:${account}:${names.deadLetterQueue(logical)}`,
      );
      expect(JSON.parse(queue.RedrivePolicy ?? '{}'), logical).toEqual({
        deadLetterTargetArn: dlq.QueueArn,
        maxReceiveCount: decl.maxReceiveCount,
      });
      expect(Number(queue.VisibilityTimeout), logical).toBe(decl.visibilityTimeoutSeconds);
      expect(Number(queue.MessageRetentionPeriod), logical).toBe(decl.retentionSeconds);
      // Dead letters stay the longest SQS allows, for inspection and redrive; they go nowhere further.
      expect(Number(dlq.MessageRetentionPeriod), logical).toBe(14 * 86400);
      expect(dlq.RedrivePolicy, logical).toBeUndefined();
      for (const attrs of [queue, dlq])
        seen.check('SqsManagedSseEnabled', attrs.SqsManagedSseEnabled, (v) => expect(v).toBe('true'));
    }
    expect(seen.sorted(), 'properties moto did not report').toEqual(notAppliedByMoto.sqs);
  });
});

describe('stripping for moto', () => {
  it("takes out autoDeleteObjects' custom resource and provider Lambda, and deploys the rest", async () => {
    // What CDK emits for autoDeleteObjects, tested apart from whether the data stack uses it.
    const app = new App();
    const stack = new Stack(app, 'AutoDeleteProbe', { env: { region } });
    new s3.Bucket(stack, 'Bucket', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      autoDeleteObjects: true,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const template = Template.fromStack(stack).toJSON() as CfnTemplate;
    const { template: deployable, removed } = stripUnsupported(template, unsupportedInMoto);
    expect(removed.map((r) => r.type).sort()).toEqual([
      'AWS::Lambda::Function',
      'AWS::S3::BucketPolicy',
      'Custom::S3AutoDeleteObjects',
    ]);
    const { resources } = await deployStack(cfn, 'auto-delete-probe', deployable);
    expect(resources.map((r) => `${r.ResourceType} ${r.ResourceStatus}`).sort()).toEqual([
      'AWS::IAM::Role CREATE_COMPLETE',
      'AWS::S3::Bucket CREATE_COMPLETE',
    ]);
  });
});
