import { Arn, ArnFormat, Stack } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import {
  type BucketName,
  deadLetterSuffix,
  type FunctionName,
  type PoolName,
  physicalName,
  type QueueName,
  type TableName,
} from '../../core/app/declaration.js';
import { DEFAULT_POOL_GROUP, poolQueueLogical } from '../../core/models/catalog.js';

/**
 * Physical names of everything openbatch deploys, derived from the environment's prefix with
 * the declaration's `physicalName` (the local runtime uses the same function). Stacks find one
 * another's resources by these names rather than through CloudFormation exports, so each stack
 * deploys and updates on its own.
 */
export class ResourceNames {
  /** `scope` is needed only for names that include the account and region (buckets, ARNs). */
  constructor(
    readonly prefix: string,
    private readonly scope?: Construct,
  ) {}

  private get stack(): Stack {
    if (!this.scope) throw new Error('ResourceNames needs a scope for account- and region-specific names');
    return Stack.of(this.scope);
  }

  stackName(role: 'data' | 'api' | 'compute' | 'portal' | 'monitoring'): string {
    return physicalName(this.prefix, role);
  }

  /** Bucket names are global: the account and region make them unique. */
  bucket(logical: BucketName): string {
    return `${physicalName(this.prefix, logical)}-${this.stack.account}-${this.stack.region}`;
  }

  table(logical: TableName): string {
    return physicalName(this.prefix, logical);
  }

  queue(logical: QueueName): string {
    return physicalName(this.prefix, logical);
  }

  deadLetterQueue(logical: QueueName): string {
    return `${this.queue(logical)}${deadLetterSuffix}`;
  }

  /** A pool group's queue: the declared one for the default group, `<prefix>-<group>-<pool>` else. */
  poolQueue(pool: PoolName, group: string): string {
    return physicalName(this.prefix, poolQueueLogical(pool, group));
  }

  poolDeadLetterQueue(pool: PoolName, group: string): string {
    return `${this.poolQueue(pool, group)}${deadLetterSuffix}`;
  }

  queueArn(name: string): string {
    return Arn.format({ service: 'sqs', resource: name, arnFormat: ArnFormat.NO_RESOURCE_NAME }, this.stack);
  }

  function(logical: FunctionName): string {
    return physicalName(this.prefix, logical);
  }

  api(): string {
    return physicalName(this.prefix, 'api');
  }

  cluster(): string {
    return physicalName(this.prefix, 'workers');
  }

  /** The default group keeps the names it had before pool groups: nothing deployed is replaced. */
  service(pool: PoolName, group: string = DEFAULT_POOL_GROUP): string {
    return physicalName(this.prefix, `${groupPart(group)}${pool}Workers`);
  }

  capacityProvider(pool: PoolName, group: string = DEFAULT_POOL_GROUP): string {
    return physicalName(this.prefix, `${groupPart(group)}${pool}Capacity`);
  }

  /** SSM parameters through which stacks hand deploy-time values (the API's id) to one another. */
  parameter(key: 'rest-api-id' | 'api-url'): string {
    return `/${this.prefix}/${key}`;
  }
}

const groupPart = (group: string) => (group === DEFAULT_POOL_GROUP ? '' : `${group}-`);
