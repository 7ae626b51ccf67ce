import { describe, expect, it } from 'vitest';
import { functions, workerPools } from '../../core/app/declaration.js';
import { resourcesOf, synth } from './support.js';

/**
 * Pins, for every function and for the worker task role, the exact IAM actions it gets and on
 * what. The grants derive from the declaration's `uses` (core/app/access.ts); this table is
 * written out by hand so that a change to either shows up here as a reviewed diff.
 */
const { stacks, template } = synth({ env: 'prod' });
const api = template(stacks.api);
const compute = stacks.compute ? template(stacks.compute) : undefined;

type Token =
  | string
  | { Ref?: string; 'Fn::GetAtt'?: string[]; 'Fn::Join'?: [string, Token[]]; 'Fn::Sub'?: string };
const flat = (t: Token): string => {
  if (typeof t === 'string') return t;
  if (t.Ref) return `<${t.Ref}>`;
  if (t['Fn::GetAtt']) return `<${t['Fn::GetAtt'].join('.')}>`;
  if (t['Fn::Join']) return t['Fn::Join'][1].map(flat).join(t['Fn::Join'][0]);
  if (t['Fn::Sub']) return t['Fn::Sub'];
  return JSON.stringify(t);
};
/** `arn:aws:dynamodb:us-east-1:<AWS::AccountId>:table/x` → `dynamodb table/x`; bucket names lose their account suffix. */
const label = (arn: string): string =>
  arn
    .replace(/^arn:aws:([a-z0-9-]+):us-east-1:<AWS::AccountId>:/, '$1 ')
    .replace(/^arn:aws:s3:::/, 's3 ')
    .replace(/-<AWS::AccountId>-us-east-1/, '');

function grantsOf(t: typeof api, policyPrefix: string): string[] {
  const out: string[] = [];
  for (const [id, p] of Object.entries(resourcesOf(t, 'AWS::IAM::Policy'))) {
    if (!id.startsWith(policyPrefix)) continue;
    const doc = p.Properties?.PolicyDocument as {
      Statement: { Action: string | string[]; Resource: Token | Token[]; Condition?: unknown }[];
    };
    for (const s of doc.Statement) {
      const actions = Array.isArray(s.Action) ? s.Action : [s.Action];
      const resources = Array.isArray(s.Resource) ? s.Resource : [s.Resource];
      for (const a of actions)
        for (const r of resources) out.push(`${a} ${label(flat(r))}${s.Condition ? ' (conditional)' : ''}`);
    }
  }
  return out.sort();
}

const tableRead = ['BatchGetItem', 'ConditionCheckItem', 'DescribeTable', 'GetItem', 'Query'];
const tableWrite = [...tableRead, 'BatchWriteItem', 'DeleteItem', 'PutItem', 'UpdateItem'];
const on = (actions: string[], resource: string) => actions.map((a) => `dynamodb:${a} dynamodb ${resource}`);
const consume = (queue: string) =>
  ['ChangeMessageVisibility', 'DeleteMessage', 'GetQueueAttributes', 'GetQueueUrl', 'ReceiveMessage'].map(
    (a) => `sqs:${a} sqs openbatch-prod-${queue}`,
  );
const send = (queue: string) => [`sqs:SendMessage sqs openbatch-prod-${queue}`];
const objects = (actions: string[]) => actions.map((a) => `s3:${a} s3 openbatch-prod-files/*`);
const T = (name: string) => `table/openbatch-prod-${name}`;
const objectsAll = objects([
  'AbortMultipartUpload',
  'DeleteObject',
  'GetObject',
  'ListMultipartUploadParts',
  'PutObject',
]);
const listFiles = 's3:ListBucket s3 openbatch-prod-files';
/** A table and its indexes (an index query needs the action on `table/<name>/index/*`). */
const indexed = (actions: string[], name: string) => [
  ...on(actions, T(name)),
  ...on(actions, `${T(name)}/index/*`),
];

/** X-Ray active tracing (every function, and the worker's collector): these actions take no resource. */
const traceWrites = ['xray:PutTelemetryRecords *', 'xray:PutTraceSegments *'];

const expected: Record<keyof typeof functions, string[]> = {
  authorizer: on(tableRead, T('api-keys')),
  // The catalog is in its environment: no data-plane grant at all.
  modelsApi: [],
  filesApi: [...objectsAll, listFiles, ...indexed(tableWrite, 'files'), ...indexed(tableRead, 'batches')],
  batchesApi: [
    // Reads inputs, parts, checkpoints and result files (per-request view); writes a retry's input.
    ...objects(['AbortMultipartUpload', 'GetObject', 'ListMultipartUploadParts', 'PutObject']),
    ...indexed(tableWrite, 'files'),
    ...indexed(tableWrite, 'batches'),
    ...on(tableRead, T('chunks')),
    ...send('scheduling'),
    ...send('finalizing'),
  ],
  scheduler: [
    ...objectsAll,
    listFiles,
    ...indexed(tableWrite, 'batches'),
    ...on(tableWrite, T('chunks')),
    ...indexed(tableWrite, 'files'),
    ...send('spot'),
    ...send('dedicated'),
    ...send('scheduling'),
    ...consume('scheduling'),
  ],
  finalizer: [
    ...objectsAll,
    listFiles,
    ...indexed(tableWrite, 'files'),
    ...indexed(tableWrite, 'batches'),
    ...on(tableRead, T('chunks')),
    ...consume('finalizing'),
  ],
  slaMonitor: [
    ...indexed(tableWrite, 'batches'),
    ...on(tableWrite, T('chunks')),
    // The worker tasks' reports (measured throughput and running tasks) and what the SLA monitor
    // asked each pool for (the tasks still starting): core/pools.
    ...on(tableWrite, T('pools')),
    ...send('spot'),
    ...send('dedicated'),
    ...send('finalizing'),
    ...send('scheduling'),
  ],
  uploadsApi: [...objectsAll, listFiles, ...indexed(tableWrite, 'uploads'), ...indexed(tableWrite, 'files')],
  housekeeping: [
    ...objectsAll,
    listFiles,
    ...indexed(tableWrite, 'uploads'),
    ...indexed(tableWrite, 'files'),
  ],
};

describe('IAM grants per function', () => {
  it.each(Object.keys(functions) as (keyof typeof functions)[])(
    '%s gets exactly its pinned grants',
    (name) => {
      const prefix = `${name.charAt(0).toUpperCase()}${name.slice(1)}FunctionServiceRoleDefaultPolicy`;
      expect(grantsOf(api, prefix)).toEqual([...expected[name], ...traceWrites].sort());
    },
  );

  it('never grants a scan, a table delete, or any action on every resource but trace writes to a function', () => {
    for (const name of Object.keys(functions)) {
      const grants = grantsOf(api, `${name.charAt(0).toUpperCase()}${name.slice(1)}Function`).filter(
        (g) => !traceWrites.includes(g),
      );
      expect(
        grants.filter((g) => /dynamodb:Scan|dynamodb:DeleteTable| \*$/.test(g)),
        name,
      ).toEqual([]);
    }
  });
});

describe('IAM grants of the worker task role', () => {
  it.each(Object.keys(workerPools))(
    '%s pool: reads and writes objects but never deletes, no scan',
    (pool) => {
      if (!compute) throw new Error('prod has a compute stack');
      const prefix = `${pool.charAt(0).toUpperCase()}${pool.slice(1)}PoolTaskTaskRoleDefaultPolicy`;
      const grants = grantsOf(compute, prefix);
      const own = consume(pool).map((g) => g);
      expect(grants).toEqual(
        [
          ...own,
          ...objects(['AbortMultipartUpload', 'GetObject', 'ListMultipartUploadParts', 'PutObject']),
          ...indexed(tableWrite, 'batches'),
          ...on(tableWrite, T('chunks')),
          // Deduplication's index of answer packs (docs/dedup.md): query and put, no scan.
          ...on(tableWrite, T('dedup')),
          // Its own report, for the SLA monitor's measured throughput (core/pools).
          ...on(tableWrite, T('pools')),
          // Its batch's next chunk, to the batch's pool (core/chunks/dispatch.ts).
          ...send('spot'),
          ...send('dedicated'),
          ...send('finalizing'),
          // Task scale-in protection while it holds chunks, on its cluster's tasks only.
          'ecs:GetTaskProtection ecs task/<ClusterEB0386A7>/*',
          'ecs:UpdateTaskProtection ecs task/<ClusterEB0386A7>/*',
          // Model weights staged in S3, read-only and only the configured model's prefix.
          's3:GetObject s3 openbatch-prod-models/Qwen/Qwen2.5-7B-Instruct/*',
          's3:ListBucket s3 openbatch-prod-models (conditional)',
          // The collector beside the worker: trace writes and X-Ray's sampling rules.
          ...traceWrites,
          'xray:GetSamplingRules *',
          'xray:GetSamplingStatisticSummaries *',
          'xray:GetSamplingTargets *',
        ].sort(),
      );
    },
  );
});
