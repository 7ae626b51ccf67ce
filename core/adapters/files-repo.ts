import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
} from '@aws-sdk/lib-dynamodb';

import type { FileRecord, FileRepo } from '../ports.js';
import { nameOf, type ResourceName } from './resource-name.js';

export type { FileRecord } from '../ports.js';

export class FilesRepo implements FileRepo {
  private readonly tableName: () => string;

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    table: ResourceName,
  ) {
    this.tableName = nameOf(table);
  }

  private get table(): string {
    return this.tableName();
  }

  async put(record: FileRecord): Promise<void> {
    await this.doc.send(new PutCommand({ TableName: this.table, Item: record }));
  }

  async get(tenant: string, id: string): Promise<FileRecord | undefined> {
    const out = await this.doc.send(new GetCommand({ TableName: this.table, Key: { tenant, id } }));
    return out.Item as FileRecord | undefined;
  }

  /** Ids are time-ordered, so the sort key gives creation order. */
  async list(
    tenant: string,
    opts: { after?: string; limit: number; order: 'asc' | 'desc'; purpose?: string },
  ): Promise<{ items: FileRecord[]; hasMore: boolean }> {
    const items: FileRecord[] = [];
    let startKey: Record<string, unknown> | undefined = opts.after ? { tenant, id: opts.after } : undefined;
    do {
      const out = await this.doc.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'tenant = :t',
          ExpressionAttributeValues: { ':t': tenant, ...(opts.purpose ? { ':p': opts.purpose } : {}) },
          ...(opts.purpose ? { FilterExpression: 'purpose = :p' } : {}),
          ScanIndexForward: opts.order === 'asc',
          Limit: opts.limit + 1 - items.length,
          ExclusiveStartKey: startKey,
        }),
      );
      items.push(...((out.Items ?? []) as FileRecord[]));
      startKey = out.LastEvaluatedKey;
    } while (startKey && items.length <= opts.limit);
    return { items: items.slice(0, opts.limit), hasMore: items.length > opts.limit };
  }

  async delete(tenant: string, id: string): Promise<void> {
    await this.doc.send(new DeleteCommand({ TableName: this.table, Key: { tenant, id } }));
  }
}
