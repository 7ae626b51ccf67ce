import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type { IGrantable } from 'aws-cdk-lib/aws-iam';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct, IConstruct } from 'constructs';
import { actionsOf, bucketActions, objectActions } from '../../core/app/access.js';
import {
  type BucketName,
  type QueueName,
  type TableName,
  tables,
  type Uses,
} from '../../core/app/declaration.js';
import { resourceEnvironment } from '../../core/app/resources.js';
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
   */
  bind(grantee: IGrantable, uses: Uses, owner: IConstruct): Record<string, string> {
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
          const queue = this.queue(b.logical);
          iam.Grant.addToPrincipal({ grantee, actions, resourceArns: [queue.queueArn] });
          return queue.queueUrl;
        }
      }
    });
    acknowledgeFindings(owner, 'AwsSolutions-IAM5', [...new Set(findings)], grantReason);
    return env;
  }
}

export const pascal = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);
