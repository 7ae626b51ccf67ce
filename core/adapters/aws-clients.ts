import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AwsSettings } from '../config.js';
import { propagateTraceHeader } from '../observability/tracing.js';

/** Counts AWS API calls per command. The figure the project keeps low: calls per 1,000 requests. */
export class CallCounter {
  private readonly counts = new Map<string, number>();

  record(service: string, command: string): void {
    const key = `${service}.${command.replace(/Command$/, '')}`;
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }

  /** Adds counts made elsewhere (a function running in its own thread). */
  add(counts: Record<string, number>): void {
    for (const [k, v] of Object.entries(counts)) this.counts.set(k, (this.counts.get(k) ?? 0) + v);
  }

  /** The counts so far, and a fresh start. */
  drain(): Record<string, number> {
    const out = this.snapshot();
    this.counts.clear();
    return out;
  }

  snapshot(): Record<string, number> {
    return Object.fromEntries([...this.counts.entries()].sort(([a], [b]) => a.localeCompare(b)));
  }

  /** Calls made, without empty long polls unless asked. */
  total(opts: { includeEmptyReceives?: boolean } = {}): number {
    let n = 0;
    for (const [k, v] of this.counts) if (opts.includeEmptyReceives || !k.endsWith('(empty)')) n += v;
    return n;
  }
}

/** One counter per process; every client built here reports to it. */
export const awsCalls = new CallCounter();

export interface AwsClients {
  s3: S3Client;
  sqs: SQSClient;
  dynamo: DynamoDBClient;
  doc: DynamoDBDocumentClient;
}

type Stackable = { middlewareStack: S3Client['middlewareStack'] };

/** Middleware that checks or observes every SDK call, keyed by the service it applies to. */
export type ClientMiddleware = (
  service: 'S3' | 'SQS' | 'DynamoDB',
) => Parameters<S3Client['middlewareStack']['use']>[0];

const extraMiddleware: ClientMiddleware[] = [];

/**
 * Adds middleware to every client built from now on in this process. The local runtime uses
 * it to refuse calls a principal's declaration does not grant, as IAM would on AWS.
 */
export function addClientMiddleware(m: ClientMiddleware): void {
  extraMiddleware.push(m);
}

/** Counts `client`'s calls under `service` (the clients built here are counted already). */
export function countCalls(client: unknown, service: string, counter: CallCounter = awsCalls): void {
  addCounter(client as Stackable, service, counter);
}

function addCounter(client: Stackable, service: string, counter: CallCounter): void {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const result = await next(args);
      const command = context.commandName ?? 'Unknown';
      // Empty long polls cost per second of idling, not per request: counted apart.
      const messages = (result.output as { Messages?: unknown[] } | undefined)?.Messages;
      const idle = command === 'ReceiveMessageCommand' && (messages?.length ?? 0) === 0;
      counter.record(service, idle ? 'ReceiveMessage(empty)' : command);
      return result;
    },
    { step: 'initialize', name: 'openbatchCallCounter' },
  );
}

/**
 * Builds the SDK clients once per process. The endpoint comes from the standard
 * AWS_ENDPOINT_URL setting (unset on AWS), so the same code runs on AWS, LocalStack and moto.
 */
export function createAwsClients(
  settings: AwsSettings,
  counter: CallCounter = awsCalls,
  middleware: readonly ClientMiddleware[] = extraMiddleware,
): AwsClients {
  const common = {
    region: settings.AWS_REGION,
    ...(settings.AWS_ENDPOINT_URL ? { endpoint: settings.AWS_ENDPOINT_URL } : {}),
  };
  const s3 = new S3Client({
    ...common,
    // Emulators serve buckets by path, not by virtual host.
    forcePathStyle: Boolean(settings.AWS_ENDPOINT_URL),
    // Pre-signed part uploads from browsers cannot compute the SDK's default CRC checksums.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  const sqs = new SQSClient(common);
  const dynamo = new DynamoDBClient({
    ...common,
    ...(settings.AWS_ENDPOINT_URL_DYNAMODB ? { endpoint: settings.AWS_ENDPOINT_URL_DYNAMODB } : {}),
  });
  const doc = DynamoDBDocumentClient.from(dynamo, { marshallOptions: { removeUndefinedValues: true } });
  addCounter(s3 as unknown as Stackable, 'S3', counter);
  addCounter(sqs as unknown as Stackable, 'SQS', counter);
  addCounter(dynamo as unknown as Stackable, 'DynamoDB', counter);
  // Each message sent carries the current trace (X-Ray), when tracing is on.
  propagateTraceHeader(sqs);
  for (const m of middleware) {
    (s3 as unknown as Stackable).middlewareStack.use(m('S3'));
    (sqs as unknown as Stackable).middlewareStack.use(m('SQS'));
    (dynamo as unknown as Stackable).middlewareStack.use(m('DynamoDB'));
  }
  return { s3, sqs, dynamo, doc };
}
