import { BatchGetCommand, type BatchGetCommandOutput, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { AskedRecord, TaskReport } from '../pools/task-report.js';
import type { PoolReportRepo } from '../ports.js';
import { OneTable } from './resource-name.js';

/**
 * The `pools` table: one report per worker task, keyed by its pool and task, replaced every
 * interval; DynamoDB TTL removes the reports of tasks long gone. A pool has as many items as
 * tasks, so a query reads it whole in one page. Beside them, under partitions of their own, what
 * the SLA monitor last asked each pool for (`AskedRecord`).
 */
export class PoolReports extends OneTable implements PoolReportRepo {
  async put(report: TaskReport): Promise<void> {
    await this.doc.send(new PutCommand({ TableName: this.table, Item: report }));
  }

  async recent(pool: string, sinceS: number): Promise<TaskReport[]> {
    const out: TaskReport[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.doc.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: '#pool = :p',
          FilterExpression: '#at >= :since',
          ExpressionAttributeNames: { '#pool': 'pool', '#at': 'at' },
          ExpressionAttributeValues: { ':p': pool, ':since': sinceS },
          ExclusiveStartKey: startKey,
        }),
      );
      out.push(...((page.Items ?? []) as TaskReport[]));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return out;
  }

  async asked(pools: readonly string[]): Promise<AskedRecord[]> {
    const out: AskedRecord[] = [];
    // BatchGetItem takes 100 keys a call; a deployment has two per pool group.
    for (let i = 0; i < pools.length; i += 100) {
      let keys: Record<string, unknown>[] | undefined = pools
        .slice(i, i + 100)
        .map((pool) => ({ pool, task: 'asked' }));
      while (keys && keys.length > 0) {
        const got: BatchGetCommandOutput = await this.doc.send(
          new BatchGetCommand({ RequestItems: { [this.table]: { Keys: keys } } }),
        );
        out.push(...((got.Responses?.[this.table] ?? []) as AskedRecord[]));
        keys = got.UnprocessedKeys?.[this.table]?.Keys;
      }
    }
    return out;
  }

  async putAsked(record: AskedRecord): Promise<void> {
    await this.doc.send(new PutCommand({ TableName: this.table, Item: record }));
  }
}
