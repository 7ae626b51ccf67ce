import { getDeps } from '../../core/app/deps.js';
import { attachment } from '../../core/files/attachment.js';
import {
  createFile,
  deleteFile,
  fileContent,
  getFileRecord,
  listFiles,
  toFileObject,
} from '../../core/files/files-service.js';
import { listFilesQuerySchema } from '../../core/openai/schemas.js';
import {
  download,
  type HttpEvent,
  type HttpResult,
  httpApi,
  json,
  parseWith,
  pathId,
  tenantOf,
} from '../shared/http.js';
import { parseMultipartUpload } from '../shared/multipart.js';
import { countingValidatedLines } from '../shared/upload-validation.js';

export const handler = httpApi([
  {
    method: 'POST',
    path: '/v1/files',
    handler: async (event: HttpEvent) => {
      const deps = getDeps('filesApi');
      const upload = await parseMultipartUpload(event, deps.limits.MAX_API_UPLOAD_BYTES);
      // A batch file's lines are validated here, at upload (core/chunks/file-plan.ts).
      const file = await countingValidatedLines((observe) =>
        createFile(deps, tenantOf(event), upload, observe),
      );
      return json(200, file);
    },
  },
  {
    method: 'GET',
    path: '/v1/files',
    handler: async (event: HttpEvent) =>
      json(
        200,
        await listFiles(
          getDeps('filesApi'),
          tenantOf(event),
          parseWith(listFilesQuerySchema, event.queryStringParameters ?? {}),
        ),
      ),
  },
  {
    method: 'GET',
    path: '/v1/files/{file_id}',
    handler: async (event: HttpEvent) =>
      json(
        200,
        toFileObject(await getFileRecord(getDeps('filesApi'), tenantOf(event), pathId(event, 'file_id'))),
      ),
  },
  {
    method: 'DELETE',
    path: '/v1/files/{file_id}',
    handler: async (event: HttpEvent) =>
      json(200, await deleteFile(getDeps('filesApi'), tenantOf(event), pathId(event, 'file_id'))),
  },
  {
    method: 'GET',
    path: '/v1/files/{file_id}/content',
    handler: async (event: HttpEvent): Promise<HttpResult> => {
      const content = await fileContent(getDeps('filesApi'), tenantOf(event), pathId(event, 'file_id'));
      // RFC 6266: a plain ASCII name, and the exact name percent-encoded for non-ASCII ones.
      return download(content, { 'content-disposition': attachment(content.filename) });
    },
  },
]);
