import {
  BatchGetCommand,
  BatchWriteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { BatchRecord, ChunkProgress } from '../batches/batch-record.js';
import { isTerminal, predecessorsOf, timestampField } from '../batches/lifecycle.js';
import { type BatchRef, batchKey } from '../chunks/chunk-message.js';
import type { ChunkOutcome, ChunkRecord } from '../chunks/chunk-record.js';
import type { ChunkRange } from '../chunks/plan-chunks.js';
import type { BatchStatus } from '../openai/schemas.js';
import type { BatchRepo } from '../ports.js';
import { isConditionFailure, nameOf, type ResourceName } from './resource-name.js';

/** `SET #a = :a, …` for the defined fields, every name aliased (many, like `status`, are reserved words). */
function setClause(fields: Record<string, unknown>): {
  expression: string;
  names: Record<string, string>;
  values: Record<string, unknown>;
} {
  const entries = Object.entries(fields).filter(([, v]) => v !== undefined);
  return {
    expression: `SET ${entries.map(([k]) => `#${k} = :${k}`).join(', ')}`,
    names: Object.fromEntries(entries.map(([k]) => [`#${k}`, k])),
    values: Object.fromEntries(entries.map(([k, v]) => [`:${k}`, v])),
  };
}

/** The batches and chunks tables. Every write that decides something is conditional. */
export class BatchStore implements BatchRepo {
  private readonly batchesName: () => string;
  private readonly chunksName: () => string;

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    batchesTable: ResourceName,
    chunksTable: ResourceName,
  ) {
    this.batchesName = nameOf(batchesTable);
    this.chunksName = nameOf(chunksTable);
  }

  private get batchesTable(): string {
    return this.batchesName();
  }

  private get chunksTable(): string {
    return this.chunksName();
  }

  async create(record: BatchRecord): Promise<void> {
    await this.doc.send(
      new PutCommand({
        TableName: this.batchesTable,
        Item: record,
        ConditionExpression: 'attribute_not_exists(id)',
      }),
    );
  }

  async get(ref: BatchRef): Promise<BatchRecord | undefined> {
    const out = await this.doc.send(
      new GetCommand({
        TableName: this.batchesTable,
        Key: { tenant: ref.tenant, id: ref.batchId },
        ConsistentRead: true,
      }),
    );
    return out.Item as BatchRecord | undefined;
  }

  /** Newest first: batch ids are time-ordered. */
  async list(
    tenant: string,
    opts: { after?: string; limit: number },
  ): Promise<{ items: BatchRecord[]; hasMore: boolean }> {
    const out = await this.doc.send(
      new QueryCommand({
        TableName: this.batchesTable,
        KeyConditionExpression: 'tenant = :t',
        ExpressionAttributeValues: { ':t': tenant },
        ScanIndexForward: false,
        Limit: opts.limit + 1,
        ...(opts.after ? { ExclusiveStartKey: { tenant, id: opts.after } } : {}),
      }),
    );
    const items = (out.Items ?? []) as BatchRecord[];
    return { items: items.slice(0, opts.limit), hasMore: items.length > opts.limit };
  }

  /**
   * Moves a batch to `to` if it is in one of `from` (default: every status allowed to precede
   * `to`), stamping the status's timestamp and setting `fields`. Returns the updated record, or
   * undefined when the batch was no longer in a status that allows the move.
   */
  async transition(
    ref: BatchRef,
    to: BatchStatus,
    nowS: number,
    fields: Partial<BatchRecord> = {},
    from: readonly BatchStatus[] = predecessorsOf(to),
  ): Promise<BatchRecord | undefined> {
    // A batch past validation no longer needs its file's plan (every poll reads the item);
    // one that ends no longer appears in the sparse index of running batches.
    const removed = {
      ...(to !== 'validating' ? { '#plan': 'plan' } : {}),
      ...(isTerminal(to) ? { '#active': 'active' } : {}),
    };
    const set = setClause({ ...fields, status: to, [timestampField[to]]: nowS });
    const fromValues = Object.fromEntries(from.map((s, i) => [`:from${i}`, s]));
    try {
      const out = await this.doc.send(
        new UpdateCommand({
          TableName: this.batchesTable,
          Key: { tenant: ref.tenant, id: ref.batchId },
          UpdateExpression: `${set.expression}${Object.keys(removed).length > 0 ? ` REMOVE ${Object.keys(removed).join(', ')}` : ''}`,
          ConditionExpression: `#status IN (${Object.keys(fromValues).join(', ')})`,
          ExpressionAttributeNames: { ...set.names, ...removed },
          ExpressionAttributeValues: { ...set.values, ...fromValues },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return out.Attributes as BatchRecord;
    } catch (err) {
      if (isConditionFailure(err)) return undefined;
      throw err;
    }
  }

  async update(ref: BatchRef, fields: Partial<BatchRecord>): Promise<void> {
    const set = setClause(fields);
    await this.doc.send(
      new UpdateCommand({
        TableName: this.batchesTable,
        Key: { tenant: ref.tenant, id: ref.batchId },
        UpdateExpression: set.expression,
        ExpressionAttributeNames: set.names,
        ExpressionAttributeValues: set.values,
      }),
    );
  }

  /**
   * Claims the right to finalize a batch until `untilS`, unless another finalizer holds an
   * unexpired claim. Two finalize messages for one batch (two workers saw the last chunk done)
   * then stitch the files once, and a crashed finalizer's claim lapses for a retry.
   */
  async claimFinalization(ref: BatchRef, nowS: number, untilS: number): Promise<boolean> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.batchesTable,
          Key: { tenant: ref.tenant, id: ref.batchId },
          UpdateExpression: 'SET finalizer_lease = :until',
          ConditionExpression: 'attribute_not_exists(finalizer_lease) OR finalizer_lease < :now',
          ExpressionAttributeValues: { ':until': untilS, ':now': nowS },
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  }

  /** Writes pending chunk records, 25 to a call, retrying what DynamoDB leaves unprocessed. */
  async putChunks(ref: BatchRef, chunks: readonly ChunkRange[], ttl: number): Promise<void> {
    const key = batchKey(ref);
    for (let i = 0; i < chunks.length; i += 25) {
      let requests: { PutRequest: { Item: Record<string, unknown> } }[] = chunks
        .slice(i, i + 25)
        .map((c) => ({
          PutRequest: { Item: { ...c, batch_key: key, status: 'pending', ttl } satisfies ChunkRecord },
        }));
      for (let attempt = 0; requests.length > 0; attempt++) {
        const out = await this.doc.send(
          new BatchWriteCommand({ RequestItems: { [this.chunksTable]: requests } }),
        );
        requests = (out.UnprocessedItems?.[this.chunksTable] ?? []) as typeof requests;
        if (requests.length > 0) await new Promise((r) => setTimeout(r, 50 * 2 ** Math.min(attempt, 6)));
      }
    }
  }

  /** One call for what a worker needs before starting a chunk: is the batch running, is the chunk still to do. */
  async getBatchAndChunk(
    ref: BatchRef,
    chunk: number,
  ): Promise<{ batch?: BatchRecord; chunk?: ChunkRecord }> {
    const out = await this.doc.send(
      new BatchGetCommand({
        RequestItems: {
          [this.batchesTable]: { Keys: [{ tenant: ref.tenant, id: ref.batchId }], ConsistentRead: true },
          [this.chunksTable]: { Keys: [{ batch_key: batchKey(ref), chunk }], ConsistentRead: true },
        },
      }),
    );
    return {
      batch: out.Responses?.[this.batchesTable]?.[0] as BatchRecord | undefined,
      chunk: out.Responses?.[this.chunksTable]?.[0] as ChunkRecord | undefined,
    };
  }

  /**
   * Completes a chunk exactly once: marks it done with its result parts and adds its counts to
   * the batch, in one transaction that only succeeds while the chunk is pending and the batch
   * running. Returns false for a duplicate delivery or a batch that stopped meanwhile.
   */
  async completeChunk(ref: BatchRef, chunk: number, outcome: ChunkOutcome): Promise<boolean> {
    try {
      await this.doc.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Update: {
                TableName: this.chunksTable,
                Key: { batch_key: batchKey(ref), chunk },
                UpdateExpression:
                  'SET #status = :done, #completed = :c, #failed = :f, output_key = :o, #pool = :p' +
                  (outcome.errorKey ? ', error_key = :e' : '') +
                  (outcome.outputBytes !== undefined ? ', output_bytes = :ob' : '') +
                  (outcome.errorBytes !== undefined ? ', error_bytes = :eb' : '') +
                  (outcome.usage
                    ? ', usage_input = :ui, usage_cached = :uc, usage_output = :uo, usage_reasoning = :ur'
                    : '') +
                  (outcome.reused ? ', #reused = :r, reused_lines = :rl' : ''),
                ConditionExpression: '#status = :pending',
                ExpressionAttributeNames: {
                  '#status': 'status',
                  '#completed': 'completed',
                  '#failed': 'failed',
                  '#pool': 'pool',
                  ...(outcome.reused ? { '#reused': 'reused' } : {}),
                },
                ExpressionAttributeValues: {
                  ':done': 'done',
                  ':pending': 'pending',
                  ':c': outcome.completed,
                  ':f': outcome.failed,
                  ':o': outcome.outputKey,
                  ':p': outcome.pool,
                  ...(outcome.errorKey ? { ':e': outcome.errorKey } : {}),
                  ...(outcome.outputBytes !== undefined ? { ':ob': outcome.outputBytes } : {}),
                  ...(outcome.errorBytes !== undefined ? { ':eb': outcome.errorBytes } : {}),
                  ...usageValues(outcome),
                  ...(outcome.reused ? { ':r': outcome.reused.count, ':rl': outcome.reused.bitmap } : {}),
                },
              },
            },
            {
              Update: {
                TableName: this.batchesTable,
                Key: { tenant: ref.tenant, id: ref.batchId },
                UpdateExpression:
                  'ADD #completed :c, #failed :f, chunks_done :one, #poolRequests :n' +
                  (outcome.usage
                    ? ', usage_input :ui, usage_cached :uc, usage_output :uo, usage_reasoning :ur'
                    : '') +
                  (outcome.reused ? ', #reused :r' : '') +
                  (outcome.at !== undefined ? ' SET last_chunk_at = :at' : '') +
                  // Its live progress gives way to the final counts above.
                  ' REMOVE #progress',
                ConditionExpression: '#status = :running',
                ExpressionAttributeNames: {
                  '#status': 'status',
                  '#completed': 'completed',
                  '#failed': 'failed',
                  '#poolRequests': `${outcome.pool}_requests`,
                  '#progress': `progress_${chunk}`,
                  ...(outcome.reused ? { '#reused': 'reused' } : {}),
                },
                ExpressionAttributeValues: {
                  ':c': outcome.completed,
                  ':f': outcome.failed,
                  ':one': 1,
                  ':n': outcome.completed + outcome.failed,
                  ':running': 'in_progress',
                  ...usageValues(outcome),
                  ...(outcome.reused ? { ':r': outcome.reused.count } : {}),
                  ...(outcome.at !== undefined ? { ':at': outcome.at } : {}),
                },
              },
            },
          ],
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  }

  /** All chunk records of a batch, in chunk order (strongly consistent: decisions are made from them). */
  async listChunks(ref: BatchRef): Promise<ChunkRecord[]> {
    const items: ChunkRecord[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const out = await this.doc.send(
        new QueryCommand({
          TableName: this.chunksTable,
          KeyConditionExpression: 'batch_key = :k',
          ExpressionAttributeValues: { ':k': batchKey(ref) },
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
        }),
      );
      items.push(...((out.Items ?? []) as ChunkRecord[]));
      startKey = out.LastEvaluatedKey;
    } while (startKey);
    return items;
  }

  /**
   * Records an attempt's finished lines, unless the chunk was completed meanwhile: at an
   * interruption (counted on the chunk and the batch), or as progress while it runs, so that a
   * worker killed without warning loses at most the lines since its last checkpoint.
   */
  async reportProgress(ref: BatchRef, chunk: number, progress: ChunkProgress): Promise<boolean> {
    try {
      // One call: the chunk must still be pending (a completion removes the progress in a
      // transaction too, so the two are ordered) and the batch running.
      await this.doc.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              ConditionCheck: {
                TableName: this.chunksTable,
                Key: { batch_key: batchKey(ref), chunk },
                ConditionExpression: '#status = :pending',
                ExpressionAttributeNames: { '#status': 'status' },
                ExpressionAttributeValues: { ':pending': 'pending' },
              },
            },
            {
              Update: {
                TableName: this.batchesTable,
                Key: { tenant: ref.tenant, id: ref.batchId },
                UpdateExpression: 'SET #progress = :p',
                ConditionExpression: '#status = :running',
                ExpressionAttributeNames: { '#status': 'status', '#progress': `progress_${chunk}` },
                ExpressionAttributeValues: {
                  ':p': { completed: progress.completed, failed: progress.failed },
                  ':running': 'in_progress',
                },
              },
            },
          ],
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  }

  async saveCheckpoint(
    ref: BatchRef,
    chunk: number,
    checkpoint: { key: string; lines: number } | undefined,
    interrupted = true,
  ): Promise<boolean> {
    if (!interrupted) {
      if (!checkpoint) return true;
      try {
        await this.doc.send(
          new UpdateCommand({
            TableName: this.chunksTable,
            Key: { batch_key: batchKey(ref), chunk },
            UpdateExpression: 'SET checkpoint_key = :k, checkpoint_lines = :n',
            ConditionExpression: '#status = :pending',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: {
              ':k': checkpoint.key,
              ':n': checkpoint.lines,
              ':pending': 'pending',
            },
          }),
        );
        return true;
      } catch (err) {
        if (isConditionFailure(err)) return false;
        throw err;
      }
    }
    try {
      await this.doc.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Update: {
                TableName: this.chunksTable,
                Key: { batch_key: batchKey(ref), chunk },
                UpdateExpression: `${checkpoint ? 'SET checkpoint_key = :k, checkpoint_lines = :n ' : ''}ADD interruptions :one`,
                ConditionExpression: '#status = :pending',
                ExpressionAttributeNames: { '#status': 'status' },
                ExpressionAttributeValues: {
                  ':one': 1,
                  ':pending': 'pending',
                  ...(checkpoint ? { ':k': checkpoint.key, ':n': checkpoint.lines } : {}),
                },
              },
            },
            {
              Update: {
                TableName: this.batchesTable,
                Key: { tenant: ref.tenant, id: ref.batchId },
                UpdateExpression: 'ADD interruptions :one',
                ExpressionAttributeValues: { ':one': 1 },
              },
            },
          ],
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  }

  /** Flags chunks whose copies went to the dedicated queue, and the batch as at risk. */
  async markEscalated(ref: BatchRef, chunks: readonly number[]): Promise<void> {
    for (const chunk of chunks) {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.chunksTable,
          Key: { batch_key: batchKey(ref), chunk },
          UpdateExpression: 'SET escalated = :t',
          ExpressionAttributeValues: { ':t': true },
        }),
      );
    }
    await this.doc.send(
      new UpdateCommand({
        TableName: this.batchesTable,
        Key: { tenant: ref.tenant, id: ref.batchId },
        UpdateExpression: 'SET at_risk = :t ADD chunks_escalated :n',
        ExpressionAttributeValues: { ':t': true, ':n': chunks.length },
      }),
    );
  }

  async advanceValidation(ref: BatchRef, from: number, to: number, nowS: number): Promise<boolean> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.batchesTable,
          Key: { tenant: ref.tenant, id: ref.batchId },
          UpdateExpression: 'SET validation_segment = :to, validation_progress_at = :now',
          ConditionExpression:
            '#status = :validating AND ' +
            (from === 0 ? 'attribute_not_exists(validation_segment)' : 'validation_segment = :from'),
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':to': to,
            ':now': nowS,
            ':validating': 'validating',
            ...(from === 0 ? {} : { ':from': from }),
          },
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  }

  async addRetry(ref: BatchRef, retryId: string): Promise<void> {
    await this.doc.send(
      new UpdateCommand({
        TableName: this.batchesTable,
        Key: { tenant: ref.tenant, id: ref.batchId },
        UpdateExpression: 'SET retries = list_append(if_not_exists(retries, :none), :id)',
        ConditionExpression: 'attribute_exists(id)',
        ExpressionAttributeValues: { ':none': [], ':id': [retryId] },
      }),
    );
  }

  /** Running batches, soonest deadline first, from the sparse `active-by-expiry` index. */
  async listActive(): Promise<BatchRecord[]> {
    const items: BatchRecord[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const out = await this.doc.send(
        new QueryCommand({
          TableName: this.batchesTable,
          IndexName: 'active-by-expiry',
          KeyConditionExpression: '#active = :a',
          ExpressionAttributeNames: { '#active': 'active' },
          ExpressionAttributeValues: { ':a': 'yes' },
          ExclusiveStartKey: startKey,
        }),
      );
      items.push(...((out.Items ?? []) as BatchRecord[]));
      startKey = out.LastEvaluatedKey;
    } while (startKey);
    return items;
  }
}

/** A chunk's token counts as expression values, for its record and its batch's totals. */
function usageValues(outcome: ChunkOutcome): Record<string, number> {
  if (!outcome.usage) return {};
  const u = outcome.usage;
  return { ':ui': u.input, ':uc': u.cached, ':uo': u.output, ':ur': u.reasoning };
}
