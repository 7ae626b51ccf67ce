import { Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type { IGrantable } from 'aws-cdk-lib/aws-iam';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct, IConstruct } from 'constructs';
import { actionsOf, bucketActions, objectActions, queueActions } from '../../core/app/access.js';
import {
  type BucketName,
  POOL_QUEUE_URLS,
  type PoolName,
  type QueueName,
  sendsToPoolQueues,
  type TableName,
  tables,
  type Uses,
} from '../../core/app/declaration.js';
import { resourceEnvironment } from '../../core/app/resources.js';
import { DEFAULT_POOL_GROUP } from '../../core/models/catalog.js';
import { acknowledgeFindings, grantReason, resourceFinding } from './nag.js';
import type { ResourceNames } from './names.js';

export type { Uses } from '../../core/app/declaration.js';

/**
 * The data stack's buckets, tables and queues as seen from another stack: imported by their
 * physical names, so no CloudFormation export ties the stacks together. `bind` is the one
 * place where a consumer gets both its IAM grants and the environment variables that name the
 * resources, from the declaration's `uses`.
 */
export class DataPlaneRefs {
  private readonly bucketRefs = new Map<BucketName, s3.IBucket>();
  private readonly tableRefs = new Map<TableName, dynamodb.ITable>();
  private readonly queueRefs = new Map<string, sqs.IQueue>();

  constructor(
    private readonly scope: Construct,
    readonly names: ResourceNames,
  ) {}

  bucket(logical: BucketName): s3.IBucket {
    let ref = this.bucketRefs.get(logical);
    if (!ref) {
      ref = s3.Bucket.fromBucketName(
        this.scope,
        `Imported${pascal(logical)}Bucket`,
        this.names.bucket(logical),
      );
      this.bucketRefs.set(logical, ref);
    }
    return ref;
  }

  table(logical: TableName): dynamodb.ITable {
    let ref = this.tableRefs.get(logical);
    if (!ref) {
      ref = dynamodb.Table.fromTableAttributes(this.scope, `Imported${pascal(logical)}Table`, {
        tableName: this.names.table(logical),
        // Grants then cover the indexes too (`table/<name>/index/*`).
        globalIndexes: tables[logical].indexes?.map((i) => i.name),
      });
      this.tableRefs.set(logical, ref);
    }
    return ref;
  }

  queue(logical: QueueName): sqs.IQueue {
    return this.queueByName(this.names.queue(logical), `Imported${pascal(logical)}Queue`);
  }

  /** A pool group's queue of a pool: the declared one for the default group. */
  poolQueue(pool: PoolName, group: string): sqs.IQueue {
    return group === DEFAULT_POOL_GROUP
      ? this.queue(pool)
      : this.queueByName(this.names.poolQueue(pool, group), `Imported${groupId(group)}${pascal(pool)}Queue`);
  }

  deadLetterQueue(logical: QueueName): sqs.IQueue {
    return this.queueByName(this.names.deadLetterQueue(logical), `Imported${pascal(logical)}DeadLetterQueue`);
  }

  private queueByName(name: string, id: string): sqs.IQueue {
    let ref = this.queueRefs.get(name);
    if (!ref) {
      ref = sqs.Queue.fromQueueArn(this.scope, id, this.names.queueArn(name));
      this.queueRefs.set(name, ref);
    }
    return ref;
  }

  /**
   * Grants `grantee` exactly the IAM actions that `uses` names (core/app/access.ts, the same
   * table the local runtime enforces): item actions on the named tables and their indexes,
   * object actions on the named buckets' objects (and listing where a function deletes a
   * prefix), SendMessage on the named queues. Returns the environment variables, named by the
   * declaration, through which the code finds those resources.
   *
   * The wildcards these grants need (object keys, index names) are acknowledged to cdk-nag on
   * `owner` finding by finding, so any other wildcard is still reported.
   *
   * `group`: the pool group whose spot and dedicated queues the declared `spot` and `dedicated`
   * are (a worker's own group's, core/app/declaration.ts `workerUses`).
   */
  bind(
    grantee: IGrantable,
    uses: Uses,
    owner: IConstruct,
    group: string = DEFAULT_POOL_GROUP,
  ): Record<string, string> {
    const findings: string[] = [];
    const env = resourceEnvironment(uses, (b) => {
      const actions = [...actionsOf(b)];
      switch (b.kind) {
        case 'bucket': {
          const bucket = this.bucket(b.logical);
          const objects = bucket.arnForObjects('*');
          iam.Grant.addToPrincipal({
            grantee,
            actions: [...objectActions[b.access]],
            resourceArns: [objects],
          });
          if (bucketActions[b.access].length > 0)
            iam.Grant.addToPrincipal({
              grantee,
              actions: [...bucketActions[b.access]],
              resourceArns: [bucket.bucketArn],
            });
          findings.push(resourceFinding(owner, objects));
          return bucket.bucketName;
        }
        case 'table': {
          const table = this.table(b.logical);
          const indexes = tables[b.logical].indexes?.length ? [`${table.tableArn}/index/*`] : [];
          iam.Grant.addToPrincipal({ grantee, actions, resourceArns: [table.tableArn, ...indexes] });
          findings.push(...indexes.map((i) => resourceFinding(owner, i)));
          return table.tableName;
        }
        case 'queue': {
          const queue =
            b.logical === 'spot' || b.logical === 'dedicated'
              ? this.poolQueue(b.logical, group)
              : this.queue(b.logical);
          iam.Grant.addToPrincipal({ grantee, actions, resourceArns: [queue.queueArn] });
          return queue.queueUrl;
        }
      }
    });
    acknowledgeFindings(owner, 'AwsSolutions-IAM5', [...new Set(findings)], grantReason);
    return env;
  }

  /**
   * POOL_QUEUE_URLS for a function that sends chunk messages (`sendsToPoolQueues`): the spot and
   * dedicated queues of every pool group but the default, and SendMessage on those of the pools
   * `uses` names, as the local runtime's access guard allows (localstack/runtime/access-guard.ts).
   * Empty when the function sends to no pool or there is no other group.
   */
  bindPoolGroups(grantee: IGrantable, uses: Uses, groups: readonly string[]): Record<string, string> {
    const others = groups.filter((g) => g !== DEFAULT_POOL_GROUP);
    if (!sendsToPoolQueues(uses) || others.length === 0) return {};
    const declared = new Set(uses.queues ?? []);
    const urls: Record<string, Record<PoolName, string>> = {};
    for (const group of others) {
      const spot = this.poolQueue('spot', group);
      const dedicated = this.poolQueue('dedicated', group);
      const sends = [spot, dedicated].filter((_, i) => declared.has(i === 0 ? 'spot' : 'dedicated'));
      iam.Grant.addToPrincipal({
        grantee,
        actions: [...queueActions.send],
        resourceArns: sends.map((q) => q.queueArn),
      });
      urls[group] = { spot: spot.queueUrl, dedicated: dedicated.queueUrl };
    }
    // The URLs are deploy-time tokens: the stack renders the JSON with them resolved.
    return { [POOL_QUEUE_URLS]: Stack.of(this.scope).toJsonString(urls) };
  }
}

export const pascal = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

/** A pool group's name in construct ids: `small-llm` → `SmallLlm`. */
export const groupId = (group: string): string => group.split('-').map(pascal).join('');
