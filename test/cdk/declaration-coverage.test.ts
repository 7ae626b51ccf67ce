import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { validateTriggers } from '../../cdk/lib/stacks/api-stack.js';
import { bindingsOf } from '../../core/app/access.js';
import {
  buckets,
  deadLetterSuffix,
  type FunctionDeclaration,
  functions,
  physicalName,
  queues,
  tables,
  workerPools,
  workerUses,
} from '../../core/app/declaration.js';
import { resourcesOf, synth } from './support.js';

/**
 * The CDK app is built from core/app/declaration.ts: every function, route, trigger, bucket,
 * table, queue and worker pool declared there must be in the synthesized app, under the
 * physical name the local runtime uses too.
 */
const { stacks, template } = synth({ env: 'prod' });
const prefix = 'openbatch-prod';
const data = template(stacks.data);
const api = template(stacks.api);
const compute = template(stacks.compute ?? stacks.data);

/** `/v1/files/{file_id}` → the API Gateway resource path parts. */
function methodFor(method: string, path: string) {
  const methods = resourcesOf(api, 'AWS::ApiGateway::Method');
  const resources = resourcesOf(api, 'AWS::ApiGateway::Resource');
  const pathOf = (id: string): string => {
    const r = resources[id];
    if (!r) return '';
    const parent = (r.Properties?.ParentId as { Ref?: string }) ?? {};
    return `${parent.Ref ? pathOf(parent.Ref) : ''}/${r.Properties?.PathPart as string}`;
  };
  return Object.values(methods).find(
    (m) =>
      m.Properties?.HttpMethod === method &&
      pathOf((m.Properties?.ResourceId as { Ref?: string } | undefined)?.Ref ?? '') === path,
  );
}

describe('every declared function', () => {
  it.each(Object.entries(functions))(
    '%s is a Lambda with the declared name, timeout and memory',
    (name, decl) => {
      api.hasResourceProperties('AWS::Lambda::Function', {
        FunctionName: physicalName(prefix, name),
        Description: decl.description,
        Timeout: decl.timeoutSeconds,
        MemorySize: decl.memoryMb,
        Handler: 'index.handler',
      });
    },
  );

  it.each(
    Object.entries(functions).flatMap(([name, d]) =>
      d.triggers.flatMap((t) => (t.kind === 'http' ? [[name, t.method, t.path] as const] : [])),
    ),
  )('%s serves %s %s behind the authorizer', (name, method, path) => {
    const m = methodFor(method, path);
    expect(m, `${method} ${path}`).toBeDefined();
    expect(m?.Properties?.AuthorizationType).toBe('CUSTOM');
    expect(JSON.stringify(m?.Properties?.Integration)).toContain(
      Object.keys(resourcesOf(api, 'AWS::Lambda::Function')).find((id) =>
        id.startsWith(name.charAt(0).toUpperCase() + name.slice(1)),
      ) ?? 'missing',
    );
  });

  it.each(
    Object.entries(functions).flatMap(([name, d]) =>
      d.triggers.flatMap((t) => (t.kind === 'queue' ? [[name, t.queue, t.batchSize] as const] : [])),
    ),
  )('%s consumes the %s queue in batches of %i', (name, queue, batchSize) => {
    api.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: Match.objectLike({
        Ref: Match.stringLikeRegexp(`^${name.charAt(0).toUpperCase()}${name.slice(1)}Function`),
      }),
      EventSourceArn: Match.anyValue(),
      BatchSize: batchSize,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    expect(JSON.stringify(api.findResources('AWS::Lambda::EventSourceMapping'))).toContain(
      `:${physicalName(prefix, queue)}"`,
    );
  });

  it.each(
    Object.entries(functions).flatMap(([name, d]) =>
      d.triggers.flatMap((t) => (t.kind === 'schedule' ? [[name, t.everySeconds] as const] : [])),
    ),
  )('%s runs on an EventBridge schedule every %i s', (_name, everySeconds) => {
    const minutes = everySeconds / 60;
    api.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: `rate(${minutes} minute${minutes === 1 ? '' : 's'})`,
      State: 'ENABLED',
    });
  });

  it('the function with the authorizer trigger is the TOKEN authorizer', () => {
    const [name] =
      Object.entries(functions).find(([, d]) => d.triggers.some((t) => t.kind === 'authorizer')) ?? [];
    api.hasResourceProperties('AWS::ApiGateway::Authorizer', {
      Type: 'TOKEN',
      AuthorizerUri: Match.objectLike({
        'Fn::Join': Match.arrayWith([
          Match.arrayWith([
            Match.objectLike({
              'Fn::GetAtt': Match.arrayWith([Match.stringLikeRegexp(`^${name?.charAt(0).toUpperCase()}`)]),
            }),
          ]),
        ]),
      }),
    });
  });
});

describe('every declared resource', () => {
  it.each(Object.keys(buckets))('bucket %s', (logical) => {
    const names = Object.values(resourcesOf(data, 'AWS::S3::Bucket')).map((b) =>
      JSON.stringify(b.Properties?.BucketName ?? ''),
    );
    expect(names.some((n) => n.includes(`${physicalName(prefix, logical)}-`))).toBe(true);
  });

  it.each(Object.entries(tables))('table %s with its keys and indexes', (logical, decl) => {
    data.hasResourceProperties('AWS::DynamoDB::Table', {
      TableName: physicalName(prefix, logical),
      KeySchema: [
        { AttributeName: decl.partitionKey.name, KeyType: 'HASH' },
        ...(decl.sortKey ? [{ AttributeName: decl.sortKey.name, KeyType: 'RANGE' }] : []),
      ],
      ...(decl.indexes
        ? {
            GlobalSecondaryIndexes: decl.indexes.map((i) =>
              Match.objectLike({
                IndexName: i.name,
                KeySchema: [
                  { AttributeName: i.partitionKey.name, KeyType: 'HASH' },
                  ...(i.sortKey ? [{ AttributeName: i.sortKey.name, KeyType: 'RANGE' }] : []),
                ],
              }),
            ),
          }
        : {}),
      ...(decl.ttlAttribute
        ? { TimeToLiveSpecification: { AttributeName: decl.ttlAttribute, Enabled: true } }
        : {}),
    });
  });

  it.each(Object.entries(queues))(
    'queue %s with its dead-letter queue and redrive settings',
    (logical, decl) => {
      const dlq = Object.entries(resourcesOf(data, 'AWS::SQS::Queue')).find(
        ([, q]) => q.Properties?.QueueName === `${physicalName(prefix, logical)}${deadLetterSuffix}`,
      );
      expect(dlq).toBeDefined();
      data.hasResourceProperties('AWS::SQS::Queue', {
        QueueName: physicalName(prefix, logical),
        VisibilityTimeout: decl.visibilityTimeoutSeconds,
        MessageRetentionPeriod: decl.retentionSeconds,
        RedrivePolicy: {
          deadLetterTargetArn: { 'Fn::GetAtt': [dlq?.[0], 'Arn'] },
          maxReceiveCount: decl.maxReceiveCount,
        },
      });
    },
  );

  it.each(Object.entries(workerPools))('worker pool %s consumes its queue on its capacity', (pool, decl) => {
    compute.hasResourceProperties('AWS::ECS::Service', {
      ServiceName: physicalName(prefix, `${pool}Workers`),
    });
    const task = Object.values(resourcesOf(compute, 'AWS::ECS::TaskDefinition')).find(
      (t) => t.Properties?.Family === physicalName(prefix, `${pool}Workers`),
    );
    const containers = (task?.Properties?.ContainerDefinitions ?? []) as {
      Name: string;
      Environment: { Name: string }[];
    }[];
    const worker = containers.find((c) => c.Name === 'worker');
    const env = new Set(worker?.Environment.map((e) => e.Name));
    for (const name of ['POOL', 'QUEUE_URL', 'ENGINE_URL']) expect(env.has(name), name).toBe(true);
    for (const b of bindingsOf(workerUses)) expect(env.has(b.env), b.env).toBe(true);
    const asg = Object.values(resourcesOf(compute, 'AWS::AutoScaling::AutoScalingGroup')).map(
      (a) =>
        (
          a.Properties?.MixedInstancesPolicy as
            | { InstancesDistribution: { OnDemandPercentageAboveBaseCapacity: number } }
            | undefined
        )?.InstancesDistribution.OnDemandPercentageAboveBaseCapacity,
    );
    expect(asg).toContain(decl.capacity === 'spot' ? 0 : 100);
  });
});

describe('declaration checks', () => {
  const fn = (over: Partial<FunctionDeclaration>): FunctionDeclaration => ({
    entry: 'lambdas/x/handler.ts',
    description: 'x',
    timeoutSeconds: 10,
    memoryMb: 256,
    triggers: [],
    uses: {},
    ...over,
  });

  it('accepts the real declaration', () => {
    expect(() => validateTriggers(functions)).not.toThrow();
  });

  it('refuses, all at once, what API Gateway, Lambda or EventBridge would refuse at deploy time', () => {
    const bad = {
      auth: fn({ triggers: [{ kind: 'authorizer' }] }),
      auth2: fn({ triggers: [{ kind: 'authorizer' }] }),
      slowApi: fn({
        timeoutSeconds: 60,
        triggers: [
          { kind: 'http', method: 'GET', path: '/v1/things' },
          { kind: 'http', method: 'GET', path: '/v1/things' },
          { kind: 'http', method: 'GET', path: 'v1/no-slash' },
        ],
      }),
      longWorker: fn({ timeoutSeconds: 1000, triggers: [{ kind: 'queue', queue: 'spot', batchSize: 20 }] }),
      oddSchedule: fn({ triggers: [{ kind: 'schedule', everySeconds: 90 }] }),
      tooNarrow: fn({ triggers: [{ kind: 'queue', queue: 'finalizing', batchSize: 1, maxConcurrency: 1 }] }),
    };
    let message = '';
    try {
      validateTriggers(bad);
    } catch (err) {
      message = (err as Error).message;
    }
    for (const part of [
      'route GET /v1/things is declared twice',
      "'v1/no-slash' is not a route path",
      'API Gateway waits at most 29 s',
      "queue spot's visibility timeout (30 s) is below the function timeout (1000 s)",
      'SQS batch size must be 1-10',
      "tooNarrow: an SQS event source's maximum concurrency must be 2-1,000",
      'Lambda timeout is at most 900 s',
      'EventBridge schedules run every whole minute; 90 s is not one',
      'exactly one function must have an authorizer trigger (found 2)',
    ]) {
      expect(message).toContain(part);
    }
  });
});
