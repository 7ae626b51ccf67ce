import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type { IGrantable } from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct, IConstruct } from 'constructs';
import {
  type BucketName,
  buckets,
  type FunctionDeclaration,
  type QueueName,
  queues,
  type TableName,
  tables,
} from '../../core/app/declaration.js';
import { acknowledgeFindings, grantReason, resourceFinding, s3GrantActions } from './nag.js';
import type { ResourceNames } from './names.js';

/** What a function or worker declares it touches (the declaration's `uses`). */
export type Uses = FunctionDeclaration['uses'];

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
   * Grants `grantee` exactly what `uses` names (objects of the named buckets, items of the
   * named tables and their indexes, sending to the named queues) and returns the environment
   * variables, named by the declaration, through which the code finds those resources.
   *
   * The wildcards these grants need (object keys, index names) are acknowledged to cdk-nag on
   * `owner` finding by finding, so any other wildcard is still reported.
   */
  bind(grantee: IGrantable, uses: Uses, owner: IConstruct): Record<string, string> {
    const env: Record<string, string> = {};
    const findings: string[] = [];
    for (const b of uses.buckets ?? []) {
      const bucket = this.bucket(b);
      bucket.grantReadWrite(grantee);
      env[buckets[b].env] = bucket.bucketName;
      findings.push(resourceFinding(owner, bucket.arnForObjects('*')));
    }
    if ((uses.buckets ?? []).length > 0) findings.push(...s3GrantActions);
    for (const t of uses.tables ?? []) {
      const table = this.table(t);
      table.grantReadWriteData(grantee);
      env[tables[t].env] = table.tableName;
      if (tables[t].indexes?.length) findings.push(resourceFinding(owner, `${table.tableArn}/index/*`));
    }
    for (const q of uses.queues ?? []) {
      const queue = this.queue(q);
      queue.grantSendMessages(grantee);
      env[queues[q].env] = queue.queueUrl;
    }
    acknowledgeFindings(owner, 'AwsSolutions-IAM5', [...new Set(findings)], grantReason);
    return env;
  }
}

export const pascal = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);
