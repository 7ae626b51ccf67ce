import { PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { PackRecord } from '../dedup/answer-index.js';
import type { DedupRepo } from '../ports.js';
import { OneTable } from './resource-name.js';

/**
 * The `dedup` table: one item per answer pack, keyed by tenant and time-ordered pack id
 * (docs/dedup.md). Items are written once and never updated; DynamoDB TTL removes expired ones.
 */
export class DedupStore extends OneTable implements DedupRepo {
  async putPack(record: PackRecord): Promise<void> {
    await this.doc.send(new PutCommand({ TableName: this.table, Item: record }));
  }

  /** Newest first, one query page (up to 1 MB, about 30 packs of 2,000 answers) a call. */
  async listPacks(tenant: string, opts: { after?: string; maxEntries: number }): Promise<PackRecord[]> {
    const out: PackRecord[] = [];
    let entries = 0;
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.doc.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: opts.after ? 'tenant = :t AND pack > :after' : 'tenant = :t',
          ExpressionAttributeValues: { ':t': tenant, ...(opts.after ? { ':after': opts.after } : {}) },
          ScanIndexForward: false,
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of (page.Items ?? []) as PackRecord[]) {
        out.push({ ...item, entries: new Uint8Array(item.entries) });
        entries += item.count;
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey && entries < opts.maxEntries);
    return out;
  }
}
