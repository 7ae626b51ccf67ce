import { getDeps } from '../../core/app/deps.js';
import { toBatchObject } from '../../core/batches/batch-record.js';
import {
  cancelBatch,
  createBatch,
  getBatchRecord,
  listBatches,
  listChunkViews,
} from '../../core/batches/batches-service.js';
import { partialOutput, partialOutputQuerySchema } from '../../core/batches/partial-output.js';
import { attachment } from '../../core/files/attachment.js';
import {
  createBatchBodySchema,
  listQuerySchema,
  listRequestsQuerySchema,
  requestPathSchema,
  retryBodySchema,
} from '../../core/openai/schemas.js';
import { costRatesOf } from '../../core/pricing/cost.js';
import { getRequest, listRequests, retryBatch } from '../../core/requests/requests-service.js';
import {
  download,
  type HttpEvent,
  type HttpResult,
  httpApi,
  json,
  jsonBody,
  parseWith,
  pathId,
  pathParam,
  tenantOf,
} from '../shared/http.js';

const ref = (event: HttpEvent) => ({ tenant: tenantOf(event), batchId: pathId(event, 'batch_id') });

export const handler = httpApi([
  {
    method: 'POST',
    path: '/v1/batches',
    handler: async (event: HttpEvent) =>
      json(
        200,
        await createBatch(
          getDeps('batchesApi'),
          tenantOf(event),
          parseWith(createBatchBodySchema, jsonBody(event)),
        ),
      ),
  },
  {
    method: 'GET',
    path: '/v1/batches',
    handler: async (event: HttpEvent) =>
      json(
        200,
        await listBatches(
          getDeps('batchesApi'),
          tenantOf(event),
          parseWith(listQuerySchema, event.queryStringParameters ?? {}),
        ),
      ),
  },
  {
    method: 'GET',
    path: '/v1/batches/{batch_id}',
    handler: async (event: HttpEvent) =>
      json(
        200,
        toBatchObject(
          await getBatchRecord(getDeps('batchesApi'), ref(event)),
          costRatesOf(getDeps('batchesApi').sla),
        ),
      ),
  },
  {
    method: 'POST',
    path: '/v1/batches/{batch_id}/cancel',
    handler: async (event: HttpEvent) => json(200, await cancelBatch(getDeps('batchesApi'), ref(event))),
  },
  {
    method: 'GET',
    path: '/v1/openbatch/batches/{batch_id}/chunks',
    handler: async (event: HttpEvent) => json(200, await listChunkViews(getDeps('batchesApi'), ref(event))),
  },
  {
    method: 'GET',
    path: '/v1/openbatch/batches/{batch_id}/requests',
    handler: async (event: HttpEvent) =>
      json(
        200,
        await listRequests(
          getDeps('batchesApi'),
          ref(event),
          parseWith(listRequestsQuerySchema, event.queryStringParameters ?? {}),
        ),
      ),
  },
  {
    method: 'GET',
    path: '/v1/openbatch/batches/{batch_id}/requests/{custom_id}',
    handler: async (event: HttpEvent) =>
      json(
        200,
        await getRequest(
          getDeps('batchesApi'),
          ref(event),
          parseWith(requestPathSchema, { custom_id: pathParam(event, 'custom_id') }).custom_id,
        ),
      ),
  },
  {
    method: 'GET',
    path: '/v1/openbatch/batches/{batch_id}/partial_output',
    // What a running batch has produced so far; once it has ended, its output file.
    handler: async (event: HttpEvent): Promise<HttpResult> => {
      const { from_chunk } = parseWith(partialOutputQuerySchema, event.queryStringParameters ?? {});
      const batchRef = ref(event);
      const out = await partialOutput(getDeps('batchesApi'), batchRef, from_chunk);
      const name = `${batchRef.batchId}_output${out.partial ? '_partial' : ''}.jsonl`;
      const headers: Record<string, string> = {
        'content-disposition': attachment(name),
        // Marked so that no one takes it for the whole output.
        'openbatch-partial': String(out.partial),
        ...(out.partial
          ? {
              'openbatch-chunks-done': `${out.chunksDone}/${out.chunkCount}`,
              ...(out.nextChunk !== undefined ? { 'openbatch-next-chunk': String(out.nextChunk) } : {}),
            }
          : {}),
      };
      return download(out.partial ? { inline: out.body } : out, headers);
    },
  },
  {
    method: 'POST',
    path: '/v1/openbatch/batches/{batch_id}/retry',
    // The filter is optional: no body retries the failed and expired requests.
    handler: async (event: HttpEvent) =>
      json(
        200,
        await retryBatch(
          getDeps('batchesApi'),
          ref(event),
          parseWith(retryBodySchema, event.body ? jsonBody(event) : {}),
        ),
      ),
  },
]);
