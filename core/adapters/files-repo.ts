import { DeleteCommand, GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';

import type { FileRecord, FileRepo } from '../ports.js';
import { isConditionFailure, OneTable } from './resource-name.js';

export type { FileRecord } from '../ports.js';

export class FilesRepo extends OneTable implements FileRepo {
  /** Files that expire carry `expiring`, the key of the sparse `expiring-by-time` index the sweep reads. */
  async put(record: FileRecord): Promise<void> {
    const item = record.expires_at === null ? record : { ...record, expiring: 'yes' };
    await this.doc.send(new PutCommand({ TableName: this.table, Item: item }));
  }

  async reserve(tenant: string, id: string, batchId: string): Promise<boolean> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { tenant, id },
          UpdateExpression: 'ADD in_use_by :b',
          ConditionExpression: 'attribute_exists(id)',
          ExpressionAttributeValues: { ':b': new Set([batchId]) },
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  }

  async release(tenant: string, id: string, batchId: string): Promise<void> {
    try {
      // DynamoDB removes a set when its last element goes, so an unused file has no `in_use_by`.
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { tenant, id },
          UpdateExpression: 'DELETE in_use_by :b',
          ConditionExpression: 'attribute_exists(id)',
          ExpressionAttributeValues: { ':b': new Set([batchId]) },
        }),
      );
    } catch (err) {
      if (!isConditionFailure(err)) throw err; // the file is gone: nothing holds it
    }
  }

  async deleteIfUnused(
    tenant: string,
    id: string,
  ): Promise<{ deleted: true } | { deleted: false; heldBy: string[] }> {
    try {
      await this.doc.send(
        new DeleteCommand({
          TableName: this.table,
          Key: { tenant, id },
          ConditionExpression: 'attribute_not_exists(in_use_by)',
        }),
      );
      return { deleted: true };
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
      return { deleted: false, heldBy: [...((await this.get(tenant, id))?.in_use_by ?? [])] };
    }
  }

  async listExpired(nowS: number): Promise<FileRecord[]> {
    const items: FileRecord[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const out = await this.doc.send(
        new QueryCommand({
          TableName: this.table,
          IndexName: 'expiring-by-time',
          KeyConditionExpression: 'expiring = :y AND expires_at <= :now',
          ExpressionAttributeValues: { ':y': 'yes', ':now': nowS },
          ExclusiveStartKey: startKey,
        }),
      );
      items.push(...((out.Items ?? []) as FileRecord[]));
      startKey = out.LastEvaluatedKey;
    } while (startKey);
    return items;
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
}
