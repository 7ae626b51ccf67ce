import { PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { TaskReport } from '../pools/task-report.js';
import type { PoolReportRepo } from '../ports.js';
import { OneTable } from './resource-name.js';

/**
 * The `pools` table: one report per worker task, keyed by its pool and task, replaced every
 * interval; DynamoDB TTL removes the reports of tasks long gone. A pool has as many items as
 * tasks, so a query reads it whole in one page.
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
}
